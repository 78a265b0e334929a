"""Screenshots of the real window for the README: the start page and an empty state (Results before any
model), Data, Model, Augmentation (images, sound and video), Training (live curves), Results, Test,
a template that does not fit the loaded data (before Start) and the settings a scan of spoken digits
proposes, and the Files tab reading sound files and videos and showing a Grad-CAM heat map on a clothing photo.
Run under a virtual X server:

    xvfb-run -a .venv/bin/python packaging/screenshots.py [--out docs/screenshots] [--start-only]
        [--sound-files-only] [--video-only] [--video-model RUN/model.keras] [--gradcam-only]
        [--gradcam-model RUN/model.keras] [--guidance-only] [--results-sound-only] [--no-trained-shots]

It drives the app as a user would (load ../shared/data/mnist/folders_small, train mnist_cnn for a few
epochs, open the results) and grabs the window at each step. The video shots use the UCF101 actions
in ../shared/data/video/ucf101_actions (research use only: the data is never committed) and a video
model: ``--video-model``, or one trained here first (video_cnn_gru, a few minutes on a CPU). The
Grad-CAM shot uses ../shared/data/clothing/validation photos and a clothing model: ``--gradcam-model``,
or one trained here first (transfer_squeezenet at 128 px, the head only, 2 epochs: about a minute),
as ``workbench train --template transfer_squeezenet --data ../shared/data/clothing --hparam epochs=2
--hparam fine_tune_epochs=0 --hparam image_size=128`` would.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "mnist" / "folders_small"
SOUND_DATA = ROOT.parent / "shared" / "data" / "fsdd"
VIDEO_DATA = ROOT.parent / "shared" / "data" / "video" / "ucf101_actions"
#: Clips for the Files tab: two joined into one video (an action, then another), and one more.
VIDEO_JOINED = ("PushUps/v_PushUps_g21_c02.avi", "Punch/v_Punch_g17_c02.avi")
VIDEO_CLIP = "BabyCrawling/v_BabyCrawling_g24_c06.avi"
CLOTHING_DATA = ROOT.parent / "shared" / "data" / "clothing"
#: Validation photos for the Grad-CAM shot (the first is selected, its heat map shown).
CLOTHING_PHOTOS = ("pants/0d0bb91d-01d7-45df-827d-da96bbc44b15.jpg", "hat/4f04a31f-6589-4fe2-8a95-a42f6a164bd9.jpg",
                   "shoes/32662cf1-4440-459c-b55c-0ba39b71f768.jpg", "t-shirt/07b294ee-9a04-4795-9af2-7a1c801e8db0.jpg")


def long_recording(folder: Path, digits: str = "2619", speaker: str = "george") -> Path:
    """FSDD words of one speaker, 0.4 s of room noise apart, as one recording (a dropped long file)."""
    import numpy as np
    import soundfile

    rng = np.random.default_rng(0)
    parts = [rng.normal(0, 0.001, 3000).astype(np.float32)]
    for digit in digits:
        samples, rate = soundfile.read(str(SOUND_DATA / digit / f"{digit}_{speaker}_5.wav"), dtype="float32")
        parts += [samples, rng.normal(0, 0.001, int(0.4 * rate)).astype(np.float32)]
    path = folder / f"{speaker}_{digits}.wav"
    soundfile.write(str(path), np.concatenate(parts), rate)
    return path


def shoot_sound_files(window, wait, shot, tmp: Path) -> None:
    """The Files tab with the shipped spoken-digit model: two words and a long recording read word by word."""
    from workbench.core.resources import resource_path

    panel = window.test_panel
    panel.select_model(str(resource_path("models", "spoken_digits.keras")))
    panel.tabs.setCurrentWidget(panel.files)
    paths = [str(SOUND_DATA / "7" / "7_george_2.wav"), str(SOUND_DATA / "3" / "3_george_8.wav"),
             str(long_recording(tmp))]
    panel.files.classify(paths)
    wait(panel.files.predictions_shown)
    panel.files.select_row(2)
    shot("test_sound_files", panel)


def shoot_guidance(window, wait, shot) -> None:
    """Spoken digits loaded while an image template is chosen: the Model panel says why it does not fit
    and the Training panel why Start is disabled; with audio_cnn, the settings the scan proposes."""
    window.state.set_template("mnist_cnn")
    window.data_panel.load_path(str(SOUND_DATA))
    wait(window.data_panel.scan_finished)
    shot("mismatch", window.model_panel)
    shot("mismatch_training", window.training_panel)
    window.state.set_template("audio_cnn")
    shot("sound_proposal", window.model_panel)


def shoot_results_sound(window, wait, shot) -> None:
    """The shipped spoken-digit model evaluated on george's recordings (a speaker it never trained on):
    the most frequent confusion's clips, the first heard and seen as the model read it, with Play."""
    import shutil

    from workbench.core.resources import resource_path
    from workbench.core.sidecar import sidecar_path

    folder = Path(tempfile.mkdtemp(prefix="workbench-george-"))
    for clip in sorted(SOUND_DATA.glob("*/*_george_*.wav")):
        (folder / clip.parent.name).mkdir(exist_ok=True)
        shutil.copy(clip, folder / clip.parent.name / clip.name)
    model = resource_path("models", "spoken_digits.keras")
    copy = folder.parent / f"{folder.name}-model" / "spoken_digits.keras"
    copy.parent.mkdir()
    shutil.copy(model, copy)
    shutil.copy(sidecar_path(model), sidecar_path(copy))
    panel = window.results_panel
    panel.open_model(str(copy))
    panel.evaluate_on(str(folder))
    wait(panel.evaluation_shown)
    matrix = panel.evaluation["confusion_matrix"]
    worst = max(((i, j) for i in range(len(matrix)) for j in range(len(matrix)) if i != j),
                key=lambda c: matrix[c[0]][c[1]])
    panel.show_cell(*worst)
    wait(panel.cell_clips().clip_shown)
    shot("results_sound", panel)


def joined_video(folder: Path) -> Path:
    """The clips of :data:`VIDEO_JOINED` one after the other, as one video (a dropped longer file)."""
    import cv2
    import numpy as np

    from workbench.core.video.io import read_video

    parts = [read_video(VIDEO_DATA / clip) for clip in VIDEO_JOINED]
    height, width = parts[0][0].shape[1:3]
    path = folder / "pushups_then_punch.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), parts[0][1], (width, height))
    for frames, _fps in parts:
        for frame in frames:
            writer.write(cv2.cvtColor(np.ascontiguousarray(cv2.resize(frame, (width, height))), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def train_video_model(out: Path, epochs: int) -> Path:
    """A video_cnn_gru model of the UCF101 actions, trained with the core's trainer (as the CLI does)."""
    from workbench.core.training import TrainConfig, train

    result = train(TrainConfig(template="video_cnn_gru", data=str(VIDEO_DATA), hparams={"epochs": epochs},
                               group_regex=r"_g(\d+)_", out_dir=str(out)))
    if result.model_path is None:
        raise SystemExit(f"could not train the video model: {result.message}")
    print(f"trained {result.model_path}: {result.final_metrics}")
    return Path(result.model_path)


def shoot_video(window, wait, shot, model: Path, tmp: Path) -> None:
    """The video Augmentation page on UCF101 clips, and the Files tab reading clips along their timeline."""
    from workbench.core.video.augment import VideoAugmentationSpec

    window.data_panel.load_path(str(VIDEO_DATA))
    wait(window.data_panel.scan_finished)
    window.state.set_template("video_cnn_gru")
    window.state.set_video_augmentation(VideoAugmentationSpec(zoom=0.2, horizontal_flip=True, brightness=0.2,
                                                              contrast=0.2, speed=0.3))
    for _ in range(120):
        if window.video_augmentation_panel.is_ready():
            break
        wait(ms=500)
    shot("augmentation_video", window.augmentation_stack)
    panel = window.test_panel
    panel.select_model(str(model))
    panel.tabs.setCurrentWidget(panel.files)
    panel.files.classify([str(joined_video(tmp)), str(VIDEO_DATA / VIDEO_CLIP)])
    wait(panel.files.predictions_shown)
    panel.files.select_row(3)  # the joined video's window where the action changes: the plot shades it
    shot("test_video_files", panel)


def train_clothing_model(out: Path) -> Path:
    """A transfer_squeezenet clothing model (128 px, head only, 2 epochs), trained as the CLI does."""
    from workbench.core.training import TrainConfig, train

    result = train(TrainConfig(template="transfer_squeezenet", data=str(CLOTHING_DATA),
                               hparams={"epochs": 2, "fine_tune_epochs": 0, "image_size": 128}, out_dir=str(out)))
    if result.model_path is None:
        raise SystemExit(f"could not train the clothing model: {result.message}")
    print(f"trained {result.model_path}: {result.final_metrics}")
    return Path(result.model_path)


def shoot_gradcam(window, wait, shot, model: Path) -> None:
    """The Files tab with a clothing model: photos classified, the first one's Grad-CAM heat map shown."""
    panel = window.test_panel
    panel.select_model(str(model))
    panel.tabs.setCurrentWidget(panel.files)
    panel.files.classify([str(CLOTHING_DATA / "validation" / photo) for photo in CLOTHING_PHOTOS])
    wait(panel.files.predictions_shown)
    panel.files.select_row(0)
    detail = panel.files.detail
    detail.toggle.setChecked(True)
    if detail.overlay is None:
        wait(detail.gradcam_shown)
    shot("gradcam_files", panel)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--start-only", action="store_true",
                        help="take only the start page and the empty Results tab (no data, no training)")
    parser.add_argument("--sound-files-only", action="store_true",
                        help="take only the Files-tab shot with the shipped spoken-digit model (no training)")
    parser.add_argument("--video-only", action="store_true",
                        help="take only the video shots (Augmentation page, Files tab)")
    parser.add_argument("--video-model", type=Path,
                        help="the video model for the Files-tab shot (default: train one first)")
    parser.add_argument("--video-epochs", type=int, default=12, help="epochs of the video model trained here")
    parser.add_argument("--gradcam-only", action="store_true",
                        help="take only the Files-tab shot of a Grad-CAM heat map on a clothing photo")
    parser.add_argument("--guidance-only", action="store_true",
                        help="take only the shots of a template that does not fit the data and of the "
                             "settings proposed from a scan of spoken digits (no training)")
    parser.add_argument("--no-trained-shots", action="store_true",
                        help="skip the shots that first train a video and a clothing model (minutes each)")
    parser.add_argument("--results-sound-only", action="store_true",
                        help="take only the sound model's confusion-matrix drill-down (clips with Play)")
    parser.add_argument("--gradcam-model", type=Path,
                        help="the clothing model for the Grad-CAM shot (default: train one first)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="workbench-shots-")
    os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_DATA_HOME"] = tmp  # a clean profile

    from PySide6.QtCore import QEventLoop, QTimer

    from workbench.gui.app import create_application
    from workbench.gui.main_window import MainWindow

    only = (args.start_only or args.sound_files_only or args.video_only or args.gradcam_only
            or args.guidance_only or args.results_sound_only)
    video_model = args.video_model
    train_models = not args.no_trained_shots
    if VIDEO_DATA.is_dir() and video_model is None and (args.video_only or not only) and train_models:
        video_model = train_video_model(Path(tmp) / "video-run", args.video_epochs)
    gradcam_model = args.gradcam_model
    if (CLOTHING_DATA.is_dir() and gradcam_model is None and (args.gradcam_only or not only)
            and train_models):
        gradcam_model = train_clothing_model(Path(tmp) / "clothing-run")
    app = create_application([sys.argv[0]])  # noqa: F841  (kept alive for the whole run)
    window = MainWindow()
    window.resize(1360, 900)
    window.show()
    window.start_background_loading()
    window.training_panel.runs_root = str(Path(tmp) / "runs")

    def wait(signal=None, ms: int = 0) -> None:
        loop = QEventLoop()
        if signal is not None:
            signal.connect(loop.quit)
        if ms:
            QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shot(name: str, tab) -> None:
        window.tabs.setCurrentWidget(tab)
        wait(ms=1200)  # let plots lay out and redraw timers fire
        for _ in range(120):  # the Model panel builds its summary once shown (seconds the first time)
            if tab is not getattr(window, "model_panel", None) or not tab.summary_coming():
                break
            wait(ms=500)
        path = args.out / f"{name}.png"
        window.grab().save(str(path))
        print(f"saved {path}")

    shot("start", window.start_page)  # what every launch opens on
    shot("results_empty", window.results_panel)  # an empty state: what to do instead of an empty plot
    if args.start_only:
        window.close()
        return 0
    if args.sound_files_only:
        shoot_sound_files(window, wait, shot, Path(tmp))
        window.close()
        return 0
    if args.video_only:
        shoot_video(window, wait, shot, video_model, Path(tmp))
        window.close()
        return 0
    if args.gradcam_only:
        shoot_gradcam(window, wait, shot, gradcam_model)
        window.close()
        return 0
    if args.guidance_only:
        shoot_guidance(window, wait, shot)
        window.close()
        return 0
    if args.results_sound_only:
        shoot_results_sound(window, wait, shot)
        window.close()
        return 0
    window.data_panel.load_path(str(DATA))
    wait(window.data_panel.scan_finished)
    wait(ms=2500)  # thumbnails load in the background
    shot("data", window.data_panel)
    window.state.set_template("mnist_cnn")
    window.state.set_hparams({"epochs": args.epochs, "batch_size": 32})
    shot("model", window.model_panel)
    window.state.set_augmentation(window.state.augmentation.__class__(rotation=12, zoom=0.1, width_shift=0.1))
    wait(ms=6000)  # the preview imports TensorFlow on first use
    shot("augmentation", window.augmentation_stack)
    shown = []
    window.results_panel.evaluation_shown.connect(shown.append)
    window.training_panel.start()
    for _ in range(max(1, args.epochs - 1)):
        wait(window.controller.epoch_ended)
    shot("training", window.training_panel)
    if not shown:  # the run may have finished while the training shot was taken
        wait(window.results_panel.evaluation_shown)
    matrix = window.results_panel.evaluation["confusion_matrix"]
    worst = max(((i, j) for i in range(len(matrix)) for j in range(len(matrix)) if i != j),
                key=lambda c: matrix[c[0]][c[1]])
    window.results_panel.show_cell(*worst)
    wait(ms=2500)
    shot("results", window.results_panel)
    shot("test", window.test_panel)
    if SOUND_DATA.is_dir():  # the sound options, previewed on spoken digits
        shoot_guidance(window, wait, shot)  # loaded while mnist_cnn is chosen: the mismatch, then the proposal
        window.data_panel.load_path(str(SOUND_DATA))
        wait(window.data_panel.scan_finished)
        window.state.set_template("audio_cnn")
        spec = window.state.audio_augmentation.__class__(speed=0.15, freq_warp=0.1, gain_db=6, noise=0.5,
                                                           freq_mask=8, time_mask=10)
        window.state.set_audio_augmentation(spec)
        for _ in range(60):
            if window.audio_augmentation_panel.is_ready():
                break
            wait(ms=500)
        shot("augmentation_audio", window.augmentation_stack)
        shoot_sound_files(window, wait, shot, Path(tmp))
        shoot_results_sound(window, wait, shot)
    if video_model is not None:
        shoot_video(window, wait, shot, video_model, Path(tmp))
    if gradcam_model is not None:
        shoot_gradcam(window, wait, shot, gradcam_model)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CameraTestWidget with a video file standing in for the webcam (this machine has no camera).

The image-model tests use the shipped digits model reading a real handwritten MNIST digit held up
on paper (``tests/gui/camera_videos.py``); the video-model tests use a stub predictor around a tiny
Keras model, so they check the sliding window, the smoothing and the clip saving on their own. The
Grad-CAM tests use the digits model (its map beside the feed) and a tiny untrained colour CNN (its map
over the feed).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QThread
from PySide6.QtGui import QImage

from tests.gui.camera_videos import mnist_digit, paper_frame, write_digit_video
from workbench.core.inference.live import LiveModel
from workbench.core.resources import resource_path
from workbench.core.sources import camera
from workbench.gui.panels.live.camera_test_widget import CameraTestWidget, clip_seconds
from workbench.gui.workers import camera_gradcam_worker
from workbench.gui.workers.camera_gradcam_worker import CameraGradCamController
from workbench.gui.widgets.probability_timeline_widget import ProbabilityTimelineWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui

MODEL = resource_path("models", "digits.keras")
LOAD_TIMEOUT_MS = 60_000  # the first load imports TensorFlow
DIGIT = 3


def camera_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("CameraSource(")]


@pytest.fixture(scope="module")
def cache() -> PredictorCache:
    return PredictorCache()  # the digits model loads once for the module


@pytest.fixture(scope="module")
def digit_video(tmp_path_factory) -> str:
    return write_digit_video(tmp_path_factory.mktemp("camera") / f"digit{DIGIT}.avi", DIGIT, frames=60)


@pytest.fixture
def make_tab(qtbot, make_widget, cache):
    """Shown Camera tabs; at teardown each must have closed its camera and joined the capture thread."""
    tabs = []

    def make(model: str = "", predictor_cache=None) -> CameraTestWidget:
        tab = make_widget(CameraTestWidget, predictor_cache or cache, size=(1100, 760))
        tabs.append(tab)
        tab.set_model(str(model))
        tab.show()
        qtbot.waitExposed(tab)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()
        assert not tab.is_capturing()
    assert not camera_threads()


@pytest.fixture
def model_threads(monkeypatch) -> list[threading.Thread]:
    """Records the thread of every model call (the traced single-sample call behind every answer)."""
    threads: list[threading.Thread] = []
    original = LiveModel.predict_prepared

    def predict_prepared(self, x):
        threads.append(threading.current_thread())
        return original(self, x)

    monkeypatch.setattr(LiveModel, "predict_prepared", predict_prepared)
    return threads


def sidecar_model(folder: Path, name: str, **fields) -> str:
    """A model path whose sidecar says ``fields`` (its .keras file is never read by the tab itself)."""
    (folder / f"{name}.keras").write_bytes(b"")
    (folder / f"{name}.json").write_text(json.dumps({"format": "workbench-model/2", **fields}))
    return str(folder / f"{name}.keras")


def test_without_a_camera_the_tab_says_so_and_a_video_file_stands_in(qtbot, make_tab, digit_video):
    tab = make_tab()
    assert "No camera found" in tab.message_text() and "Video file…" in tab.message_text()
    assert tab.controls.sources() == [] and not tab.is_capturing()
    tab.controls.choose_file(digit_video)  # as if picked with "Video file…"
    qtbot.waitUntil(lambda: tab.view.frames_drawn() >= 10, timeout=5000)
    assert tab.is_capturing() and tab.problem() is None
    assert tab.view.frame().shape == (240, 320, 3)
    tab.hide()  # the camera is open only while the tab is shown
    assert not tab.is_capturing() and not camera_threads()
    tab.show()
    assert tab.is_capturing()
    qtbot.waitUntil(lambda: "fps" in tab.stats_text(), timeout=3000)


def test_a_missing_file_and_a_missing_camera_are_explained(qtbot, make_tab, tmp_path):
    tab = make_tab()
    tab.open_source(str(tmp_path / "gone.avi"))
    qtbot.waitUntil(lambda: tab.problem() is not None, timeout=3000)
    assert "No video file at" in tab.message_text() and not tab.is_capturing()
    tab.open_source("5")
    qtbot.waitUntil(lambda: tab.problem() is not None, timeout=3000)
    assert "No camera found at index 5" in tab.message_text()


def test_a_camera_that_stops_sending_frames_is_reported(qtbot, make_tab, monkeypatch):
    class Unplugged:  # five frames, then every read fails
        reads = 0

        def isOpened(self):  # noqa: N802 (OpenCV's name)
            return True

        def read(self):
            self.reads += 1
            return (True, np.full((48, 64, 3), 200, np.uint8)) if self.reads <= 5 else (False, None)

        def get(self, prop):
            return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

        def release(self):
            pass

    monkeypatch.setattr(camera, "open_capture", lambda source: Unplugged())
    tab = make_tab()
    tab.open_source("0")
    qtbot.waitUntil(lambda: tab.problem() is not None, timeout=5000)
    assert "The camera stopped sending frames" in tab.message_text()
    assert not tab.is_capturing() and tab.view.frame() is None


def test_reads_a_handwritten_digit_held_up_to_the_camera(qtbot, make_tab, digit_video, model_threads, tmp_path):
    assert MODEL.is_file(), f"Expected the shipped digits model. Received: {MODEL} does not exist"
    tab = make_tab(MODEL)
    tab.open_source(digit_video)
    qtbot.waitUntil(tab.is_ready, timeout=LOAD_TIMEOUT_MS)
    answers = []
    tab.prediction_shown.connect(answers.append)
    qtbot.waitUntil(lambda: len(answers) >= 15, timeout=10_000)
    labels = [a["label"] for a in answers]
    assert labels.count(str(DIGIT)) >= 0.9 * len(labels), labels
    assert tab.prediction_text().startswith(f"{DIGIT} ·")
    frames = [a["frame_index"] for a in answers]
    assert frames == sorted(set(frames))  # every answer is about a newer frame: none queued or repeated
    assert all(0 < a["latency_ms"] < 2000 for a in answers)
    assert model_threads and threading.main_thread() not in model_threads  # never in the GUI thread
    qtbot.waitUntil(lambda: "predictions/s" in tab.stats_text() and "p95" in tab.stats_text(), timeout=3000)
    assert tab.timeline.point_count() >= len(answers) - 1

    tab.set_dataset_folder(str(tmp_path))
    with qtbot.waitSignal(tab.saved, timeout=5000) as saved:
        tab.save_capture(str(DIGIT))
    path = Path(saved.args[0])
    assert path.parent == tmp_path / str(DIGIT) and path.suffix == ".png"
    image = cv2.imread(str(path))
    assert image.shape == (240, 320, 3)
    assert f"Saved {DIGIT}/{path.name}" in tab.collect.status_text()


def test_a_digit_under_real_camera_noise_and_uneven_light_is_read(cache):
    predictor = cache.get(str(MODEL))
    rng = np.random.default_rng(0)
    frames, labels = [], []
    for digit in range(10):
        for which in range(5):
            frames.append(paper_frame(mnist_digit(digit, which), noise=3.0, gradient=20.0, rng=rng))
            labels.append(digit)
    predicted = predictor.predict_arrays(np.stack([predictor.prepare_image(f) for f in frames])).argmax(axis=1)
    assert np.mean(predicted == np.array(labels)) >= 0.9


def test_an_audio_model_is_explained_and_the_digits_model_preferred(qtbot, make_tab, tmp_path):
    audio = sidecar_model(tmp_path, "words", modality="audio", input_shape=[16000], class_names=["yes", "no"])
    tab = make_tab(audio)
    assert "not camera frames" in tab.message_text() and tab.mode() is None
    assert tab.preferred_model(audio) == str(MODEL)


# ----------------------------------------------------------------------------- video models (stub)
class StubVideoPredictor:
    """A video model's predictor: (F, 16, 16, 1) input, two classes by brightness; records its inputs."""

    def __init__(self) -> None:
        import keras

        self.input_shape = (4, 16, 16, 1)
        self.class_names = ["dark", "bright"]
        self.sigmoid = False
        self.preprocessing = {"frames": 4, "window_s": 1.0}
        inputs = keras.Input(self.input_shape)
        mean = keras.layers.GlobalAveragePooling3D()(keras.layers.Rescaling(1 / 255.0)(inputs))
        dense = keras.layers.Dense(2, activation="softmax")
        self.model = keras.Model(inputs, dense(mean))
        dense.set_weights([np.array([[-8.0, 8.0]], np.float32), np.array([4.0, -4.0], np.float32)])
        self.prepared: list[tuple[tuple[int, ...], str]] = []

    def prepare_array(self, frames: np.ndarray) -> np.ndarray:
        self.prepared.append((frames.shape, QThread.currentThread().objectName()))
        grey = [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (16, 16))[:, :, None] for f in frames]
        return np.stack(grey).astype(np.float32)


class StubCache:
    def __init__(self, predictor) -> None:
        self.predictor = predictor

    def get(self, model_path: str):
        return self.predictor


def test_a_video_model_reads_a_sliding_window_and_saves_the_last_seconds(qtbot, make_tab, digit_video, tmp_path,
                                                                         model_threads):
    predictor = StubVideoPredictor()
    model = sidecar_model(tmp_path, "actions", modality="video", input_shape=[4, 16, 16, 1],
                          class_names=["dark", "bright"], preprocessing={"frames": 4, "window_s": 1.0})
    tab = make_tab(model, predictor_cache=StubCache(predictor))
    assert tab.mode() == "video" and tab.window_seconds() == 1.0
    tab.open_source(digit_video)
    qtbot.waitUntil(tab.is_ready, timeout=LOAD_TIMEOUT_MS)
    answers = []
    tab.prediction_shown.connect(answers.append)
    qtbot.waitUntil(lambda: len(answers) >= 5, timeout=10_000)
    assert {a["label"] for a in answers} == {"bright"} and all(a["mode"] == "video" for a in answers)
    shapes = {shape for shape, _ in predictor.prepared}
    assert shapes == {(4, 240, 320, 3)}  # F frames of the window, full size, as prepare_frames takes them
    assert all(name == "cameraPredictThread" for _, name in predictor.prepared)
    assert threading.main_thread() not in model_threads
    assert not tab.gradcam.toggle.isEnabled() and not tab.gradcam.is_on()  # no Grad-CAM for clips, and why
    assert "No Grad-CAM for video models" in tab.gradcam.note_text()
    assert "video models" in tab.gradcam.toggle.toolTip()

    def span() -> float:
        frames = tab.controller().recent_frames()
        return frames[-1].timestamp - frames[0].timestamp

    qtbot.waitUntil(lambda: span() >= 0.9, timeout=3000)  # answers begin once the window is half full
    qtbot.wait(500)
    assert span() <= 1.0 + 1e-6 and len(tab.controller().recent_frames()) <= 1.0 * 30 * 1.5 + 2  # bounded

    (tmp_path / "dataset").mkdir()
    tab.set_dataset_folder(str(tmp_path / "dataset"))
    with qtbot.waitSignal(tab.saved, timeout=5000) as saved:
        tab.save_capture("wave")
    path = Path(saved.args[0])
    assert path.parent == tmp_path / "dataset" / "wave" and path.suffix == ".avi"
    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, first = capture.read()
    capture.release()
    assert ok and first.shape == (240, 320, 3) and 25 <= count <= 32  # the last second at ~30 fps


def cnn_lstm(folder: Path) -> str:
    """A real (untrained) model of the video_cnn_lstm template, 4 grey 16×16 frames over 1 s."""
    from workbench.core.sidecar import write_sidecar
    from workbench.core.templates import get_template

    spec, shape = get_template("video_cnn_lstm"), (4, 16, 16, 1)
    path = folder / "cnn_lstm.keras"
    spec.build(3, shape).save(path)
    write_sidecar(path, {"format": "workbench-model/2", "template": spec.id, "modality": "video",
                         "input_shape": list(shape), "class_names": ["crawl", "punch", "push-up"],
                         "output": "softmax", "preprocessing": spec.preprocessing_for({"window_s": 1.0}, shape)})
    return str(path)


def test_switching_from_the_digits_model_to_a_cnn_lstm_reads_clips(qtbot, make_tab, digit_video, tmp_path):
    # The same worker thread loads both: on a plain QThread, building the LSTM after the digits model
    # ran crashed TensorFlow (segmentation fault) in most runs; CameraPredictController's thread keeps
    # one Python thread state, and this test (a crash would end the whole run) guards it.
    tab = make_tab(MODEL, predictor_cache=PredictorCache())
    tab.open_source(digit_video)
    qtbot.waitUntil(tab.is_ready, timeout=LOAD_TIMEOUT_MS)
    with qtbot.waitSignal(tab.prediction_shown, timeout=10_000):
        pass
    tab.set_model(cnn_lstm(tmp_path))
    assert tab.mode() == "video" and tab.window_seconds() == 1.0
    qtbot.waitUntil(tab.is_ready, timeout=LOAD_TIMEOUT_MS)
    answers = []
    tab.prediction_shown.connect(answers.append)
    qtbot.waitUntil(lambda: len(answers) >= 3, timeout=10_000)
    assert all(a["mode"] == "video" and a["label"] in ("crawl", "punch", "push-up") for a in answers)
    assert abs(sum(answers[-1]["probabilities"]) - 1.0) < 1e-4


def test_the_clip_duration_comes_from_the_sidecar():
    assert clip_seconds({"window_s": 3.0, "frames": 16, "fps": 8}) == 3.0
    assert clip_seconds({"frames": 16, "fps": 8}) == 2.0
    assert clip_seconds({"clip_s": 1.5}) == 1.5
    assert clip_seconds({}) == 2.0


def test_the_timeline_keeps_one_curve_per_class_and_bounded_buffers(qtbot, make_widget):
    timeline = make_widget(ProbabilityTimelineWidget, window_s=5.0, capacity=128)
    timeline.set_class_names(["a", "b", "c"])
    for k in range(1000):
        timeline.append(k * 0.1, [0.2, 0.3, 0.5] if k % 2 else [0.6, 0.3, 0.1])
    assert 51 <= timeline.point_count() <= 128  # what is off the chart goes when full: memory stays flat
    timeline.redraw_now()
    x, y = timeline.curve_data(2)
    assert x[-1] == 0 and x[0] >= -5.0 - 1e-9 and len(x) == 51  # only the last 5 s are drawn
    assert set(np.round(y, 3)) == {0.1, 0.5}
    timeline.set_class_names(["a", "b"])
    assert timeline.point_count() == 0 and len(timeline._curves) == 2


# ------------------------------------------------------------------------------------------- Grad-CAM
@pytest.fixture
def heatmap_threads(monkeypatch) -> list[threading.Thread]:
    """Records the thread of every Grad-CAM heat map."""
    from workbench.core.inference import gradcam

    threads: list[threading.Thread] = []
    original = gradcam.GradCam.heatmap

    def heatmap(self, *args, **kwargs):
        threads.append(threading.current_thread())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(gradcam.GradCam, "heatmap", heatmap)
    return threads


def test_gradcam_of_the_digits_model_is_shown_beside_the_feed_a_few_times_a_second(qtbot, make_tab, digit_video,
                                                                                   heatmap_threads):
    tab = make_tab(MODEL)
    tab.open_source(digit_video)
    qtbot.waitUntil(tab.is_ready, timeout=LOAD_TIMEOUT_MS)
    gradcam = tab.gradcam
    assert gradcam.toggle.isEnabled() and not gradcam.toggle.isChecked()  # off until asked for
    assert gradcam.picture() is None and not gradcam.input_view.isVisible() and not heatmap_threads
    maps, answers = [], []
    gradcam.shown.connect(maps.append)
    with qtbot.waitSignal(gradcam.shown, timeout=30_000):
        gradcam.toggle.setChecked(True)
    picture = gradcam.picture()
    assert picture.shape == (112, 112, 3) and picture.dtype == np.uint8  # the 28×28 input, enlarged 4×
    assert np.abs(picture[..., 0].astype(int) - picture[..., 2]).max() > 50  # coloured: the input was grey
    assert gradcam.input_view.isVisible() and not gradcam.on_feed() and not gradcam.feed_overlay.isVisible()
    assert heatmap_threads and threading.main_thread() not in heatmap_threads
    assert maps[0]["thread"] != threading.main_thread().name and maps[0]["on_input"]
    assert f"Grad-CAM for “{DIGIT}” from layer" in gradcam.note_text()
    layers = gradcam.layer_names()
    assert len(layers) >= 2 and maps[0]["layer"] == layers[0]  # the deepest convolution, listed first

    tab.prediction_shown.connect(answers.append)
    start, began = len(maps), time.monotonic()
    # maps keep coming while the feed plays (within 30 s even on a machine busy with other work) ...
    qtbot.waitUntil(lambda: len(maps) >= start + 2, timeout=30_000)
    qtbot.wait(max(0, round((began + 2.0 - time.monotonic()) * 1000)))
    rate = (len(maps) - start) / (time.monotonic() - began)
    assert rate <= camera_gradcam_worker.MAX_PER_SECOND + 0.5  # ... but bounded: not one map per answer
    assert len(answers) > len(maps) - start  # answers go on meanwhile, more of them than maps
    frames = [m["frame_index"] for m in maps]
    assert frames == sorted(set(frames))  # each map is about a newer answer: none queued

    with qtbot.waitSignal(gradcam.shown, timeout=30_000) as shown:
        gradcam.select_layer(layers[-1])
    assert shown.args[0]["layer"] == layers[-1]
    gradcam.toggle.setChecked(False)
    assert gradcam.picture() is None and not gradcam.input_view.isVisible()
    count = len(maps)
    qtbot.wait(800)
    assert len(maps) == count  # nothing more computed or shown


def colour_cnn(folder: Path) -> str:
    """A tiny untrained CNN for 32×32 colour pictures (no MNIST-style preparation), with its sidecar."""
    import keras

    from workbench.core.sidecar import write_sidecar

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(x)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv2")(x)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
    path = folder / "colour.keras"
    keras.Model(inputs, outputs).save(path)
    write_sidecar(path, {"format": "workbench-model/2", "modality": "image", "input_shape": [32, 32, 3],
                         "class_names": ["a", "b"], "output": "softmax", "preprocessing": {}})
    return str(path)


def test_gradcam_of_other_image_models_lies_over_the_feed_and_goes_when_turned_off(qtbot, make_tab, digit_video,
                                                                                  tmp_path, heatmap_threads):
    tab = make_tab(colour_cnn(tmp_path), predictor_cache=PredictorCache())
    tab.open_source(digit_video)
    qtbot.waitUntil(tab.is_ready, timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: tab.view.frame() is not None, timeout=5000)
    plain = tab.view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    with qtbot.waitSignal(tab.gradcam.shown, timeout=30_000):
        tab.gradcam.toggle.setChecked(True)
    assert tab.gradcam.on_feed() and tab.gradcam.feed_overlay.isVisible() and not tab.gradcam.input_view.isVisible()
    assert tab.gradcam.picture().shape == (240, 320, 3)  # the map stretched back over the whole frame
    assert threading.main_thread() not in heatmap_threads

    def colourfulness(image: QImage) -> int:  # the paper and the ink are grey: colour is the heat map's
        pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
        rgb = pixels[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).astype(int)
        return int(np.abs(rgb[..., 0] - rgb[..., 2]).max())

    assert colourfulness(plain) < 30
    assert colourfulness(tab.view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)) > 50
    tab.gradcam.toggle.setChecked(False)
    assert tab.gradcam.picture() is None and not tab.gradcam.feed_overlay.isVisible()
    assert colourfulness(tab.view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)) < 30


def test_the_gradcam_controller_takes_one_request_at_a_time_at_a_bounded_rate(qtbot):
    now = [100.0]
    release = threading.Event()

    def job(request: dict) -> dict:
        release.wait(10)
        return {"n": request["n"]}

    controller = CameraGradCamController(job, "testGradCamThread", clock=lambda: now[0])
    answers = []
    controller.explained.connect(answers.append)
    try:
        assert controller.offer({"n": 1})
        assert not controller.offer({"n": 2}) and controller.busy  # one in flight; the newer is dropped
        release.set()
        qtbot.waitUntil(lambda: not controller.busy, timeout=5000)
        assert answers == [{"n": 1, "ms": answers[0]["ms"], "thread": answers[0]["thread"]}]
        assert not controller.offer({"n": 3})  # too soon after the last start
        now[0] += 1.0 / camera_gradcam_worker.MAX_PER_SECOND
        release.clear()
        assert controller.offer({"n": 4})
        controller.discard()  # e.g. the toggle went off: its answer is ignored
        release.set()
        qtbot.waitUntil(lambda: not controller.busy, timeout=5000)
        qtbot.wait(50)
        assert [a["n"] for a in answers] == [1]
    finally:
        release.set()
        controller.shutdown()

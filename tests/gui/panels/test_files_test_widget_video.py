"""The Files tab with video files: read along their timeline by a video model (window by window) or an
image model (frame by frame); the row shows duration, rate and the overall label, a row per window
follows, and the selected row's probabilities against time are shown below the table.

The image-model tests use the shipped drawn-digit model on a video of MNIST digits (a 2, then an 8);
the video-model tests a tiny untrained video model written with its sidecar in ``tmp_path``.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.paths import SHARED_DATA, require_shared
from workbench.core.resources import resource_path
from workbench.gui.panels.live.files_test_widget import FilesTestWidget
from workbench.gui.panels.live.image_file_detail_widget import ImageFileDetailWidget
from workbench.gui.panels.live.video_file_detail_widget import VideoFileDetailWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui
PREDICT_TIMEOUT_MS = 90_000  # the first prediction imports TensorFlow


def write_video(path, frames: list[np.ndarray], fps: float = 10.0, size: int = 112):
    """An MJPEG .avi of grey ``frames``, each enlarged to ``size``²."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (size, size))
    assert writer.isOpened(), f"OpenCV cannot write {path}"
    for frame in frames:
        big = cv2.resize(frame, (size, size), interpolation=cv2.INTER_NEAREST)
        writer.write(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


@pytest.fixture(autouse=True)
def video_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def digit_video(tmp_path):
    """3 s of an MNIST 2, then 3 s of an 8, at 10 fps; and the two images."""
    from workbench.core.image.io import read_image

    folders = require_shared(SHARED_DATA / "mnist" / "folders_small")
    two, eight = (sorted((folders / digit).glob("*.png"))[0] for digit in ("2", "8"))
    frames = [read_image(str(two))] * 30 + [read_image(str(eight))] * 30
    return write_video(tmp_path / "two_then_eight.avi", [np.squeeze(f).astype(np.uint8) for f in frames]), two


@pytest.fixture
def video_model(tmp_path):
    """An untrained video model of input (4, 16, 16, 1), windows of 1 s every 0.5 s."""
    import keras

    from workbench.core.sidecar import write_sidecar

    inputs = keras.Input((4, 16, 16, 1), name="frames")
    x = keras.layers.TimeDistributed(keras.layers.Flatten(), name="flatten")(inputs)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="probabilities")(x)
    path = tmp_path / "model" / "tiny_video.keras"
    path.parent.mkdir()
    keras.Model(inputs, outputs).save(path)
    write_sidecar(path, {"class_names": ["Punch", "PushUps", "BabyCrawling"], "input_shape": [4, 16, 16, 1],
                         "modality": "video", "output": "softmax",
                         "preprocessing": {"kind": "video", "frames": 4, "size": [16, 16], "channels": 1,
                                           "color_mode": "grayscale", "value_range": [0, 255],
                                           "window_s": 1.0, "hop_s": 0.5}})
    return path


def classify(qtbot, files, paths):
    with qtbot.waitSignal(files.predictions_shown, timeout=PREDICT_TIMEOUT_MS):
        files.classify([str(p) for p in paths])


def test_an_image_model_reads_a_video_frame_by_frame_along_its_timeline(qtbot, make_widget, digit_video):
    video, image = digit_video
    files = make_widget(FilesTestWidget, PredictorCache(), show=True, size=(1000, 800))
    files.set_model(str(resource_path("models", "digits.keras")))
    assert any(f.startswith("Videos (") and "*.avi" in f for f in files.file_filters())
    assert "image or video files" in files._status.text()
    classify(qtbot, files, [video, image])
    # The video's row, a row per half second read (2 frames a second), then the image's row.
    assert files.row_count() == 1 + 12 + 1
    assert files._table.item(0, 0).text() == "6.00 s · 10 fps"
    assert files._table.item(0, 0).data(Qt.ItemDataRole.DecorationRole) is not None  # its middle frame
    assert "12 windows" in files._table.item(0, 3).text()
    assert files._table.item(1, 1).text().strip() == "↳ 0.0–0.5 s"
    labels = [files.prediction_text(r).split()[0] for r in range(1, 13)]
    assert labels[:6] == ["2"] * 6 and labels[6:] == ["8"] * 6  # the digit changes half way through
    assert files.prediction_text(13).split()[0] == "2"  # the image, read as an image
    assert "Select a video's row" in files._status.text()
    # The video's row is selected: every window's probabilities against time, frames along the top.
    detail = files.detail
    assert isinstance(detail, VideoFileDetailWidget) and detail.isVisible()
    assert set(detail.timeline.curve_names()[:2]) == {"2", "8"}
    seconds, percent = detail.timeline.curve_data(detail.timeline.curve_names().index("8"))
    assert seconds.size == 12 and percent[:6].max() < 50 < percent[6:].min()
    assert detail.timeline.frame_count() == 6 and detail.timeline.selected_span() is None
    assert detail.title_text().startswith("two_then_eight.avi: 6.0 s at 10 fps (60 frames), read in 12 windows")
    # A window's row shades that window and shows its probabilities.
    files.select_row(8)
    assert detail.timeline.selected_span() == pytest.approx((3.5, 4.0))
    assert detail.bars.top_label_text().startswith("8")
    assert "window 8 of 12" in detail.title_text()
    # The image's row shows the image detail instead.
    files.select_row(13)
    assert isinstance(files.detail, ImageFileDetailWidget) and files.detail.isVisible() and detail.isHidden()
    assert files.detail.title_text().startswith(f"{image.name}: 2 ")


def test_a_video_model_reads_a_video_window_by_window(qtbot, make_widget, tmp_path, video_model):
    rng = np.random.default_rng(0)
    video = write_video(tmp_path / "clip.avi", [rng.integers(0, 255, (16, 16), np.uint8) for _ in range(30)],
                        size=32)
    files = make_widget(FilesTestWidget, PredictorCache(), show=True, size=(1000, 800))
    files.set_model(str(video_model))
    assert files._table.horizontalHeaderItem(0).text() == "Video"
    assert isinstance(files.detail, VideoFileDetailWidget) and "Select a video's row" in files.detail.title_text()
    assert files.file_filters() == ["Videos (*.avi *.mkv *.mov *.mp4 *.webm)"]
    classify(qtbot, files, [video])
    # 3 s read in windows of 1 s every 0.5 s: 5 windows, each on its own row.
    assert files.row_count() == 1 + 5
    assert [files._table.item(r, 1).text().strip() for r in range(1, 6)] == [
        f"↳ {a:.1f}–{a + 1:.1f} s" for a in (0.0, 0.5, 1.0, 1.5, 2.0)]
    detail = files.detail
    from workbench.core.inference import Predictor
    from workbench.core.video.files import predict_video_file

    expected = predict_video_file(Predictor.load(video_model), str(video))
    assert files.prediction_text(0).split()[0] == expected.prediction.label
    assert detail.bars.top_label_text().split()[0] in (expected.prediction.label, "not")
    drawn = detail.timeline.curve_names()
    assert drawn and expected.windows[0].label in drawn
    seconds, percent = detail.timeline.curve_data(0)
    np.testing.assert_allclose(seconds, [0.5, 1.0, 1.5, 2.0, 2.5])
    index = ["Punch", "PushUps", "BabyCrawling"].index(drawn[0])
    np.testing.assert_allclose(percent, [100 * w.probabilities[index] for w in expected.windows], rtol=1e-4)
    files.select_row(3)
    assert detail.timeline.selected_span() == pytest.approx((1.0, 2.0))


def test_image_files_are_refused_by_a_video_model(make_widget, tmp_path, video_model):
    files = make_widget(FilesTestWidget, PredictorCache())
    files.set_model(str(video_model))
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    files.classify([str(image)])
    assert files.row_count() == 0
    assert "Expected video files (.avi, .mkv, .mov, .mp4, .webm)" in files._status.text()


def test_an_unreadable_video_gets_a_row_saying_why(qtbot, make_widget, tmp_path, video_model):
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"RIFF not a video")
    files = make_widget(FilesTestWidget, PredictorCache())
    files.set_model(str(video_model))
    classify(qtbot, files, [broken])
    assert files.row_count() == 1 and files.prediction_text(0) == "unreadable"
    assert files.detail.title_text().startswith("Select a video's row")  # nothing to show: the prompt

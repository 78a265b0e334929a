"""A video file along its timeline: window by window by a video model, two frames a second by an image
model (a digit model reads a video of a digit), and a camera's frames prepared as training prepared
a clip's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from tests.paths import MNIST_FOLDERS_SMALL, REPO_ROOT, require_shared  # noqa: E402
from workbench.core.errors import DatasetError  # noqa: E402
from workbench.core.inference import Predictor  # noqa: E402
from workbench.core.video.files import predict_video_file  # noqa: E402
from workbench.core.video.io import read_video  # noqa: E402


def write_frames(path: Path, frames, fps: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def video_predictor(tmp_path, shape=(4, 16, 16, 3), window_s=2.0, hop_s=1.0) -> Predictor:
    """An untrained video_cnn_gru of ``shape`` with its sidecar, in memory."""
    from workbench.core.templates import get_template

    spec = get_template("video_cnn_gru")
    hp = spec.resolve_hparams({"window_s": window_s, "hop_s": hop_s, "blocks": 2, "base_filters": 4, "gru_units": 8})
    model = spec.build(3, shape, hp)
    sidecar = {"class_names": ["a", "b", "c"], "input_shape": list(shape), "modality": "video",
               "output": "softmax", "preprocessing": spec.preprocessing_for(hp, shape)}
    return Predictor(model, sidecar, tmp_path / "model.keras")


def moving_square(count: int, size: int = 24) -> list[np.ndarray]:
    frames = []
    for i in range(count):
        frame = np.full((size, size + 8, 3), 30, np.uint8)
        x = i % (size - 6)
        frame[8:14, x:x + 6] = (240, 200, 40)
        frames.append(frame)
    return frames


def test_a_video_model_reads_a_long_clip_window_by_window(tmp_path):
    predictor = video_predictor(tmp_path)
    path = write_frames(tmp_path / "long.avi", moving_square(100), fps=10)  # 10 s
    result = predict_video_file(predictor, path, top_k=2)
    assert result.num_frames == 100 and result.fps == pytest.approx(10) and result.duration_s == pytest.approx(10)
    assert [(w.start_s, w.end_s) for w in result.windows] == [(float(s), float(s + 2)) for s in range(9)]
    probabilities = np.array([w.probabilities for w in result.windows])
    np.testing.assert_allclose(result.prediction.probabilities, probabilities.mean(axis=0), atol=1e-6)
    assert all(len(w.top) == 2 and w.top[0][0] == w.label for w in result.windows)
    assert result.prediction.label in ("a", "b", "c") and result.prediction.source == str(path)
    described = json.loads(json.dumps(result.to_dict()))
    assert described["label"] == result.prediction.label and len(described["windows"]) == 9
    assert described["windows"][3]["start_s"] == 3.0 and described["num_frames"] == 100


def test_a_short_clip_is_one_window_read_as_training_reads_the_file(tmp_path):
    predictor = video_predictor(tmp_path)
    path = write_frames(tmp_path / "short.avi", moving_square(12), fps=10)
    result = predict_video_file(predictor, path)
    [window] = result.windows
    assert (window.start_s, window.end_s) == (0.0, pytest.approx(1.2))
    expected = predictor.predict_arrays(predictor.prepare_file(path)[None])[0]  # the training pipeline's read
    np.testing.assert_allclose(window.probabilities, expected, atol=1e-5)


def test_camera_frames_reach_the_model_as_the_file_s_window_did(tmp_path):
    # 4 frames over 1 s windows: the cache keeps every frame of a 10 fps clip, so the two paths sample
    # the very same frames.
    predictor = video_predictor(tmp_path, shape=(4, 12, 12, 1), window_s=1.0, hop_s=1.0)
    path = write_frames(tmp_path / "clip.avi", moving_square(30), fps=10)
    from workbench.core.video.cache import decode_clip
    from workbench.core.video.dataset import clip_input

    config = predictor.handler.clip_config(predictor.input_shape, predictor.preprocessing)
    from_file = clip_input(decode_clip(path, config), config, (1.0, 2.0))
    frames, fps = read_video(path)
    from_camera = predictor.prepare_array(frames[10:20])  # the "last second" of frames 10-19
    assert from_camera.shape == (4, 12, 12, 1) and from_camera.dtype == np.float32
    np.testing.assert_array_equal(from_camera, from_file)


@pytest.mark.parametrize("digit", ["3", "7"])
def test_an_image_model_reads_two_frames_a_second_of_a_video_of_a_digit(tmp_path, digit):
    predictor = Predictor.load(REPO_ROOT / "resources" / "models" / "digits.keras")
    source = sorted((require_shared(MNIST_FOLDERS_SMALL) / digit).glob("*.png"))[0]
    image = cv2.imread(str(source), cv2.IMREAD_GRAYSCALE)
    big = cv2.resize(image, (96, 96), interpolation=cv2.INTER_NEAREST)
    frames = [cv2.cvtColor(np.roll(big, shift - 2, axis=1), cv2.COLOR_GRAY2RGB) for shift in range(5)] * 6
    path = write_frames(tmp_path / f"digit_{digit}.avi", frames, fps=10)  # 3 s
    result = predict_video_file(predictor, path)
    assert [round(w.start_s, 2) for w in result.windows] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert all(w.end_s - w.start_s == pytest.approx(0.5) for w in result.windows)
    assert [w.label for w in result.windows] == [digit] * 6
    assert result.prediction.label == digit and result.duration_s == pytest.approx(3.0)


def test_a_sound_model_is_told_it_cannot_read_a_video(tmp_path):
    predictor = Predictor.load(REPO_ROOT / "resources" / "models" / "spoken_digits.keras")
    path = write_frames(tmp_path / "clip.avi", moving_square(5), fps=10)
    with pytest.raises(DatasetError, match="Expected a video or image model"):
        predict_video_file(predictor, path)


def test_an_unreadable_file_is_named(tmp_path):
    (tmp_path / "broken.avi").write_text("not a video")
    with pytest.raises(DatasetError, match="broken.avi"):
        predict_video_file(video_predictor(tmp_path), tmp_path / "broken.avi")

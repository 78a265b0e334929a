"""Video clips as a model reads them: decoding to RGB, uniform frame sampling, resizing and colour,
windows along a long clip, scan statistics and the group regex the names call for."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from tests.helpers import write_video_dataset  # noqa: E402
from workbench.core.errors import DatasetError  # noqa: E402
from workbench.core.video.clips import (  # noqa: E402
    VideoConfig,
    centre_span,
    prepare_frames,
    span_indices,
    uniform_indices,
    window_spans,
)
from workbench.core.video.groups import suggested_group_regex  # noqa: E402
from workbench.core.video.io import read_video  # noqa: E402

VIDEO = {"kind": "video", "window_s": 4.0}


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """An MJPG .avi of RGB frames."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def solid(rgb: tuple[int, int, int], height: int = 24, width: int = 32) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (height, width, 3)).copy()


def test_read_video_gives_every_frame_as_rgb_and_the_frame_rate(tmp_path):
    path = write_clip(tmp_path / "red_then_blue.avi", [solid((230, 20, 20))] * 3 + [solid((20, 20, 230))] * 2, fps=8)
    frames, fps = read_video(path)
    assert frames.shape == (5, 24, 32, 3) and frames.dtype == np.uint8 and fps == pytest.approx(8.0)
    red, blue = frames[0].mean(axis=(0, 1)), frames[-1].mean(axis=(0, 1))
    assert red[0] > 180 > 60 > red[2] and blue[2] > 180 > 60 > blue[0]  # RGB order, not OpenCV's BGR


def test_read_video_names_a_file_that_is_not_a_video(tmp_path):
    (tmp_path / "notes.avi").write_text("not a video")
    with pytest.raises(DatasetError, match="notes.avi"):
        read_video(tmp_path / "notes.avi")


def test_uniform_indices_spread_evenly_and_repeat_for_short_runs():
    assert uniform_indices(80, 4).tolist() == [10, 30, 50, 70]
    assert uniform_indices(16, 16).tolist() == list(range(16))
    assert uniform_indices(2, 4).tolist() == [0, 0, 1, 1]


def test_prepare_frames_samples_resizes_and_converts_colour():
    # 40 frames whose value is their index: the sampled frames show which were taken.
    frames = np.stack([solid((i * 5, 0, 200 - i * 5), 48, 64) for i in range(40)])
    rgb = prepare_frames(frames, (8, 12, 16, 3), VIDEO)
    assert rgb.shape == (8, 12, 16, 3) and rgb.dtype == np.float32
    assert rgb[:, 0, 0, 0].tolist() == [i * 5 for i in uniform_indices(40, 8)]
    grey = prepare_frames(frames, (4, 12, 16, 1), VIDEO)
    assert grey.shape == (4, 12, 16, 1)
    expected = [round(0.299 * i * 5 + 0.114 * (200 - i * 5)) for i in uniform_indices(40, 4)]
    assert np.abs(grey[:, 0, 0, 0] - expected).max() <= 1
    # Grey camera frames and a single frame are accepted; a wrong model shape is refused.
    assert prepare_frames(frames[..., 0], (3, 12, 16, 3), VIDEO).shape == (3, 12, 16, 3)
    assert prepare_frames(frames[:1], (5, 12, 16, 3), VIDEO).shape == (5, 12, 16, 3)
    with pytest.raises(DatasetError, match="video model input"):
        prepare_frames(frames, (12, 16, 3), VIDEO)


def test_windows_along_a_long_clip_end_at_its_end():
    assert window_spans(3.0, 4.0, 2.0) == [(0.0, 3.0)]  # shorter than a window: the whole clip
    assert window_spans(10.0, 4.0, 2.0) == [(0.0, 4.0), (2.0, 6.0), (4.0, 8.0), (6.0, 10.0)]
    assert window_spans(9.0, 4.0, 2.0)[-1] == (5.0, 9.0)
    assert centre_span(10.0, 4.0) == (3.0, 7.0) and centre_span(2.0, 4.0) == (0.0, 2.0)
    times = np.arange(100) / 10.0  # 10 s at 10 fps
    assert span_indices(times, 2.0, 6.0, 4).tolist() == [25, 35, 45, 55]


def test_config_reads_the_model_shape_and_the_sidecar_window():
    config = VideoConfig.from_model((16, 64, 48, 1), {"window_s": 3.0})
    assert (config.frames, config.height, config.width, config.channels) == (16, 64, 48, 1)
    assert config.hop_s == 1.5 and config.color_mode == "grayscale"
    assert config.to_preprocessing()["size"] == [64, 48]


def test_scan_reports_frame_sizes_durations_and_rates(tmp_path):
    from workbench.core.data.scan import scan_dataset

    root = write_video_dataset(tmp_path / "v", {"a": 2, "b": 2}, size=16, frames=6)
    stats = scan_dataset(root).file_statistics
    assert stats["frame_sizes"] == {"16x16": 4} and stats["frame_rates"] == {"10": 4}
    assert stats["frames_max"] == 6 and stats["duration_max"] == pytest.approx(0.6)


def test_group_regex_is_suggested_when_the_names_show_groups():
    ucf = [f"/d/{c}/v_{c}_g{g:02d}_c{k:02d}.avi" for c in ("Punch", "PushUps") for g in (8, 9, 10) for k in (1, 2)]
    assert suggested_group_regex(SimpleNamespace(files=ucf)) == r"_g(\d+)_"
    people = [f"/d/wave/person{p:02d}_wave_d{k}.avi" for p in (1, 2, 3) for k in (1, 2)]
    assert suggested_group_regex(SimpleNamespace(files=people)) == r"(?i)(?:person|subject|actor|group)[_-]?(\d+)"
    # Names without groups, or with a group per clip, suggest nothing.
    assert suggested_group_regex(SimpleNamespace(files=[f"/d/a/clip_{i}.avi" for i in range(6)])) is None
    assert suggested_group_regex(SimpleNamespace(files=[f"/d/a/v_A_g{i:02d}_c01.avi" for i in range(6)])) is None


def test_the_suggested_regex_splits_the_shared_clips_by_group():
    from tests.paths import SHARED_DATA, require_shared
    from workbench.core.data.pipeline import split_dataset
    from workbench.core.data.scan import scan_dataset
    from workbench.core.data.split import group_of

    import re

    report = scan_dataset(require_shared(SHARED_DATA / "video" / "ucf101_actions"), verify=False)
    from workbench.core.modality import get_modality

    regex = get_modality(report.modality).suggested_group_regex(report)  # reached through the registry
    assert regex == r"_g(\d+)_"
    split = split_dataset(report, group_regex=regex)
    pattern = re.compile(regex)
    train = {group_of(f, pattern) for f in split.train.ids}
    val = {group_of(f, pattern) for f in split.val.ids}
    assert val and train and not train & val

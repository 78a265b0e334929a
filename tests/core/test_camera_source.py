"""CameraSource with a video file standing in for the webcam, fake captures for a lost camera, and the
no-camera messages. No camera is needed (or used) on this machine."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.sources import CameraSource, CameraUnavailable, list_cameras
from workbench.core.sources import camera
from workbench.core.sources.camera import describe_source, parse_source, source_kind
from workbench.core.sources.camera_collect import clip_fps, save_frame_image, save_frames_clip

FPS = 30.0


def write_video(path, frames: int = 30, fps: float = FPS, size=(64, 48)) -> str:
    """A Motion-JPEG clip whose frame k shows brightness 8k (so a frame's number can be read back)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for k in range(frames):
        writer.write(np.full((size[1], size[0], 3), (8 * k) % 256, np.uint8))
    writer.release()
    return str(path)


class FakeCapture:
    """A capture that delivers ``good`` frames, then fails every read (an unplugged camera)."""

    def __init__(self, good: int = 5, opened: bool = True) -> None:
        self.good, self.opened, self.reads, self.released = good, opened, 0, False

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return self.opened

    def read(self):
        self.reads += 1
        if self.reads > self.good:
            return False, None
        return True, np.full((4, 6, 3), self.reads, np.uint8)

    def get(self, prop) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def set(self, prop, value) -> bool:
        return False

    def release(self) -> None:
        self.released = True


def camera_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("CameraSource(")]


@pytest.fixture
def video(tmp_path) -> str:
    return write_video(tmp_path / "clip.avi")


def test_sources_are_parsed_and_described():
    assert parse_source("0") == 0 and parse_source(2) == 2
    assert [source_kind(s) for s in (0, "rtsp://cam/1", "/x/clip.avi")] == ["device", "stream", "file"]
    assert describe_source("/x/clip.avi") == "video file clip.avi"
    with pytest.raises(CameraUnavailable):
        parse_source("  ")


def test_a_video_file_plays_at_its_own_rate_as_rgb_frames(video):
    with CameraSource(video, loop=False) as source:
        first = source.latest()
        assert first is not None and first.index == 1 and first.image.shape == (48, 64, 3)
        assert first.image.dtype == np.uint8 and source.nominal_fps == FPS
        start = time.perf_counter()
        while source.state == "running" and time.perf_counter() - start < 5:
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
    assert source.state == "ended" and source.frames_captured == 30
    assert 29 / FPS * 0.85 <= elapsed <= 29 / FPS * 1.5  # paced: ~0.97 s, not as fast as it decodes
    assert abs(int(source.latest().image.mean()) - 8 * 29) <= 6  # the last frame is the last one shown


def test_a_slow_reader_only_ever_gets_the_newest_frame(video):
    with CameraSource(video, loop=True) as source:
        seen = []
        for _ in range(4):
            time.sleep(0.2)  # a consumer much slower than 30 fps
            frame = source.latest()
            seen.append(frame.index)
            assert frame.index == source.frames_captured  # nothing newer waits behind it: no backlog
        gaps = np.diff(seen)
        assert (gaps >= 4).all()  # ~6 frames each time were skipped, not queued
        assert source.wait_for_frame(seen[-1], timeout_s=1.0).index > seen[-1]


def test_a_looping_file_starts_again_and_keeps_a_bounded_history(tmp_path):
    video = write_video(tmp_path / "short.avi", frames=10)
    with CameraSource(video, loop=True, history_s=0.5) as source:
        deadline = time.monotonic() + 5
        while source.loops < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert source.loops >= 3 and source.state == "running"
        frames = source.recent_frames()
        times = np.array([f.timestamp for f in frames])
        assert 0.4 <= times[-1] - times[0] <= 0.5 + 1e-6  # the last half second, oldest first
        assert len(frames) <= 0.5 * FPS + 2
        assert [f.index for f in frames] == list(range(frames[0].index, frames[-1].index + 1))
        assert len(source.recent_frames(0.2)) <= 0.2 * FPS + 1


def test_stop_joins_the_thread_and_start_and_stop_are_idempotent(video):
    source = CameraSource(video)
    source.start()
    source.start()  # already running: nothing happens
    assert len(camera_threads()) == 1
    source.stop()
    source.stop()
    assert source.state == "stopped" and not camera_threads()
    source.start()  # and it can start again
    assert source.running and source.latest().index == 1
    source.stop()
    assert not camera_threads()


def test_no_camera_at_an_index_says_so():
    assert list_cameras() == []  # this machine has none: probing finds nothing, quickly
    with pytest.raises(CameraUnavailable, match="No camera found at index 7") as raised:
        CameraSource(7).start()
    assert isinstance(raised.value, WorkbenchError) and "Video file" in str(raised.value)
    assert not camera_threads()


def test_a_missing_or_unreadable_file_says_so(tmp_path):
    with pytest.raises(CameraUnavailable, match="No video file at"):
        CameraSource(tmp_path / "nope.avi").start()
    (tmp_path / "text.avi").write_text("not a video")
    with pytest.raises(CameraUnavailable, match="Expected a video file"):
        CameraSource(tmp_path / "text.avi").start()
    assert not camera_threads()


def test_a_busy_camera_that_does_not_open_says_so(monkeypatch):
    monkeypatch.setattr(camera, "_linux_device_indices", lambda: [0])  # /dev/video0 exists, as with a webcam
    with pytest.raises(CameraUnavailable, match="Camera 0 exists but could not be opened: another program"):
        CameraSource(0, opener=lambda source: FakeCapture(opened=False)).start()
    monkeypatch.setattr(camera, "_linux_device_indices", lambda: None)  # Windows, macOS: cannot tell which
    with pytest.raises(CameraUnavailable, match="No camera found at index 0, or it is in use by another program"):
        CameraSource(0, opener=lambda source: FakeCapture(opened=False)).start()
    with pytest.raises(CameraUnavailable, match="opened but sent no frames"):
        CameraSource(0, opener=lambda source: FakeCapture(good=0)).start()


def test_a_camera_that_stops_sending_frames_stops_the_source_with_a_message():
    capture = FakeCapture(good=5)
    source = CameraSource(0, opener=lambda s: capture, failure_limit=10)
    source.start(wait=False)  # as the GUI does: the failure shows in state and error
    deadline = time.monotonic() + 5
    while source.state != "failed" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert source.state == "failed" and not source.running
    assert "The camera stopped sending frames" in str(source.error)
    assert source.latest().index == 5 and capture.reads == 15 and capture.released
    source.stop()
    assert not camera_threads()


def test_list_cameras_reports_the_ones_that_open():
    cameras = list_cameras(3, opener=lambda index: FakeCapture(opened=index == 1))
    assert [c.index for c in cameras] == [1] and cameras[0].label.startswith("Camera 1")


def test_frames_and_clips_land_readable_in_the_class_folder(tmp_path):
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[..., 0] = 200  # red in RGB
    png = save_frame_image(frame, tmp_path, "seven")
    assert png.parent == tmp_path / "seven" and png.suffix == ".png"
    assert cv2.imread(str(png))[0, 0].tolist() == [0, 0, 200]  # BGR on disk: colours kept
    frames = [np.full((48, 64, 3), 10 * k, np.uint8) for k in range(12)]
    clip = save_frames_clip(frames, clip_fps([k / 12 for k in range(12)]), tmp_path, "wave")
    capture = cv2.VideoCapture(str(clip))
    assert clip.parent == tmp_path / "wave" and capture.get(cv2.CAP_PROP_FRAME_COUNT) == 12
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(12, abs=0.1)
    capture.release()
    assert [p.name for p in (tmp_path / "wave").iterdir()] == [clip.name]  # no temporary file left
    with pytest.raises(WorkbenchError, match="class name"):
        save_frame_image(frame, tmp_path, "../up")

"""Reading video files with OpenCV: every frame as RGB, or frames already fitted to a model's size.

OpenCV's FFmpeg backend decodes ``.avi``, ``.mp4``, ``.mov``, ``.mkv`` and ``.webm``. Names that are
not valid UTF-8 are opened through a temporary link (OpenCV takes names as UTF-8 text). Light to
import: OpenCV loads when a function runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.core.errors import DatasetError

#: Clips up to this many frames are verified frame by frame; longer ones by seeking to the end.
FULL_DECODE_FRAMES = 3000
#: The rate assumed for a container that declares none.
DEFAULT_FPS = 25.0

# FFmpeg's own messages about a damaged clip ("[mjpeg] huffman table decode error") would go straight to
# the terminal; the scan report says what is wrong with each file. Read when OpenCV first loads FFmpeg.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def read_video(path: str | Path) -> tuple[np.ndarray, float]:
    """Every frame of ``path`` as RGB uint8 (T, H, W, 3), and the clip's frame rate.

    Raises :class:`DatasetError` naming the file when it cannot be opened or holds no frame.
    """
    return decode_frames(path)


def decode_frames(path: str | Path, convert: Callable[[np.ndarray], np.ndarray] | None = None,
                  keep: Callable[[int, float], bool] | None = None) -> tuple[np.ndarray, float]:
    """Frames of ``path`` (RGB uint8, each passed through ``convert`` when given — e.g. resized to the
    model's size, so a long clip never sits in memory at full size) and the frame rate.

    ``keep(index, fps)`` picks the frames to keep; the others are skipped without being converted.
    """
    import cv2

    quiet_opencv(cv2)
    frames: list[np.ndarray] = []
    with openable(os.fspath(path)) as name:
        capture = open_capture(cv2, name)
        try:
            if not capture.isOpened():
                raise DatasetError(f"Expected a readable video file. Received: {_display(path)} "
                                   "(not a video OpenCV can open)")
            fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
            fps = fps if fps > 0 else DEFAULT_FPS
            index = 0
            while capture.grab():
                if keep is None or keep(index, fps):
                    ok, frame = capture.retrieve()
                    if ok and frame is not None:
                        rgb = to_rgb(cv2, frame)
                        frames.append(convert(rgb) if convert is not None else rgb)
                index += 1
        finally:
            capture.release()
    if not frames:
        raise DatasetError(f"Expected a readable video file. Received: {_display(path)} (no video frames)")
    return np.stack(frames), fps


def to_rgb(cv2, frame: np.ndarray) -> np.ndarray:
    """An OpenCV frame (BGR, BGRA or grey) as RGB uint8 (H, W, 3)."""
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def open_capture(cv2, name: str):
    """FFmpeg when the build has it: OpenCV's own MJPEG reader, tried after it fails, prints its
    complaints about a damaged file straight to the terminal."""
    if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        return cv2.VideoCapture(name, cv2.CAP_FFMPEG)
    return cv2.VideoCapture(name)


def check_video(path: str) -> tuple[str | None, dict[str, Any] | None]:
    """(reason it is unusable or None, {"frames", "fps", "duration", "width", "height"}) for one clip.

    Reads every frame of a clip up to :data:`FULL_DECODE_FRAMES` long and compares the count with the
    one the container declares; a longer clip is checked by seeking to its last frames instead.
    """
    import cv2

    quiet_opencv(cv2)
    capture = open_capture(cv2, path)
    try:
        if not capture.isOpened():
            return "not a video OpenCV can open", None
        declared = max(0, int(round(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)))
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        # Containers without a frame index (mkv, webm) estimate the count from duration × rate.
        tolerance = declared // 100
        if declared > FULL_DECODE_FRAMES:
            capture.set(cv2.CAP_PROP_POS_FRAMES, declared - 1 - tolerance)
            ok = any(capture.grab() for _ in range(tolerance + 1))
            if not ok:
                return f"truncated: its last frames (of {declared}) cannot be read", None
            decoded = declared
        else:
            decoded = 0
            while capture.grab():
                decoded += 1
    finally:
        capture.release()
    if decoded == 0:
        return ("no video frames" if declared == 0 else f"truncated: 0 of {declared} frames decode"), None
    if decoded < declared - tolerance:
        return f"truncated: {decoded} of {declared} frames decode", None
    rate = fps if fps > 0 else DEFAULT_FPS
    return None, {"frames": decoded, "fps": round(fps, 3), "duration": decoded / rate,
                  "width": width, "height": height}


def quiet_opencv(cv2) -> None:
    """Keep OpenCV's demuxer warnings ("Unexpected element ...") out of the terminal: the scan
    report says what is wrong with each file."""
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:
        pass


class openable:
    """A name OpenCV can open for ``path``: itself, or a temporary link when the name is not valid
    UTF-8 (OpenCV takes names as UTF-8 text)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.folder: str | None = None

    def __enter__(self) -> str:
        try:
            self.path.encode("utf-8")
            return self.path
        except UnicodeEncodeError:
            import tempfile

            self.folder = tempfile.mkdtemp(prefix="workbench-video-")
            link = os.path.join(self.folder, "clip" + Path(self.path).suffix.encode("ascii", "replace").decode())
            os.symlink(os.path.abspath(self.path), link)
            return link

    def __exit__(self, *exc: Any) -> None:
        if self.folder is not None:
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)


def _display(path: str | Path) -> str:
    from workbench.core.data.scan import display_path

    return display_path(path)

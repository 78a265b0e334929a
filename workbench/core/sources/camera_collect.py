"""Grow a folder-per-class dataset from the camera: one frame as a PNG, or the last seconds as a clip.

Files land in ``<dataset>/<class>/camera_<timestamp>.png`` (image models) or ``….avi`` (video models,
Motion-JPEG: every frame a JPEG, which OpenCV writes and reads everywhere without extra codecs). Both
are written to a temporary file beside the target and renamed over it
(:func:`~workbench.core.atomic.atomic_write_with`), so a crash never leaves half a file in a dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from workbench.core.atomic import atomic_write_with
from workbench.core.errors import DatasetError

CLIP_FOURCC = "MJPG"
MIN_CLIP_FPS, MAX_CLIP_FPS = 1.0, 120.0


def _target(dataset_dir: str | Path, class_name: str, prefix: str, suffix: str, now: datetime | None) -> Path:
    name = str(class_name).strip()
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise DatasetError(f"Expected a class name usable as a folder name. Received: {class_name!r}")
    if not str(dataset_dir):
        raise DatasetError("Expected a dataset folder to save into. Received: none chosen")
    folder = Path(dataset_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{prefix}_{stamp}{suffix}"
    n = 1
    while target.exists():
        target = folder / f"{prefix}_{stamp}-{n}{suffix}"
        n += 1
    return target


def _rgb(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[-1] != 3 or array.size == 0:
        raise DatasetError(f"Expected an (H, W, 3) RGB uint8 frame. Received: {array.dtype} {array.shape}")
    return array


def save_frame_image(image: np.ndarray, dataset_dir: str | Path, class_name: str, prefix: str = "camera",
                     now: datetime | None = None) -> Path:
    """Write one RGB frame as ``<dataset_dir>/<class_name>/<prefix>_<timestamp>.png``."""
    import cv2

    bgr = cv2.cvtColor(_rgb(image), cv2.COLOR_RGB2BGR)
    target = _target(dataset_dir, class_name, prefix, ".png", now)

    def write(tmp: Path) -> None:
        if not cv2.imwrite(str(tmp), bgr):
            raise DatasetError(f"Expected to write a PNG. Received: OpenCV could not write {tmp}")

    return atomic_write_with(target, write, suffix=".png")


def clip_fps(timestamps: Sequence[float], fallback: float = 25.0) -> float:
    """The rate the frames were captured at, from their timestamps (``fallback`` for < 2 frames)."""
    if len(timestamps) < 2 or timestamps[-1] <= timestamps[0]:
        return fallback
    fps = (len(timestamps) - 1) / (timestamps[-1] - timestamps[0])
    return float(min(max(fps, MIN_CLIP_FPS), MAX_CLIP_FPS))


def save_frames_clip(frames: Sequence[np.ndarray], fps: float, dataset_dir: str | Path, class_name: str,
                     prefix: str = "camera", now: datetime | None = None) -> Path:
    """Write RGB frames as a Motion-JPEG ``<dataset_dir>/<class_name>/<prefix>_<timestamp>.avi``."""
    import cv2

    if len(frames) == 0:
        raise DatasetError("Expected frames to save as a clip. Received: none yet")
    first = _rgb(frames[0])
    height, width = first.shape[:2]
    target = _target(dataset_dir, class_name, prefix, ".avi", now)

    def write(tmp: Path) -> None:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*CLIP_FOURCC), float(fps), (width, height))
        if not writer.isOpened():
            raise DatasetError(f"Expected to write a {CLIP_FOURCC} .avi clip. Received: OpenCV could not open "
                               f"a video writer for {tmp}")
        try:
            for frame in frames:
                rgb = _rgb(frame)
                if rgb.shape[:2] != (height, width):  # the camera changed size mid-clip
                    rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
                writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        finally:
            writer.release()

    return atomic_write_with(target, write, suffix=".avi")

"""The video modality: scan indexes and verifies video files; training and prediction are not
available yet, and every entry point says so up front instead of failing mid-run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import DatasetError

VIDEO_EXTENSIONS = frozenset({".avi", ".mp4", ".mkv", ".mov", ".webm"})
NOT_YET = "Training on and predicting video is not available yet (video clips are indexed and checked only)"
#: Clips up to this many frames are decoded frame by frame; longer ones are checked by seeking to the end.
FULL_DECODE_FRAMES = 3000

# FFmpeg's own messages about a damaged clip ("[mjpeg] huffman table decode error") would go straight to
# the terminal; the scan report says what is wrong with each file. Read when OpenCV first loads FFmpeg.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


class VideoAugmentationSpec:
    """No video augmentation options yet (one crop/flip/brightness per clip arrives with video training)."""

    modality = "video"
    enabled = False

    def to_dict(self) -> dict[str, Any]:
        return {"modality": self.modality}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VideoAugmentationSpec)

    def __hash__(self) -> int:
        return hash(self.modality)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> VideoAugmentationSpec:
        unknown = sorted(k for k in (values or {}) if k != "modality")
        if unknown:
            raise DatasetError(f"Expected no augmentation options for video yet. Received: {', '.join(unknown)}")
        return cls()

    @classmethod
    def from_pairs(cls, pairs: list[str] | None) -> VideoAugmentationSpec:
        from workbench.core.augmentation import parse_pairs

        return cls.from_dict(parse_pairs(pairs))


class VideoModality:
    name = "video"
    noun = "video"
    extensions = VIDEO_EXTENSIONS
    augmentation_spec = VideoAugmentationSpec
    can_train = False
    train_unavailable = NOT_YET

    def verify_file(self, path: str) -> tuple[str | None, dict[str, Any] | None]:
        """Decode the clip to its last frame: a truncated file opens and shows its first frames, so
        only reading on tells it apart (``truncated: N of M frames``)."""
        try:
            if os.path.getsize(path) == 0:
                return "empty file", None
            with _openable(path) as name:
                return check_video(name)
        except Exception as exc:  # OpenCV and the OS each have their own exception types
            return (str(exc).splitlines()[0] if str(exc) else type(exc).__name__), None

    def file_statistics(self, infos: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Duration (min / median / max / total, seconds), frames per clip and the frame rates seen."""
        if not infos:
            return None
        durations = np.array([i["duration"] for i in infos], np.float64)
        frames = np.array([i["frames"] for i in infos], np.int64)
        rates: dict[str, int] = {}
        for info in infos:
            key = f"{info['fps']:g}"
            rates[key] = rates.get(key, 0) + 1
        return {
            "files": len(infos),
            "duration_min": round(float(durations.min()), 4),
            "duration_median": round(float(np.median(durations)), 4),
            "duration_max": round(float(durations.max()), 4),
            "duration_total": round(float(durations.sum()), 2),
            "frames_min": int(frames.min()),
            "frames_max": int(frames.max()),
            "frame_rates": dict(sorted(rates.items(), key=lambda kv: float(kv[0]))),
        }

    def _unavailable(self, what: Any) -> DatasetError:
        return DatasetError(f"{NOT_YET}. Received: {what}")

    def load_file(self, path: str | Path, input_shape, preprocessing) -> np.ndarray:
        raise self._unavailable(path)

    def prepare_array(self, array, input_shape, preprocessing) -> np.ndarray:
        raise self._unavailable(f"an array of shape {np.shape(array)}")

    def sample_arrays(self, ids, arrays, input_shape, preprocessing) -> np.ndarray:
        raise self._unavailable(f"{len(ids)} video file(s)")

    def tf_dataset(self, ids, labels, arrays, input_shape, batch_size, *, training, augmentation, seed, preprocessing):
        raise self._unavailable(f"{len(ids)} video file(s)")

    def sidecar_preprocessing(self, preprocessing: dict[str, Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
        return dict(preprocessing)

    def configure_model(self, model, augmentation: Any) -> list[str]:
        return []

    def register_layers(self) -> None:
        return None

    def float_front_end_layers(self, model) -> list[str]:
        return []


def check_video(path: str) -> tuple[str | None, dict[str, Any] | None]:
    """(reason it is unusable or None, {"frames", "fps", "duration", "width", "height"}) for one clip.

    Reads every frame of a clip up to :data:`FULL_DECODE_FRAMES` long and compares the count with the
    one the container declares; a longer clip is checked by seeking to its last frames instead.
    """
    import cv2

    _quiet_opencv(cv2)
    # FFmpeg when the build has it: OpenCV's own MJPEG reader, tried after it fails, prints its
    # complaints about a damaged file straight to the terminal.
    ffmpeg = cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG)
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG) if ffmpeg else cv2.VideoCapture(path)
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
    rate = fps if fps > 0 else 25.0
    return None, {"frames": decoded, "fps": round(fps, 3), "duration": decoded / rate,
                  "width": width, "height": height}


def _quiet_opencv(cv2) -> None:
    """Keep OpenCV's demuxer warnings ("Unexpected element ...") out of the terminal: the scan
    report says what is wrong with each file."""
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:
        pass


class _openable:
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


VIDEO = VideoModality()

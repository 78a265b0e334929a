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
        try:
            if os.path.getsize(path) == 0:
                return "empty file", None
            import cv2

            capture = cv2.VideoCapture(path)
            ok, _ = capture.read()
            capture.release()
        except Exception as exc:  # OpenCV and the OS each have their own exception types
            return (str(exc).splitlines()[0] if str(exc) else type(exc).__name__), None
        return (None if ok else "no decodable video frame"), None

    def file_statistics(self, infos: list[dict[str, Any]]) -> dict[str, Any] | None:
        return None

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


VIDEO = VideoModality()

"""The video modality: what the engine asks of video, answered in one place.

Light to import (numpy only until a method runs: OpenCV and TensorFlow load inside the methods).
A video model takes clips (F, H, W, C) of raw pixel values 0..255: F frames sampled uniformly over a
window of ``window_s`` seconds, resized and converted to RGB or grey (:mod:`workbench.core.video.clips`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.video.augment import VideoAugmentationSpec
from workbench.core.video.clips import VideoConfig
from workbench.core.video.io import FULL_DECODE_FRAMES, check_video, openable  # noqa: F401  (re-exported)

VIDEO_EXTENSIONS = frozenset({".avi", ".mp4", ".mkv", ".mov", ".webm"})


class VideoModality:
    name = "video"
    noun = "video"
    extensions = VIDEO_EXTENSIONS
    augmentation_spec = VideoAugmentationSpec
    can_train = True
    train_unavailable = ""

    def verify_file(self, path: str) -> tuple[str | None, dict[str, Any] | None]:
        """Decode the clip to its last frame: a truncated file opens and shows its first frames, so
        only reading on tells it apart (``truncated: N of M frames``)."""
        try:
            if os.path.getsize(path) == 0:
                return "empty file", None
            with openable(path) as name:
                return check_video(name)
        except Exception as exc:  # OpenCV and the OS each have their own exception types
            return (str(exc).splitlines()[0] if str(exc) else type(exc).__name__), None

    def file_statistics(self, infos: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Duration (min / median / max / total, seconds), frames per clip, frame rates and sizes seen."""
        if not infos:
            return None
        durations = np.array([i["duration"] for i in infos], np.float64)
        frames = np.array([i["frames"] for i in infos], np.int64)
        rates: dict[str, int] = {}
        sizes: dict[str, int] = {}
        for info in infos:
            rates[f"{info['fps']:g}"] = rates.get(f"{info['fps']:g}", 0) + 1
            size = f"{info.get('width', 0)}x{info.get('height', 0)}"
            sizes[size] = sizes.get(size, 0) + 1
        return {
            "files": len(infos),
            "duration_min": round(float(durations.min()), 4),
            "duration_median": round(float(np.median(durations)), 4),
            "duration_max": round(float(durations.max()), 4),
            "duration_total": round(float(durations.sum()), 2),
            "frames_min": int(frames.min()),
            "frames_max": int(frames.max()),
            "frame_rates": dict(sorted(rates.items(), key=lambda kv: float(kv[0]))),
            "frame_sizes": dict(sorted(sizes.items(), key=lambda kv: -kv[1])),
        }

    def describe_files(self, stats: dict[str, Any] | None, infos: list[dict[str, Any]]) -> list[str]:
        """Lines on the clips' durations, frame rates and frame sizes (for the Model panel)."""
        if not stats or not stats.get("files"):
            return []
        rates = ", ".join(f"{rate} fps ×{n:,}" for rate, n in (stats.get("frame_rates") or {}).items())
        sizes = ", ".join(f"{size.replace('x', '×')} ×{n:,}" for size, n in
                          list((stats.get("frame_sizes") or {}).items())[:3])
        return [f"{stats['files']:,} clips at {rates}; frames {sizes}.",
                f"Durations {stats['duration_min']:.2f} s to {stats['duration_max']:.2f} s "
                f"(median {stats['duration_median']:.2f} s), {stats['frames_min']}–{stats['frames_max']} frames."]

    def fit_warnings(self, infos: list[dict[str, Any]], input_shape: tuple[int, ...],
                     preprocessing: dict[str, Any]) -> list[str]:
        """What a model of ``input_shape`` does to these clips: clips with fewer frames than it reads
        repeat frames; clips longer than its window are read one window at a time."""
        config = self.clip_config(input_shape, preprocessing)
        short = sum(1 for i in infos if i["frames"] < config.frames)
        long = sum(1 for i in infos if i["duration"] > config.window_s + 1e-6)
        warnings = []
        if short:
            warnings.append(f"{short} of {len(infos)} clips have fewer than the model's {config.frames} frames: "
                            "their frames are repeated.")
        if long:
            warnings.append(f"{long} of {len(infos)} clips are longer than the model's {config.window_s:g} s window: "
                            f"training reads a window of them at a time ({config.hop_s:g} s apart), validation "
                            "the middle one.")
        return warnings

    def suggested_group_regex(self, report) -> str | None:
        """The ``--group-regex`` the dataset's file names call for (UCF101's ``_g(\\d+)_``), or None:
        :func:`~workbench.core.video.groups.suggested_group_regex`."""
        from workbench.core.video.groups import suggested_group_regex

        return suggested_group_regex(report)

    def clip_config(self, input_shape: tuple[int, ...], preprocessing: dict[str, Any]) -> VideoConfig:
        """Frames, size, channels, window and hop of a model of ``input_shape`` (its sidecar's record)."""
        return VideoConfig.from_model(input_shape, preprocessing)

    def predict_file(self, predictor, path: str | Path, top_k: int = 3):
        """A video file read along its timeline by ``predictor`` (a video model window by window, an
        image model frame by frame): :func:`~workbench.core.video.files.predict_video_file`."""
        from workbench.core.video.files import predict_video_file

        return predict_video_file(predictor, path, top_k=top_k)

    def load_file(self, path: str | Path, input_shape: tuple[int, ...], preprocessing: dict[str, Any]) -> np.ndarray:
        """The clip's middle window as the model reads it (training's cache and sampling)."""
        from workbench.core.video.dataset import load_clip_for_model

        return load_clip_for_model(path, self.clip_config(input_shape, preprocessing))

    def prepare_array(self, array: np.ndarray, input_shape: tuple[int, ...],
                      preprocessing: dict[str, Any]) -> np.ndarray:
        """A run of frames (T, H, W, 3) RGB uint8 — e.g. the camera's last ``window_s`` seconds — → the
        model input (F, H, W, C) float32: :func:`~workbench.core.video.clips.prepare_frames`."""
        from workbench.core.video.clips import prepare_frames

        return prepare_frames(array, input_shape, preprocessing)

    def sample_arrays(self, ids: list[str], arrays: np.ndarray | None, input_shape: tuple[int, ...],
                      preprocessing: dict[str, Any]) -> np.ndarray:
        from workbench.core.video.dataset import clip_arrays

        if arrays is not None:
            return np.stack([self.prepare_array(a, input_shape, preprocessing) for a in arrays[:len(ids)]])
        return clip_arrays(list(ids), self.clip_config(input_shape, preprocessing))

    def tf_dataset(self, ids, labels, arrays, input_shape, batch_size, *, training, augmentation, seed, preprocessing):
        from workbench.core.video.dataset import video_tf_dataset

        if arrays is not None:
            raise NotImplementedError("Video datasets are read from folders of files, not from arrays")
        return video_tf_dataset(ids, labels, self.clip_config(input_shape, preprocessing), batch_size,
                                training=training, augmentation=augmentation, seed=seed)

    def sidecar_preprocessing(self, preprocessing: dict[str, Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
        """The template's record with the frames, size and channels of the model actually built."""
        return {**preprocessing, **self.clip_config(input_shape, preprocessing).to_preprocessing()}

    def configure_model(self, model, augmentation: Any) -> list[str]:
        return []  # video augmentation runs in the tf.data pipeline, not in the model

    def register_layers(self) -> None:
        return None  # video templates use built-in Keras layers only

    def float_front_end_layers(self, model) -> list[str]:
        return []


VIDEO = VideoModality()

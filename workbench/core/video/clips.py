"""Clips as a video model sees them: a fixed number of frames, uniform over a window of the clip.

A model of input shape (F, H, W, C) reads windows of ``window_s`` seconds (``hop_s`` apart along a
long clip; a clip no longer than a window is one window): the frames of a window are sampled
uniformly to F, resized to H × W and converted to C channels (3 RGB, 1 grey), values 0..255.
:func:`prepare_frames` does that to any run of frames — a window of a file, the camera's last
frames — and is the one function training, evaluation, files and the camera use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.core.errors import DatasetError

DEFAULT_WINDOW_S = 4.0
#: The decode cache keeps at most this many frames per sampled frame of a window (the rest of a
#: high-rate clip are dropped when it is decoded): room for the speed augmentation to slow a window
#: down without reading frames twice.
CACHE_OVERSAMPLE = 4
COLOR_MODES = ("rgb", "grayscale")


@dataclass(frozen=True)
class VideoConfig:
    """What a video model's preprocessing record and input shape say about its clips."""

    frames: int
    height: int
    width: int
    channels: int
    window_s: float = DEFAULT_WINDOW_S
    hop_s: float = DEFAULT_WINDOW_S / 2

    @classmethod
    def from_model(cls, input_shape: tuple[int, ...], preprocessing: dict[str, Any] | None) -> VideoConfig:
        shape = tuple(int(d) for d in input_shape)
        if len(shape) != 4 or shape[3] not in (1, 3) or min(shape) < 1:
            raise DatasetError(f"Expected a video model input (frames, height, width, channels) with 1 or 3 "
                               f"channels. Received: input shape {tuple(input_shape)}")
        preprocessing = preprocessing or {}
        window = float(preprocessing.get("window_s") or DEFAULT_WINDOW_S)
        hop = float(preprocessing.get("hop_s") or window / 2)
        if not (window > 0 and hop > 0):
            raise DatasetError(f"Expected a positive window and hop in seconds. Received: window_s {window}, hop_s {hop}")
        return cls(shape[0], shape[1], shape[2], shape[3], window, hop)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.frames, self.height, self.width, self.channels)

    @property
    def color_mode(self) -> str:
        return "grayscale" if self.channels == 1 else "rgb"

    @property
    def cache_fps(self) -> float:
        """The highest frame rate the decode cache keeps."""
        return CACHE_OVERSAMPLE * self.frames / self.window_s

    def to_preprocessing(self) -> dict[str, Any]:
        return {"kind": "video", "frames": self.frames, "size": [self.height, self.width],
                "channels": self.channels, "color_mode": self.color_mode, "value_range": [0, 255],
                "window_s": self.window_s, "hop_s": self.hop_s}


def uniform_indices(total: int, count: int) -> np.ndarray:
    """``count`` indices spread evenly over ``range(total)`` (the centre of each of ``count`` equal
    parts; indices repeat when there are fewer than ``count``)."""
    if total < 1:
        raise DatasetError(f"Expected at least one frame. Received: {total}")
    return np.minimum(((np.arange(count) + 0.5) * total / count).astype(np.int64), total - 1)


def convert_frame(frame: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    """One frame (RGB (H, W, 3), grey (H, W) or (H, W, 1), uint8) → (height, width, channels) uint8."""
    import cv2

    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 3 and frame.shape[2] == 4:
        frame = frame[:, :, :3]
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] != 3):
        raise DatasetError(f"Expected a frame of shape (H, W), (H, W, 1) or (H, W, 3). Received: {frame.shape}")
    if frame.shape[:2] != (height, width):
        shrink = frame.shape[0] >= height and frame.shape[1] >= width
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    if channels == 1:
        grey = frame if frame.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        return grey[:, :, None]
    return frame if frame.ndim == 3 else np.repeat(frame[:, :, None], 3, axis=2)


def prepare_frames(frames: np.ndarray, input_shape: tuple[int, ...], preprocessing: dict[str, Any]) -> np.ndarray:
    """A run of frames (T, H, W, 3) RGB uint8 — a window of a clip, the camera's last frames — →
    the model's input (F, H', W', C) float32 0..255: F frames sampled uniformly, resized, converted.

    The function training uses; ``VIDEO.prepare_array`` and ``Predictor.prepare_array`` are this.
    Grey frames (T, H, W) or (T, H, W, 1) are accepted too.
    """
    config = VideoConfig.from_model(input_shape, preprocessing)
    frames = np.asarray(frames)
    if frames.ndim not in (3, 4) or len(frames) < 1:
        raise DatasetError(f"Expected frames of shape (T, H, W, 3) with T ≥ 1. Received: {frames.shape}")
    picked = frames[uniform_indices(len(frames), config.frames)]
    return np.stack([convert_frame(f, config.height, config.width, config.channels) for f in picked]).astype(np.float32)


def window_spans(duration: float, window_s: float, hop_s: float) -> list[tuple[float, float]]:
    """(start, end) in seconds of the windows along a clip of ``duration`` seconds: every ``hop_s``
    from the start, the last one ending at the clip's end; one window (the whole clip) when the clip
    is no longer than a window."""
    eps = 1e-6
    if duration <= window_s + eps:
        return [(0.0, float(duration))]
    spans = []
    start = 0.0
    while start + window_s <= duration + eps:
        spans.append((start, start + window_s))
        start += hop_s
    if spans[-1][1] < duration - eps:
        spans.append((duration - window_s, float(duration)))
    return spans


def centre_span(duration: float, window_s: float) -> tuple[float, float]:
    """The window in the middle of a clip (the whole clip when it is shorter): what validation and
    evaluation read of each clip."""
    if duration <= window_s:
        return 0.0, float(duration)
    start = (duration - window_s) / 2
    return start, start + window_s


def jitter_span(duration: float, window: float, speed: float, rng: np.random.Generator) -> tuple[float, float]:
    """A random window for training: ``window`` stretched by a factor in [1 - speed, 1 + speed] (the
    frames of a longer span sampled into the same F: faster motion), placed at random in the clip."""
    factor = 1.0 + speed * rng.uniform(-1.0, 1.0) if speed else 1.0
    length = min(duration, window * factor)
    start = rng.uniform(0.0, duration - length) if duration > length else 0.0
    return start, start + length


def span_indices(times: np.ndarray, start: float, end: float, count: int) -> np.ndarray:
    """``count`` indices of the frames (at ``times``) inside [start, end), spread evenly; the frame
    nearest the span when none falls inside it."""
    inside = np.flatnonzero((times >= start - 1e-6) & (times < end - 1e-6))
    if inside.size == 0:
        inside = np.array([int(np.argmin(np.abs(times - start)))])
    return inside[uniform_indices(inside.size, count)]

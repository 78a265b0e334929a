"""A video file read along its timeline: window by window by a video model, frame by frame by an
image model. What ``workbench predict`` prints for a video file and the Files tab shows.

A video model reads the windows its training clips were cut into (``window_s`` seconds, ``hop_s``
apart; the frames decoded at its size and colour, as the training cache holds them); an image model
reads :data:`FRAMES_PER_SECOND` frames a second, each prepared by ``predictor.prepare_image`` (a
digit model's MNIST-style preparation included). The whole clip's prediction is the mean of the
windows' probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import DatasetError

#: Frames a second an image model reads of a video.
FRAMES_PER_SECOND = 2.0
#: Windows predicted at once (a long video has hundreds).
CHUNK = 64


@dataclass
class VideoWindow:
    """One stretch of the clip (seconds) and what the model reads there."""

    start_s: float
    end_s: float
    probabilities: list[float]
    top: list[tuple[str, float]]

    @property
    def label(self) -> str:
        return self.top[0][0]

    def to_dict(self) -> dict[str, Any]:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3), "label": self.label,
                "top": [{"class": c, "probability": p} for c, p in self.top], "probabilities": self.probabilities}


@dataclass
class VideoFilePrediction:
    """The whole clip's prediction (mean of its windows' probabilities) and each window's."""

    prediction: Any  # workbench.core.inference.Prediction
    windows: list[VideoWindow] = field(default_factory=list)
    duration_s: float = 0.0
    fps: float = 0.0
    num_frames: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**self.prediction.to_dict(), "duration_s": round(self.duration_s, 3), "fps": round(self.fps, 3),
                "num_frames": self.num_frames, "windows": [w.to_dict() for w in self.windows]}


def predict_video_file(predictor, path: str | Path, top_k: int = 3) -> VideoFilePrediction:
    """Predict a video file window by window (video model) or frame by frame (image model).

    Raises :class:`DatasetError` naming the file when it cannot be read, and for a model that reads
    neither clips nor single frames (a sound model).
    """
    from workbench.core.inference import Prediction

    clip_config = getattr(predictor.handler, "clip_config", None)  # the modality reads clips of frames
    if clip_config is not None:
        spans, inputs, fps, total = _clip_windows(path, clip_config(predictor.input_shape, predictor.preprocessing))
    elif len(predictor.input_shape) == 3:  # (height, width, channels): a model of single pictures
        spans, inputs, fps, total = _frame_windows(predictor, path)
    else:
        raise DatasetError(f"Expected a video or image model to read a video file. Received: a "
                           f"{predictor.handler.noun} model of input shape {tuple(predictor.input_shape)}")
    probabilities = np.concatenate([predictor.predict_arrays(inputs[i:i + CHUNK]) for i in range(0, len(inputs), CHUNK)])
    windows = [VideoWindow(float(a), float(b), [float(p) for p in probs], predictor.top_k(probs, top_k))
               for (a, b), probs in zip(spans, probabilities)]
    mean = probabilities.mean(axis=0)
    overall = Prediction(str(path), [float(p) for p in mean], predictor.top_k(mean, top_k))
    return VideoFilePrediction(overall, windows, total / fps, fps, total)


def _clip_windows(path, config):
    """(spans, model inputs, fps, frames) of the windows along a clip, decoded as training decodes."""
    from workbench.core.video.cache import decode_clip
    from workbench.core.video.clips import window_spans
    from workbench.core.video.dataset import clip_input

    clip = decode_clip(path, config)
    spans = window_spans(clip.duration, config.window_s, config.hop_s)
    return spans, np.stack([clip_input(clip, config, s) for s in spans]).astype(np.float32), clip.fps, clip.num_frames


def _frame_windows(predictor, path):
    """(spans, model inputs, fps, frames) of :data:`FRAMES_PER_SECOND` frames a second."""
    from workbench.core.video.io import decode_frames

    kept: list[int] = []
    seen = [0]

    def keep(index: int, fps: float) -> bool:
        seen[0] = index + 1
        rate = min(fps, FRAMES_PER_SECOND)
        if index == 0 or int(index * rate / fps) != int((index - 1) * rate / fps):
            kept.append(index)
            return True
        return False

    frames, fps = decode_frames(path, predictor.prepare_image, keep)
    step = 1.0 / min(fps, FRAMES_PER_SECOND)
    total = seen[0]
    spans = [(i / fps, min(total / fps, i / fps + step)) for i in kept[:len(frames)]]
    return spans, frames.astype(np.float32), fps, total

"""Background job of the Files tab: classify files with a model from the PredictorCache.

No Qt here: :func:`classify_files` runs on a TaskRunner thread. How one file is predicted depends on
the file's modality (an image model reads images one way, videos frame by frame along their
timeline); the per-modality functions below are what
:data:`~workbench.gui.modality_widgets.MODALITY_WIDGETS` names for each modality.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: ``predict(predictor, path, top_k)`` → (the row's summary dict, what the detail view shows or None).
FilePrediction = Callable[[Any, str, int], tuple[dict[str, Any], Any]]


#: The longest side of the picture an image row keeps for its detail view.
IMAGE_DETAIL_SIDE = 512


@dataclass
class ImageFileView:
    """What the image detail view shows for one file (plain data, made on the worker thread).

    Attributes:
        source: the file.
        model_path: the model that classified it (the Grad-CAM job loads it from the PredictorCache).
        probabilities: every class's probability.
        image: the picture, RGB uint8, at most :data:`IMAGE_DETAIL_SIDE` pixels a side (None: unreadable).
    """

    source: str
    model_path: str
    probabilities: list[float]
    image: np.ndarray | None = None

    @property
    def predicted_index(self) -> int:
        return int(np.argmax(self.probabilities))


def predict_image_file(predictor, path: str, top_k: int) -> tuple[dict[str, Any], ImageFileView]:
    """An image file: its top classes, and the picture with its probabilities for the detail view."""
    prediction = predictor.predict_files([path], top_k=top_k)[0]
    return prediction.to_dict(), ImageFileView(path, str(predictor.path), prediction.probabilities,
                                               small_rgb(path, IMAGE_DETAIL_SIDE))


def small_rgb(path: str, side: int) -> np.ndarray | None:
    """The image at ``path`` as RGB uint8, shrunk to at most ``side`` pixels a side; None if unreadable."""
    from workbench.core.image.io import read_image

    try:
        return shrink_rgb(read_image(path), side)
    except Exception:
        return None


def shrink_rgb(image: np.ndarray, side: int) -> np.ndarray:
    """A decoded image (grey or colour, uint8) as RGB, shrunk to at most ``side`` pixels a side."""
    import cv2

    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    scale = side / max(image.shape[:2])
    if scale < 1:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image[..., :3])


def predict_sound_file(predictor, path: str, top_k: int) -> tuple[dict[str, Any], Any]:
    """A sound file: the summary for the table (a long recording's words included) and the
    :class:`~workbench.core.inference.sound_files.SoundFilePrediction` for the detail below it."""
    from workbench.core.inference.sound_files import predict_sound_file as predict

    heard = predict(predictor, path, top_k=top_k)
    return heard.to_dict(), heard


#: Frames the video detail shows along the top of its timeline, and their height in pixels.
VIDEO_THUMBNAILS = 6
THUMBNAIL_HEIGHT = 64


@dataclass
class VideoFileView:
    """What the video detail view shows for one file.

    Attributes:
        seen: the core's :class:`~workbench.core.video.files.VideoFilePrediction` (overall and per window).
        frames: a few (time in seconds, small RGB uint8 frame) spread over the clip, for the timeline.
    """

    seen: Any
    frames: list[tuple[float, np.ndarray]] = field(default_factory=list)


def predict_video_file(predictor, path: str, top_k: int) -> tuple[dict[str, Any], VideoFileView]:
    """A video file, read window by window along its timeline by a video model (or frame by frame by
    an image model): the table's summary (overall label, duration, rate, windows) and the detail."""
    from workbench.core.video.files import predict_video_file as predict

    seen = predict(predictor, path, top_k=top_k)
    return video_summary(seen), VideoFileView(seen, video_frames(path, seen.num_frames, seen.fps))


def video_summary(seen) -> dict[str, Any]:
    """The Files table's view of a :class:`VideoFilePrediction` (plain data, like a sound file's)."""
    def top(pairs) -> list[dict[str, Any]]:
        return [{"class": c, "probability": float(p)} for c, p in pairs]

    return {**seen.prediction.to_dict(), "duration_s": round(float(seen.duration_s), 3), "fps": float(seen.fps),
            "num_frames": int(seen.num_frames),
            "windows": [{"start_s": round(float(w.start_s), 3), "end_s": round(float(w.end_s), 3),
                         "label": w.top[0][0], "top": top(w.top)} for w in seen.windows]}


def video_frames(path: str, num_frames: int, fps: float, count: int = VIDEO_THUMBNAILS,
                 height: int = THUMBNAIL_HEIGHT) -> list[tuple[float, np.ndarray]]:
    """``count`` frames spread evenly over the clip, ``height`` pixels high, RGB, with their times;
    the others are skipped undecoded (an empty list when the file cannot be read again)."""
    import cv2

    from workbench.core.errors import DatasetError
    from workbench.core.video.io import decode_frames

    if num_frames <= 0:
        return []
    # The middle frame of each of ``count`` equal parts: the timeline shows them evenly spread over
    # the clip, each above its own time.
    count = min(count, num_frames)
    wanted = sorted({int((i + 0.5) * num_frames / count) for i in range(count)})

    def small(frame: np.ndarray) -> np.ndarray:
        width = max(1, round(frame.shape[1] * height / frame.shape[0]))
        return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)

    try:
        frames, _fps = decode_frames(path, small, lambda index, _rate: index in wanted)
    except DatasetError:
        return []
    rate = fps if fps > 0 else 25.0
    return [(index / rate, frame) for index, frame in zip(wanted, frames)]


def classify_files(cache, model_path: str, paths: list[str], predict: FilePrediction | list[FilePrediction],
                   top_k: int, *, progress, cancel) -> dict[str, Any]:
    """``{"class_names": [...], "results": [(kind, data, detail), ...]}``, one result per path:
    ``("ok", summary, detail)`` or ``("error", {"source", "message"}, None)``. ``predict`` is one
    function for every path, or one per path (an image model reads images and videos differently)."""
    predictor = cache.get(model_path)
    predicts = predict if isinstance(predict, list) else [predict] * len(paths)
    results = []
    for i, (path, predict_one) in enumerate(zip(paths, predicts)):
        if cancel.cancelled:
            break
        try:
            results.append(("ok", *predict_one(predictor, path, top_k)))
        except Exception as exc:
            results.append(("error", {"source": path, "message": str(exc)}, None))
        progress(i + 1, len(paths))
    return {"class_names": list(predictor.class_names), "results": results}

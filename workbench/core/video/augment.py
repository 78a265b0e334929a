"""Video augmentation: one random draw per clip, applied alike to every frame of it.

The spec is plain data (the GUI's sliders and the CLI's ``--augment key=value`` both fill it). In
training, the speed jitter picks which frames make a clip (a longer or shorter span of it sampled
into the model's F frames: faster or slower motion), then one crop/zoom, mirror, brightness and
contrast per clip are applied to the batch in the tf.data pipeline — the training split only; the
saved model holds none of it. :func:`augment_clips` runs the very same two steps for the preview.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import numpy as np

from workbench.core.errors import WorkbenchError

#: Each option's largest value (the smallest is 0 = off).
LIMITS = {"zoom": 0.5, "brightness": 1.0, "contrast": 1.0, "speed": 0.5}


@dataclass(frozen=True)
class VideoAugmentationSpec:
    """Video augmentation options; zero / False means off. One draw per clip, for all its frames.

    Attributes:
        zoom: largest crop, as a fraction of each side cut away, at a random place; the crop is
            resized back to the frame size (zooms in by up to 1 / (1 - zoom)).
        horizontal_flip: mirror left-right at random (actions look the same mirrored).
        brightness: largest brightness change, as a fraction of the value range (0..255).
        contrast: largest contrast change, as a fraction.
        speed: frame-rate jitter: the clip's window is stretched or shrunk by up to this fraction
            before its frames are sampled, so motion looks up to that much faster or slower.
    """

    modality: ClassVar[str] = "video"

    zoom: float = 0.0
    horizontal_flip: bool = False
    brightness: float = 0.0
    contrast: float = 0.0
    speed: float = 0.0

    def __post_init__(self) -> None:
        for name, limit in LIMITS.items():
            value = getattr(self, name)
            if not 0.0 <= float(value) <= limit:
                raise WorkbenchError(f"Augmentation '{name}' expects a value in [0, {limit}]. Received: {value!r}")

    @property
    def enabled(self) -> bool:
        return self != VideoAugmentationSpec()

    @property
    def frames_enabled(self) -> bool:
        """Whether anything is done to the frames' pixels (the speed jitter picks frames instead)."""
        return bool(self.zoom or self.horizontal_flip or self.brightness or self.contrast)

    def to_dict(self) -> dict[str, Any]:
        return {"modality": self.modality, **asdict(self)}

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> VideoAugmentationSpec:
        from workbench.core.augmentation import parse_bool

        values = {k: v for k, v in (values or {}).items() if not (k == "modality" and v == cls.modality)}
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise WorkbenchError(f"Unknown video augmentation option(s); expected some of {', '.join(known)}. "
                                 f"Received: {', '.join(unknown)}")
        converted: dict[str, Any] = {}
        for name, value in values.items():
            kind = known[name].type
            try:
                converted[name] = (value if isinstance(value, bool) else parse_bool(value)) if kind == "bool" \
                    else float(value)
            except (TypeError, ValueError):
                raise WorkbenchError(f"Augmentation '{name}' expects a {kind}. Received: {value!r}") from None
        return cls(**converted)

    @classmethod
    def from_pairs(cls, pairs: list[str] | None) -> VideoAugmentationSpec:
        """Parse ``["zoom=0.2", "horizontal_flip=true"]`` as given on the command line."""
        from workbench.core.augmentation import parse_pairs

        return cls.from_dict(parse_pairs(pairs))


def augment_frames(batch, seed, spec: VideoAugmentationSpec):
    """Crop/zoom, mirror, brightness and contrast of a batch of clips (B, F, H, W, C) float32 0..255:
    one random draw per clip for all its frames, from the stateless ``seed`` pair. Plain TF ops."""
    import tensorflow as tf

    x = tf.convert_to_tensor(batch, tf.float32)
    frames, height, width, channels = (int(d) for d in x.shape[1:])
    count = tf.shape(x)[0]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 6)

    def uniform(i):
        return tf.random.stateless_uniform((count,), seeds[i])

    if spec.zoom:
        side = 1.0 - spec.zoom * uniform(0)
        top, left = uniform(1) * (1.0 - side), uniform(2) * (1.0 - side)
        boxes = tf.repeat(tf.stack([top, left, top + side, left + side], axis=1), frames, axis=0)
        flat = tf.reshape(x, (-1, height, width, channels))
        flat = tf.image.crop_and_resize(flat, boxes, tf.range(tf.shape(flat)[0]), (height, width))
        x = tf.reshape(flat, (-1, frames, height, width, channels))
    if spec.horizontal_flip:
        mirrored = uniform(3) < 0.5
        x = tf.where(mirrored[:, None, None, None, None], tf.reverse(x, axis=[3]), x)
    if spec.brightness:
        x = x + ((uniform(4) * 2.0 - 1.0) * spec.brightness * 255.0)[:, None, None, None, None]
    if spec.contrast:
        factor = (1.0 + (uniform(5) * 2.0 - 1.0) * spec.contrast)[:, None, None, None, None]
        mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
        x = (x - mean) * factor + mean
    return tf.clip_by_value(x, 0.0, 255.0)


def augment_clips(clips: np.ndarray, spec: VideoAugmentationSpec, n: int = 4, seed: int | None = None) -> np.ndarray:
    """``n`` augmented versions of each clip: (N, F, H, W, C) float32 0..255 → (N, n, F, H, W, C).

    The training code: the speed jitter re-picks each clip's frames (:func:`jitter_span` over the
    clip's own F frames — slowed down only, a preview clip has no frames beyond its window), then
    :func:`augment_frames` draws the crop, mirror, brightness and contrast. A single clip
    (F, H, W, C) is taken as N = 1.
    """
    from workbench.core.video.clips import jitter_span, span_indices

    clips = np.asarray(clips, np.float32)
    if clips.ndim == 4:
        clips = clips[None]
    if clips.ndim != 5:
        raise WorkbenchError(f"Expected clips of shape (N, F, H, W, C). Received: {clips.shape}")
    count, frames = clips.shape[0], clips.shape[1]
    out = np.repeat(clips, n, axis=0)
    rng = np.random.default_rng(seed)
    if spec.speed:
        times = np.arange(frames, dtype=np.float64)
        for i in range(len(out)):
            start, end = jitter_span(float(frames), float(frames), spec.speed, rng)
            out[i] = out[i][span_indices(times, start, end, frames)]
    if spec.frames_enabled:
        pair = rng.integers(0, 2**31 - 1, size=2)
        out = np.asarray(augment_frames(out, pair, spec))
    return out.reshape((count, n) + clips.shape[1:])

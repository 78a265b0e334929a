"""Image augmentation: the article's ImageDataGenerator options as Keras 3 preprocessing layers.

The spec is plain data (the GUI's sliders and the CLI's ``--augment key=value`` both fill it). It maps
to ``keras.layers.Random*`` layers applied to the training split only, in the tf.data pipeline; the
saved model does not contain them. :func:`augment_samples` runs the very same layers for the live
preview.

Each modality has its own options (sound: :class:`workbench.core.audio.augment.AudioAugmentationSpec`);
:mod:`workbench.core.augmentation` picks the right one through the modality registry, so
``--augment key=value`` works for all of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import numpy as np

from workbench.core.augmentation import parse_bool, parse_pairs
from workbench.core.errors import WorkbenchError

FILL_MODES = ("nearest", "constant", "reflect", "wrap")


@dataclass(frozen=True)
class AugmentationSpec:
    """Augmentation options; zero / False means off.

    Attributes:
        rotation: maximum rotation in degrees (either way).
        width_shift: maximum horizontal shift as a fraction of the width.
        height_shift: maximum vertical shift as a fraction of the height.
        shear: maximum shear as a fraction (Keras ``RandomShear`` factor).
        zoom: maximum zoom in or out as a fraction.
        horizontal_flip: mirror left-right at random.
        vertical_flip: mirror top-bottom at random.
        brightness: maximum brightness change as a fraction of the value range.
        contrast: maximum contrast change as a fraction.
        stroke_width: probability that a sample's bright strokes are made thicker or thinner
            (for drawn digits, whose pen width is uniform).
        fill_mode: how pixels moved in from outside are filled.
    """

    modality: ClassVar[str] = "image"

    rotation: float = 0.0
    width_shift: float = 0.0
    height_shift: float = 0.0
    shear: float = 0.0
    zoom: float = 0.0
    horizontal_flip: bool = False
    vertical_flip: bool = False
    brightness: float = 0.0
    contrast: float = 0.0
    stroke_width: float = 0.0
    fill_mode: str = "nearest"

    def __post_init__(self) -> None:
        limits = {"rotation": 180.0, "width_shift": 1.0, "height_shift": 1.0, "shear": 1.0, "zoom": 0.9,
                  "brightness": 1.0, "contrast": 1.0, "stroke_width": 1.0}
        for name, limit in limits.items():
            value = getattr(self, name)
            if not 0.0 <= float(value) <= limit:
                raise WorkbenchError(f"Augmentation '{name}' expects a value in [0, {limit}]. Received: {value!r}")
        if self.fill_mode not in FILL_MODES:
            raise WorkbenchError(f"Augmentation 'fill_mode' expects one of {', '.join(FILL_MODES)}. "
                                 f"Received: {self.fill_mode!r}")

    @property
    def enabled(self) -> bool:
        return self != AugmentationSpec(fill_mode=self.fill_mode)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> AugmentationSpec:
        values = {k: v for k, v in (values or {}).items() if not (k == "modality" and v == "image")}
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values or {}) - set(known))
        if unknown:
            raise WorkbenchError(f"Unknown augmentation option(s); expected some of {', '.join(known)}. "
                                 f"Received: {', '.join(unknown)}")
        converted: dict[str, Any] = {}
        for name, value in (values or {}).items():
            kind = known[name].type
            try:
                if kind == "bool":
                    converted[name] = value if isinstance(value, bool) else parse_bool(value)
                elif kind == "float":
                    converted[name] = float(value)
                else:
                    converted[name] = str(value)
            except (TypeError, ValueError):
                raise WorkbenchError(f"Augmentation '{name}' expects a {kind}. Received: {value!r}") from None
        return cls(**converted)

    @classmethod
    def from_pairs(cls, pairs: list[str] | None) -> AugmentationSpec:
        """Parse ``["rotation=10", "horizontal_flip=true"]`` as given on the command line."""
        return cls.from_dict(parse_pairs(pairs))


def augmentation_layers(spec: AugmentationSpec, seed: int | None = None) -> list:
    """The Keras preprocessing layers for ``spec``, in a fixed order (value range 0..255)."""
    import keras

    layers: list = []
    fill = spec.fill_mode
    if spec.horizontal_flip or spec.vertical_flip:
        mode = "horizontal_and_vertical" if spec.horizontal_flip and spec.vertical_flip else (
            "horizontal" if spec.horizontal_flip else "vertical")
        layers.append(keras.layers.RandomFlip(mode, seed=seed))
    if spec.rotation:
        layers.append(keras.layers.RandomRotation(spec.rotation / 360.0, fill_mode=fill, seed=seed))
    if spec.width_shift or spec.height_shift:
        layers.append(keras.layers.RandomTranslation(spec.height_shift, spec.width_shift, fill_mode=fill, seed=seed))
    if spec.shear:
        layers.append(keras.layers.RandomShear(x_factor=spec.shear, y_factor=spec.shear, fill_mode=fill, seed=seed))
    if spec.zoom:
        layers.append(keras.layers.RandomZoom(spec.zoom, spec.zoom, fill_mode=fill, seed=seed))
    if spec.brightness:
        layers.append(keras.layers.RandomBrightness(spec.brightness, value_range=(0, 255), seed=seed))
    if spec.contrast:
        layers.append(keras.layers.RandomContrast(spec.contrast, value_range=(0, 255), seed=seed))
    if spec.stroke_width:
        from workbench.core.image.layers import RandomStrokeWidth

        layers.append(RandomStrokeWidth(spec.stroke_width, seed=seed))
    return layers


def make_augmenter(spec: AugmentationSpec, seed: int | None = None):
    """A callable ``batch -> augmented batch`` (float32, 0..255), or None when nothing is enabled."""
    layers = augmentation_layers(spec, seed)
    if not layers:
        return None
    import keras

    pipeline = keras.Sequential(layers, name="augmentation")

    def augment(batch):
        out = pipeline(batch, training=True)
        return keras.ops.clip(out, 0.0, 255.0)

    return augment


def augment_samples(samples: np.ndarray, spec: AugmentationSpec, n: int = 8, seed: int | None = None) -> np.ndarray:
    """``n`` augmented versions of each sample: shape (len(samples), n, H, W, C), float32 0..255.

    The same layers as training, so the preview shows what the model will see.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 3:
        samples = samples[None]
    augment = make_augmenter(spec, seed)
    repeated = np.repeat(samples, n, axis=0)
    if augment is None:
        out = repeated
    else:
        out = np.asarray(augment(repeated))
    return out.reshape((samples.shape[0], n) + samples.shape[1:])

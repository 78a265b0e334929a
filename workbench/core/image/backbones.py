"""Pretrained ``keras.applications`` backbones for transfer learning: VGG16, ResNet50, MobileNetV2
and EfficientNetB0, without their ImageNet classifier.

Where the ImageNet weights come from, in this order (:func:`load_backbone`):

1. ``weights_path`` (a hyperparameter of the transfer templates: ``--hparam weights_path=FILE`` or
   the Model panel): a local file of the backbone without its top, either the ``.h5`` file Keras
   downloads (its name is :func:`weights_file_name`) or a Keras 3 ``.weights.h5`` saved from the
   same backbone. A path that is not a file is an error, never a fall-back.
2. The Keras cache, :func:`keras_cache_dir` (``$KERAS_HOME/models``, else ``~/.keras/models``),
   holding the file Keras would download there (``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``
   and so on). Copying that file there from another machine makes a machine without a network work.
3. A download by Keras into that cache (Keras prints its own progress bar), unless the environment
   sets ``WORKBENCH_OFFLINE=1``: then the downloader is never called.

With none of them, :class:`MissingWeightsError` names the file the cache needs and the
``weights_path`` option. It is raised while the model is built — before any epoch — so a run never
trains a head on a randomly initialised base.

Each backbone's preprocessing sits inside the model (:func:`adapt_input`), so a model takes raw RGB
pixels in 0..255 from files, the camera and every export: VGG16 and ResNet50 want caffe-style BGR
minus the ImageNet means (:class:`~workbench.core.image.layers.CaffePreprocess`), MobileNetV2 values
in [-1, 1], and Keras's EfficientNet rescales and normalises inside the backbone itself. A grayscale
input is repeated to three channels, and an input smaller than the backbone's minimum (32 pixels)
is resized up, in-model too.

Keras is imported inside the functions, as everywhere in the core.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from workbench.core.errors import TemplateError

OFFLINE_ENV = "WORKBENCH_OFFLINE"
MIN_SIZE = 32  # the smallest side each of these keras.applications backbones accepts

# The square sizes Keras has MobileNetV2 ImageNet weights for; any other input gets the 224 ones.
_MOBILENET_V2_ROWS = (96, 128, 160, 192, 224)
_MOBILENET_V2_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
# keras.applications.efficientnet: the ImageNet standard deviations its "imagenet" model divides by
# (once more) after the Normalization layer; see _match_keras_imagenet_normalization.
_IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)

_KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"


class MissingWeightsError(TemplateError):
    """A backbone's ImageNet weights are neither given, nor cached, nor downloadable."""


@dataclass(frozen=True)
class Backbone:
    """One ``keras.applications`` backbone: how to build it and how its input is prepared."""

    name: str  # the template's choice: "vgg16", "resnet50", "mobilenet_v2", "efficientnet_b0"
    title: str
    constructor: str  # the keras.applications function
    preprocess: str  # "caffe" | "tf" (scaled to [-1, 1]) | "builtin" (the backbone rescales itself)
    #: Fine-tuning units, input side first: (block name, names of its layers that hold trainable
    #: weights — BatchNormalization excluded, it stays frozen).
    blocks: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def rescale(self) -> str:
        """What the in-model preprocessing does, for the sidecar."""
        return {
            "caffe": f"in-model ({self.name} caffe: BGR minus the ImageNet means)",
            "tf": f"in-model ({self.name}: scaled to [-1, 1])",
            "builtin": f"in-model ({self.name}: its own rescaling and ImageNet normalisation)",
        }[self.preprocess]

    def top_blocks_layers(self, count: int) -> list[str]:
        """The weighted layers of the top ``count`` blocks (all of them when ``count`` is larger)."""
        if count <= 0:
            return []
        return [name for _, layers in self.blocks[-count:] for name in layers]


def _vgg16_blocks():
    return tuple((f"block{b}", tuple(f"block{b}_conv{i}" for i in range(1, convs + 1)))
                 for b, convs in enumerate((2, 2, 3, 3, 3), start=1))


def _resnet50_blocks():
    blocks = [("conv1", ("conv1_conv",))]
    for stage, count in ((2, 3), (3, 4), (4, 6), (5, 3)):
        for b in range(1, count + 1):
            name = f"conv{stage}_block{b}"
            shortcut = (f"{name}_0_conv",) if b == 1 else ()  # the projection shortcut of each stage's first block
            blocks.append((name, shortcut + tuple(f"{name}_{i}_conv" for i in (1, 2, 3))))
    return tuple(blocks)


def _mobilenet_v2_blocks():
    blocks = [("Conv1", ("Conv1",)), ("expanded_conv", ("expanded_conv_depthwise", "expanded_conv_project"))]
    blocks += [(f"block_{i}", (f"block_{i}_expand", f"block_{i}_depthwise", f"block_{i}_project"))
               for i in range(1, 17)]
    name, layers = blocks[-1]
    blocks[-1] = (name, layers + ("Conv_1",))  # the last 1×1 convolution trains with the top block
    return tuple(blocks)


def _efficientnet_b0_blocks():
    blocks = [("stem", ("stem_conv",))]
    for stage, repeats in enumerate((1, 2, 2, 3, 3, 4, 1), start=1):
        for j in range(repeats):
            name = f"block{stage}{chr(97 + j)}"
            expand = () if stage == 1 else (f"{name}_expand_conv",)  # stage 1 has expansion ratio 1
            blocks.append((name, expand + tuple(f"{name}_{part}" for part in
                                                 ("dwconv", "se_reduce", "se_expand", "project_conv"))))
    name, layers = blocks[-1]
    blocks[-1] = (name, layers + ("top_conv",))
    return tuple(blocks)


BACKBONES: dict[str, Backbone] = {
    backbone.name: backbone
    for backbone in (
        Backbone("vgg16", "VGG16", "VGG16", "caffe", _vgg16_blocks()),
        Backbone("mobilenet_v2", "MobileNetV2", "MobileNetV2", "tf", _mobilenet_v2_blocks()),
        Backbone("efficientnet_b0", "EfficientNetB0", "EfficientNetB0", "builtin", _efficientnet_b0_blocks()),
        Backbone("resnet50", "ResNet50", "ResNet50", "caffe", _resnet50_blocks()),
    )
}
BACKBONE_NAMES: tuple[str, ...] = tuple(BACKBONES)


def get_backbone(name: str) -> Backbone:
    try:
        return BACKBONES[name]
    except KeyError:
        raise TemplateError(f"Expected a backbone in {', '.join(BACKBONE_NAMES)}. Received: {name!r}") from None


# ------------------------------------------------------------------------------ where weights are
def offline() -> bool:
    """Whether ``WORKBENCH_OFFLINE`` forbids downloads (1, true, yes or on)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def keras_cache_dir() -> Path:
    """The folder Keras keeps (and downloads) application weights in, as ``keras.utils.get_file``
    chooses it: ``$KERAS_HOME/models``, else ``~/.keras/models``; ``/tmp/.keras/models`` when that
    base folder cannot be written. Read from the environment now, without importing Keras."""
    base = _named_keras_home()
    existing = base if base.exists() else base.parent  # Keras makes the folder when it is imported
    if not os.access(existing, os.W_OK):  # get_file's own fall-back
        return Path("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()) / ".keras" / "models"
    return base / "models"


def _named_keras_home() -> Path:
    if "KERAS_HOME" in os.environ:
        return Path(os.path.expanduser(os.environ["KERAS_HOME"]))
    home = os.path.expanduser("~")
    return Path(home if os.access(home, os.W_OK) else "/tmp") / ".keras"


def _cache_dirs() -> list[Path]:
    """Where a cached file may be: the folder Keras downloads into and, when that is the fall-back,
    the folder the user named (a file copied by hand into a read-only ``$KERAS_HOME/models``)."""
    dirs = [keras_cache_dir()]
    if _named_keras_home() / "models" not in dirs:
        dirs.append(_named_keras_home() / "models")
    return dirs


def _mobilenet_rows(input_shape) -> int:
    rows, cols = int(input_shape[0]), int(input_shape[1])
    return rows if rows == cols and rows in _MOBILENET_V2_ROWS else 224


def weights_file_name(name: str, input_shape=(224, 224, 3), alpha: float = 1.0) -> str:
    """The file Keras downloads (into :func:`keras_cache_dir`) for ``name``'s ImageNet weights without
    the top, for a backbone input of ``input_shape`` (MobileNetV2 has one file per size and width)."""
    get_backbone(name)
    if name == "vgg16":
        return "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    if name == "resnet50":
        return "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    if name == "efficientnet_b0":
        return "efficientnetb0_notop.h5"
    if float(alpha) not in _MOBILENET_V2_ALPHAS:
        raise TemplateError(f"Expected a MobileNetV2 width with ImageNet weights, one of "
                            f"{', '.join(map(str, _MOBILENET_V2_ALPHAS))}. Received: alpha={alpha}")
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{_mobilenet_rows(input_shape)}_no_top.h5"


def weights_url(name: str, input_shape=(224, 224, 3), alpha: float = 1.0) -> str:
    """Where Keras downloads :func:`weights_file_name` from (for a manual download)."""
    file_name = weights_file_name(name, input_shape, alpha)
    folder = {"vgg16": _KERAS_APPLICATIONS + "vgg16/", "resnet50": _KERAS_APPLICATIONS + "resnet/",
              "mobilenet_v2": _KERAS_APPLICATIONS + "mobilenet_v2/",
              "efficientnet_b0": "https://storage.googleapis.com/keras-applications/"}[name]
    return folder + file_name


def find_weights(name: str, input_shape=(224, 224, 3), weights_path: str = "", alpha: float = 1.0) -> Path | None:
    """The weights file to load: ``weights_path`` when given (it must be a file), else the cached
    Keras download; None when there is neither (then only a download can help). No Keras, no network."""
    if weights_path and str(weights_path).strip():
        path = Path(os.path.expanduser(str(weights_path).strip()))
        if not path.is_file():
            raise MissingWeightsError(
                f"Expected weights_path to name a weights file of {get_backbone(name).title} without its top "
                f"({weights_file_name(name, input_shape, alpha)} or a .weights.h5). Received: {path} "
                f"({'a folder' if path.is_dir() else 'no such file'})")
        return path
    file_name = weights_file_name(name, input_shape, alpha)
    for folder in _cache_dirs():
        if (folder / file_name).is_file():
            return folder / file_name
    return None


def missing_weights_message(name: str, input_shape=(224, 224, 3), alpha: float = 1.0, reason: str = "") -> str:
    file_name = weights_file_name(name, input_shape, alpha)
    return (
        f"Expected the ImageNet weights of {get_backbone(name).title}: either put {file_name} "
        f"(from {weights_url(name, input_shape, alpha)}) in the Keras cache {keras_cache_dir()}, or set the "
        f"weights_path hyperparameter to a local weights file (--hparam weights_path=FILE, or Weights path "
        f"in the Model panel). Received: {reason or 'no such file in the cache'}"
    )


# ------------------------------------------------------------------------------- building (Keras)
_ARCHITECTURE_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("architecture_only", default=False)


@contextlib.contextmanager
def architecture_only() -> Iterator[None]:
    """Within this block :func:`load_backbone` loads no weights (randomly initialised): for showing
    a model's layers (the summary), never for training."""
    token = _ARCHITECTURE_ONLY.set(True)
    try:
        yield
    finally:
        _ARCHITECTURE_ONLY.reset(token)


def build_backbone(name: str, input_shape, weights=None, alpha: float = 1.0):
    """The ``keras.applications`` backbone without its top on RGB ``input_shape`` (each side ≥ 32),
    with ``weights`` as Keras takes them (None, "imagenet" or a file). Takes preprocessed input."""
    import keras

    backbone = get_backbone(name)
    kwargs = {"alpha": float(alpha)} if name == "mobilenet_v2" else {}
    if name != "mobilenet_v2" and alpha != 1.0:
        raise TemplateError(f"Expected alpha 1.0 for {backbone.title} (only MobileNetV2 has widths). "
                            f"Received: {alpha}")
    constructor = getattr(keras.applications, backbone.constructor)
    return constructor(include_top=False, weights=weights, input_shape=tuple(int(d) for d in input_shape), **kwargs)


def backbone_input_shape(input_shape) -> tuple[int, int, int]:
    """The RGB shape the backbone sees for a model input of ``input_shape``: three channels, and
    scaled up (keeping the aspect ratio) so the short side is at least :data:`MIN_SIZE`."""
    height, width, channels = (int(d) for d in input_shape)
    if channels not in (1, 3):
        raise TemplateError(f"Expected an image input with 1 (grayscale) or 3 (RGB) channels. "
                            f"Received: input shape {tuple(input_shape)}")
    if min(height, width) < MIN_SIZE:
        scale = MIN_SIZE / min(height, width)
        height, width = max(MIN_SIZE, math.ceil(height * scale - 1e-9)), max(MIN_SIZE, math.ceil(width * scale - 1e-9))
    return height, width, 3


def adapt_input(inputs, name: str):
    """The layers between a raw-pixel input (0..255, RGB or grayscale) and backbone ``name``:
    grayscale repeated to RGB, a resize up to the backbone's minimum, the backbone's preprocessing."""
    import keras

    from workbench.core.image.layers import CaffePreprocess

    backbone = get_backbone(name)
    shape = tuple(inputs.shape[1:])
    x = inputs
    if shape[-1] == 1:
        x = keras.layers.Concatenate(axis=-1, name="gray_to_rgb")([x, x, x])
    target = backbone_input_shape(shape)
    if target[:2] != tuple(shape[:2]):
        x = keras.layers.Resizing(target[0], target[1], interpolation="bilinear", name="resize_up")(x)
    if backbone.preprocess == "caffe":
        x = CaffePreprocess(name=f"{name}_preprocess")(x)  # RGB 0..255 → BGR minus the ImageNet means
    elif backbone.preprocess == "tf":
        x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name=f"{name}_preprocess")(x)  # → [-1, 1]
    return x  # "builtin": EfficientNet's own Rescaling and Normalization come first inside it


def load_backbone(name: str, input_shape, weights_path: str = "", alpha: float = 1.0):
    """Backbone ``name`` on RGB ``input_shape`` with its ImageNet weights (see the module docstring
    for where they come from); raises :class:`MissingWeightsError` when there are none."""
    base = build_backbone(name, input_shape, alpha=alpha)
    if _ARCHITECTURE_ONLY.get():
        return base
    path = find_weights(name, input_shape, weights_path, alpha)
    if path is not None:
        load_weights_file(base, path, name)
    elif offline():
        raise MissingWeightsError(missing_weights_message(
            name, input_shape, alpha, f"{OFFLINE_ENV}={os.environ.get(OFFLINE_ENV)} (no download) and no "
            f"{weights_file_name(name, input_shape, alpha)} in {', '.join(map(str, _cache_dirs()))}"))
    else:
        try:  # Keras downloads into its cache (printing its progress) and loads the file
            with warnings.catch_warnings():  # MobileNetV2's "(224, 224) weights for this size": as named above
                warnings.filterwarnings("ignore", message=".*Weights for input shape", category=UserWarning)
                downloaded = build_backbone(name, input_shape, weights="imagenet", alpha=alpha)
        except Exception as exc:  # noqa: BLE001 - urllib, HTTP and hash errors all mean "no weights"
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise MissingWeightsError(missing_weights_message(
                name, input_shape, alpha, f"no file in the cache and the download failed ({detail})")) from exc
        base.set_weights(downloaded.get_weights())  # the same layers (EfficientNet adds one without weights)
        del downloaded
    if name == "efficientnet_b0":
        _match_keras_imagenet_normalization(base)
    return base


def load_weights_file(base, path: Path, name: str) -> None:
    """Load ``path`` into ``base``; a file of another network is a :class:`MissingWeightsError`."""
    try:
        base.load_weights(str(path))
    except Exception as exc:  # noqa: BLE001 - h5py and Keras raise many types for a file that does not fit
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MissingWeightsError(
            f"Expected a weights file of {get_backbone(name).title} without its top (include_top=False), as "
            f"Keras downloads it ({weights_file_name(name, base.input_shape[1:])}) or saved as .weights.h5. "
            f"Received: {path} ({detail})") from None


def _match_keras_imagenet_normalization(base) -> None:
    """Make EfficientNet's input normalisation what ``EfficientNetB0(weights="imagenet")`` computes.

    With ImageNet weights Keras adds a Rescaling by 1/sqrt(stddev) after the Normalization layer (its
    file stores the variance the original code divided by differently; keras.applications.efficientnet,
    TF issue 49930); a backbone built without weights has no such layer. Dividing by
    sqrt(variance)·sqrt(stddev) is dividing by sqrt(variance·stddev), so the same outputs come from
    scaling the layer's variance — no layer added, and the model saves and loads as usual.
    """
    import keras
    import numpy as np

    norm = next(layer for layer in base.layers if isinstance(layer, keras.layers.Normalization))
    variance = keras.ops.convert_to_numpy(norm.adapt_variance)
    norm.adapt_variance.assign(variance * np.asarray(_IMAGENET_STDDEV_RGB, dtype=variance.dtype))
    norm.finalize_state()


def save_keras_weights_file(model, path: str | Path) -> Path:
    """Write ``model``'s weights in the layout of Keras's own application ``.h5`` files (what
    ``weights=<file>`` and :func:`load_backbone` read): for a backbone made elsewhere, and tests."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path

"""SqueezeNet v1.1 as a pretrained convolutional base that works offline.

The network is Iandola et al. 2016 ("SqueezeNet: AlexNet-level accuracy with 50x fewer parameters"),
version 1.1, without the classifier: ``conv1`` (3×3, stride 2, 64 filters, valid padding, ReLU) →
max-pool 3×3 stride 2 → ``fire2``, ``fire3`` → max-pool → ``fire4``, ``fire5`` → max-pool →
``fire6`` … ``fire9``. A fire module is a 1×1 ``squeeze`` feeding a 1×1 and a 3×3 ``expand``
(ReLU everywhere), concatenated on channels. 722,496 weights.

Its input is caffe-style preprocessed BGR (``CaffePreprocess`` in :mod:`workbench.core.image.layers`);
the base itself has no preprocessing, a template puts that layer in front of it.

The ImageNet weights ship as ``resources/models/squeezenet_v1_1_imagenet_base.weights.h5``, made by
``packaging/make_squeezenet_base.py`` from the Keras 2 file converted by keras-squeezenet (origin,
checksum and licence in the sidecar JSON and ``LICENSE.squeezenet`` beside it).

Keras is imported inside the functions, as everywhere in the core.
"""

from __future__ import annotations

from pathlib import Path

from workbench.core.errors import ModelFileError

MODEL_NAME = "squeezenet_v1_1"
WEIGHT_COUNT = 722_496
PACKAGED_WEIGHTS = "squeezenet_v1_1_imagenet_base.weights.h5"
MAKE_COMMAND = ".venv/bin/python packaging/make_squeezenet_base.py"

# (name, squeeze filters, expand filters of each branch) of the fire modules of v1.1, in order.
FIRE_MODULES: tuple[tuple[str, int, int], ...] = (
    ("fire2", 16, 64),
    ("fire3", 16, 64),
    ("fire4", 32, 128),
    ("fire5", 32, 128),
    ("fire6", 48, 192),
    ("fire7", 48, 192),
    ("fire8", 64, 256),
    ("fire9", 64, 256),
)
# Max-pooling follows these blocks (named after the block they follow, as in the Caffe model).
_POOL_AFTER = {"conv1": "pool1", "fire3": "pool3", "fire5": "pool5"}

# The blocks in order (input side first) with the names of their layers that hold weights; a
# fine-tuning phase unfreezes the last N of them (see :func:`unfreeze_top_blocks`).
BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (("conv1", ("conv1",)),) + tuple(
    (fire, (f"{fire}_squeeze1x1", f"{fire}_expand1x1", f"{fire}_expand3x3")) for fire, _, _ in FIRE_MODULES
)
WEIGHTED_LAYERS: tuple[str, ...] = tuple(name for _, layers in BLOCKS for name in layers)


class PretrainedWeightsError(ModelFileError):
    """A pretrained-weights file that is missing, unreadable or does not fit the network."""


def build_squeezenet_base(input_shape=(None, None, 3), name: str = MODEL_NAME):
    """Return SqueezeNet v1.1 up to ``fire9_concat`` (512 channels), randomly initialised."""
    import keras

    inputs = keras.Input(shape=tuple(input_shape), name="bgr_caffe")
    x = keras.layers.Conv2D(64, 3, strides=2, padding="valid", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for fire, squeeze, expand in FIRE_MODULES:
        x = _fire_module(x, fire, squeeze, expand)
        if fire in _POOL_AFTER:
            x = keras.layers.MaxPooling2D(3, strides=2, name=_POOL_AFTER[fire])(x)
    return keras.Model(inputs, x, name=name)


def _fire_module(x, fire: str, squeeze: int, expand: int):
    import keras

    s = keras.layers.Conv2D(squeeze, 1, activation="relu", name=f"{fire}_squeeze1x1")(x)
    left = keras.layers.Conv2D(expand, 1, activation="relu", name=f"{fire}_expand1x1")(s)
    right = keras.layers.Conv2D(expand, 3, padding="same", activation="relu", name=f"{fire}_expand3x3")(s)
    return keras.layers.Concatenate(axis=-1, name=f"{fire}_concat")([left, right])


def unfreeze_top_blocks(model, count: int) -> list[str]:
    """Make the last ``count`` blocks of ``model`` trainable and the others frozen; return their names.

    ``count`` 0 freezes the whole base, ``len(BLOCKS)`` (9) or more unfreezes all of it.
    """
    if count < 0:
        raise ValueError(f"Expected a number of blocks to unfreeze >= 0. Received: {count}")
    top = BLOCKS[len(BLOCKS) - min(count, len(BLOCKS)) :]
    trainable = {layer for _, layers in top for layer in layers}
    model.trainable = True
    for layer in model.layers:
        layer.trainable = layer.name in trainable
    return [block for block, _ in top]


def load_caffe_h5_weights(model, path) -> None:
    """Load the keras-squeezenet (Keras 2 HDF5) ImageNet weights into ``model`` by layer name.

    Every weighted layer of ``model`` (``conv1``, ``fireN_squeeze1x1`` …) takes the kernel and bias
    stored under the Caffe name (``conv1``, ``fireN/squeeze1x1`` …). Everything is read and checked
    before anything is set, so a bad file leaves the model as it was.
    """
    import h5py

    path = Path(path)
    what = "a SqueezeNet v1.1 Keras 2 HDF5 weights file (squeezenet_v1_1_imagenet_notop.h5)"
    if not path.is_file():
        raise PretrainedWeightsError(f"Expected {what}. Received: no file at {path}")
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise PretrainedWeightsError(f"Expected {what}. Received: {path}, not readable as HDF5 ({exc})") from exc
    with handle:
        arrays = {}
        for layer_name in WEIGHTED_LAYERS:
            layer = model.get_layer(layer_name)
            group_name = layer_name.replace("_", "/", 1)
            kernel, bias = _stored_kernel_and_bias(handle, group_name, path, what)
            expected = [tuple(w.shape) for w in layer.weights]
            received = [kernel.shape, bias.shape]
            if expected != received:
                raise PretrainedWeightsError(
                    f"Expected kernel and bias of shapes {expected} for layer {layer_name} in {path}. "
                    f"Received: {received}"
                )
            arrays[layer_name] = [kernel, bias]
    for layer_name, weights in arrays.items():
        model.get_layer(layer_name).set_weights(weights)


def _stored_kernel_and_bias(handle, group_name: str, path: Path, what: str):
    import h5py
    import numpy as np

    group = handle.get(group_name)
    if not isinstance(group, h5py.Group):
        raise PretrainedWeightsError(
            f"Expected {what} with the weights of layer '{group_name}'. Received: {path} has no such group"
        )
    found: dict[str, list] = {"kernel:0": [], "bias:0": []}

    def visit(name, obj):
        leaf = name.rsplit("/", 1)[-1]
        if isinstance(obj, h5py.Dataset) and leaf in found:
            found[leaf].append(obj)

    group.visititems(visit)
    for leaf, datasets in found.items():
        if len(datasets) != 1:
            raise PretrainedWeightsError(
                f"Expected one '{leaf}' dataset under '{group_name}' in {path}. Received: {len(datasets)}"
            )
    try:
        return (np.asarray(found["kernel:0"][0][()], dtype="float32"),
                np.asarray(found["bias:0"][0][()], dtype="float32"))
    except (OSError, ValueError) as exc:
        raise PretrainedWeightsError(
            f"Expected readable weights of layer '{group_name}' in {path}. Received: {exc}"
        ) from exc


def pretrained_base_path() -> Path:
    """Where the packaged ImageNet weights are (checkout or installed wheel); the file may be absent."""
    from workbench.core.resources import resource_path

    return resource_path("models", PACKAGED_WEIGHTS)


def load_pretrained_squeezenet(input_shape=(None, None, 3), name: str = MODEL_NAME):
    """Build the base and load the packaged ImageNet weights into it."""
    path = pretrained_base_path()
    if not path.is_file():
        raise PretrainedWeightsError(
            f"Expected the packaged SqueezeNet v1.1 ImageNet weights at {path} (made by `{MAKE_COMMAND}` "
            "from ../shared/weights/squeezenet_v1_1_imagenet_notop.h5). Received: no such file"
        )
    model = build_squeezenet_base(input_shape, name=name)
    try:
        model.load_weights(path)
    except Exception as exc:  # noqa: BLE001 - h5py/Keras raise many types for a damaged file
        raise PretrainedWeightsError(
            f"Expected the packaged SqueezeNet v1.1 ImageNet weights at {path} (remake them with "
            f"`{MAKE_COMMAND}`). Received: {type(exc).__name__}: {exc}"
        ) from exc
    return model

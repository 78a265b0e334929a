"""Grad-CAM: where in an image a CNN looked for the class it chose (Selvaraju et al. 2017).

For a target convolution layer with activations ``A`` (h × w × C) and the class score ``y`` (the
logit before the softmax; for one sigmoid unit its logit, negated for class 0), each channel is
weighted by its mean gradient ``dy/dA`` and the weighted sum, ReLU'd, is the heat map; it is
resized to the input's height and width and scaled to 0..1.

Targets are named by path: a layer of the model itself by its name (``"conv2"``), a layer inside a
nested model by the nested model's name, a slash and the inner name
(``"squeezenet_v1_1/fire9_concat"``; Keras 3 forbids "/" in layer names, so the path is
unambiguous). :func:`conv_layer_candidates` lists them input side first; the default target is the
last one with more than one spatial position.

A nested base cannot simply be tapped with ``keras.Model(model.inputs, inner_layer.output)``: the
inner layer's output lives in the nested model's own graph ("Graph disconnected"). So the model is
rebuilt around the same layers (same weights) with ``keras.models.clone_model(clone_function=identity,
call_function=...)``: the nested model is called as a two-output model (the target's activations
and its usual output), the rest of the graph unchanged. Sequential models are rebuilt layer by
layer (``clone_model`` takes no ``call_function`` for them).

No Qt here; Keras and TensorFlow are imported inside the functions. The rebuilt model only reads the
original's weights, so a :class:`GradCam` may run beside other calls of the same model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import WorkbenchError

SEPARATOR = "/"
#: Layers whose 4D output is a useful target besides convolutions: merges of convolution branches
#: (SqueezeNet's fire concat, a residual block's add).
_MERGE_LAYERS = ("Concatenate", "Add")


class GradCamError(WorkbenchError):
    """A model, layer or image Grad-CAM cannot explain."""


def conv_layer_candidates(model) -> list[str]:
    """The layers usable as Grad-CAM targets, input side first, by path (see the module docstring).

    Convolutions (and the merges of convolution branches) whose output is 4D (N, h, w, C), in the
    model itself and in nested models. Empty for a model without any (a dense-only model, a video
    model whose convolutions run inside ``TimeDistributed``).
    """
    return [path for path, _layer in _candidates(model, "")]


def default_layer(model) -> str:
    """The default target: the last candidate whose map has more than one position (else the last)."""
    candidates = _candidates(model, "")
    if not candidates:
        raise _no_conv_error(model)
    for path, layer in reversed(candidates):
        shape = _output_shape(layer)
        if shape is not None and all(isinstance(s, int) and s > 1 for s in shape[1:3]):
            return path
    return candidates[-1][0]


def grad_cam(model, image_batch_or_image, class_index: int | None = None, layer: str | None = None) -> np.ndarray:
    """The Grad-CAM heat map of a prepared input, for ``class_index`` (default: the predicted class).

    Args:
        model: a Keras image classifier (input (N, H, W, C); softmax output or one sigmoid unit).
        image_batch_or_image: the model's input as training prepared it, (H, W, C), (H, W) for one
            channel, or a batch (N, H, W, C).
        class_index: the class to explain (for one sigmoid unit: 1 or 0); None: each sample's
            predicted class.
        layer: the target's path (:func:`conv_layer_candidates`); None: :func:`default_layer`.

    Returns:
        (H, W) float32 in 0..1 for one image, (N, H, W) for a batch; all zeros where nothing in the
        layer speaks for the class.
    """
    return GradCam(model, layer).heatmap(image_batch_or_image, class_index)


class GradCam:
    """A model rebuilt once to expose ``layer`` (see :func:`grad_cam`); reuse it for many images."""

    def __init__(self, model, layer: str | None = None) -> None:
        import keras

        if keras.backend.backend() != "tensorflow":  # the gradients come from a TensorFlow GradientTape
            raise GradCamError(f"Expected the TensorFlow backend of Keras. Received: {keras.backend.backend()}")
        _check_image_model(model)
        self.model = model
        self.layer = layer or default_layer(model)
        names = conv_layer_candidates(model)
        if self.layer not in names:
            raise GradCamError(f"Expected a convolution layer of the model ({', '.join(names) or 'none'}). "
                               f"Received: {self.layer!r}")
        self.input_shape: tuple[int, ...] = tuple(model.inputs[0].shape[1:])
        self.sigmoid = _output_units(model) == 1
        self._explainer, self._head = _explaining_model(model, self.layer.split(SEPARATOR), _output_layer(model))

    def heatmap(self, image_batch_or_image, class_index: int | None = None) -> np.ndarray:
        """See :func:`grad_cam`."""
        import tensorflow as tf

        batch, single = self._as_batch(image_batch_or_image)
        x = tf.convert_to_tensor(batch)
        with tf.GradientTape() as tape:
            # Watching the input records every op after it, even through frozen (non-trainable) layers.
            tape.watch(x)
            features, head_input, outputs = self._explainer(x, training=False)
            scores = self._scores(head_input, outputs, class_index)
        grads = tape.gradient(scores, features)
        if grads is None:
            raise GradCamError(f"Expected a layer the class score depends on. Received: {self.layer!r} does not "
                               "lead to the model's output")
        features, grads = np.asarray(features, np.float64), np.asarray(grads, np.float64)
        weights = grads.mean(axis=(1, 2), keepdims=True)  # (N, 1, 1, C): each channel's importance
        cams = np.maximum((weights * features).sum(axis=-1), 0.0)  # (N, h, w)
        heat = np.stack([_to_input_size(cam, batch.shape[1], batch.shape[2]) for cam in cams])
        return heat[0] if single else heat

    def _as_batch(self, images) -> tuple[np.ndarray, bool]:
        array = np.asarray(images, np.float32)
        shape = self.input_shape
        if array.ndim == 2 and shape[-1] == 1:
            array = array[..., None]
        if array.ndim == len(shape):
            array, single = array[None], True
        else:
            single = False
        if array.ndim != len(shape) + 1 or tuple(array.shape[1:]) != shape or array.shape[0] == 0:
            raise GradCamError(f"Expected a prepared image of shape ({', '.join(map(str, shape))}) or a batch of "
                               f"them. Received: an array of shape {tuple(np.asarray(images).shape)}")
        return array, single

    def _scores(self, head_input, outputs, class_index: int | None):
        """The explained class's score per sample, summed (each sample's gradient is its own)."""
        import keras

        logits = _logits(self._head, head_input, outputs)
        if self.sigmoid:
            logit = keras.ops.reshape(logits, (-1,))
            if class_index is None:
                sign = keras.ops.where(logit > 0, 1.0, -1.0)  # p > 0.5 ⇔ logit > 0 ⇔ class 1
            else:
                if int(class_index) not in (0, 1):
                    raise GradCamError(f"Expected class 0 or 1 for a model with one sigmoid unit. "
                                       f"Received: {class_index}")
                sign = 1.0 if int(class_index) == 1 else -1.0
            return keras.ops.sum(sign * logit)
        classes = int(logits.shape[-1])
        if class_index is None:
            chosen = keras.ops.argmax(outputs, axis=-1)
        else:
            if not 0 <= int(class_index) < classes:
                raise GradCamError(f"Expected a class index in 0..{classes - 1}. Received: {class_index}")
            chosen = keras.ops.full((keras.ops.shape(logits)[0],), int(class_index), dtype="int32")
        return keras.ops.sum(logits * keras.ops.one_hot(chosen, classes))


def overlay(image_rgb_uint8: np.ndarray, heat: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """The image with ``heat`` (0..1, any size: resized to the image) blended on top in the JET
    colormap (blue = cold, red = hot); RGB uint8 of the image's size. A grey image comes out in colour."""
    import cv2

    image = np.asarray(image_rgb_uint8)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] not in (3, 4) or image.size == 0:
        raise GradCamError(f"Expected an RGB image (H, W, 3). Received: an array of shape {image.shape}")
    if not 0.0 <= float(alpha) <= 1.0:
        raise GradCamError(f"Expected an opacity between 0 and 1. Received: {alpha}")
    image = np.clip(image[..., :3], 0, 255).astype(np.uint8)
    heat = np.nan_to_num(np.asarray(heat, np.float32), nan=0.0)
    if heat.ndim != 2:
        raise GradCamError(f"Expected a heat map (H, W). Received: an array of shape {heat.shape}")
    if heat.shape != image.shape[:2]:
        heat = cv2.resize(heat, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    levels = np.clip(np.rint(heat * 255.0), 0, 255).astype(np.uint8)
    colours = cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    blended = (1.0 - alpha) * image.astype(np.float32) + alpha * colours.astype(np.float32)
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------- private
def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _is_target(layer) -> bool:
    import keras

    conv = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D,
            keras.layers.Conv2DTranspose)
    if not isinstance(layer, conv) and type(layer).__name__ not in _MERGE_LAYERS:
        return False
    shape = _output_shape(layer)
    return shape is not None and len(shape) == 4


def _output_shape(layer) -> tuple | None:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):  # a layer never called (or called more than once)
        return None
    return tuple(shape)


def _candidates(model, prefix: str) -> list[tuple[str, Any]]:
    found = []
    for layer in model.layers:
        path = prefix + layer.name
        if _is_model(layer):
            found += _candidates(layer, path + SEPARATOR)
        elif _is_target(layer):
            found.append((path, layer))
    return found


def _no_conv_error(model) -> GradCamError:
    kinds = sorted({type(layer).__name__ for layer in model.layers})
    return GradCamError("Expected a model with a convolution layer whose output is an image-like map "
                        f"(N, height, width, channels). Received: {model.name} has only {', '.join(kinds)}")


def _check_image_model(model) -> None:
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 4:
        shapes = [tuple(t.shape) for t in inputs or []]
        raise GradCamError("Expected an image model with one input of shape (N, height, width, channels). "
                           f"Received: {model.name} with input(s) {shapes or 'unknown'}")
    if any(s is None for s in inputs[0].shape[1:]):
        raise GradCamError(f"Expected an image model with a fixed input size. Received: {tuple(inputs[0].shape)}")
    if len(model.outputs) != 1:
        raise GradCamError(f"Expected a classifier with one output. Received: {len(model.outputs)} outputs")
    if not conv_layer_candidates(model):
        raise _no_conv_error(model)


def _output_units(model) -> int:
    return int(model.outputs[0].shape[-1])


def _output_layer(model):
    """The layer that makes the model's output (by its graph, Functional and Sequential alike)."""
    history = getattr(model.outputs[0], "_keras_history", None)
    return history.operation if history is not None else model.layers[-1]


def _logits(head, head_input, outputs):
    """The class scores before the output's softmax or sigmoid: the gradient of a saturated
    probability (p = 1.0 in float32) vanishes, a logit's does not. A Dense head with that activation
    is recomputed without it; a separate softmax/sigmoid layer is skipped; anything else is used as is."""
    import keras

    if head is None:
        return outputs
    name = getattr(getattr(head, "activation", None), "__name__", "")
    if isinstance(head, keras.layers.Dense) and name in ("softmax", "sigmoid"):
        z = keras.ops.matmul(head_input, head.kernel)
        return z + head.bias if head.use_bias else z
    if isinstance(head, keras.layers.Softmax) or (isinstance(head, keras.layers.Activation)
                                                   and name in ("softmax", "sigmoid")):
        return head_input
    return outputs


def _explaining_model(model, path: list[str], head):
    """A model from ``model``'s input to [the target's activations, the head's input, the output], and
    the head (None when its input could not be tapped: the output is then the score)."""
    import keras

    found: dict[str, Any] = {}
    target = model.get_layer(path[0])
    inner = _tapped(target, path[1:]) if len(path) > 1 else None

    def call(layer, *args, **kwargs):
        if layer is head:
            found["head_input"] = args[0]
        if layer is target and inner is not None:
            found["features"], out = inner(*args, **kwargs)
            return out
        out = layer(*args, **kwargs)
        if layer is target:
            found["features"] = out
        return out

    rebuilt = _rebuild(model, call)
    tapped = "head_input" in found
    head_input = found["head_input"] if tapped else rebuilt.outputs[0]
    explainer = keras.Model(rebuilt.inputs[0], [found["features"], head_input, rebuilt.outputs[0]])
    return explainer, head if tapped else None


def _tapped(model, path: list[str]):
    """A nested ``model`` as a two-output model: [the activations of the layer at ``path``, its output]."""
    import keras

    if not _is_model(model):
        raise GradCamError(f"Expected a nested model at {model.name!r}. Received: a {type(model).__name__}")
    layer = model.get_layer(path[0])
    if len(path) == 1:
        return keras.Model(model.inputs[0] if len(model.inputs) == 1 else model.inputs,
                           [layer.output, model.outputs[0]])
    inner = _tapped(layer, path[1:])
    found: dict[str, Any] = {}

    def call(sub, *args, **kwargs):
        if sub is layer:
            found["features"], out = inner(*args, **kwargs)
            return out
        return sub(*args, **kwargs)

    rebuilt = _rebuild(model, call)
    return keras.Model(rebuilt.inputs[0], [found["features"], rebuilt.outputs[0]])


def _rebuild(model, call):
    """``model``'s graph again, on new inputs, with the same layer objects, each called by ``call``."""
    import keras

    if isinstance(model, keras.Sequential):
        inputs = keras.Input(shape=tuple(model.inputs[0].shape[1:]), dtype=model.inputs[0].dtype)
        x = inputs
        for layer in model.layers:
            x = call(layer, x)
        return keras.Model(inputs, x)
    return keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call)


def _to_input_size(cam: np.ndarray, height: int, width: int) -> np.ndarray:
    """The (h, w) map resized to (height, width), scaled so its peak is 1 (all zeros when flat)."""
    import cv2

    resized = cv2.resize(np.nan_to_num(cam).astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    top = float(resized.max()) if resized.size else 0.0
    if top <= 0.0:
        return np.zeros((height, width), np.float32)
    return np.clip(resized / top, 0.0, 1.0).astype(np.float32)

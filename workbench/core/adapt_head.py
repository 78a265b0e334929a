"""The classifier head of an adapted model: features, the two adaptation methods, cross-validation.

Pure numbers on the features a model's last layer reads (no files, no sidecars): what
:func:`workbench.core.adapt.adapt_model` writes into the new model and what ``bench/adaptation.py``
measures. See :mod:`workbench.core.adapt` for the methods and the figure shown to the user.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.core.errors import DatasetError, ModelFileError, WorkbenchError

METHODS = ("prototypes", "finetune_head")
DEFAULT_METHOD = "prototypes"
#: Fewest examples per class: one to learn from and one to check the adapted model with.
MIN_PER_CLASS = 2
#: ``w = WEIGHT_PER_EXAMPLE · k`` (k: examples in the smallest class), at most :data:`MAX_WEIGHT`.
WEIGHT_PER_EXAMPLE = 30.0
MAX_WEIGHT = 160.0
MAX_FOLDS = 10
FINETUNE_STEPS = 300
FINETUNE_RATE = 1.0  # times 1 / mean |f|², so the step suits any feature scale


def classifier_head(model, path: str | Path = "the model"):
    """The model's last layer when it is a softmax ``Dense`` (the layer adaptation rewrites)."""
    import keras

    layer = model.layers[-1] if model.layers else None
    activation = getattr(getattr(layer, "activation", None), "__name__", "")
    if not isinstance(layer, keras.layers.Dense) or activation != "softmax":
        kind = f"{type(layer).__name__} {layer.name!r}" + (f" ({activation})" if activation else "") if layer else "none"
        raise ModelFileError(f"Expected a classifier whose last layer is a softmax Dense layer, to adapt its head. "
                             f"Received: {kind} as the last layer of {path}")
    return layer


def head_weights(head) -> tuple[np.ndarray, np.ndarray]:
    """The head's kernel and bias; zeros for a head built without a bias (``use_bias=False``)."""
    weights = [np.asarray(w) for w in head.get_weights()]
    kernel = weights[0]
    bias = weights[1] if len(weights) > 1 else np.zeros(kernel.shape[-1], kernel.dtype)
    return kernel, bias


def feature_extractor(model, head=None):
    """A model from the inputs to the features the head reads (the head's input)."""
    import keras

    head = head or classifier_head(model)
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, head.input, name=f"{model.name}_features")


def extract_features(extractor, inputs: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Features (N, d) of prepared inputs, by ``model(x, training=False)`` in batches."""
    from workbench.core.evaluation import predict_in_batches

    inputs = np.asarray(inputs, np.float32)
    if not len(inputs):
        return np.zeros((0, int(extractor.output_shape[-1])), np.float32)
    return np.asarray(predict_in_batches(extractor, inputs, batch_size), np.float32).reshape(len(inputs), -1)


def prototype_weight(labels: np.ndarray, num_classes: int) -> float:
    """The weight of the class means: 30 per example of the smallest class, at most 160."""
    fewest = int(np.bincount(labels, minlength=num_classes).min())
    return float(min(WEIGHT_PER_EXAMPLE * max(fewest, 1), MAX_WEIGHT))


def prototype_head(features: np.ndarray, labels: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
                   weight: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """(kernel, bias, weight) of the head mixing the original logits with nearest class mean (see the
    module docstring). Every class needs at least one example."""
    features = np.asarray(features, np.float64)
    num_classes = kernel.shape[1]
    counts = np.bincount(labels, minlength=num_classes)
    if counts.min() < 1:
        raise DatasetError(f"Expected at least one example of every class. Received: none of class "
                           f"{', '.join(str(c) for c in np.flatnonzero(counts == 0))}")
    means = np.stack([features[labels == c].mean(axis=0) for c in range(num_classes)])
    squared = ((means[:, None, :] - means[None, :, :]) ** 2).sum(axis=-1)
    spread = float(squared[~np.eye(num_classes, dtype=bool)].mean()) if num_classes > 1 else 0.0
    spread = spread if spread > 1e-12 else float((means ** 2).sum(axis=1).mean()) or 1.0
    weight = prototype_weight(labels, num_classes) if weight is None else float(weight)
    new_kernel = kernel.astype(np.float64) + weight * 2.0 * means.T / spread
    new_bias = bias.astype(np.float64) - weight * (means ** 2).sum(axis=1) / spread
    return new_kernel.astype(np.float32), new_bias.astype(np.float32), weight


def finetune_head(features: np.ndarray, labels: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
                  steps: int = FINETUNE_STEPS, rate: float = FINETUNE_RATE) -> tuple[np.ndarray, np.ndarray, None]:
    """(kernel, bias, None): the head trained further on the examples from its own weights."""
    features = np.asarray(features, np.float64)
    new_kernel, new_bias = kernel.astype(np.float64).copy(), bias.astype(np.float64).copy()
    targets = np.eye(kernel.shape[1])[labels]
    step = rate / max(float((features ** 2).sum(axis=1).mean()), 1e-12)
    for _ in range(int(steps)):
        gradient = (_softmax(features @ new_kernel + new_bias) - targets) / len(labels)
        new_kernel -= step * features.T @ gradient
        new_bias -= step * gradient.sum(axis=0)
    return new_kernel.astype(np.float32), new_bias.astype(np.float32), None


_FITS = {"prototypes": prototype_head, "finetune_head": finetune_head}


def fit_head(method: str, features: np.ndarray, labels: np.ndarray, kernel: np.ndarray,
             bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(kernel, bias, weight) of the adapted head by ``method`` (one of :data:`METHODS`)."""
    if method not in _FITS:
        raise WorkbenchError(f"Expected an adaptation method among {', '.join(METHODS)}. Received: {method!r}")
    return _FITS[method](features, labels, kernel, bias)


def cross_validated_predictions(method: str, features: np.ndarray, labels: np.ndarray, kernel: np.ndarray,
                                bias: np.ndarray) -> tuple[np.ndarray, int]:
    """(predicted class per example, folds): each example predicted by a head adapted without it.

    ``folds`` = the fewest examples in a class (at most :data:`MAX_FOLDS`); fold ``j`` holds out every
    class's ``j``-th, ``j+folds``-th … example, so every fold still has each class. Needs ≥ 2 per class.
    """
    num_classes = kernel.shape[1]
    folds = int(min(np.bincount(labels, minlength=num_classes).min(), MAX_FOLDS))
    if folds < 2:
        raise DatasetError(f"Expected at least {MIN_PER_CLASS} examples of every class to check the adapted "
                           f"model. Received: {folds} in the smallest class")
    assignment = np.zeros(len(labels), np.int64)
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        assignment[members] = np.arange(len(members)) % folds
    predicted = np.zeros(len(labels), np.int64)
    for fold in range(folds):
        out = assignment == fold
        new_kernel, new_bias, _ = fit_head(method, features[~out], labels[~out], kernel, bias)
        predicted[out] = np.argmax(features[out] @ new_kernel + new_bias, axis=1)
    return predicted, folds


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)

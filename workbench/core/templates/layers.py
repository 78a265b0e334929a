"""Building blocks shared by the built-in templates (Keras imported lazily by callers)."""

from __future__ import annotations


def classification_head(x, num_classes: int, use_sigmoid: bool, name: str | None = None):
    """One sigmoid unit for a binary template with 2 classes, a softmax over the classes otherwise
    (named ``name``, else "probability" or "probabilities")."""
    import keras

    if use_sigmoid:
        return keras.layers.Dense(1, activation="sigmoid", name=name or "probability")(x)
    return keras.layers.Dense(num_classes, activation="softmax", name=name or "probabilities")(x)


def rescaled_input(input_shape: tuple[int, ...], name: str = "pixels"):
    """An input of raw values in 0..255 and the same tensor rescaled to 0..1.

    Rescaling inside the model means the canvas, a file, the camera and every exported format feed
    the model exactly what the training pipeline fed it: raw pixel values.
    """
    import keras

    inputs = keras.Input(shape=input_shape, name=name)
    return inputs, keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)


def maybe_dropout(x, rate: float, name: str | None = None):
    import keras

    return keras.layers.Dropout(rate, name=name)(x) if rate > 0 else x

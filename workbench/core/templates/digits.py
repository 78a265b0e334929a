"""The article's digit CNNs, modernised for Keras 3."""

from __future__ import annotations

from workbench.core.templates.base import HyperParameter, TemplateSpec, training_hyperparameters
from workbench.core.templates.layers import classification_head, maybe_dropout, rescaled_input

_IMAGE_PREPROCESSING = {"kind": "image", "color_mode": "grayscale", "value_range": [0, 255], "rescale": "in-model"}


def build_simple_cnn(num_classes: int, input_shape, hp):
    import keras

    inputs, x = rescaled_input(input_shape)
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(100, activation="relu", name="dense1")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout")
    outputs = classification_head(x, num_classes, SIMPLE_CNN.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="simple_cnn")


def build_mnist_cnn(num_classes: int, input_shape, hp):
    import keras

    inputs, x = rescaled_input(input_shape)
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(name="pool2")(x)
    x = keras.layers.Conv2D(64, 3, activation="relu", name="conv3")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(64, activation="relu", name="dense1")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout")
    outputs = classification_head(x, num_classes, MNIST_CNN.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="mnist_cnn")


SIMPLE_CNN = TemplateSpec(
    id="simple_cnn",
    title="Simple CNN (digits)",
    description="One 3×3 convolution with 32 filters, max pooling and a 100-unit dense layer: the smallest "
    "useful digit classifier, trains in seconds.",
    modality="image",
    input_shape=(28, 28, 1),
    builder=build_simple_cnn,
    hyperparameters=training_hyperparameters(epochs=10, batch_size=32, learning_rate=1e-3, optimizer="adam"),
    preprocessing=_IMAGE_PREPROCESSING,
)

MNIST_CNN = TemplateSpec(
    id="mnist_cnn",
    title="MNIST CNN",
    description="Three convolutions (32-64-64) with max pooling and a 64-unit dense layer: the classic "
    "MNIST network, above 99% on handwritten digits. Defaults train it fast: 3 epochs of 256-sample "
    "batches at a one-cycle rate peaking at 0.006, with dropout 0.25 before the output — about 99.0% on "
    "held-out digits. On this project's 2-core test machine, whole process against whole process "
    "(bench/time_to_accuracy.py), that is 2.7–2.8× faster than the article's 5 epochs of 64 with the bfloat16 "
    "compute a CPU with AMX gets by default, 1.8–2.3× in float32.",
    modality="image",
    input_shape=(28, 28, 1),
    builder=build_mnist_cnn,
    hyperparameters=training_hyperparameters(
        epochs=3, batch_size=256, learning_rate=6e-3, optimizer="adam", dropout=0.25, lr_schedule="one_cycle"
    ),
    preprocessing=_IMAGE_PREPROCESSING,
)


def build_canvas_digits_cnn(num_classes: int, input_shape, hp):
    import keras

    inputs, x = rescaled_input(input_shape)
    for block, filters in enumerate((32, 64), start=1):
        for conv in (1, 2):
            x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block}_{conv}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{block}")(x)
        x = maybe_dropout(x, hp["conv_dropout"], f"dropout{block}")
    # A third, wider convolution on the 7×7 map and one more pooling keep the dense layer small
    # (1,152 inputs instead of 3,136), so the shipped file stays well under 2 MB.
    x = keras.layers.Conv2D(128, 3, padding="same", activation="relu", name="conv3")(x)
    x = keras.layers.MaxPooling2D(name="pool3")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(hp["dense_units"], activation="relu", name="dense1")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout_dense")
    outputs = classification_head(x, num_classes, CANVAS_DIGITS_CNN.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="canvas_digits_cnn")


CANVAS_DIGITS_CNN = TemplateSpec(
    id="canvas_digits_cnn",
    title="Drawn-digit CNN",
    description="Two double-convolution blocks and a wider third convolution, with dropout, for digits drawn "
    "on a canvas or "
    "photographed: every input is first normalised MNIST-style (ink cropped, fitted in 20×20, centred "
    "on its centre of mass), in training and at prediction alike.",
    modality="image",
    input_shape=(28, 28, 1),
    builder=build_canvas_digits_cnn,
    hyperparameters=training_hyperparameters(
        epochs=20, batch_size=128, learning_rate=1e-3, optimizer="adam", dropout=0.3, lr_schedule="cosine"
    )
    + (
        HyperParameter("conv_dropout", 0.1, "float", "Dropout after each convolution block.", 0.0, 0.9),
        HyperParameter("dense_units", 128, "int", "Units in the dense layer before the output.", 16, 1024),
    ),
    preprocessing={**_IMAGE_PREPROCESSING, "mnist_style": True},
)

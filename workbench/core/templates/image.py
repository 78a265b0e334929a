"""General image templates: the batch-norm + dropout CNN and VGG16 transfer learning."""

from __future__ import annotations

from workbench.core.templates.base import HyperParameter, TemplateSpec, training_hyperparameters
from workbench.core.templates.layers import classification_head, maybe_dropout, rescaled_input


def build_regularized_cnn(num_classes: int, input_shape, hp):
    import keras

    inputs, x = rescaled_input(input_shape)
    for block, filters in enumerate((32, 64), start=1):
        x = keras.layers.Conv2D(filters, 3, activation="relu", padding="same", name=f"conv{block}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{block}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{block}")(x)
        x = maybe_dropout(x, hp["conv_dropout"], f"dropout{block}")
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(512, activation="relu", name="dense1")(x)
    x = keras.layers.BatchNormalization(name="bn_dense")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout_dense")
    outputs = classification_head(x, num_classes, REGULARIZED_CNN.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="regularized_cnn")


def build_transfer_vgg16(num_classes: int, input_shape, hp):
    import keras

    from workbench.core.image.layers import CaffePreprocess

    inputs = keras.Input(shape=input_shape, name="pixels")
    # VGG16 expects BGR, mean-centred pixels (caffe style); doing it in-model keeps files, camera and
    # exported artefacts identical to training.
    x = CaffePreprocess(name="vgg16_preprocess")(inputs)
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=input_shape)
    base.trainable = False
    x = base(x, training=False)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(256, activation="relu", name="dense1")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout")
    outputs = classification_head(x, num_classes, TRANSFER_VGG16.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="transfer_vgg16")


_RGB = {"kind": "image", "color_mode": "rgb", "value_range": [0, 255], "rescale": "in-model"}

REGULARIZED_CNN = TemplateSpec(
    id="regularized_cnn",
    title="Regularised image CNN (batch norm + dropout)",
    description="Two Conv-BatchNorm-MaxPool-Dropout blocks and a 512-unit dense layer with batch norm and "
    "dropout, for small colour photo datasets (cats vs dogs and the like).",
    modality="image",
    input_shape=(150, 150, 3),
    builder=build_regularized_cnn,
    hyperparameters=training_hyperparameters(epochs=20, batch_size=32, learning_rate=1e-3, dropout=0.5)
    + (
        HyperParameter("conv_dropout", 0.25, "float", "Dropout after each convolution block.", 0.0, 0.9),
    ),
    preprocessing=_RGB,
)

TRANSFER_VGG16 = TemplateSpec(
    id="transfer_vgg16",
    title="Transfer learning (VGG16)",
    description="A frozen VGG16 convolutional base with a new Flatten-Dense256-Dropout head. Works without "
    "a network (random base); pretrained weights are resolved locally when available.",
    modality="image",
    input_shape=(150, 150, 3),
    builder=build_transfer_vgg16,
    hyperparameters=training_hyperparameters(epochs=10, batch_size=32, learning_rate=1e-4, dropout=0.5),
    preprocessing={**_RGB, "rescale": "in-model (vgg16 caffe)"},
)

"""General image templates: the batch-norm + dropout CNN, and transfer learning from a pretrained
keras.applications backbone (VGG16 as in the article, MobileNetV2, EfficientNetB0, ResNet50).

The transfer templates train in two phases: phase "head" trains a new head on the frozen ImageNet
backbone; phase "fine_tune" then also trains the top ``fine_tune_blocks`` blocks of the backbone at
``fine_tune_lr_factor`` times the learning rate (its BatchNormalization layers stay frozen, and the
backbone always runs in inference mode). Where the ImageNet weights come from (``weights_path``, the
Keras cache, a download) and the in-model preprocessing are :mod:`workbench.core.image.backbones`'.
"""

from __future__ import annotations

from typing import Any

from workbench.core.image.backbones import BACKBONE_NAMES, get_backbone  # plain data: no Keras
from workbench.core.templates.base import HyperParameter, TemplateSpec, training_hyperparameters
from workbench.core.templates.layers import classification_head, maybe_dropout, rescaled_input
from workbench.core.templates.transfer import HEAD_DENSE, HEAD_OUTPUT, HEAD_POOLING


def build_regularized_cnn(num_classes: int, input_shape, hp):
    import keras

    inputs, x = rescaled_input(input_shape)
    for block, filters in enumerate((32, 64), start=1):
        x = keras.layers.Conv2D(filters, 3, activation="relu", padding="same", name=f"conv{block}")(x)
        x = keras.layers.BatchNormalization(name=f"bn{block}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{block}")(x)
        x = maybe_dropout(x, hp["conv_dropout"], f"dropout{block}")
    if hp["pooling"] == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    else:  # the article's: on a 150×150 input, 37×37×64 values into 512 units (44.9 M weights)
        x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(512, activation="relu", name="dense1")(x)
    x = keras.layers.BatchNormalization(name="bn_dense")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout_dense")
    outputs = classification_head(x, num_classes, REGULARIZED_CNN.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="regularized_cnn")


_RGB = {"kind": "image", "color_mode": "rgb", "value_range": [0, 255], "rescale": "in-model"}

REGULARIZED_CNN = TemplateSpec(
    id="regularized_cnn",
    title="Regularised image CNN (batch norm + dropout)",
    description="Two Conv-BatchNorm-MaxPool-Dropout blocks, global average pooling and a 512-unit dense layer "
    "with batch norm and dropout, for small colour photo datasets (cats vs dogs and the like). pooling=flatten "
    "is the article's Flatten→Dense: 44.9 M weights on 150×150 photos, a 539 MB checkpoint.",
    modality="image",
    input_shape=(150, 150, 3),
    builder=build_regularized_cnn,
    hyperparameters=training_hyperparameters(epochs=20, batch_size=32, learning_rate=1e-3, dropout=0.5)
    + (
        HyperParameter("conv_dropout", 0.25, "float", "Dropout after each convolution block.", 0.0, 0.9),
        HyperParameter("pooling", "avg", "choice", "How the last feature map reaches the dense layer: global "
                       "average pooling (64 values), or flatten (every position: 44.9 M weights at 150×150).",
                       choices=HEAD_POOLING),
    ),
    preprocessing=_RGB,
    # Runs recorded before "pooling" existed flattened (a resumed one keeps its saved model's layers).
    legacy_hparams={"pooling": "flatten"},
)


# ----------------------------------------------------------------------------- transfer learning
# The transfer template whose backbone is fixed (the article's); transfer_keras takes hp["backbone"].
FIXED_BACKBONES = {"transfer_vgg16": "vgg16"}


def template_backbone(template_id: str, hp: dict[str, Any]) -> str:
    """The backbone a transfer template builds with ``hp``."""
    return FIXED_BACKBONES.get(template_id) or hp["backbone"]


def build_transfer(num_classes: int, input_shape, hp, *, template_id: str):
    """Raw pixels → (grayscale to RGB, resize up, the backbone's preprocessing) → the frozen
    ImageNet backbone in inference mode → the head (pooling, optional dense, dropout, classifier)."""
    import keras

    from workbench.core.image.backbones import adapt_input, backbone_input_shape, load_backbone

    spec = {"transfer_vgg16": TRANSFER_VGG16, "transfer_keras": TRANSFER_KERAS}[template_id]
    name = template_backbone(template_id, hp)
    inputs = keras.Input(shape=tuple(input_shape), name="pixels")
    x = adapt_input(inputs, name)
    # Weights first: a missing file fails here, before any epoch (MissingWeightsError).
    base = load_backbone(name, backbone_input_shape(input_shape), hp["weights_path"])
    base.trainable = False  # phase 1 trains the head only; phase 2 names the blocks it unfreezes
    x = base(x, training=False)  # BatchNormalization in inference mode, in phase 2 too
    if hp["pooling"] == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    else:
        x = keras.layers.Flatten(name="head_flatten")(x)
    if hp["dropout"] > 0 and hp["dense_units"] == 0:
        x = keras.layers.Dropout(hp["dropout"], name="head_dropout")(x)
    if hp["dense_units"] > 0:
        x = keras.layers.Dense(hp["dense_units"], activation="relu", name=HEAD_DENSE)(x)
        x = maybe_dropout(x, hp["dropout"], "head_dense_dropout")
    # One name for a sigmoid unit and a softmax alike, so phase 2 can name it without the class count.
    outputs = classification_head(x, num_classes, spec.uses_sigmoid(num_classes), HEAD_OUTPUT)
    return keras.Model(inputs, outputs, name=template_id)


def build_transfer_vgg16(num_classes: int, input_shape, hp):
    return build_transfer(num_classes, input_shape, hp, template_id="transfer_vgg16")


def build_transfer_keras(num_classes: int, input_shape, hp):
    return build_transfer(num_classes, input_shape, hp, template_id="transfer_keras")


def _phases(hp: dict[str, Any], backbone: str) -> list[dict[str, Any]]:
    """Phase 1 (the head on the frozen backbone) and, unless turned off, phase 2 (the top blocks too,
    BatchNormalization excluded: their layer names are not listed)."""
    phases: list[dict[str, Any]] = [{"name": "head", "epochs": hp["epochs"], "learning_rate": hp["learning_rate"]}]
    unfrozen = get_backbone(backbone).top_blocks_layers(int(hp["fine_tune_blocks"]))
    if hp["fine_tune_epochs"] > 0 and unfrozen:
        head = ([HEAD_DENSE] if hp["dense_units"] > 0 else []) + [HEAD_OUTPUT]
        phases.append({"name": "fine_tune", "epochs": hp["fine_tune_epochs"],
                       "learning_rate": hp["learning_rate"] * hp["fine_tune_lr_factor"],
                       "trainable": head + unfrozen})
    return phases


def transfer_vgg16_phases(hp: dict[str, Any]) -> list[dict[str, Any]]:
    return _phases(hp, "vgg16")


def transfer_keras_phases(hp: dict[str, Any]) -> list[dict[str, Any]]:
    return _phases(hp, hp["backbone"])


def _transfer_preprocessing(backbone: str, channels: int = 3) -> dict[str, Any]:
    """What the model expects: raw pixels (the backbone's preprocessing is in-model), grayscale or RGB."""
    return {"kind": "image", "color_mode": "grayscale" if channels == 1 else "rgb", "value_range": [0, 255],
            "rescale": get_backbone(backbone).rescale, "backbone": backbone}


def transfer_vgg16_preprocessing(hp: dict[str, Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
    return _transfer_preprocessing("vgg16", input_shape[-1])


def transfer_keras_preprocessing(hp: dict[str, Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
    return _transfer_preprocessing(hp["backbone"], input_shape[-1])


def _transfer_hyperparameters(*, pooling: str, dense_units: int, fine_tune_epochs: int, fine_tune_blocks: int,
                              blocks_help: str) -> tuple[HyperParameter, ...]:
    return (
        HyperParameter("weights_path", "", "path", "A local file of the backbone's ImageNet weights without its "
                       "top (the .h5 Keras downloads, or a .weights.h5). Empty: the Keras cache (~/.keras/models "
                       "or $KERAS_HOME/models), downloading into it when online."),
        HyperParameter("pooling", pooling, "choice", "How the head reduces the backbone's feature map: global "
                       "average pooling or flatten.", choices=HEAD_POOLING),
        HyperParameter("dense_units", dense_units, "int", "Units of a dense layer in the head (0 = none: a "
                       "linear classifier on the pooled features).", 0, 4096),
        HyperParameter("fine_tune_epochs", fine_tune_epochs, "int", "Epochs of phase 2, which also trains the "
                       "top blocks of the backbone (0 = no phase 2).", 0, 1000),
        HyperParameter("fine_tune_blocks", fine_tune_blocks, "int", blocks_help, 0, 20),
        HyperParameter("fine_tune_lr_factor", 0.1, "float", "Phase 2's learning rate as a fraction of "
                       "phase 1's.", 1e-4, 1.0, log_scale=True),
    )


TRANSFER_VGG16 = TemplateSpec(
    id="transfer_vgg16",
    title="Transfer learning (VGG16, ImageNet weights)",
    description="VGG16 pretrained on ImageNet with a new Flatten-Dense256-Dropout head, as in the article. "
    "Phase 1 trains the head on the frozen base; phase 2 also trains block5 at a 10× lower learning rate. "
    "The weights (58 MB) come from weights_path, else the Keras cache, else a Keras download; offline "
    "without them the run stops with an error before training. Grayscale and small inputs are adapted "
    "in-model.",
    modality="image",
    input_shape=(150, 150, 3),
    builder=build_transfer_vgg16,
    hyperparameters=training_hyperparameters(epochs=10, batch_size=32, learning_rate=1e-4, dropout=0.5)
    + _transfer_hyperparameters(pooling="flatten", dense_units=256, fine_tune_epochs=5, fine_tune_blocks=1,
                                blocks_help="How many of VGG16's 5 convolution blocks phase 2 unfreezes, from "
                                "the top (1 = block5, as in the article)."),
    preprocessing=_transfer_preprocessing("vgg16"),
    preprocessing_from_hparams=transfer_vgg16_preprocessing,
    phases_from_hparams=transfer_vgg16_phases,
)


def _image_size_shape(hp: dict[str, Any]) -> tuple[int, int, int]:
    return (int(hp["image_size"]), int(hp["image_size"]), 3)


TRANSFER_KERAS = TemplateSpec(
    id="transfer_keras",
    title="Transfer learning (Keras backbone, ImageNet weights)",
    description="A keras.applications backbone pretrained on ImageNet (MobileNetV2, EfficientNetB0, ResNet50 "
    "or VGG16) with a new head. Phase 1 trains the head on the frozen backbone; phase 2 unfreezes its top "
    "blocks (batch norm stays frozen) at a 10× lower learning rate. The weights come from weights_path, else the Keras cache, else a Keras download; offline "
    "without them the run stops with an error before training. Each backbone's preprocessing is in the "
    "model, which takes raw RGB or grayscale pixels; inputs under 32 pixels are resized up in-model.",
    modality="image",
    input_shape=(160, 160, 3),
    builder=build_transfer_keras,
    hyperparameters=training_hyperparameters(epochs=8, batch_size=32, learning_rate=1e-3, dropout=0.2)
    + (
        HyperParameter("backbone", "mobilenet_v2", "choice", "The pretrained network (its ImageNet weights "
                       "file): VGG16 (58 MB), MobileNetV2 (9 MB, fastest), EfficientNetB0 (16 MB) or ResNet50 "
                       "(94 MB).", choices=BACKBONE_NAMES),
        HyperParameter("image_size", 160, "int", "Side of the square input in pixels (the backbones were "
                       "trained at 224; smaller is faster).", 32, 512),
    )
    + _transfer_hyperparameters(pooling="avg", dense_units=0, fine_tune_epochs=5, fine_tune_blocks=2,
                                blocks_help="How many blocks of the backbone phase 2 unfreezes, from the top "
                                "(VGG16 has 5, ResNet50 17, MobileNetV2 18, EfficientNetB0 17)."),
    preprocessing=_transfer_preprocessing("mobilenet_v2"),
    preprocessing_from_hparams=transfer_keras_preprocessing,
    input_shape_from_hparams=_image_size_shape,
    phases_from_hparams=transfer_keras_phases,
)

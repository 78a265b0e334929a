"""Transfer learning from a pretrained SqueezeNet v1.1 base, in two phases.

Phase "head" trains a new head on the frozen ImageNet base; phase "fine_tune" then also trains the
top ``fine_tune_blocks`` blocks of the base at ``fine_tune_lr_factor`` times the learning rate.
The base's weights ship with the package (``resources/models/squeezenet_v1_1_imagenet_base.weights.h5``),
so the template works offline; its caffe-style preprocessing sits inside the model, so files, the
camera and exported models give it raw RGB pixels.
"""

from __future__ import annotations

from typing import Any

from workbench.core.templates.base import HyperParameter, TemplateSpec, training_hyperparameters
from workbench.core.templates.layers import classification_head

HEAD_POOLING = ("avg", "flatten")
# The head's layers that carry weights: phase 2 names them beside the unfrozen blocks.
HEAD_NORM, HEAD_DENSE, HEAD_OUTPUT = "head_norm", "head_dense", "head_output"


def build_transfer_squeezenet(num_classes: int, input_shape, hp):
    import keras

    from workbench.core.image.layers import CaffePreprocess
    from workbench.core.image.squeezenet import load_pretrained_squeezenet

    inputs = keras.Input(shape=input_shape, name="pixels")
    x = CaffePreprocess(name="caffe_preprocess")(inputs)  # RGB 0..255 → BGR minus the ImageNet means
    base = load_pretrained_squeezenet(input_shape)
    base.trainable = False  # phase 1 trains the head only; phase 2 names the blocks it unfreezes
    x = base(x, training=False)  # inference mode always (SqueezeNet has no batch norm; dropout none)
    if hp["pooling"] == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    else:
        x = keras.layers.Flatten(name="head_flatten")(x)
    # The base's ReLU features are on the scale of caffe pixels (tens to hundreds): normalised, the new
    # head starts from sensible logits instead of a loss of ~12 and trains at a plain learning rate.
    x = keras.layers.BatchNormalization(name=HEAD_NORM)(x)
    if hp["dropout"] > 0:
        x = keras.layers.Dropout(hp["dropout"], name="head_dropout")(x)
    if hp["dense_units"] > 0:
        x = keras.layers.Dense(hp["dense_units"], activation="relu", name=HEAD_DENSE)(x)
        if hp["dropout"] > 0:
            x = keras.layers.Dropout(hp["dropout"], name="head_dense_dropout")(x)
    # One name for a sigmoid unit and a softmax alike, so phase 2 can name it without the class count.
    outputs = classification_head(x, num_classes, TRANSFER_SQUEEZENET.uses_sigmoid(num_classes), HEAD_OUTPUT)
    return keras.Model(inputs, outputs, name="transfer_squeezenet")


def squeezenet_phases(hp: dict[str, Any]) -> list[dict[str, Any]]:
    """Phase 1 (the head on the frozen base) and, unless turned off, phase 2 (the top blocks too)."""
    from workbench.core.image.squeezenet import BLOCKS

    phases: list[dict[str, Any]] = [{"name": "head", "epochs": hp["epochs"], "learning_rate": hp["learning_rate"]}]
    blocks = min(int(hp["fine_tune_blocks"]), len(BLOCKS))
    if hp["fine_tune_epochs"] > 0 and blocks > 0:
        head = [HEAD_NORM] + ([HEAD_DENSE] if hp["dense_units"] > 0 else []) + [HEAD_OUTPUT]
        unfrozen = [name for _, layers in BLOCKS[-blocks:] for name in layers]
        phases.append({"name": "fine_tune", "epochs": hp["fine_tune_epochs"],
                       "learning_rate": hp["learning_rate"] * hp["fine_tune_lr_factor"],
                       "trainable": head + unfrozen})
    return phases


def _input_shape(hp: dict[str, Any]) -> tuple[int, int, int]:
    return (int(hp["image_size"]), int(hp["image_size"]), 3)


_PREPROCESSING = {"kind": "image", "color_mode": "rgb", "value_range": [0, 255],
                  "rescale": "in-model (squeezenet caffe)"}

TRANSFER_SQUEEZENET = TemplateSpec(
    id="transfer_squeezenet",
    title="Transfer learning (SqueezeNet, ImageNet weights)",
    description="SqueezeNet v1.1 pretrained on ImageNet (weights shipped with the app, no network needed) with "
    "a new head. Phase 1 trains the head on the frozen base; phase 2 unfreezes the top blocks at a 10× "
    "lower learning rate. For photo datasets of a few hundred to a few thousand images.",
    modality="image",
    input_shape=(224, 224, 3),
    builder=build_transfer_squeezenet,
    hyperparameters=training_hyperparameters(epochs=8, batch_size=32, learning_rate=1e-3, dropout=0.3)
    + (
        HyperParameter("image_size", 224, "int", "Side of the square input in pixels (the base was trained "
                       "at 227; smaller is faster).", 64, 384),
        HyperParameter("pooling", "avg", "choice", "How the head reduces the base's feature map: global "
                       "average pooling or flatten.", choices=HEAD_POOLING),
        HyperParameter("dense_units", 0, "int", "Units of a dense layer in the head (0 = none: a linear "
                       "classifier on the pooled features).", 0, 4096),
        HyperParameter("fine_tune_epochs", 10, "int", "Epochs of phase 2, which also trains the top blocks "
                       "of the base (0 = no phase 2).", 0, 1000),
        HyperParameter("fine_tune_blocks", 4, "int", "How many blocks of the base phase 2 unfreezes, from "
                       "the top (fire9, fire8, …; 9 = all).", 0, 9),
        HyperParameter("fine_tune_lr_factor", 0.1, "float", "Phase 2's learning rate as a fraction of "
                       "phase 1's.", 1e-4, 1.0, log_scale=True),
    ),
    preprocessing=_PREPROCESSING,
    input_shape_from_hparams=_input_shape,
    phases_from_hparams=squeezenet_phases,
    default_augmentation={"rotation": 10.0, "zoom": 0.1, "horizontal_flip": True, "brightness": 0.1},
)

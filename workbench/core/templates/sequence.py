"""Templates for video (CNN-LSTM); sound templates live in :mod:`workbench.core.templates.audio`."""

from __future__ import annotations

from workbench.core.templates.base import HyperParameter, TemplateSpec, training_hyperparameters
from workbench.core.templates.layers import classification_head, maybe_dropout
from workbench.core.video.modality import NOT_YET


def build_video_cnn_lstm(num_classes: int, input_shape, hp):
    import keras

    inputs = keras.Input(shape=input_shape, name="frames")
    x = keras.layers.TimeDistributed(keras.layers.Rescaling(1.0 / 255.0), name="rescale")(inputs)
    x = keras.layers.TimeDistributed(keras.layers.Conv2D(32, 3, activation="relu"), name="conv1")(x)
    x = keras.layers.TimeDistributed(keras.layers.MaxPooling2D(), name="pool1")(x)
    x = keras.layers.TimeDistributed(keras.layers.Flatten(), name="flatten")(x)
    x = keras.layers.LSTM(hp["lstm_units"], name="lstm")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout")
    outputs = classification_head(x, num_classes, VIDEO_CNN_LSTM.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="video_cnn_lstm")


VIDEO_CNN_LSTM = TemplateSpec(
    id="video_cnn_lstm",
    title="CNN-LSTM (video)",
    description="A small convolution applied to every frame (TimeDistributed) feeding an LSTM: classifies "
    "short clips of 30 grayscale frames by the motion in them.",
    modality="video",
    input_shape=(30, 128, 128, 1),
    builder=build_video_cnn_lstm,
    hyperparameters=training_hyperparameters(epochs=10, batch_size=4, learning_rate=1e-3)
    + (HyperParameter("lstm_units", 50, "int", "Units in the LSTM layer.", 4, 1024),),
    preprocessing={"kind": "video", "frames": 30, "color_mode": "grayscale", "value_range": [0, 255]},
    # Until video training lands: the CLI, the Model panel and train() say so before any work.
    training_unavailable=NOT_YET,
)

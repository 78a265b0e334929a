"""Templates for sound (spectrogram CNN) and video (CNN-LSTM)."""

from __future__ import annotations

from workbench.core.templates.base import HyperParameter, TemplateSpec, training_hyperparameters
from workbench.core.templates.layers import classification_head, maybe_dropout


def build_audio_spectrogram_cnn(num_classes: int, input_shape, hp):
    import keras

    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(64, activation="relu", name="dense1")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout")
    outputs = classification_head(x, num_classes, AUDIO_SPECTROGRAM_CNN.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="audio_spectrogram_cnn")


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


AUDIO_SPECTROGRAM_CNN = TemplateSpec(
    id="audio_spectrogram_cnn",
    title="Spectrogram CNN (sound)",
    description="Two convolutions with pooling and a 64-unit dense layer over a 64×64 log-mel "
    "spectrogram: classifies short sound clips such as spoken digits.",
    modality="audio",
    input_shape=(64, 64, 1),
    builder=build_audio_spectrogram_cnn,
    hyperparameters=training_hyperparameters(epochs=20, batch_size=32, learning_rate=1e-3),
    preprocessing={"kind": "audio", "features": "log-mel spectrogram", "n_mels": 64, "frames": 64},
)

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
)

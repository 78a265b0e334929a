"""Templates for video: the article's CNN-LSTM and a stronger per-frame CNN → GRU default.

Both take clips (frames, height, width, channels) of raw pixel values 0..255: F frames sampled
uniformly over a window of ``window_s`` seconds of the video (:mod:`workbench.core.video.clips`), the
same for training files, prediction files and the camera. Frames, size, colour and window are
hyperparameters; the sidecar records them.
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import TemplateError
from workbench.core.templates.base import HyperParameter, TemplateSpec, training_hyperparameters
from workbench.core.templates.layers import classification_head, maybe_dropout

COLOR_MODES = ("rgb", "grayscale")


def clip_hyperparameters(frames: int, size: int, color_mode: str, window_s: float) -> tuple[HyperParameter, ...]:
    return (
        HyperParameter("frames", frames, "int", "Frames the model reads per clip, sampled evenly over the window.",
                       2, 64),
        HyperParameter("height", size, "int", "Frame height in pixels (frames are resized to it).", 16, 512),
        HyperParameter("width", size, "int", "Frame width in pixels (frames are resized to it).", 16, 512),
        HyperParameter("color_mode", color_mode, "choice", "Colour frames (rgb) or grey ones (grayscale).",
                       choices=COLOR_MODES),
        HyperParameter("window_s", window_s, "float", "Seconds of video one prediction reads: longer clips are read "
                       "a window at a time, shorter ones whole; the camera reads its last window_s seconds.",
                       0.25, 60.0),
        HyperParameter("hop_s", window_s / 2, "float", "Seconds between the windows along a clip longer than the "
                       "window (training draws one of them per epoch; files show each).", 0.1, 60.0),
    )


def _input_shape(hp: dict[str, Any]) -> tuple[int, ...]:
    return (hp["frames"], hp["height"], hp["width"], 1 if hp["color_mode"] == "grayscale" else 3)


def _preprocessing(hp: dict[str, Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 4 or shape[3] not in (1, 3):
        raise TemplateError(f"Expected a video input shape (frames, height, width, 1 or 3). Received: {shape}")
    return {"kind": "video", "frames": shape[0], "size": [shape[1], shape[2]], "channels": shape[3],
            "color_mode": "grayscale" if shape[3] == 1 else "rgb", "value_range": [0, 255],
            "window_s": float(hp["window_s"]), "hop_s": float(hp["hop_s"])}


def _check_shape(input_shape) -> tuple[int, ...]:
    shape = tuple(input_shape)
    if len(shape) != 4:
        raise TemplateError(f"Expected a video input shape (frames, height, width, channels). Received: {shape}")
    return shape


def build_video_cnn_lstm(num_classes: int, input_shape, hp):
    import keras

    inputs = keras.Input(shape=_check_shape(input_shape), name="frames")
    x = keras.layers.TimeDistributed(keras.layers.Rescaling(1.0 / 255.0), name="rescale")(inputs)
    x = keras.layers.TimeDistributed(keras.layers.Conv2D(32, 3, activation="relu"), name="conv1")(x)
    x = keras.layers.TimeDistributed(keras.layers.MaxPooling2D(), name="pool1")(x)
    x = keras.layers.TimeDistributed(keras.layers.Flatten(), name="flatten")(x)
    # Unrolled over the fixed frames: TFLite cannot convert the LSTM's while loop (a TensorList of
    # unknown shape); unrolled, it converts.
    x = keras.layers.LSTM(hp["lstm_units"], unroll=True, name="lstm")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout")
    outputs = classification_head(x, num_classes, VIDEO_CNN_LSTM.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="video_cnn_lstm")


def frame_encoder(frame_shape, hp):
    """The per-frame CNN: blocks of 3×3 convolution, batch normalisation and ReLU, pooling between
    blocks, then a global average: one vector per frame."""
    import keras

    layers: list = [keras.Input(shape=frame_shape), keras.layers.Rescaling(1.0 / 255.0, name="rescale")]
    for block in range(hp["blocks"]):
        filters = hp["base_filters"] * 2 ** block
        name = f"block{block + 1}"
        layers += [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv"),
                   # Batch statistics come from a few clips whose frames are alike: a slow moving average
                   # (0.99) keeps validation from swinging with the last batches (0.9 swung 0.4-0.8).
                   keras.layers.BatchNormalization(momentum=hp["bn_momentum"], name=f"{name}_bn"),
                   keras.layers.ReLU(name=f"{name}_relu")]
        if block < hp["blocks"] - 1:
            layers.append(keras.layers.MaxPooling2D(name=f"{name}_pool"))
    layers.append(keras.layers.GlobalAveragePooling2D(name="frame_pool"))
    return keras.Sequential(layers, name="frame_cnn")


def build_video_cnn_gru(num_classes: int, input_shape, hp):
    import keras

    shape = _check_shape(input_shape)
    inputs = keras.Input(shape=shape, name="frames")
    x, frame_shape = inputs, shape[1:]
    if hp["motion"] and shape[0] > 1:
        # Each frame next to its change from the frame before: motion, not only appearance, reaches the
        # frame CNN (a held-out group's scenes differ; how people move in them less so).
        change = keras.layers.Subtract(name="frame_change")([inputs[:, 1:], inputs[:, :-1]])
        change = keras.layers.Rescaling(0.5, offset=127.5, name="change_to_pixels")(change)
        x = keras.layers.Concatenate(axis=-1, name="frames_and_change")([inputs[:, 1:], change])
        frame_shape = (*shape[1:3], 2 * shape[3])
    x = keras.layers.TimeDistributed(frame_encoder(frame_shape, hp), name="frame_features")(x)
    x = maybe_dropout(x, hp["dropout"], "frame_dropout")
    # Unrolled over the template's fixed number of frames: no while loop, so TFLite converts it.
    x = keras.layers.GRU(hp["gru_units"], unroll=True, name="gru")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout")
    outputs = classification_head(x, num_classes, VIDEO_CNN_GRU.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="video_cnn_gru")


VIDEO_CNN_LSTM = TemplateSpec(
    id="video_cnn_lstm",
    title="CNN-LSTM (video)",
    description="The article's network: one convolution with pooling applied to every frame (TimeDistributed), "
    "flattened into an LSTM of 50 units: classifies short clips of 16 grey 64×64 frames by what moves in them.",
    modality="video",
    input_shape=(16, 64, 64, 1),
    builder=build_video_cnn_lstm,
    hyperparameters=training_hyperparameters(epochs=15, batch_size=8, learning_rate=1e-3)
    + (HyperParameter("lstm_units", 50, "int", "Units in the LSTM layer.", 4, 1024),)
    + clip_hyperparameters(16, 64, "grayscale", 4.0),
    preprocessing=_preprocessing({"window_s": 4.0, "hop_s": 2.0}, (16, 64, 64, 1)),
    input_shape_from_hparams=_input_shape,
    preprocessing_from_hparams=_preprocessing,
)

VIDEO_CNN_GRU = TemplateSpec(
    id="video_cnn_gru",
    title="Frame CNN → GRU (video)",
    description="The default for real footage: a small CNN with batch normalisation and global pooling reads "
    "every frame (16 colour 64×64 frames over 4 s) beside its change from the frame before, and a GRU reads "
    "the frames' features in order. Trained by default with strong augmentation (zoom 0.4, horizontal flip, "
    "brightness 0.4, contrast 0.5, speed 0.4): the recipe that did best on UCF101 groups never trained on "
    "(see README).",
    modality="video",
    input_shape=(16, 64, 64, 3),
    builder=build_video_cnn_gru,
    hyperparameters=training_hyperparameters(epochs=40, batch_size=16, learning_rate=1e-3, dropout=0.5,
                                             lr_schedule="cosine")
    + (
        HyperParameter("base_filters", 16, "int", "Filters of the first block; each block doubles them.", 4, 128),
        HyperParameter("blocks", 4, "int", "Convolution blocks (each but the last halves the frame).", 1, 6),
        HyperParameter("gru_units", 64, "int", "Units in the GRU layer.", 4, 1024),
        HyperParameter("motion", True, "bool", "Also give the frame CNN each frame's change from the one "
                       "before (motion), not only the frame."),
        HyperParameter("bn_momentum", 0.99, "float", "Momentum of the batch-normalisation moving statistics "
                       "that validation and prediction use.", 0.5, 0.999),
    )
    + clip_hyperparameters(16, 64, "rgb", 4.0),
    preprocessing=_preprocessing({"window_s": 4.0, "hop_s": 2.0}, (16, 64, 64, 3)),
    input_shape_from_hparams=_input_shape,
    preprocessing_from_hparams=_preprocessing,    default_augmentation={"zoom": 0.4, "horizontal_flip": True, "brightness": 0.4, "contrast": 0.5, "speed": 0.4},
)

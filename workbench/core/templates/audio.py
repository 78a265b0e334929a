"""Templates for sound: the article's spectrogram CNN and a stronger Conv-BatchNorm default.

Both take a raw waveform of ``sample_rate × duration`` samples. Their first layers are the shared
log-mel front end (:class:`~workbench.core.audio.frontend.LogMelSpectrogram`, 64 frames × 64 mel
bands by default) and SpecAugment masks (active only while training), so a saved or exported model
computes its own features from audio.
"""

from __future__ import annotations

from typing import Any

from workbench.core.audio.config import NORMALISE_MODES, AudioConfig
from workbench.core.errors import DatasetError, TemplateError
from workbench.core.templates.base import HyperParameter, TemplateSpec, training_hyperparameters
from workbench.core.templates.layers import classification_head, maybe_dropout

AUDIO_HYPERPARAMETERS = (
    HyperParameter("sample_rate", 16000, "int", "Every sound is resampled to this rate (Hz).", 4000, 48000),
    HyperParameter("duration", 1.0, "float", "Clip length in seconds: longer sounds keep their loudest part, "
                   "shorter ones are padded with silence.", 0.25, 10.0),
    HyperParameter("n_mels", 64, "int", "Mel bands of the log-mel spectrogram (its height).", 16, 128),
    HyperParameter("frames", 64, "int", "Time frames of the spectrogram (its width); the hop follows "
                   "from the duration. Window 25 ms.", 16, 256),
    HyperParameter("fmin", 20.0, "float", "Lowest frequency of the mel bands in Hz.", 0.0, 2000.0),
    HyperParameter("fmax", 0.0, "float", "Highest frequency of the mel bands in Hz (0 = half the sample rate).",
                   0.0, 24000.0),
    HyperParameter("trim_silence", True, "bool", "Cut leading and trailing silence before fitting the clip."),
    HyperParameter("normalise", "peak", "choice", "Per-utterance level normalisation of the waveform.",
                   choices=NORMALISE_MODES),
    HyperParameter("top_db", 80.0, "float", "Dynamic range of the spectrogram in dB: bins further below the "
                   "clip's loudest are floored there (lower hides more background noise).", 20.0, 120.0),
    HyperParameter("band_mean", False, "bool", "Subtract each mel band's mean over the clip (removes a fixed "
                   "colouring by the microphone, the room or the voice)."),
)


def audio_config(hp: dict[str, Any], num_samples: int | None = None) -> AudioConfig:
    try:
        return AudioConfig.from_hparams(hp, num_samples)
    except DatasetError as exc:
        raise TemplateError(str(exc)) from None


def _input_shape(hp: dict[str, Any]) -> tuple[int, ...]:
    return (audio_config(hp).num_samples,)


def _preprocessing(hp: dict[str, Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
    return audio_config(hp, int(input_shape[0])).to_preprocessing()


def audio_features(input_shape, hp):
    """(waveform input, log-mel features after SpecAugment) for an input of ``input_shape``."""
    import keras

    from workbench.core.audio.frontend import LogMelSpectrogram
    from workbench.core.audio.layers import SpecAugment

    if len(input_shape) != 1:
        raise TemplateError(f"Expected an audio input shape (samples,). Received: {tuple(input_shape)}")
    config = audio_config(hp, int(input_shape[0]))
    inputs = keras.Input(shape=(config.num_samples,), name="waveform")
    x = LogMelSpectrogram.from_config_of(config, name="log_mel")(inputs)
    return inputs, SpecAugment(fmin=config.fmin, fmax=config.mel_fmax, name="spec_augment")(x)


def build_audio_spectrogram_cnn(num_classes: int, input_shape, hp):
    import keras

    inputs, x = audio_features(input_shape, hp)
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(64, activation="relu", name="dense1")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout")
    outputs = classification_head(x, num_classes, AUDIO_SPECTROGRAM_CNN.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="audio_spectrogram_cnn")


def build_audio_cnn(num_classes: int, input_shape, hp):
    import keras

    inputs, x = audio_features(input_shape, hp)
    for block in range(hp["blocks"]):
        filters = hp["base_filters"] * 2 ** block
        for conv in range(hp["convs_per_block"]):
            name = f"block{block + 1}_conv{conv + 1}"
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
            # momentum 0.9, not Keras' 0.99: with ~60 steps per epoch the 0.99 moving statistics
            # still remember their initial values after the first epochs, and validation (which
            # uses them) reads far worse than the model is.
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
            x = keras.layers.ReLU(name=f"{name}_relu")(x)
        if block < hp["blocks"] - 1:
            x = keras.layers.MaxPooling2D(name=f"block{block + 1}_pool")(x)
    # Average over time only, keeping the frequency axis: where a formant sits tells digits apart,
    # when the word starts does not. (Global average pooling over both axes read ~15 points worse
    # on a held-out FSDD speaker.)
    x = keras.layers.AveragePooling2D(pool_size=(x.shape[1], 1), name="time_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = maybe_dropout(x, hp["dropout"], "dropout")
    outputs = classification_head(x, num_classes, AUDIO_CNN.uses_sigmoid(num_classes))
    return keras.Model(inputs, outputs, name="audio_cnn")


_DEFAULT_CONFIG = AudioConfig()

AUDIO_SPECTROGRAM_CNN = TemplateSpec(
    id="audio_spectrogram_cnn",
    title="Spectrogram CNN (sound)",
    description="The article's network: two convolutions with pooling and a 64-unit dense layer over a "
    "64×64 log-mel spectrogram, computed inside the model from the raw waveform (16 kHz, 1 s by "
    "default): classifies short sounds such as spoken digits.",
    modality="audio",
    input_shape=(_DEFAULT_CONFIG.num_samples,),
    builder=build_audio_spectrogram_cnn,
    hyperparameters=training_hyperparameters(epochs=20, batch_size=32, learning_rate=1e-3) + AUDIO_HYPERPARAMETERS,
    preprocessing=_DEFAULT_CONFIG.to_preprocessing(),
    input_shape_from_hparams=_input_shape,
    preprocessing_from_hparams=_preprocessing,
)

AUDIO_CNN = TemplateSpec(
    id="audio_cnn",
    title="Audio CNN (Conv-BatchNorm)",
    description="Four blocks of two 3×3 convolutions with batch normalisation and ReLU, pooling between "
    "blocks, then an average over time (keeping the frequency axis) and dropout, over the same in-model "
    "64×64 log-mel front end: about 300k weights (1.3 MB). The shipped spoken-digit model is this "
    "template trained with speed, formant, shift, EQ, noise and SpecAugment augmentation (the Model "
    "tab's \"Spoken digits recipe\"); the README gives its accuracy on speakers it never heard, clean "
    "and in noise.",
    modality="audio",
    input_shape=(_DEFAULT_CONFIG.num_samples,),
    builder=build_audio_cnn,
    hyperparameters=training_hyperparameters(epochs=20, batch_size=32, learning_rate=1e-3, dropout=0.3,
                                             lr_schedule="cosine")
    + AUDIO_HYPERPARAMETERS
    + (
        HyperParameter("base_filters", 16, "int", "Filters of the first block; each block doubles them.", 4, 128),
        HyperParameter("blocks", 4, "int", "Convolution blocks (each but the last halves the image).", 1, 6),
        HyperParameter("convs_per_block", 2, "int", "Convolutions in each block.", 1, 3),
    ),
    preprocessing=_DEFAULT_CONFIG.to_preprocessing(),
    input_shape_from_hparams=_input_shape,
    preprocessing_from_hparams=_preprocessing,
)

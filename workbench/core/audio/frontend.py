"""The one log-mel front end, as a serializable Keras layer inside every audio model.

Audio models take a raw waveform of ``sample_rate × duration`` samples; :class:`LogMelSpectrogram`
is their first layer. Training, dropped files, the microphone and exported SavedModel/TFLite
artefacts therefore all compute features with the same ops and the same constants, and nothing
outside the model has to be kept in step with it. :func:`log_mel` runs the same layer for display.

Output layout: (batch, frames, n_mels, 1) — time along the first image axis, mel bands (low to
high) along the second. This module imports TensorFlow; import it lazily.
"""

from __future__ import annotations

import functools
import math

import keras
import numpy as np
import tensorflow as tf

from workbench.core.audio.config import AudioConfig

LOG_EPSILON = 1e-12


@keras.saving.register_keras_serializable(package="workbench")
class LogMelSpectrogram(keras.layers.Layer):
    """Waveform (batch, samples) → per-utterance standardised log-mel (batch, frames, n_mels, 1).

    Steps: frames of ``frame_length`` every ``frame_step`` samples (the first ``frames`` kept), a
    periodic Hann window, power spectrum of a ``fft_length``-point FFT, HTK mel filter bank from
    ``fmin`` to ``fmax``, natural log, bins more than ``top_db`` below the clip's loudest bin raised
    to that floor (so the level of digital silence does not matter), with ``band_mean`` each band's
    mean over the clip subtracted (a fixed colouring — microphone, room, voice — is an offset per band
    in the log domain), then — with ``normalise`` — zero mean and unit variance over the whole clip.
    The standardisation makes the features blind to the recording level, which differs by tens of dB
    between a dataset and a user's microphone.
    """

    def __init__(self, sample_rate: int = 16000, frame_length: int = 400, frame_step: int = 247,
                 fft_length: int = 512, n_mels: int = 64, fmin: float = 20.0, fmax: float | None = None,
                 frames: int = 64, top_db: float = 80.0, normalise: bool = True, band_mean: bool = False,
                 **kwargs) -> None:
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        self.frame_length = int(frame_length)
        self.frame_step = int(frame_step)
        self.fft_length = int(fft_length)
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = float(fmax) if fmax else self.sample_rate / 2.0
        self.frames = int(frames)
        self.top_db = float(top_db)
        self.normalise = bool(normalise)
        self.band_mean = bool(band_mean)
        with tf.init_scope():  # constants computed eagerly even when built inside a traced function
            self._window = tf.signal.hann_window(self.frame_length, periodic=True).numpy()
            self._mel_matrix = tf.signal.linear_to_mel_weight_matrix(
                self.n_mels, self.fft_length // 2 + 1, self.sample_rate, self.fmin, self.fmax).numpy()

    @classmethod
    def from_config_of(cls, config: AudioConfig, num_samples: int | None = None, **kwargs) -> LogMelSpectrogram:
        """The layer for ``config``; a ``num_samples`` other than the clip's gives as many frames as fit."""
        frames = config.frames
        if num_samples is not None and num_samples != config.num_samples:
            frames = max(1, 1 + (num_samples - config.window_length) // config.hop_length)
        return cls(sample_rate=config.sample_rate, frame_length=config.window_length,
                   frame_step=config.hop_length, fft_length=config.fft_length, n_mels=config.n_mels,
                   fmin=config.fmin, fmax=config.mel_fmax, frames=frames, top_db=config.top_db,
                   band_mean=config.band_mean, **kwargs)

    def call(self, waveforms):
        x = tf.cast(waveforms, tf.float32)
        frames = tf.signal.frame(x, self.frame_length, self.frame_step)[:, : self.frames, :]
        spectrum = tf.signal.rfft(frames * self._window, fft_length=[self.fft_length])
        # real² + imag² rather than abs(): both are TFLite built-ins, ComplexAbs is not everywhere.
        power = tf.square(tf.math.real(spectrum)) + tf.square(tf.math.imag(spectrum))
        mel = tf.matmul(power, self._mel_matrix)
        log_mel = tf.math.log(mel + LOG_EPSILON)
        floor = tf.reduce_max(log_mel, axis=[1, 2], keepdims=True) - self.top_db * math.log(10.0) / 10.0
        log_mel = tf.maximum(log_mel, floor)
        if self.band_mean:
            log_mel = log_mel - tf.reduce_mean(log_mel, axis=1, keepdims=True)
        if self.normalise:
            mean, variance = tf.nn.moments(log_mel, axes=[1, 2], keepdims=True)
            # The floor on the variance keeps a constant (silent) clip at ~0 instead of amplifying
            # float rounding; speech has a log-mel variance of about 10, so it changes nothing there.
            log_mel = (log_mel - mean) * tf.math.rsqrt(variance + 1e-2)
        return tf.expand_dims(log_mel, -1)  # not [..., None]: TFLite lacks StridedSlice with new axes

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.frames, self.n_mels, 1)

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "n_mels": self.n_mels,
                "fmin": self.fmin, "fmax": self.fmax, "frames": self.frames, "top_db": self.top_db,
                "normalise": self.normalise, "band_mean": self.band_mean}


def mel_center_frequencies(config: AudioConfig) -> np.ndarray:
    """Centre frequency in Hz of each mel band, low to high (HTK mel scale, as the layer uses)."""
    to_mel = lambda f: 1127.0 * np.log1p(np.asarray(f, np.float64) / 700.0)  # noqa: E731
    edges = np.linspace(to_mel(config.fmin), to_mel(config.mel_fmax), config.n_mels + 2)
    return 700.0 * np.expm1(edges[1:-1] / 1127.0)


@functools.lru_cache(maxsize=16)
def _display_layer(config: AudioConfig, num_samples: int, standardise: bool):
    layer = LogMelSpectrogram.from_config_of(config, num_samples, normalise=standardise)
    return tf.function(layer.__call__, reduce_retracing=True)


def log_mel(waveform: np.ndarray, config: AudioConfig, *, standardise: bool = True) -> np.ndarray:
    """The model's features for display: (frames, n_mels) float32, or (batch, frames, n_mels).

    ``waveform`` is (samples,) or (batch, samples) at ``config.sample_rate`` — normally a prepared
    clip; any length of at least one window works (longer input gives more frames, same hop).
    """
    array = np.asarray(waveform, np.float32)
    single = array.ndim == 1
    batch = array[None] if single else array
    if batch.shape[-1] < config.window_length:
        batch = np.pad(batch, ((0, 0), (0, config.window_length - batch.shape[-1])))
    features = np.asarray(_display_layer(config, int(batch.shape[-1]), standardise)(batch))[..., 0]
    return features[0] if single else features

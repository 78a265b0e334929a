"""A cheap streaming log-mel spectrogram, for drawing only.

The live view redraws 25 times a second from whatever the microphone delivered since the last tick,
so this computes only the new columns: a 25 ms Hann window every 10 ms, one batched ``rfft``, a
precomputed mel matrix, dB. The few samples that do not yet fill a hop wait for the next call.
Models never see these numbers: their log-mel front end is a layer inside the saved model.
"""

from __future__ import annotations

import numpy as np

FLOOR_DB = -100.0


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, np.float64) / 2595.0) - 1.0)


def mel_matrix(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 20.0, fmax: float | None = None) -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) triangular filters (HTK mel scale), each normalised to sum 1."""
    fmax = min(float(fmax or sample_rate / 2.0), sample_rate / 2.0)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / np.maximum(centre - lower, 1e-9)
    falling = (upper - freqs[None, :]) / np.maximum(upper - centre, 1e-9)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    return weights.T.astype(np.float32)


class StreamingSpectrogram:
    """Feed consecutive blocks of a stream; get the new spectrogram columns, (frames, n_mels) in dB.

    Args:
        sample_rate: the stream's rate.
        n_mels: rows of the picture.
        window_ms, hop_ms: analysis window and column spacing.
        fmax: top of the mel scale (default: 8 kHz or the Nyquist frequency, whichever is lower).
    """

    def __init__(self, sample_rate: int, n_mels: int = 64, window_ms: float = 25.0, hop_ms: float = 10.0,
                 fmax: float | None = None) -> None:
        self.sample_rate = int(sample_rate)
        self.n_mels = int(n_mels)
        self.window = max(16, int(round(sample_rate * window_ms / 1000.0)))
        self.hop = max(1, int(round(sample_rate * hop_ms / 1000.0)))
        self.n_fft = 1 << (self.window - 1).bit_length()
        self.fmax = min(fmax or 8000.0, sample_rate / 2.0)
        self._hann = np.hanning(self.window).astype(np.float32)
        self._mel = mel_matrix(self.sample_rate, self.n_fft, self.n_mels, fmax=self.fmax)
        self.reset()

    @property
    def columns_per_second(self) -> float:
        return self.sample_rate / self.hop

    def reset(self) -> None:
        self._tail = np.zeros(self.window - self.hop, np.float32)  # the overlap with the next frame

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """New columns for ``samples`` (possibly none): shape (frames, n_mels), dBFS-like values."""
        data = np.concatenate((self._tail, np.asarray(samples, np.float32).reshape(-1)))
        count = max(0, (data.size - self.window) // self.hop + 1)
        if count == 0:
            self._tail = data
            return np.zeros((0, self.n_mels), np.float32)
        self._tail = data[count * self.hop:]
        return self.compute(data[:(count - 1) * self.hop + self.window])

    def compute(self, samples: np.ndarray) -> np.ndarray:
        """The whole-clip spectrogram of ``samples`` (no streaming state): (frames, n_mels) in dB."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        if samples.size < self.window:
            samples = np.pad(samples, (0, self.window - samples.size))
        count = (samples.size - self.window) // self.hop + 1
        frames = np.lib.stride_tricks.as_strided(
            samples, (count, self.window), (samples.strides[0] * self.hop, samples.strides[0]), writeable=False)
        spectrum = np.fft.rfft(frames * self._hann, n=self.n_fft, axis=1)
        power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32) / (self._hann.sum() ** 2 / 4.0)
        mel = power @ self._mel
        return np.maximum(10.0 * np.log10(np.maximum(mel, 1e-12)), FLOOR_DB).astype(np.float32)

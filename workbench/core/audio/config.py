"""The audio front-end configuration: one frozen value shared by datasets, templates and inference.

Defaults (chosen for short spoken words, and documented in the templates' help):

- 16 kHz, 1.0 s clips (16,000 samples);
- a 25 ms Hann window (400 samples at 16 kHz) in a 512-point FFT;
- 64 mel bands from 20 Hz to the Nyquist frequency (``fmax = 0``);
- 64 frames: the hop is derived from the clip length so every clip gives exactly ``frames`` frames
  (247 samples ≈ 15.4 ms for 1 s at 16 kHz), hence the 64×64 log-mel "image" of the article;
- leading/trailing silence trimmed, each utterance peak-normalised.

The config travels as the ``preprocessing`` dict of a template and of every model sidecar, so the
microphone, files, the training pipeline and exported models all rebuild the same front end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from workbench.core.errors import DatasetError

NORMALISE_MODES = ("peak", "rms", "none")


@dataclass(frozen=True)
class AudioConfig:
    """How a sound becomes a model input (a fixed-length waveform) and features (a log-mel image).

    Attributes:
        sample_rate: rate every input is resampled to, in Hz.
        duration: clip length in seconds; longer sounds are cropped to their loudest part, shorter
            ones padded with silence on both sides.
        n_mels: mel bands (the feature image's height).
        frames: time frames (the feature image's width); the hop follows from the duration.
        window_ms: analysis window in milliseconds.
        fmin: lowest mel band edge in Hz.
        fmax: highest mel band edge in Hz; 0 means the Nyquist frequency.
        trim_silence: cut leading and trailing silence before fitting the clip to ``duration``.
        normalise: per-utterance waveform normalisation: "peak", "rms" or "none".
        top_db: dynamic range kept below each spectrogram's loudest bin (quieter bins are floored),
            so digital silence and a quiet room look alike; lower values also hide more of a
            background noise.
        band_mean: subtract each mel band's mean over the clip before standardising it (cepstral
            mean normalisation): removes a fixed colouring, by a microphone, a room or a voice.
    """

    sample_rate: int = 16000
    duration: float = 1.0
    n_mels: int = 64
    frames: int = 64
    window_ms: float = 25.0
    fmin: float = 20.0
    fmax: float = 0.0
    trim_silence: bool = True
    normalise: str = "peak"
    top_db: float = 80.0
    band_mean: bool = False

    def __post_init__(self) -> None:
        if self.normalise not in NORMALISE_MODES:
            raise DatasetError(f"Expected audio normalisation in {', '.join(NORMALISE_MODES)}. "
                               f"Received: {self.normalise!r}")
        if self.sample_rate < 1000 or self.n_mels < 1 or self.frames < 2:
            raise DatasetError("Expected a sample rate ≥ 1000 Hz, n_mels ≥ 1 and frames ≥ 2. Received: "
                               f"{self.sample_rate} Hz, n_mels {self.n_mels}, frames {self.frames}")
        if not 1.0 <= self.top_db <= 200.0:
            raise DatasetError(f"Expected top_db between 1 and 200 dB. Received: {self.top_db:g}")
        if not 0.0 <= self.fmin < self.mel_fmax <= self.sample_rate / 2:
            raise DatasetError(f"Expected 0 ≤ fmin < fmax ≤ {self.sample_rate / 2:g} Hz (half the sample rate). "
                               f"Received: fmin {self.fmin:g}, fmax {self.mel_fmax:g}")
        if self.num_samples - self.window_length < self.frames - 1:
            raise DatasetError(
                f"Expected a clip long enough for {self.frames} frames of {self.window_ms:g} ms. "
                f"Received: {self.duration:g} s at {self.sample_rate} Hz ({self.num_samples} samples)")

    @property
    def num_samples(self) -> int:
        return int(round(self.sample_rate * self.duration))

    @property
    def window_length(self) -> int:
        return max(2, int(round(self.sample_rate * self.window_ms / 1000.0)))

    @property
    def fft_length(self) -> int:
        # At least 512 points: at 8 kHz a 25 ms window is 200 samples, and a 256-point FFT would
        # leave the lowest mel bands narrower than one FFT bin (empty filters).
        return max(512, 1 << (self.window_length - 1).bit_length())

    @property
    def hop_length(self) -> int:
        return (self.num_samples - self.window_length) // (self.frames - 1)

    @property
    def mel_fmax(self) -> float:
        return float(self.fmax) if self.fmax else self.sample_rate / 2.0

    @property
    def feature_shape(self) -> tuple[int, int, int]:
        """Shape of the front end's output for one clip: (frames, n_mels, 1)."""
        return (self.frames, self.n_mels, 1)

    def to_preprocessing(self) -> dict[str, Any]:
        """The sidecar / template ``preprocessing`` dict (with the derived sizes, for readers)."""
        return {"kind": "audio", "features": "log-mel spectrogram (in-model layer)", **asdict(self),
                "num_samples": self.num_samples, "window_length": self.window_length,
                "hop_length": self.hop_length, "fft_length": self.fft_length, "input": "raw waveform"}

    @classmethod
    def from_preprocessing(cls, values: dict[str, Any] | None) -> AudioConfig:
        """Rebuild from a ``preprocessing`` dict; keys other than the fields are ignored."""
        values = values or {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    @classmethod
    def from_hparams(cls, hp: dict[str, Any], num_samples: int | None = None) -> AudioConfig:
        """From template hyperparameters; ``num_samples`` (the input length) overrides ``duration``."""
        sample_rate = int(hp.get("sample_rate", cls.sample_rate))
        duration = float(hp.get("duration", cls.duration)) if num_samples is None else num_samples / sample_rate
        return cls(sample_rate=sample_rate, duration=duration, n_mels=int(hp.get("n_mels", cls.n_mels)),
                   frames=int(hp.get("frames", cls.frames)), fmin=float(hp.get("fmin", cls.fmin)),
                   fmax=float(hp.get("fmax", cls.fmax)),
                   trim_silence=bool(hp.get("trim_silence", cls.trim_silence)),
                   normalise=str(hp.get("normalise", cls.normalise)),
                   top_db=float(hp.get("top_db", cls.top_db)), band_mean=bool(hp.get("band_mean", cls.band_mean)))

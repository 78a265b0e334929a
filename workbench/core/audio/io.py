"""Reading sound files and resampling: the one decoding path for datasets, files and the microphone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.core.errors import DatasetError

EXPECTED = "Expected a readable sound file (wav, flac, ogg or mp3)"


def to_mono(data: np.ndarray) -> np.ndarray:
    """(N,) or (N, channels) samples → (N,) float32, channels averaged."""
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    elif data.ndim != 1:
        raise DatasetError(f"Expected samples shaped (N,) or (N, channels). Received: {data.shape}")
    return np.ascontiguousarray(data, dtype=np.float32)


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode ``path`` at its own rate: (float32 mono samples in -1..1, sample rate).

    soundfile (libsndfile) reads wav, flac, ogg and, with libsndfile ≥ 1.1, mp3; anything it
    refuses goes through librosa's fallback decoders (audioread / ffmpeg) before giving up.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{EXPECTED}. Received: {path} does not exist")
    if path.stat().st_size == 0:
        raise DatasetError(f"{EXPECTED}. Received: {path} is an empty file")
    import soundfile

    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as first:  # libsndfile raises its own error types
        data, rate = _librosa_read(path, first)
    samples = to_mono(data)
    if samples.size == 0:
        raise DatasetError(f"Expected a sound file with samples. Received: {path} has no audio frames")
    if not np.all(np.isfinite(samples)):
        raise DatasetError(f"Expected finite sample values. Received: {path} contains NaN or infinity")
    return samples, int(rate)


def _librosa_read(path: Path, first: Exception) -> tuple[np.ndarray, int]:
    import warnings

    import librosa

    try:
        with warnings.catch_warnings():  # librosa warns that it fell back to audioread; we know
            warnings.simplefilter("ignore")
            data, rate = librosa.load(str(path), sr=None, mono=True)
    except Exception as exc:
        reason = str(first).splitlines()[0] if str(first) else type(first).__name__
        raise DatasetError(f"{EXPECTED}. Received: {path} ({reason}; fallback decoder: "
                           f"{type(exc).__name__})") from None
    return np.asarray(data, np.float32), int(rate)


def resample(samples: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling (soxr, high quality); the identity when the rates match.

    Every path (dataset files, the microphone, dropped files) goes through this one function, so a
    clip resampled for training and the same clip resampled for prediction are the same numbers.
    """
    samples = to_mono(samples)
    if int(orig_rate) <= 0:
        raise DatasetError(f"Expected a positive sample rate. Received: {orig_rate}")
    if int(orig_rate) == int(target_rate) or samples.size == 0:
        return samples
    import soxr

    return np.asarray(soxr.resample(samples, int(orig_rate), int(target_rate), quality="HQ"), np.float32)


def load_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    """Decode ``path`` to float32 mono at ``sample_rate``; :class:`DatasetError` says why it cannot."""
    samples, rate = read_audio(path)
    return resample(samples, rate, sample_rate)

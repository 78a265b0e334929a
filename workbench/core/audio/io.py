"""Reading sound files and resampling: the one decoding path for datasets, files and the microphone."""

from __future__ import annotations

import os
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
    shown = display(path)
    if not path.is_file():
        raise DatasetError(f"{EXPECTED}. Received: {shown} does not exist")
    if path.stat().st_size == 0:
        raise DatasetError(f"{EXPECTED}. Received: {shown} is an empty file")
    import soundfile

    try:
        # The name as bytes: soundfile would encode a str strictly and refuse non-UTF-8 file names.
        data, rate = soundfile.read(os.fsencode(path), dtype="float32", always_2d=True)
    except Exception as first:  # libsndfile raises its own error types
        data, rate = _librosa_read(path, first)
    samples = to_mono(data)
    if samples.size == 0:
        raise DatasetError(f"Expected a sound file with samples. Received: {shown} has no audio frames")
    if not np.all(np.isfinite(samples)):
        raise DatasetError(f"Expected finite sample values. Received: {shown} contains NaN or infinity")
    return samples, int(rate)


def display(path: str | Path) -> str:
    """The path printable in any terminal (bytes of a non-UTF-8 file name as ``\\xNN``)."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _librosa_read(path: Path, first: Exception) -> tuple[np.ndarray, int]:
    import warnings

    import librosa

    try:
        with warnings.catch_warnings():  # librosa warns that it fell back to audioread; we know
            warnings.simplefilter("ignore")
            data, rate = librosa.load(str(path), sr=None, mono=True)
    except Exception as exc:
        reason = str(first).splitlines()[0] if str(first) else type(first).__name__
        reason = reason.replace(f" {os.fsencode(path)!r}:", ":").replace(f" {str(path)!r}", "")
        reason = reason.removeprefix("Error opening: ").rstrip(".")
        raise DatasetError(f"{EXPECTED}. Received: {display(path)} ({reason}; fallback decoder: "
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

"""Fixed-length clips: silence trimming, per-utterance normalisation, cropping, padding, windows.

:func:`prepare_clip` is the single step between decoded samples and the model input. The training
pipeline, :meth:`Predictor.prepare_file` and :meth:`Predictor.prepare_waveform` (the microphone)
all call it, so a word spoken into the microphone is fitted to the clip exactly as the recordings
the model learnt from were.
"""

from __future__ import annotations

import numpy as np

from workbench.core.audio.config import AudioConfig

#: Energy frames for silence detection: 25 ms long, every 10 ms.
FRAME_S, HOP_S = 0.025, 0.010
#: A frame is sound when it is within this many dB of the clip's loudest frame ...
TRIM_TOP_DB = 40.0
#: ... and louder than this absolute level (dB relative to full scale).
SILENCE_DBFS = -60.0
#: Kept on each side of the detected sound, so soft onsets ("f", "s", "th") survive the trim.
TRIM_MARGIN_S = 0.05
PEAK_TARGET = 1.0
RMS_TARGET_DBFS = -20.0


def frame_levels_db(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """RMS level of each 25 ms frame (10 ms hop) in dBFS; a clip shorter than a frame is one frame."""
    samples = np.asarray(samples, np.float32)
    frame = max(1, int(FRAME_S * sample_rate))
    hop = max(1, int(HOP_S * sample_rate))
    if samples.size <= frame:
        power = np.array([np.mean(np.square(samples, dtype=np.float64))]) if samples.size else np.zeros(1)
    else:
        # Running sums of squares give every frame's energy in O(N) without building a frame matrix.
        csum = np.concatenate([[0.0], np.cumsum(np.square(samples, dtype=np.float64))])
        starts = np.arange(0, samples.size - frame + 1, hop)
        power = (csum[starts + frame] - csum[starts]) / frame
    return 10.0 * np.log10(np.maximum(power, 1e-12))


def is_silent(samples: np.ndarray, sample_rate: int, threshold_dbfs: float = SILENCE_DBFS) -> bool:
    """True when no 25 ms frame reaches ``threshold_dbfs`` (empty input counts as silent)."""
    samples = np.asarray(samples)
    return samples.size == 0 or float(frame_levels_db(samples, sample_rate).max()) < threshold_dbfs


def sound_bounds(samples: np.ndarray, sample_rate: int, top_db: float = TRIM_TOP_DB,
                 margin_s: float = TRIM_MARGIN_S) -> tuple[int, int]:
    """(start, stop) sample indices of the sound in ``samples``, with ``margin_s`` either side.

    Frames within ``top_db`` of the loudest frame (and above :data:`SILENCE_DBFS`) count as sound;
    everything before the first and after the last such frame is silence. A silent clip gives (0, 0).
    """
    samples = np.asarray(samples)
    levels = frame_levels_db(samples, sample_rate)
    threshold = max(float(levels.max()) - top_db, SILENCE_DBFS)
    loud = np.flatnonzero(levels >= threshold)
    if samples.size == 0 or float(levels.max()) < SILENCE_DBFS or loud.size == 0:
        return 0, 0
    hop, frame = max(1, int(HOP_S * sample_rate)), max(1, int(FRAME_S * sample_rate))
    margin = int(margin_s * sample_rate)
    start = max(0, loud[0] * hop - margin)
    stop = min(samples.size, loud[-1] * hop + frame + margin)
    return int(start), int(stop)


def trim_silence(samples: np.ndarray, sample_rate: int, top_db: float = TRIM_TOP_DB,
                 margin_s: float = TRIM_MARGIN_S) -> np.ndarray:
    """``samples`` without leading and trailing silence (see :func:`sound_bounds`); empty if silent."""
    start, stop = sound_bounds(samples, sample_rate, top_db, margin_s)
    return np.asarray(samples, np.float32)[start:stop]


def normalise(samples: np.ndarray, mode: str = "peak") -> np.ndarray:
    """Per-utterance level: peak to full scale, RMS to -20 dBFS, or unchanged ("none").

    Speakers and microphones differ in level by 20 dB and more; the model should not care.
    """
    samples = np.asarray(samples, np.float32)
    if mode == "none" or samples.size == 0:
        return samples
    if mode == "peak":
        level = float(np.max(np.abs(samples)))
        target = PEAK_TARGET
    else:
        level = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
        target = 10.0 ** (RMS_TARGET_DBFS / 20.0)
    return samples if level <= 1e-8 else (samples * (target / level)).astype(np.float32)


def loudest_window(samples: np.ndarray, length: int) -> np.ndarray:
    """The ``length`` consecutive samples holding the most energy (for clips longer than the input)."""
    samples = np.asarray(samples, np.float32)
    if samples.size <= length:
        return samples
    csum = np.concatenate([[0.0], np.cumsum(np.square(samples, dtype=np.float64))])
    energy = csum[length:] - csum[:-length]
    # The first of several equal maxima: deterministic, and the clip's start for constant signals.
    start = int(np.argmax(energy))
    return samples[start:start + length]


def pad_center(samples: np.ndarray, length: int) -> np.ndarray:
    """Zero-pad to ``length`` with the sound in the middle (an odd extra sample goes to the end).

    Centred rather than left-aligned: the microphone's trimmed utterance and a dataset file then
    both sit mid-clip, and time-shift augmentation covers the rest.
    """
    samples = np.asarray(samples, np.float32)
    if samples.size >= length:
        return samples[:length]
    out = np.zeros(length, np.float32)
    start = (length - samples.size) // 2
    out[start:start + samples.size] = samples
    return out


def prepare_clip(samples: np.ndarray, config: AudioConfig) -> np.ndarray:
    """Samples already at ``config.sample_rate`` → the model input: float32 (num_samples,).

    Remove any DC offset, trim silence (optional), keep the loudest ``duration`` seconds of a longer
    sound, normalise the level, pad centred. A silent input becomes all zeros rather than amplified
    noise.
    """
    samples = np.asarray(samples, np.float32)
    # A DC offset (one FSDD speaker's recordings have 3% of full scale) is not sound: it would
    # count as level in the silence detection and show as energy in the lowest mel band.
    samples = samples - np.float32(samples.mean()) if samples.size else samples
    length = config.num_samples
    if is_silent(samples, config.sample_rate):
        return np.zeros(length, np.float32)
    if config.trim_silence:
        samples = trim_silence(samples, config.sample_rate)
    samples = loudest_window(samples, length)
    return pad_center(normalise(samples, config.normalise), length)


def sliding_windows(samples: np.ndarray, length: int, hop: int) -> np.ndarray:
    """(n, length) windows every ``hop`` samples, covering a long recording (the last is zero-padded).

    For continuous listening and for long files: each window goes through :func:`prepare_clip`.
    """
    samples = np.asarray(samples, np.float32)
    if hop < 1 or length < 1:
        raise ValueError(f"Expected a positive window length and hop. Received: {length}, {hop}")
    if samples.size <= length:
        return pad_center(samples, length)[None] if samples.size < length else samples[None].copy()
    count = int(np.ceil((samples.size - length) / hop)) + 1
    padded = np.zeros((count - 1) * hop + length, np.float32)
    padded[:samples.size] = samples
    return np.lib.stride_tricks.sliding_window_view(padded, length)[::hop].copy()

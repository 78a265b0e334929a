"""Cut utterances out of a live stream, and classify a stream continuously. Pure numpy.

:class:`UtteranceDetector` is an energy voice-activity detector. It measures 10 ms frames in dBFS
in the speech band (200-3800 Hz: a fan's hum below and hiss above carry no speech, and white noise
puts more than half its power there at 16 kHz), tracks the noise floor while nobody speaks (follows
quieter frames within a few frames, rises slowly), and calls a frame loud when it is ``threshold_db`` above that
floor (and above an absolute minimum, so digital silence with a floor of -120 dBFS does not trigger
on dither). An utterance starts at the first loud frame, minus a pre-roll so soft onsets ("f" of
"four") are kept, and lasts while frames stay ``release_db`` above the floor (a lower bar than the
start: the quiet end of a word in a noisy room is still the word); it ends once no frame passed
that bar for the hangover time, and the clip is cut a short post-roll after the last such frame,
so the hangover's silence is not part of it. Bursts shorter than ``min_length_s`` (clicks, taps)
are dropped; speech longer than ``max_length_s`` is cut there.

In steady broadband noise the speech-band level of a 10 ms frame varies by under a decibel, so
10 dB above the floor never fires on the noise, while a word at 10 dB SNR (its speech 10 dB above
the noise) rises 12-20 dB above the floor in its vowels: with the start bar of the past (15 dB,
broadband) 56 of 60 such FSDD words were missed, with these settings none (see the tests).

:class:`SlidingWindowClassifier` classifies the newest window (e.g. 1 s every 250 ms), skips windows
that are silence, and smooths the answers over the last few windows.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from workbench.core.atomic import atomic_write_with
from workbench.core.errors import DatasetError

SILENCE_DBFS = -120.0


@functools.lru_cache(maxsize=8)
def _band_weights(frame_length: int, sample_rate: int, band_hz: tuple[float, float]):
    """(Hann window, mask of the rFFT bins inside ``band_hz``, power scale): the same for every
    frame of a stream, so made once per setting, not on every audio block."""
    window = np.hanning(frame_length + 2)[1:-1]
    freqs = np.fft.rfftfreq(frame_length, 1.0 / sample_rate)
    inside = (freqs >= band_hz[0]) & (freqs <= band_hz[1])
    return window, inside, 2.0 / (frame_length * np.sum(window * window))


def band_frame_dbfs(samples: np.ndarray, frame_length: int, sample_rate: int,
                    band_hz: tuple[float, float]) -> np.ndarray:
    """Level in dBFS of each whole frame within ``band_hz`` (Hann window, calibrated so a sine in
    the band reads its RMS level; a partial tail is ignored)."""
    count = samples.size // frame_length
    if count == 0:
        return np.zeros(0)
    window, inside, scale = _band_weights(int(frame_length), int(sample_rate), tuple(map(float, band_hz)))
    frames = samples[:count * frame_length].astype(np.float64).reshape(count, frame_length)
    spectrum = np.fft.rfft(frames * window, axis=1)
    power = scale * np.sum(np.abs(spectrum[:, inside]) ** 2, axis=1)
    return 10.0 * np.log10(np.maximum(power, 10.0 ** (SILENCE_DBFS / 10.0)))


def frame_dbfs(samples: np.ndarray, frame_length: int) -> np.ndarray:
    """RMS level in dBFS of each whole frame of ``frame_length`` samples (a partial tail is ignored)."""
    count = samples.size // frame_length
    if count == 0:
        return np.zeros(0)
    frames = samples[:count * frame_length].astype(np.float64).reshape(count, frame_length)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 10.0 ** (SILENCE_DBFS / 20.0)))


@dataclass(frozen=True)
class DetectorConfig:
    """Tuning of :class:`UtteranceDetector` (times in seconds, levels in dB)."""

    threshold_db: float = 10.0  #: an utterance starts this far above the noise floor
    #: and lasts while frames are this far above it (at most ``threshold_db``): 10 ms frames of
    #: white noise vary by ~1 dB and the floor sits ~1.5 dB under their mean, so 1% of them reach
    #: 4 dB over it; the quiet end of a word does.
    release_db: float = 4.0
    min_level_dbfs: float = -50.0  #: and at least this loud in absolute terms
    band_hz: tuple[float, float] = (200.0, 3800.0)  #: levels are measured in this band (speech)
    #: Silence that ends an utterance (the detector fires then). It bounds the delay from the end of a
    #: word to its label, and must outlast the pauses inside words (stop closures, ~50-100 ms).
    #: bench/utterance_latency.py on FSDD: no word split even at 80 ms; at 120 ms the end of a word
    #: to the label is 118 ms median, 169 ms at worst (target 200 ms).
    hangover_s: float = 0.12
    #: Shorter bursts (from the first frame over the threshold to the last over the release) are
    #: ignored: a click or tap lasts ~50 ms; a fast speaker's short word in noise keeps only its
    #: vowel above the noise (nicolas at 10 dB SNR: 5 of 500 words lost at 0.12 s, none at 0.08 s).
    min_length_s: float = 0.08
    max_length_s: float = 2.0  #: longer speech is cut here
    pre_roll_s: float = 0.15  #: kept before the first loud frame
    post_roll_s: float = 0.05  #: kept after the last loud frame
    frame_s: float = 0.01
    floor_rise_db_per_s: float = 3.0  #: how fast the floor follows a noisier room
    floor_fall: float = 0.3  #: the part of the way to a quieter frame the floor moves each frame


@dataclass
class Utterance:
    """One detected utterance.

    ``start``/``end``, ``speech_end`` and ``fired_at`` are positions on the stream's sample clock
    (samples fed since the detector was created): ``speech_end`` is the end of the last loud frame
    (the word's end as the detector hears it; ``end`` adds the post-roll), ``fired_at`` is where the
    hangover ran out, i.e. when the utterance was known.
    """

    samples: np.ndarray
    sample_rate: int
    start: int
    end: int
    fired_at: int
    peak_dbfs: float
    truncated: bool = False  #: cut at ``max_length_s`` while still loud
    speech_end: int = -1  #: end of the last loud frame (not given: ``end``)

    def __post_init__(self) -> None:
        if self.speech_end < 0:
            self.speech_end = self.end

    @property
    def duration(self) -> float:
        return self.samples.size / self.sample_rate


class UtteranceDetector:
    """Feed it consecutive blocks of a mono stream; it returns the utterances they complete."""

    def __init__(self, sample_rate: int, config: DetectorConfig | None = None) -> None:
        self.sample_rate = int(sample_rate)
        self.config = config or DetectorConfig()
        self._frame = max(1, int(round(self.sample_rate * self.config.frame_s)))
        low, high = self.config.band_hz
        self._band = (float(low), min(float(high), self.sample_rate / 2.0))
        self.reset()

    def reset(self) -> None:
        """Forget the stream (the noise floor is learnt again)."""
        self._pending = np.zeros(0, np.float32)  # samples not yet a whole frame
        self._buffer = np.zeros(0, np.float32)  # recent audio; _buffer[0] is at _buffer_start
        self._buffer_start = 0
        self._clock = 0  # samples framed so far
        self._floor: float | None = None
        self._last_db = SILENCE_DBFS
        self._active = False
        self._onset = self._last_loud_end = self._seg_start = self._last_cut = 0
        self._peak = SILENCE_DBFS
        self._levels: list[float] = []  # frame levels of the open utterance

    # ------------------------------------------------------------------------------------ state
    @property
    def noise_floor_dbfs(self) -> float:
        return self._floor if self._floor is not None else SILENCE_DBFS

    @property
    def threshold_dbfs(self) -> float:
        """The level a frame needs now to start an utterance."""
        return max(self.noise_floor_dbfs + self.config.threshold_db, self.config.min_level_dbfs)

    @property
    def release_dbfs(self) -> float:
        """The level that keeps an utterance going once started."""
        release = min(self.config.release_db, self.config.threshold_db)
        return max(self.noise_floor_dbfs + release, self.config.min_level_dbfs)

    @property
    def level_dbfs(self) -> float:
        """The last frame's level (in the speech band)."""
        return self._last_db

    def frame_levels(self, samples: np.ndarray) -> np.ndarray:
        """Speech-band dBFS of each whole 10 ms frame of ``samples``, as the detector measures them."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        return band_frame_dbfs(samples, self._frame, self.sample_rate, self._band)

    @property
    def active(self) -> bool:
        """Inside an utterance (waiting for the hangover to run out)."""
        return self._active

    def set_threshold_db(self, value: float) -> None:
        self.config = replace(self.config, threshold_db=float(value))

    def seed_noise_floor(self, dbfs: float) -> None:
        """Start from this noise floor instead of calibrating on the first frame.

        For a recording that may begin with speech (a file); the floor adapts from there as usual.
        """
        self._floor = float(dbfs)

    # ------------------------------------------------------------------------------------- feed
    def feed(self, samples: np.ndarray) -> list[Utterance]:
        """Process the next block of the stream; return the utterances it completed (usually none)."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        data = np.concatenate((self._pending, samples)) if self._pending.size else samples
        whole = (data.size // self._frame) * self._frame
        self._pending = data[whole:].copy()
        if whole == 0:
            return []
        self._buffer = np.concatenate((self._buffer, data[:whole]))
        found = []
        cfg, rate, frame = self.config, self.sample_rate, self._frame
        for db in band_frame_dbfs(data[:whole], frame, rate, self._band):
            start, end = self._clock, self._clock + frame
            self._clock = end
            self._last_db = float(db)
            if self._floor is None:  # the first frame calibrates: nobody is assumed to speak yet
                self._floor = float(db)
                continue
            loud = db >= self.threshold_dbfs
            if not self._active:
                if loud:
                    self._active, self._onset, self._last_loud_end = True, start, end
                    pre_roll_start = start - int(cfg.pre_roll_s * rate)
                    self._seg_start = max(self._buffer_start, self._last_cut, pre_roll_start)
                    self._peak, self._levels = float(db), [float(db)]
                else:
                    self._update_floor(float(db))
                continue
            self._levels.append(float(db))
            if db >= self.release_dbfs:
                self._last_loud_end = end
                self._peak = max(self._peak, float(db))
            if end - self._last_loud_end >= cfg.hangover_s * rate:
                if self._last_loud_end - self._onset >= cfg.min_length_s * rate:
                    found.append(self._cut(min(self._last_loud_end + int(cfg.post_roll_s * rate), end), end))
                self._active = False
            elif end - self._seg_start >= cfg.max_length_s * rate:
                found.append(self._cut(end, end, truncated=True))
                self._active = False
                # Loud for the whole maximum length: perhaps the room got noisier (a fan started),
                # so let the floor jump to the quieter part of what was heard.
                self._floor = max(self._floor, float(np.percentile(self._levels, 10)) - 3.0)
        self._trim_buffer()
        return found

    def flush(self) -> list[Utterance]:
        """End the stream: an utterance still open is returned if long enough."""
        if not self._active or self._last_loud_end - self._onset < self.config.min_length_s * self.sample_rate:
            self._active = False
            return []
        self._active = False
        end = min(self._last_loud_end + int(self.config.post_roll_s * self.sample_rate), self._clock)
        return [self._cut(end, self._clock)]

    # ---------------------------------------------------------------------------------- private
    def _update_floor(self, db: float) -> None:
        if self._floor is None:
            self._floor = db
        elif db < self._floor:
            # Most of the way down at once, not all: following every quiet frame to its bottom would
            # sit the floor on the noise's lowest dips, and the noise's ordinary frames would then
            # keep an utterance going (steady white noise: a 2 s utterance of nothing every minute).
            self._floor += (db - self._floor) * self.config.floor_fall
        else:
            self._floor = min(db, self._floor + self.config.floor_rise_db_per_s * self.config.frame_s)

    def _cut(self, end: int, fired_at: int, truncated: bool = False) -> Utterance:
        a, b = self._seg_start - self._buffer_start, end - self._buffer_start
        clip = self._buffer[a:b].copy()
        self._last_cut = end
        return Utterance(clip, self.sample_rate, self._seg_start, end, fired_at, self._peak, truncated,
                         speech_end=min(self._last_loud_end, end))

    def _trim_buffer(self) -> None:
        keep_from = self._seg_start if self._active else self._clock - int(self.config.pre_roll_s * self.sample_rate)
        drop = max(0, keep_from - self._buffer_start)
        if drop:
            self._buffer = self._buffer[drop:]
            self._buffer_start += drop


def trim_silence(samples: np.ndarray, sample_rate: int, *, below_peak_db: float = 35.0,
                 min_level_dbfs: float = -50.0, pad_s: float = 0.05, frame_s: float = 0.01) -> np.ndarray:
    """Cut leading and trailing frames more than ``below_peak_db`` under the loudest frame.

    For a push-to-talk clip: the button is pressed before and released after the word. Returns an
    empty array when nothing reaches ``min_level_dbfs`` (the clip is silence).
    """
    samples = np.asarray(samples, np.float32).reshape(-1)
    frame = max(1, int(round(sample_rate * frame_s)))
    levels = frame_dbfs(samples, frame)
    if levels.size == 0 or levels.max() < min_level_dbfs:
        return np.zeros(0, np.float32)
    loud = np.nonzero(levels >= max(levels.max() - below_peak_db, min_level_dbfs))[0]
    pad = int(round(pad_s * sample_rate))
    start = max(0, loud[0] * frame - pad)
    end = min(samples.size, (loud[-1] + 1) * frame + pad)
    return samples[start:end].copy()


# ------------------------------------------------------------------------------ continuous mode
class SlidingWindow:
    """The newest ``window_s`` of a stream, handed out every ``hop_s`` (older hops are skipped)."""

    def __init__(self, sample_rate: int, window_s: float = 1.0, hop_s: float = 0.25) -> None:
        self.sample_rate = int(sample_rate)
        self.window = int(round(window_s * sample_rate))
        self.hop = max(1, int(round(hop_s * sample_rate)))
        self.reset()

    def reset(self) -> None:
        self._recent = np.zeros(0, np.float32)
        self._clock = 0
        self._next = self.window  # the first window is due once it is full

    def feed(self, samples: np.ndarray) -> np.ndarray | None:
        """Add samples; return the newest full window if a hop boundary was passed, else None.

        When a caller is late (several hops in one block) only the newest window is returned: a live
        display wants the present, not a backlog.
        """
        samples = np.asarray(samples, np.float32).reshape(-1)
        self._recent = np.concatenate((self._recent, samples))[-self.window:]
        self._clock += samples.size
        if self._clock < self._next:
            return None
        self._next += ((self._clock - self._next) // self.hop + 1) * self.hop
        return self._recent.copy()


class ProbabilitySmoother:
    """Mean of the last ``size`` probability vectors; reset when the classes change or on silence."""

    def __init__(self, size: int = 3) -> None:
        self._recent: deque[np.ndarray] = deque(maxlen=max(1, int(size)))

    def reset(self) -> None:
        self._recent.clear()

    def update(self, probabilities: np.ndarray) -> np.ndarray:
        probabilities = np.asarray(probabilities, np.float64)
        if self._recent and self._recent[-1].shape != probabilities.shape:
            self._recent.clear()
        self._recent.append(probabilities)
        return np.mean(self._recent, axis=0)


class SlidingWindowClassifier:
    """Continuous classification: feed a stream, get smoothed probabilities for each new window.

    Args:
        classify: (window samples, sample rate) → probabilities (K,).
        sample_rate: the stream's rate.
        window_s, hop_s: window length and how often a window is classified.
        smoothing: how many recent windows are averaged.
        min_level_dbfs: windows whose loudest 10 ms frame is quieter are silence: not classified,
            and the smoothing starts afresh after them.
    """

    def __init__(self, classify: Callable[[np.ndarray, int], np.ndarray], sample_rate: int, *,
                 window_s: float = 1.0, hop_s: float = 0.25, smoothing: int = 3,
                 min_level_dbfs: float = -45.0) -> None:
        self._classify = classify
        self.windows = SlidingWindow(sample_rate, window_s, hop_s)
        self.smoother = ProbabilitySmoother(smoothing)
        self.min_level_dbfs = min_level_dbfs

    def is_silence(self, window: np.ndarray) -> bool:
        levels = frame_dbfs(window, max(1, self.windows.sample_rate // 100))
        return levels.size == 0 or float(levels.max()) < self.min_level_dbfs

    def feed(self, samples: np.ndarray) -> np.ndarray | None:
        """Smoothed probabilities when a new window was classified; None otherwise (or on silence)."""
        window = self.windows.feed(samples)
        if window is None:
            return None
        if self.is_silence(window):
            self.smoother.reset()
            return None
        return self.smoother.update(self._classify(window, self.windows.sample_rate))


# ------------------------------------------------------------------------------------ saving
def save_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write mono float samples (-1..1) as 16-bit PCM WAV; creates the folder. Returns the path."""
    import soundfile

    samples = np.asarray(samples, np.float32).reshape(-1)
    if samples.size == 0:
        raise DatasetError(f"Expected samples to save. Received: an empty clip for {path}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed into place: a kill mid-write never leaves half a WAV in a dataset.
    atomic_write_with(path, lambda tmp: soundfile.write(str(tmp), np.clip(samples, -1.0, 1.0), int(sample_rate),
                                                        format="WAV", subtype="PCM_16"))
    return path


def save_class_clip(samples: np.ndarray, sample_rate: int, dataset_dir: str | Path, class_name: str,
                    prefix: str = "mic", now: datetime | None = None) -> Path:
    """Save a clip as ``<dataset_dir>/<class_name>/<prefix>_<timestamp>.wav`` (never overwrites)."""
    name = str(class_name).strip()
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise DatasetError(f"Expected a class name usable as a folder name. Received: {class_name!r}")
    folder = Path(dataset_dir) / name
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{prefix}_{stamp}.wav"
    suffix = 1
    while target.exists():
        target = folder / f"{prefix}_{stamp}-{suffix}.wav"
        suffix += 1
    return save_wav(target, samples, sample_rate)

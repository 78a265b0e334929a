"""Sound settings proposed from a scan: sample rate, clip length and spectrogram frames (numpy only).

The scan reads every file (:func:`workbench.core.audio.inspect.inspect_audio_file`): its rate, its
length and how much of it is sound once silence is trimmed. From those:

- **sample rate**: the files' own (the commonest), so a model never learns a band the recordings do
  not hold — resampling 8 kHz clips up to 16 kHz adds nothing but cost — capped at 16 kHz, where
  speech and most short sounds are whole;
- **clip length**: enough for 99% of the clips (their sound once silence is trimmed, when the
  template trims it) with 10% room, so a word shifted in time stays whole, rounded up to 0.1 s:
  longer clips are cropped to their loudest part (FSDD: 0.67 s → 0.8 s, the shipped recipe's);
- **frames**: a hop of a third of the 25 ms analysis window (8.3 ms), 120 frames a second — the
  shipped spoken-digit recipe's 96 frames for 0.8 s.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

#: Higher rates are resampled down to this one (the templates' default).
HIGHEST_PROPOSED_RATE = 16000
#: The share of clips whose sound the proposed clip length holds whole.
CLIP_COVERAGE = 0.99
CLIP_STEP_S = 0.1
#: Room above the covered length, for a time shift (augmentation) and words' quiet ends.
CLIP_HEADROOM = 1.1
#: Frames per second of clip: a hop of a third of the 25 ms window.
FRAMES_PER_SECOND = 120


def _hp_range(spec, name: str) -> tuple[float | None, float | None]:
    hp = spec.hyperparameter(name)
    return hp.minimum, hp.maximum


def _clamp(value: float, bounds: tuple[float | None, float | None]) -> float:
    low, high = bounds
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def describe_sound_files(stats: dict[str, Any] | None, infos: list[dict[str, Any]]) -> list[str]:
    """Lines on the sample rates and durations of the scanned clips."""
    if not stats or not stats.get("files"):
        return []
    rates = ", ".join(f"{int(rate):,} Hz ×{count:,}" for rate, count in (stats.get("sample_rates") or {}).items())
    lines = [f"{stats['files']:,} clips at {rates}." if rates else f"{stats['files']:,} clips.",
             f"Durations {stats['duration_min']:.2f} s to {stats['duration_max']:.2f} s "
             f"(median {stats['duration_median']:.2f} s)."]
    sound = [float(i["sound_duration"]) for i in infos if "sound_duration" in i]
    if sound:
        lines[-1] = lines[-1][:-1] + (f"; {CLIP_COVERAGE:.0%} hold at most "
                                      f"{float(np.quantile(sound, CLIP_COVERAGE)):.2f} s of sound once silence "
                                      "is trimmed.")
    return lines


def propose_sound_hparams(infos: list[dict[str, Any]], spec,
                          hp: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``(values, reasons)``: the sound hyperparameters of ``spec`` these clips suggest, each with why.

    Only hyperparameters ``spec`` has are proposed; ``hp`` (resolved) is the current choice, used for
    ``trim_silence`` and ``fmax``.
    """
    names = {h.name for h in spec.hyperparameters}
    values: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    infos = [i for i in infos if i.get("sample_rate") and i.get("duration") is not None]
    if not infos:
        return values, reasons
    if "sample_rate" in names:
        rates = Counter(int(i["sample_rate"]) for i in infos)
        rate, count = rates.most_common(1)[0]
        proposed = int(_clamp(min(rate, HIGHEST_PROPOSED_RATE), _hp_range(spec, "sample_rate")))
        share = f"{count / len(infos):.0%} of the clips" if len(rates) > 1 else "the clips"
        reasons["sample_rate"] = (f"{share} are recorded at {rate:,} Hz"
                                  + (": a higher rate adds no sound, only cost" if proposed == rate
                                     else f"; {proposed:,} Hz holds speech and most short sounds whole"))
        values["sample_rate"] = proposed
        fmax = float(hp.get("fmax") or 0.0)
        if "fmax" in names and fmax > proposed / 2:
            values["fmax"] = 0.0
            reasons["fmax"] = f"{fmax:g} Hz is above half of {proposed:,} Hz: 0 takes half the sample rate"
    duration = None
    if "duration" in names:
        trimmed = bool(hp.get("trim_silence", False))
        lengths = [float(i.get("sound_duration", i["duration"])) if trimmed else float(i["duration"])
                   for i in infos]
        covered = float(np.quantile(lengths, CLIP_COVERAGE))
        steps = math.ceil(round(covered * CLIP_HEADROOM / CLIP_STEP_S, 6))
        duration = float(_clamp(round(max(steps, 1) * CLIP_STEP_S, 2), _hp_range(spec, "duration")))
        what = "of sound once silence is trimmed" if trimmed else "long"
        reasons["duration"] = (f"{CLIP_COVERAGE:.0%} of the clips are at most {covered:.2f} s {what}, and 10% "
                               "room keeps a shifted word whole; longer ones are cropped to their loudest part")
        values["duration"] = duration
    if "frames" in names:
        seconds = duration if duration is not None else float(hp.get("duration", 1.0))
        frames = int(_clamp(round(seconds * FRAMES_PER_SECOND), _hp_range(spec, "frames")))
        reasons["frames"] = (f"a hop of {1000 / FRAMES_PER_SECOND:.1f} ms (a third of the 25 ms window) over "
                             f"{seconds:g} s")
        values["frames"] = frames
    return values, reasons

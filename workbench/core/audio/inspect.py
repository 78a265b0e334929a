"""Checks and statistics of sound files for the dataset scan (numpy only, no TensorFlow).

Every file is decoded once — not just its header — because an empty or silent recording looks
valid to ``soundfile.info`` but teaches a model nothing; those are reported as unreadable with the
reason, like files that fail to decode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.audio.clips import SILENCE_DBFS, is_silent, sound_bounds
from workbench.core.audio.io import display, read_audio
from workbench.core.errors import DatasetError


def inspect_audio_file(path: str) -> tuple[str | None, dict[str, float] | None]:
    """(reason it is unusable or None, {"duration": s, "sample_rate": Hz, "channels"…}) for one file."""
    try:
        samples, rate = read_audio(path)
    except DatasetError as exc:
        return _reason(str(exc), path), None
    info = {"duration": samples.size / rate, "sample_rate": rate}
    if is_silent(samples, rate):
        return f"silent (no 25 ms frame louder than {SILENCE_DBFS:g} dBFS)", info
    start, stop = sound_bounds(samples, rate)
    info["sound_duration"] = (stop - start) / rate  # what is left once silence is trimmed
    return None, info


def clip_fit_warnings(infos: list[dict[str, float]], duration: float, trim_silence: bool) -> list[str]:
    """Say how many files hold more sound than a model's clip of ``duration`` seconds: each is cropped
    to its loudest ``duration`` seconds (:func:`workbench.core.audio.clips.loudest_window`)."""
    key = "sound_duration" if trim_silence else "duration"
    lengths = [float(i.get(key, i["duration"])) for i in infos]
    longer = [d for d in lengths if d > duration + 1e-6]
    if not longer:
        return []
    what = " of sound once silence is trimmed" if trim_silence else ""
    return [f"{len(longer)} of {len(lengths)} clips are longer than {duration:g} s{what} and are cropped to "
            f"their loudest {duration:g} s (longest: {max(longer):.1f} s)."]


def audio_statistics(infos: list[dict[str, float]]) -> dict[str, Any]:
    """Duration (min / median / max / total, seconds) and the sample rates seen with their counts."""
    if not infos:
        return {"files": 0, "sample_rates": {}}
    durations = np.array([i["duration"] for i in infos], np.float64)
    rates: dict[str, int] = {}
    for info in infos:
        rates[str(int(info["sample_rate"]))] = rates.get(str(int(info["sample_rate"])), 0) + 1
    return {
        "files": len(infos),
        "duration_min": round(float(durations.min()), 4),
        "duration_median": round(float(np.median(durations)), 4),
        "duration_max": round(float(durations.max()), 4),
        "duration_total": round(float(durations.sum()), 2),
        "sample_rates": dict(sorted(rates.items(), key=lambda kv: int(kv[0]))),
    }


def _reason(message: str, path: str) -> str:
    """The part of a DatasetError worth showing next to the file name: what was received."""
    received = message.split("Received: ", 1)[-1]
    if received.startswith(display(path)):
        received = received[len(display(path)):].strip(" ()")
        received = received.removeprefix("is ").removeprefix("has ").removeprefix("an ")
    return received or message

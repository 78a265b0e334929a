"""Checks and statistics of sound files for the dataset scan (numpy only, no TensorFlow).

Every file is decoded once — not just its header — because an empty or silent recording looks
valid to ``soundfile.info`` but teaches a model nothing; those are reported as unreadable with the
reason, like files that fail to decode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.audio.clips import SILENCE_DBFS, is_silent
from workbench.core.audio.io import read_audio
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
    return None, info


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
    if received.startswith(str(path)):
        received = received[len(str(path)):].strip(" ()")
        received = received.removeprefix("is ").removeprefix("has ")
    return received or message

"""Play a clip on the default output device, as a :class:`TaskRunner` job.

``sounddevice.play`` runs on the runner's thread (QtMultimedia is not part of
pyside6-essentials), which polls for the end so that a new Play, a cancel or the owner's
shutdown stops it. Without PortAudio the job fails with the message of
:func:`~workbench.core.sources.microphone.import_sounddevice` (what to install).
"""

from __future__ import annotations

import time

import numpy as np

from workbench.core.sources.microphone import import_sounddevice


def playback_job(samples: np.ndarray, sample_rate: int):
    """A TaskRunner job playing ``samples`` (mono float, -1..1) until they end or it is cancelled;
    returns the seconds played."""
    samples = np.clip(np.asarray(samples, np.float32).reshape(-1), -1.0, 1.0)

    def job(progress, cancel) -> float:
        sd = import_sounddevice()
        sd.play(samples, sample_rate)
        try:
            stream = sd.get_stream()
            deadline = time.monotonic() + samples.size / sample_rate + 2.0
            while stream.active and not cancel.cancelled and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            sd.stop()
        return samples.size / sample_rate

    return job

"""Play a clip on the default output device, as a :class:`TaskRunner` job.

:func:`~workbench.core.sources.speaker.play_samples` runs on the runner's thread (QtMultimedia is
not part of pyside6-essentials) and polls for the end, so that a new Play, a cancel or the owner's
shutdown stops it. Without PortAudio or an output device the job fails with a
:class:`~workbench.core.sources.speaker.SoundOutputUnavailable` message saying what is missing.
"""

from __future__ import annotations

import numpy as np

from workbench.core.sources.speaker import play_samples


def playback_job(samples: np.ndarray, sample_rate: int):
    """A TaskRunner job playing ``samples`` (mono float, -1..1) until they end or it is cancelled;
    returns the seconds played."""

    def job(progress, cancel) -> float:
        return play_samples(samples, sample_rate, cancel)

    return job

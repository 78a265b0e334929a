"""Sound datasets for tests: tiny synthetic tones written as WAV files with soundfile, and small
subsets of the real spoken digits (FSDD) linked from the shared data.

Each tone class is a pure tone of its own frequency (slightly detuned per file, with a little noise and
random leading/trailing silence), so a model learns the classes in an epoch or two.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import soundfile

from tests.paths import SHARED_DATA, require_shared

FSDD = SHARED_DATA / "fsdd"
FSDD_SPEAKERS = ("george", "jackson", "nicolas", "theo", "yweweler")
#: The file-name pattern whose group is the speaker (``<digit>_<speaker>_<n>.wav``).
FSDD_SPEAKER_REGEX = r"_([a-z]+)_"

TONE_CLASSES = {"low": 300.0, "mid": 1000.0, "high": 3000.0}


def tone(frequency: float, seconds: float, sample_rate: int, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), samples, sample_rate)
    return path


def write_tone_dataset(root: Path, per_class: int = 8, classes: dict[str, float] | None = None,
                       sample_rates: tuple[int, ...] = (16000, 8000), seed: int = 0,
                       name: str = "{cls}_{group}_{i}") -> Path:
    """``root/<class>/<name>.wav``: ``per_class`` tones per class, alternating sample rates.

    Files alternate between two groups ("alice", "bob") in their names, for group splits.
    """
    rng = np.random.default_rng(seed)
    for cls, frequency in (classes or TONE_CLASSES).items():
        for i in range(per_class):
            rate = sample_rates[(i // 2) % len(sample_rates)]
            body = tone(frequency * rng.uniform(0.97, 1.03), rng.uniform(0.3, 0.6), rate, rng.uniform(0.1, 0.5))
            body += rng.normal(0, 0.003, body.size).astype(np.float32)
            pad = (int(rng.uniform(0.05, 0.3) * rate), int(rng.uniform(0.05, 0.3) * rate))
            samples = np.pad(body, pad) + rng.normal(0, 1e-4, body.size + sum(pad)).astype(np.float32)
            group = ("alice", "bob")[i % 2]
            write_wav(root / cls / f"{name.format(cls=cls, group=group, i=i)}.wav", samples, rate)
    return root


def link_fsdd_subset(root: Path, digits: tuple[str, ...], recordings: dict[str, range]) -> Path:
    """``root/<digit>/<digit>_<speaker>_<n>.wav`` for each digit and each ``speaker: range of n`` in
    ``recordings``: symbolic links to the shared FSDD files (copies where links are not allowed),
    so a test trains on real speech without copying the data into the repository."""
    fsdd = require_shared(FSDD)
    for digit in digits:
        for speaker, numbers in recordings.items():
            for n in numbers:
                source = fsdd / digit / f"{digit}_{speaker}_{n}.wav"
                target = root / digit / source.name
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.symlink(source, target)
                except OSError:  # e.g. Windows without the symlink privilege
                    shutil.copyfile(source, target)
    return root

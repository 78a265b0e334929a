"""The model and the recordings the microphone tests speak: real FSDD files, the shipped model.

``WORKBENCH_AUDIO_MODEL=path/to/model.keras`` points the tests at another sound model (e.g. one
being trained). The shipped ``resources/models/spoken_digits.keras`` is part of the project, so a
missing model fails these tests; it is not skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.paths import SHARED_DATA, require_shared
from workbench.core.resources import resource_path

MODEL = Path(os.environ.get("WORKBENCH_AUDIO_MODEL") or resource_path("models", "spoken_digits.keras"))
FSDD = SHARED_DATA / "fsdd"
SEVEN = "7/7_george_0.wav"
MORE_DIGITS = ["2/2_jackson_0.wav", "4/4_theo_0.wav", "9/9_yweweler_0.wav"]


def recording(name: str) -> Path:
    """``fsdd/<digit>/<file>`` from the shared data, or a clear failure when it is missing."""
    return require_shared(FSDD / name)


def require_model() -> Path:
    assert MODEL.is_file(), f"Expected the spoken-digit model (make models-spoken-digits). Received: {MODEL} is missing"
    return MODEL

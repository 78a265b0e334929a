"""Real pen digits of one writer, drawn as the canvas draws them, for the adaptation tests.

The strokes come from ``../shared/data/pendigits/pendigits-orig.tra`` (real people on a tablet). A
"turned" hand is the same writer's strokes rotated (a tablet held askew): a style the shipped digits
model misreads, so adapting to it shows. Rendering goes through the project's one stroke renderer.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image

from tests.paths import SHARED_DATA, require_shared

PENDIGITS = SHARED_DATA / "pendigits" / "pendigits-orig.tra"
CANVAS = 280


@functools.cache
def _all_digits() -> tuple:
    from workbench.core.image.pendigits import read_pendigits

    return tuple(read_pendigits(require_shared(PENDIGITS)))


def writer_digits(writer: int) -> list:
    """Every digit of ``writer`` (1..30), in file order."""
    return [d for d in _all_digits() if d.writer == writer]


def drawing(digit, degrees: float = 0.0) -> np.ndarray:
    """The digit as the Draw tab renders it (280×280, white on black), turned by ``degrees``."""
    from workbench.core.image.pendigits import canvas_strokes
    from workbench.core.image.strokes import fit_strokes, render_strokes

    strokes = canvas_strokes(digit)
    if degrees:
        angle = np.radians(degrees)
        turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        strokes = [s @ turn.T for s in strokes]
    return render_strokes(fit_strokes(strokes), CANVAS)


def split_examples(digits: list, per_class: int) -> tuple[list, list]:
    """(the first ``per_class`` digits of each class, the rest)."""
    examples, rest = [], []
    for d in digits:
        (examples if sum(e.label == d.label for e in examples) < per_class else rest).append(d)
    return examples, rest


def write_drawings(folder: Path, digits: list, degrees: float = 0.0) -> Path:
    """Save the digits as collect mode does: ``<folder>/<label>/draw_<n>.png``."""
    for d in digits:
        (folder / str(d.label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(drawing(d, degrees)).save(folder / str(d.label) / f"draw_{d.index:05d}.png")
    return folder

"""Vary a drawing the way people's drawings of a digit vary, on the stroke points before rendering.

Distorting the points rather than the rendered picture keeps every variant a real drawing: the pen
stays round and exactly as wide as the canvas draws it, however the shape is slanted, stretched or
shrunk (an image warp would thin, thicken or blur the strokes). The variations:

- **size** — how tall the digit is drawn in the square. The canvas's pen has one width, a fraction of
  the square, so a small digit has thick strokes once it is scaled to MNIST's 20-pixel box and a
  large one thin strokes: the drawn height spans every stroke width the canvas can give a digit;
- **slant** — a shear, the lean of handwriting;
- **aspect** — narrower or wider writing;
- **rotation** — a slightly turned page or hand;
- **elastic** — a smooth random displacement field (a few low-frequency waves), the wobble of loops
  and bends from one writing to the next (Simard et al. 2003 did this on pixels);
- **jitter** — independent noise on every point, an unsteady hand or a noisy pointer;
- **position** — where in the square it is drawn.

Sizes are fractions of the drawing's height, so a variation is the same for a digit drawn in tablet
units or in canvas pixels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from workbench.core.image.strokes import MARGIN, fit_strokes

#: Waves summed into the elastic displacement field.
ELASTIC_WAVES = 3


@dataclass(frozen=True)
class StrokeAugmentation:
    """The ranges of the variations (see the module docstring); zero turns one off.

    Attributes:
        height: the drawn height is uniform in this range, as a fraction of the square.
        slant: shear, uniform in ±slant: x moves by ``slant`` × the height above the middle (>0 leans right).
        aspect: the width is scaled by exp(uniform ±aspect).
        rotation: degrees, uniform in ±rotation.
        elastic: peak displacement of the smooth field, as a fraction of the height.
        jitter: per-point noise: a standard deviation uniform in [0, jitter] × the height.
        offset: the centre moves uniformly up to this (fraction of the square) on each axis.
    """

    height: tuple[float, float] = (0.3, 0.9)
    slant: float = 0.3
    aspect: float = 0.2
    rotation: float = 8.0
    elastic: float = 0.05
    jitter: float = 0.008
    offset: float = 0.15

    def __post_init__(self) -> None:
        low, high = self.height
        if not 0.0 < low <= high <= 1.0 - 2 * MARGIN:
            raise ValueError(f"Expected a height range within (0, {1 - 2 * MARGIN:g}]. Received: {self.height!r}")
        for name in ("slant", "aspect", "rotation", "elastic", "jitter", "offset"):
            if getattr(self, name) < 0:
                raise ValueError(f"Expected {name} of 0 or more. Received: {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def augment_strokes(
    strokes: Iterable[np.ndarray], rng: np.random.Generator, augmentation: StrokeAugmentation | None = None
) -> list[np.ndarray]:
    """One random variant of a drawing, placed in the canvas square.

    Args:
        strokes: (N, 2) arrays of ``(x, y)`` in any unit, y growing downwards.
        rng: the random generator (seeded by the caller, so a data set is reproducible).
        augmentation: the ranges; the defaults when None.

    Returns:
        The varied strokes in 0..1 of the canvas square, y down, ready for
        :func:`~workbench.core.image.strokes.render_strokes`.
    """
    aug = augmentation or StrokeAugmentation()
    arrays = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    every = np.concatenate(arrays)
    low, high = every.min(axis=0), every.max(axis=0)
    unit = float(max(high[1] - low[1], (high - low).max() * 0.25, 1e-9))  # the height, or a dash's width / 4
    middle = (low + high) / 2
    shapes = [(a - middle) / unit for a in arrays]  # about 1 tall, centred on 0

    stretch = math.exp(rng.uniform(-aug.aspect, aug.aspect))
    slant = rng.uniform(-aug.slant, aug.slant)
    angle = math.radians(rng.uniform(-aug.rotation, aug.rotation))
    cos, sin = math.cos(angle), math.sin(angle)
    # Up to 1.5 cycles per height: bends of loops and strokes, not ripples along them.
    frequencies = rng.uniform(-1.5, 1.5, size=(ELASTIC_WAVES, 2, 2))
    phases = rng.uniform(0, 2 * math.pi, size=(ELASTIC_WAVES, 2))
    amplitude = aug.elastic / math.sqrt(ELASTIC_WAVES)
    noise = rng.uniform(0.0, aug.jitter)

    varied = []
    for shape in shapes:
        x = shape[:, 0] * stretch - slant * shape[:, 1]  # y grows down: the top (y < 0) moves right
        y = shape[:, 1]
        x, y = x * cos - y * sin, x * sin + y * cos
        points = np.column_stack([x, y])
        for wave, phase in zip(frequencies, phases):
            # One plane wave per axis: a smooth field, the same for every stroke of the drawing.
            points = points + amplitude * np.sin(2 * math.pi * points @ wave.T + phase)
        if noise > 0:
            points = points + rng.normal(0.0, noise, points.shape)
        varied.append(points)
    height = rng.uniform(*aug.height)
    centre = 0.5 + rng.uniform(-aug.offset, aug.offset, size=2)
    return fit_strokes(varied, height=height, centre=centre)

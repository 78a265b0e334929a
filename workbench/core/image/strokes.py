"""Render pen strokes as the Draw tab's canvas does: the one stroke renderer of the project.

The canvas (:class:`workbench.gui.widgets.draw_canvas_widget.DrawCanvasWidget`) paints the screen and
makes the model's image with :func:`render_strokes`, and the pen-digit training data
(:mod:`workbench.core.image.pendigits_data`) renders recorded tablet strokes with it too, so a change
to the pen (width, smoothing, anti-aliasing) changes what the user sees, what the model is given and
what it was trained on, together.

Strokes are lists of ``(x, y)`` points in 0..1 of the drawing square, y growing downwards (screen
coordinates); ``(0, 0)`` is the square's top-left corner and ``(1, 1)`` its bottom-right corner, so a
point at ``x`` lies ``x * size`` pixels from the left edge, as in Qt. How a stroke is drawn:

- **Smooth path.** Quadratic curves through the midpoints of successive points, with the points as
  control points, then a line to the last point: a fast mouse, which reports few points, gives
  curves rather than polygons.
- **Round pen.** Width ``pen_width_ratio × size``, round caps and round joins, white ink on black.
  A stroke of one point (a tap) is a dot as wide as the pen.
- **Anti-aliased by coverage.** The strokes are drawn without anti-aliasing into a mask
  :data:`SUPERSAMPLE` times finer and averaged down (area interpolation), so an edge pixel's grey is
  the fraction of it the ink covers. Overlapping strokes and a path's own joins union exactly instead
  of adding their grey fringes up, as drawing anti-aliased segments one by one would (every join
  would brighten the edge).

OpenCV only: this module never imports Qt (:mod:`workbench.core` never does).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import cv2
import numpy as np

#: Pen width as a fraction of the drawing square's side. A digit drawn ~2/3 of the square tall is
#: scaled by 20 / (2/3 × side) on its way to MNIST's 20×20 box, so 1/11 of the side becomes ~2.7 px,
#: MNIST's stroke width. Tuned on the replay digits in tests/data/strokes: mean brightness after
#: mnist_style is 31.4 against MNIST's 31.5 (1/14 of the side gave 26.3, visibly thin strokes).
PEN_WIDTH_RATIO = 1 / 11
#: The mask is drawn this many times finer than the output on each axis (16 sub-pixels per pixel,
#: 17 grey levels of edge coverage) — for outputs up to :data:`MAX_FINE_SIDE` / 4 pixels wide.
SUPERSAMPLE = 4
#: Larger outputs use a smaller factor so the fine mask stays under this side (a 1,000-pixel canvas
#: on a high-DPI screen still renders in milliseconds); their pixels are small enough on screen.
MAX_FINE_SIDE = 2048
#: Curves are flattened into line segments about this long (output pixels).
SEGMENT_PX = 2.0
#: Fractional bits of the coordinates handed to OpenCV (1/16 of a fine pixel).
_SHIFT = 4

Point = tuple[float, float]


def smooth_path(points: np.ndarray, step: float = SEGMENT_PX) -> np.ndarray:
    """The smoothed polyline through ``points`` (N, 2), in the same units, for N ≥ 2.

    Quadratic Bézier curves from midpoint to midpoint with the points between them as control points
    (the first curve starts at the first point), then a straight line to the last point; each curve
    is flattened into pieces about ``step`` long.
    """
    points = np.asarray(points, dtype=np.float64)
    if len(points) <= 2:
        return points
    pieces = [points[:1]]
    start = points[0]
    for control, following in zip(points[1:-1], points[2:]):
        end = (control + following) / 2
        length = np.linalg.norm(control - start) + np.linalg.norm(end - control)
        t = np.linspace(0.0, 1.0, max(2, math.ceil(length / step) + 1))[1:, None]
        pieces.append((1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end)
        start = end
    pieces.append(points[-1:])
    return np.concatenate(pieces)


def supersample_factor(size: int) -> int:
    """How much finer than a ``size``-pixel output the mask is drawn (see :data:`MAX_FINE_SIDE`)."""
    return int(max(1, min(SUPERSAMPLE, MAX_FINE_SIDE // max(int(size), 1))))


def render_strokes(
    strokes: Iterable[Sequence[Sequence[float]]], size: int, pen_width_ratio: float = PEN_WIDTH_RATIO
) -> np.ndarray:
    """Render strokes as a grey uint8 ``(size, size)`` image, white ink on black.

    Args:
        strokes: one sequence of ``(x, y)`` points (0..1 of the square, y down) per pen stroke; empty
            strokes are skipped, points outside the square are drawn clipped.
        size: side of the image in pixels. The pen scales with it, so every size shows the same digit.
        pen_width_ratio: pen width as a fraction of ``size`` (the canvas uses :data:`PEN_WIDTH_RATIO`).
    """
    side = int(size)
    if side < 1:
        raise ValueError(f"Expected a render size of at least 1 pixel. Received: {size!r}")
    if not 0.0 < float(pen_width_ratio) < 1.0:
        raise ValueError(f"Expected a pen width ratio between 0 and 1. Received: {pen_width_ratio!r}")
    factor = supersample_factor(side)
    fine = side * factor
    width = max(1.0, float(pen_width_ratio) * side) * factor  # the canvas never draws thinner than 1 px
    thickness = max(1, round(width))
    one = 1 << _SHIFT
    mask = np.zeros((fine, fine), np.uint8)
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if not len(points):
            continue
        # Continuous coordinates (pixel i spans [i, i+1)) to OpenCV's (pixel i is centred on i).
        fine_points = points * fine - 0.5
        if len(points) == 1:
            centre = tuple(int(v) for v in np.rint(fine_points[0] * one))
            cv2.circle(mask, centre, max(0, round(width / 2 * one)), 255, cv2.FILLED, cv2.LINE_8, _SHIFT)
            continue
        path = smooth_path(fine_points, SEGMENT_PX * factor)
        fixed = np.rint(path * one).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(mask, [fixed], False, 255, thickness, cv2.LINE_8, _SHIFT)
    if factor == 1:
        return mask
    return cv2.resize(mask, (side, side), interpolation=cv2.INTER_AREA)


#: How tall people draw a digit on the canvas, as a fraction of the square: the median of the team's
#: drawings (tests/data/strokes 0.62, bench/data/drawn_digits_eval.json 0.59).
TYPICAL_HEIGHT = 0.6
#: A drawing never reaches closer to the square's edges than this margin (fraction of the side).
MARGIN = 0.05


def fit_strokes(
    strokes: Iterable[np.ndarray], height: float = TYPICAL_HEIGHT, centre: Sequence[float] = (0.5, 0.5)
) -> list[np.ndarray]:
    """Place a drawing in the canvas square as a person would draw it there.

    Args:
        strokes: (N, 2) arrays of ``(x, y)`` in any unit, y growing downwards.
        height: how tall the drawing is, as a fraction of the square, keeping its aspect ratio. A
            drawing too wide for that (wider than the square less :data:`MARGIN` on both sides) is
            shrunk to fit; a flat one (a dash) is as wide as ``height``; a single dot lands on ``centre``.
        centre: where the middle of the drawing's bounding box goes (0..1, y down), moved as little as
            needed to keep the drawing inside the margins.

    Returns:
        The strokes as float64 (N, 2) arrays in 0..1 of the square, y down (the canvas's coordinates).
    """
    arrays = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        raise ValueError("Expected at least one stroke with a point. Received: no points")
    every = np.concatenate(arrays)
    low, high = every.min(axis=0), every.max(axis=0)
    extent = high - low
    room = 1.0 - 2 * MARGIN
    if extent.max() <= 0:
        scale = 0.0
    else:
        scale = min(height / extent[1] if extent[1] > 0 else height / extent[0], room / extent.max())
    half = extent * scale / 2
    target = np.clip(np.asarray(centre, dtype=np.float64), MARGIN + half, 1.0 - MARGIN - half)
    middle = (low + high) / 2
    return [(a - middle) * scale + target for a in arrays]

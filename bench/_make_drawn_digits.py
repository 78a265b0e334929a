"""Author bench/data/drawn_digits_eval.json: 100 drawn digits (10 per class) for bench/drawn_digits.py.

Every variant below is a set of key points placed by hand in the digit's own box (x 0..1 left to
right, y 0..1 top to bottom; a point marked "c" is a sharp corner), one list per pen stroke, in the
order and direction a person draws them. Nothing is derived from MNIST. The variants aim at the
handwriting MNIST (American census staff and students, 1990s) under-represents: European crossed
sevens, ones with a flag and a base, closed fours, looped twos, flat-topped threes, nines with
straight, curved and long tails.

Each instance then gets, from a fixed seed: a size (some small, some large), a slant, a small
rotation, an aspect change, a position (some off-centre), and per-point jitter (some visibly shaky).
Strokes are smoothed through the key points (Catmull-Rom, sharp at corners) and resampled at a
mouse-like spacing. The set was authored and frozen before any model was measured on it.

    .venv/bin/python bench/_make_drawn_digits.py      # rewrites bench/data/drawn_digits_eval.json
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "data" / "drawn_digits_eval.json"
SEED = 20261129
PER_CLASS = 10
C = "c"

# label -> [(note, [stroke, ...]), ...]; a stroke is [(x, y) or (x, y, "c"), ...]
VARIANTS: dict[int, list[tuple[str, list[list[tuple]]]]] = {
    0: [
        ("round zero, counter-clockwise from the top, closing overlap",
         [[(0.5, 0.0), (0.3, 0.08), (0.18, 0.3), (0.15, 0.5), (0.2, 0.75), (0.35, 0.95), (0.5, 1.0),
           (0.68, 0.93), (0.8, 0.72), (0.83, 0.5), (0.78, 0.25), (0.66, 0.06), (0.5, 0.0), (0.42, 0.04)]]),
        ("narrow oval, clockwise",
         [[(0.5, 0.0), (0.62, 0.06), (0.68, 0.25), (0.7, 0.5), (0.66, 0.78), (0.55, 0.97), (0.45, 0.99),
           (0.35, 0.85), (0.3, 0.55), (0.32, 0.25), (0.4, 0.05), (0.52, 0.0)]]),
        ("egg wider at the bottom, left open at the top",
         [[(0.55, 0.02), (0.42, 0.05), (0.3, 0.2), (0.2, 0.45), (0.18, 0.7), (0.28, 0.92), (0.48, 1.0),
           (0.7, 0.93), (0.82, 0.72), (0.8, 0.45), (0.7, 0.2), (0.6, 0.08)]]),
        ("squarish zero",
         [[(0.3, 0.05), (0.2, 0.15), (0.18, 0.5), (0.2, 0.88), (0.3, 0.98), (0.7, 0.98), (0.8, 0.88),
           (0.82, 0.5), (0.8, 0.12), (0.7, 0.03), (0.3, 0.05)]]),
        ("wide, almost circular zero",
         [[(0.5, 0.0), (0.25, 0.07), (0.08, 0.3), (0.05, 0.55), (0.15, 0.82), (0.4, 0.98), (0.65, 0.97),
           (0.88, 0.8), (0.95, 0.5), (0.85, 0.2), (0.65, 0.03), (0.48, 0.01)]]),
    ],
    1: [
        ("plain bar", [[(0.52, 0.0), (0.5, 0.5), (0.48, 1.0)]]),
        ("one with a flag", [[(0.3, 0.22), (0.42, 0.1), (0.55, 0.0, C), (0.55, 0.5), (0.55, 1.0)]]),
        ("one with a flag and a base",
         [[(0.3, 0.22), (0.42, 0.1), (0.55, 0.0, C), (0.55, 0.5), (0.55, 1.0)], [(0.3, 1.0), (0.8, 1.0)]]),
        ("one with a long European flag", [[(0.2, 0.38), (0.4, 0.18), (0.6, 0.0, C), (0.6, 0.5), (0.6, 1.0)]]),
        ("one with a short hook and a base drawn first",
         [[(0.28, 1.0), (0.72, 1.0)], [(0.42, 0.08), (0.5, 0.0, C), (0.5, 0.5), (0.5, 1.0)]]),
    ],
    2: [
        ("plain two",
         [[(0.2, 0.25), (0.3, 0.07), (0.5, 0.0), (0.7, 0.07), (0.78, 0.25), (0.7, 0.45), (0.5, 0.65),
           (0.3, 0.85), (0.18, 1.0, C), (0.5, 0.99), (0.82, 1.0)]]),
        ("two with a loop at the bottom",
         [[(0.2, 0.22), (0.35, 0.04), (0.55, 0.0), (0.73, 0.1), (0.76, 0.3), (0.62, 0.52), (0.42, 0.72),
           (0.26, 0.86), (0.19, 0.96), (0.27, 1.0), (0.36, 0.93), (0.3, 0.86), (0.24, 0.93), (0.34, 0.99),
           (0.55, 1.0), (0.84, 0.97)]]),
        ("Z-like two", [[(0.2, 0.08), (0.5, 0.0), (0.75, 0.1), (0.7, 0.35), (0.2, 1.0, C), (0.85, 1.0)]]),
        ("two with a wavy base",
         [[(0.22, 0.2), (0.4, 0.02), (0.62, 0.02), (0.75, 0.2), (0.65, 0.45), (0.4, 0.72), (0.2, 0.95),
           (0.35, 0.9), (0.55, 0.95), (0.7, 1.0), (0.85, 0.95)]]),
        ("two with the base as a second stroke",
         [[(0.22, 0.28), (0.3, 0.08), (0.5, 0.0), (0.7, 0.08), (0.74, 0.28), (0.6, 0.5), (0.4, 0.75),
           (0.2, 1.0)], [(0.2, 1.0), (0.82, 0.98)]]),
    ],
    3: [
        ("round three",
         [[(0.2, 0.12), (0.4, 0.0), (0.62, 0.03), (0.72, 0.18), (0.65, 0.35), (0.42, 0.47, C), (0.65, 0.55),
           (0.77, 0.72), (0.7, 0.9), (0.5, 1.0), (0.3, 0.98), (0.17, 0.88)]]),
        ("flat-topped three",
         [[(0.2, 0.0), (0.78, 0.0, C), (0.45, 0.4, C), (0.65, 0.45), (0.8, 0.65), (0.75, 0.88), (0.55, 1.0),
           (0.32, 0.98), (0.18, 0.88)]]),
        ("three in two strokes",
         [[(0.22, 0.1), (0.45, 0.0), (0.68, 0.1), (0.68, 0.3), (0.45, 0.47)],
          [(0.45, 0.47), (0.72, 0.55), (0.8, 0.75), (0.68, 0.93), (0.45, 1.0), (0.2, 0.92)]]),
        ("narrow three with a pointed middle",
         [[(0.3, 0.08), (0.5, 0.0), (0.66, 0.12), (0.6, 0.3), (0.45, 0.42, C), (0.68, 0.55), (0.72, 0.78),
           (0.6, 0.95), (0.4, 1.0), (0.25, 0.9)]]),
        ("wide three with a small top",
         [[(0.15, 0.15), (0.35, 0.02), (0.58, 0.02), (0.68, 0.15), (0.6, 0.32), (0.4, 0.42, C), (0.7, 0.5),
           (0.88, 0.68), (0.82, 0.9), (0.55, 1.0), (0.25, 0.97), (0.1, 0.85)]]),
    ],
    4: [
        ("open four, two strokes", [[(0.35, 0.0), (0.15, 0.6, C), (0.85, 0.6)], [(0.62, 0.25), (0.62, 1.0)]]),
        ("closed four", [[(0.6, 0.0), (0.15, 0.65, C), (0.85, 0.65)], [(0.6, 0.0), (0.6, 1.0)]]),
        ("open four, upright left arm", [[(0.3, 0.0), (0.22, 0.55, C), (0.8, 0.52)], [(0.65, 0.05), (0.65, 1.0)]]),
        ("closed four, stem drawn first", [[(0.62, 0.0), (0.62, 1.0)], [(0.6, 0.02), (0.15, 0.62, C), (0.88, 0.62)]]),
        ("open four, slanted arm, long crossbar",
         [[(0.25, 0.0), (0.1, 0.58, C), (0.95, 0.55)], [(0.7, 0.2), (0.68, 1.0)]]),
    ],
    5: [
        ("five, top bar last",
         [[(0.3, 0.02), (0.26, 0.42, C), (0.45, 0.36), (0.66, 0.42), (0.76, 0.62), (0.7, 0.86), (0.5, 0.98),
           (0.3, 0.97), (0.18, 0.88)], [(0.3, 0.02), (0.75, 0.0)]]),
        ("five in one stroke, bar first",
         [[(0.75, 0.0), (0.3, 0.02, C), (0.26, 0.45, C), (0.48, 0.38), (0.7, 0.46), (0.78, 0.68), (0.68, 0.9),
           (0.45, 1.0), (0.2, 0.9)]]),
        ("angular five",
         [[(0.3, 0.0), (0.28, 0.45, C), (0.7, 0.45, C), (0.74, 0.85, C), (0.5, 1.0), (0.22, 0.92)],
          [(0.3, 0.0), (0.78, 0.02)]]),
        ("five with a big round belly",
         [[(0.28, 0.0), (0.22, 0.38, C), (0.5, 0.3), (0.78, 0.42), (0.85, 0.7), (0.7, 0.93), (0.42, 1.0),
           (0.15, 0.9)], [(0.28, 0.0), (0.7, 0.0)]]),
        ("five, bar drawn right to left, detached",
         [[(0.35, 0.08), (0.3, 0.4, C), (0.55, 0.35), (0.72, 0.5), (0.72, 0.78), (0.55, 0.97), (0.3, 0.95)],
          [(0.8, 0.0), (0.4, 0.02)]]),
    ],
    6: [
        ("round six",
         [[(0.7, 0.05), (0.5, 0.0), (0.32, 0.15), (0.2, 0.45), (0.2, 0.75), (0.32, 0.95), (0.52, 1.0),
           (0.72, 0.9), (0.78, 0.7), (0.68, 0.55), (0.5, 0.5), (0.3, 0.6), (0.22, 0.72)]]),
        ("six with a straight stem",
         [[(0.6, 0.0), (0.25, 0.6), (0.22, 0.8), (0.35, 0.97), (0.55, 0.98), (0.72, 0.85), (0.7, 0.65),
           (0.52, 0.56), (0.32, 0.65), (0.25, 0.78)]]),
        ("six with a small loop and a long stem",
         [[(0.72, 0.0), (0.45, 0.15), (0.3, 0.45), (0.25, 0.72), (0.32, 0.92), (0.5, 1.0), (0.65, 0.9),
           (0.65, 0.75), (0.5, 0.68), (0.32, 0.78)]]),
        ("six with a big loop",
         [[(0.55, 0.0), (0.3, 0.25), (0.12, 0.55), (0.15, 0.85), (0.4, 1.0), (0.7, 0.95), (0.85, 0.75),
           (0.75, 0.5), (0.5, 0.42), (0.25, 0.52), (0.14, 0.65)]]),
        ("six with a hooked top",
         [[(0.75, 0.12), (0.68, 0.02), (0.5, 0.02), (0.3, 0.2), (0.22, 0.5), (0.25, 0.8), (0.42, 0.98),
           (0.62, 0.97), (0.74, 0.8), (0.68, 0.6), (0.48, 0.55), (0.3, 0.65)]]),
    ],
    7: [
        ("plain seven", [[(0.18, 0.0), (0.82, 0.0, C), (0.6, 0.4), (0.42, 1.0)]]),
        ("crossed seven, straight stem",
         [[(0.18, 0.02), (0.82, 0.0, C), (0.55, 0.5), (0.4, 1.0)], [(0.35, 0.5), (0.75, 0.48)]]),
        ("crossed seven with a hook and a curved stem",
         [[(0.15, 0.12), (0.2, 0.02, C), (0.8, 0.02, C), (0.62, 0.35), (0.5, 0.65), (0.45, 1.0)],
          [(0.38, 0.52), (0.7, 0.5)]]),
        ("plain seven, curved stem", [[(0.2, 0.02), (0.8, 0.02, C), (0.62, 0.3), (0.5, 0.6), (0.48, 1.0)]]),
        ("crossed seven, bar right to left",
         [[(0.3, 0.05), (0.8, 0.0, C), (0.58, 0.5), (0.48, 1.0)], [(0.8, 0.5), (0.4, 0.52)]]),
    ],
    8: [
        ("eight in one stroke from the top right",
         [[(0.7, 0.1), (0.5, 0.0), (0.3, 0.08), (0.28, 0.25), (0.45, 0.42), (0.68, 0.58), (0.75, 0.8),
           (0.6, 0.98), (0.4, 0.98), (0.25, 0.82), (0.32, 0.6), (0.55, 0.42), (0.7, 0.25), (0.68, 0.1),
           (0.55, 0.0)]]),
        ("eight as two circles",
         [[(0.5, 0.0), (0.32, 0.1), (0.32, 0.3), (0.5, 0.42), (0.68, 0.3), (0.68, 0.1), (0.5, 0.0)],
          [(0.5, 0.42), (0.25, 0.55), (0.22, 0.8), (0.5, 1.0), (0.78, 0.8), (0.75, 0.55), (0.5, 0.42)]]),
        ("eight started in the middle, big bottom loop",
         [[(0.5, 0.4), (0.7, 0.25), (0.66, 0.06), (0.5, 0.0), (0.34, 0.06), (0.3, 0.25), (0.5, 0.4),
           (0.75, 0.58), (0.8, 0.82), (0.55, 1.0), (0.3, 0.95), (0.2, 0.75), (0.3, 0.55), (0.5, 0.4)]]),
        ("narrow eight from the top left",
         [[(0.35, 0.05), (0.55, 0.0), (0.65, 0.12), (0.55, 0.3), (0.4, 0.45), (0.3, 0.65), (0.35, 0.9),
           (0.5, 1.0), (0.65, 0.88), (0.6, 0.65), (0.45, 0.45), (0.32, 0.25), (0.35, 0.05)]]),
        ("snowman eight, small top",
         [[(0.5, 0.33), (0.62, 0.22), (0.6, 0.05), (0.5, 0.0), (0.38, 0.06), (0.4, 0.22), (0.5, 0.33),
           (0.72, 0.5), (0.8, 0.75), (0.62, 0.97), (0.38, 0.97), (0.2, 0.75), (0.3, 0.5), (0.5, 0.33)]]),
    ],
    9: [
        ("nine with a straight tail",
         [[(0.72, 0.12), (0.55, 0.0), (0.32, 0.05), (0.22, 0.25), (0.3, 0.42), (0.5, 0.47), (0.68, 0.35),
           (0.74, 0.12, C), (0.73, 0.55), (0.72, 1.0)]]),
        ("nine with a tail curving left",
         [[(0.72, 0.12), (0.55, 0.0), (0.32, 0.05), (0.22, 0.25), (0.3, 0.42), (0.5, 0.47), (0.68, 0.35),
           (0.74, 0.12, C), (0.74, 0.5), (0.68, 0.85), (0.5, 1.0), (0.3, 0.95)]]),
        ("nine with a small loop and a long tail",
         [[(0.75, 0.08), (0.58, 0.0), (0.4, 0.04), (0.35, 0.17), (0.45, 0.28), (0.62, 0.26), (0.75, 0.1, C),
           (0.7, 0.5), (0.62, 1.0)]]),
        ("nine as a loop and a separate stem",
         [[(0.7, 0.1), (0.5, 0.0), (0.28, 0.1), (0.25, 0.32), (0.45, 0.45), (0.68, 0.35), (0.72, 0.15),
           (0.62, 0.03)], [(0.72, 0.05), (0.7, 1.0)]]),
        ("nine with a slanted tail",
         [[(0.7, 0.2), (0.6, 0.03), (0.38, 0.02), (0.25, 0.2), (0.32, 0.4), (0.55, 0.42), (0.72, 0.25, C),
           (0.72, 0.6), (0.62, 1.0)]]),
    ],
}

# Instance k of a class uses variant k % 5; these k get the named treatment (others are medium,
# centred, lightly jittered). Spread so each treatment meets different variants.
SMALL, LARGE, OFF_CENTRE, SHAKY = {0, 6}, {1, 7}, {3, 9}, {2, 8}


def _catmull_rom(points: np.ndarray, samples_per_segment: int = 12) -> np.ndarray:
    if len(points) < 3:
        return points
    padded = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    out = []
    t = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)[:, None]
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(points[-1:])
    return np.vstack(out)


def _smooth(stroke: list[tuple]) -> np.ndarray:
    """Smooth through the key points; a corner point splits the stroke into separately smoothed runs."""
    runs, run = [], []
    for point in stroke:
        run.append(point[:2])
        if len(point) > 2 and point[2] == C:
            runs.append(run)
            run = [point[:2]]
    runs.append(run)
    pieces = [_catmull_rom(np.asarray(r, float)) for r in runs if len(r) >= 2]
    return np.vstack(pieces) if pieces else np.asarray([stroke[0][:2]], float)


def _resample(path: np.ndarray, spacing: float) -> np.ndarray:
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    length = np.concatenate([[0.0], np.cumsum(steps)])
    if length[-1] == 0:
        return path[:1]
    at = np.linspace(0.0, length[-1], max(2, int(math.ceil(length[-1] / spacing)) + 1))
    return np.stack([np.interp(at, length, path[:, 0]), np.interp(at, length, path[:, 1])], axis=1)


def make_instance(strokes, k: int, rng: np.random.Generator) -> tuple[list, str]:
    if k in SMALL:
        height, size_note = rng.uniform(0.25, 0.36), "small"
    elif k in LARGE:
        height, size_note = rng.uniform(0.8, 0.9), "large"
    else:
        height, size_note = rng.uniform(0.45, 0.7), ""
    aspect = rng.uniform(0.85, 1.15)
    slant = rng.uniform(-0.35, 0.35)  # x shift per unit of height above the middle: >0 leans right
    angle = math.radians(rng.uniform(-6, 6))
    # Jitter in proportion to the digit's size: a tremor is a fraction of the movement.
    noise = height * (rng.uniform(0.008, 0.012) if k in SHAKY else rng.uniform(0.0, 0.003))
    spacing = rng.uniform(0.008, 0.02)
    shaped = []
    for stroke in strokes:
        path = _smooth(stroke)
        x = (path[:, 0] - 0.5) * aspect + slant * (0.5 - path[:, 1])
        y = path[:, 1] - 0.5
        x, y = x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle)
        shaped.append(np.stack([x, y], axis=1) * height)
    every = np.vstack(shaped)
    low, high = every.min(axis=0), every.max(axis=0)
    margin = 0.04
    room_low, room_high = margin - low, 1 - margin - high  # the digit's centre may go anywhere between
    if k in OFF_CENTRE:
        corner = rng.integers(0, 2, size=2)
        centre = np.where(corner == 0, room_low + 0.05 * (room_high - room_low), room_high - 0.05 * (room_high - room_low))
        place_note = "off-centre"
    else:
        centre = 0.5 + rng.uniform(-0.05, 0.05, size=2)
        place_note = ""
    centre = np.clip(centre, room_low, room_high)
    out = []
    for path in shaped:
        points = _resample(path + centre, spacing)
        if k in SHAKY:
            # Hand tremor: a slow wobble plus per-sample noise.
            phase = rng.uniform(0, 2 * math.pi, size=2)
            wobble = np.sin(np.arange(len(points))[:, None] * rng.uniform(0.4, 0.9) + phase) * noise
            points = points + wobble + rng.normal(0, noise / 2, points.shape)
        else:
            points = points + rng.normal(0, noise, points.shape)
        out.append([[round(float(a), 4), round(float(b), 4)] for a, b in np.clip(points, 0.0, 1.0)])
    notes = [n for n in (size_note, place_note, "shaky" if k in SHAKY else "",
                         f"slant {'right' if slant > 0 else 'left'} {abs(slant):.2f}") if n]
    return out, ", ".join(notes)


def build() -> list[dict]:
    rng = np.random.default_rng(SEED)
    entries = []
    for label, variants in VARIANTS.items():
        assert len(variants) >= 4, label
        for k in range(PER_CLASS):
            note, strokes = variants[k % len(variants)]
            drawn, how = make_instance(strokes, k, rng)
            entries.append({"label": label, "variant": note, "note": f"{note} ({how})", "strokes": drawn})
    return entries


def main() -> int:
    entries = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(e, separators=(",", ":")) for e in entries) + "\n]\n")
    print(f"wrote {len(entries)} digits to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Small synthetic datasets for tests: a few dozen tiny images written to a temporary folder.

Every class is a simple, easily learnt pattern (a horizontal bar, a vertical bar, a blob, a
diagonal) drawn white on black at a jittered position, with noise, so a model trained for one or two
epochs already does better than chance while no two images are identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

PATTERNS = ("hbar", "vbar", "blob", "diagonal")


def pattern_image(kind: str, size: int = 28, rng: np.random.Generator | None = None,
                  noise: float = 12.0) -> np.ndarray:
    """A (size, size) uint8 image of ``kind`` (see :data:`PATTERNS`) with positional jitter and noise."""
    rng = rng or np.random.default_rng(0)
    image = np.zeros((size, size), np.float32)
    centre = size // 2 + int(rng.integers(-2, 3))
    half = max(1, size // 10)
    lo, hi = size // 6, size - size // 6
    if kind == "hbar":
        image[centre - half:centre + half, lo:hi] = 255
    elif kind == "vbar":
        image[lo:hi, centre - half:centre + half] = 255
    elif kind == "blob":
        yy, xx = np.mgrid[:size, :size]
        image[(yy - centre) ** 2 + (xx - size // 2) ** 2 <= (size // 5) ** 2] = 255
    elif kind == "diagonal":
        for i in range(lo, hi):
            image[i, max(0, i - half):i + half] = 255
    else:
        raise ValueError(f"unknown pattern {kind!r}")
    image += rng.normal(0.0, noise, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_image(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def write_image_dataset(root: Path, counts: dict[str, int] | None = None, *, size: int = 28,
                        rgb: bool = False, ext: str = ".png", seed: int = 0,
                        name: str = "{cls}_{i:03d}") -> Path:
    """Write ``root/<class>/<name><ext>`` for each class in ``counts`` (default 3 classes × 20).

    Class ``k`` (in the order given) gets pattern ``PATTERNS[k % 4]``. Returns ``root``.
    """
    counts = counts if counts is not None else {"a_hbar": 20, "b_vbar": 20, "c_blob": 20}
    rng = np.random.default_rng(seed)
    for k, (cls, n) in enumerate(counts.items()):
        for i in range(n):
            array = pattern_image(PATTERNS[k % len(PATTERNS)], size, rng)
            if rgb:
                array = np.stack([array, array // 2, 255 - array], axis=-1)
            write_image(root / cls / f"{name.format(cls=cls, i=i)}{ext}", array)
    return root


def write_video_dataset(root: Path, counts: dict[str, int] | None = None, *, size: int = 16, frames: int = 4,
                        seed: int = 0) -> Path:
    """Write ``root/<class>/<class>_<i>.avi``: tiny Motion-JPEG clips (``frames`` × ``size``²) per class.

    Class ``k`` shows pattern ``PATTERNS[k % 4]`` drifting one pixel a frame; enough for a scan to
    index and verify them (video is not trained on yet). Needs OpenCV (cv2).
    """
    import cv2

    counts = counts if counts is not None else {"a_hbar": 2, "b_vbar": 2}
    rng = np.random.default_rng(seed)
    for k, (cls, n) in enumerate(counts.items()):
        for i in range(n):
            path = root / cls / f"{cls}_{i}.avi"
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (size, size))
            assert writer.isOpened(), f"OpenCV cannot write {path}"
            base = pattern_image(PATTERNS[k % len(PATTERNS)], size, rng)
            for f in range(frames):
                writer.write(cv2.cvtColor(np.roll(base, f, axis=1), cv2.COLOR_GRAY2BGR))
            writer.release()
    return root

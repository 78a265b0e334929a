"""Video files that stand in for a webcam: a real handwritten MNIST digit as dark ink on paper,
held (slightly moving) in front of the camera, recorded as Motion-JPEG like a USB webcam sends.

Used by the Camera tab's tests, ``bench/camera_loop.py`` and the Camera tab screenshot.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.paths import MNIST_FOLDERS_SMALL, require_shared

PAPER = 232.0  # a white sheet under room light, not pure white


def mnist_digit(digit: int, which: int = 0) -> np.ndarray:
    """A real handwritten ``digit`` from the shared MNIST folders (28×28 grey, white on black)."""
    files = sorted((require_shared(MNIST_FOLDERS_SMALL) / str(digit)).glob("*.png"))
    return cv2.imread(str(files[which]), cv2.IMREAD_GRAYSCALE)


def paper_frame(digit_image: np.ndarray, shift: tuple[int, int] = (0, 0), size: tuple[int, int] = (320, 240),
                digit_side: int = 150, noise: float = 0.0, gradient: float = 0.0,
                rng: np.random.Generator | None = None) -> np.ndarray:
    """One RGB frame: the digit as dark ink on paper, ``shift`` pixels off centre.

    Args:
        noise: sensor noise (standard deviation in grey levels).
        gradient: uneven light, grey levels from the left edge to the right edge.
    """
    width, height = size
    ink = cv2.resize(digit_image.astype(np.float32) / 255.0, (digit_side, digit_side),
                     interpolation=cv2.INTER_CUBIC).clip(0.0, 1.0)
    xx = np.arange(width, dtype=np.float32)[None, :] / width - 0.5
    paper = np.repeat(PAPER + gradient * xx, height, axis=0)
    left, top = (width - digit_side) // 2 + shift[0], (height - digit_side) // 2 + shift[1]
    paper[top:top + digit_side, left:left + digit_side] *= 1.0 - 0.85 * ink
    if noise:
        paper += (rng or np.random.default_rng(0)).normal(0.0, noise, paper.shape)
    grey = np.clip(paper, 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def write_digit_video(path: str | Path, digit: int = 3, frames: int = 60, fps: float = 30.0,
                      size: tuple[int, int] = (320, 240), **frame_options) -> str:
    """A clip of ``digit`` on paper drifting a few pixels (a hand holding it), Motion-JPEG .avi."""
    image = mnist_digit(digit)
    rng = np.random.default_rng(digit)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), f"could not write {path}"
    for k in range(frames):
        phase = 2 * np.pi * k / max(frames, 1)
        shift = (int(round(6 * np.sin(phase))), int(round(4 * np.cos(phase))))
        frame = paper_frame(image, shift, size, rng=rng, **frame_options)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return str(path)

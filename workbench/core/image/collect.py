"""Grow a folder-per-class dataset one image at a time (the Draw tab's collect mode).

Drawings are saved at the canvas render size (e.g. 280×280, white ink on black), not as the
28×28 the model sees: the full picture can be normalised again later if the preprocessing changes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

from workbench.core.atomic import atomic_write_with
from workbench.core.errors import DatasetError
from workbench.core.image.modality import IMAGE_EXTENSIONS


def count_images(folder: str | Path) -> int:
    """How many image files lie directly in ``folder`` (0 when it does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def save_class_image(image: np.ndarray, dataset_dir: str | Path, class_name: str, prefix: str = "draw",
                     now: datetime | None = None) -> Path:
    """Write ``image`` (grey uint8) as ``<dataset_dir>/<class_name>/<prefix>_<timestamp>.png``.

    The timestamp has microseconds, and a numeric suffix is added if the name is still taken, so
    quick successive saves never overwrite each other.
    """
    name = str(class_name)
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise DatasetError(f"Expected a class name usable as a folder name. Received: {class_name!r}")
    array = np.asarray(image)
    if array.ndim != 2 or array.size == 0:
        raise DatasetError(f"Expected a grey (H, W) image to save. Received: shape {array.shape}")
    folder = Path(dataset_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{prefix}_{stamp}.png"
    suffix = 1
    while target.exists():
        target = folder / f"{prefix}_{stamp}-{suffix}.png"
        suffix += 1
    image = Image.fromarray(np.ascontiguousarray(array.astype(np.uint8)))  # 2-D uint8 → mode "L"
    # A kill mid-save must not leave half a PNG in the dataset (it would be skipped as unreadable).
    atomic_write_with(target, lambda tmp: image.save(tmp, format="PNG"))
    return target

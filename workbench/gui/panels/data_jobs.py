"""Background jobs of the Data panel: scan + thumbnails, and the split preview.

Plain functions without Qt: they run on a TaskRunner thread (``progress=``/``cancel=`` keywords) and
return plain objects that the panel shows in the GUI thread.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from workbench.core.data.pipeline import split_dataset
from workbench.core.data.scan import ScanCancelled, ScanReport, load_npz, scan_dataset
from workbench.core.data.split import group_names, group_of, suggested_group_regex
from workbench.core.errors import DatasetError
from workbench.core.image.io import read_image

THUMBS_PER_CLASS = 6
THUMB_MAX_SIDE = 96  # thumbnails are drawn at ~48 px; larger photos are shrunk here, off the GUI thread
MAX_THUMB_CLASSES = 60  # beyond this a thumbnail grid is a wall of pixels; the chart still shows all

SPLIT_METHOD_TEXT = {
    "stratified": "stratified by class",
    "group": "split by group",
    "pre-split folders": "from the train/val folders (the fraction is not used)",
}


@dataclass
class LoadedDataset:
    """A scan report plus a few small images per class for the thumbnail grid.

    ``scanned``: the folder was scanned now (False: a report from elsewhere, a loaded project's, was
    only given its thumbnails). ``suggested_group_regex``: the group regex the file names call for
    (UCF101-style ``_g(\\d+)_``), asked of the report's modality, with the ``suggested_groups`` it finds.
    """

    path: str
    report: ScanReport
    thumbnails: dict[str, list[np.ndarray]] = field(default_factory=dict)
    thumbnail_names: dict[str, list[str]] = field(default_factory=dict)
    scanned: bool = True
    suggested_group_regex: str | None = None
    suggested_groups: int = 0


@dataclass
class SplitPreview:
    """Train/validation(/test) sizes of a split, as one line of text."""

    text: str
    info: dict[str, Any]


def load_dataset(path: str, report: ScanReport | None = None, *, thumbnail_modalities: Container[str] = (),
                 progress=None, cancel=None) -> LoadedDataset:
    """Scan ``path`` (unless ``report`` is given) and, for a modality in ``thumbnail_modalities``
    (those whose samples are images), load the first few images of each class. The group regex the
    file names suggest comes along (names only: cheap)."""
    scanned = report is None
    if report is None:
        report = scan_dataset(path, progress=progress, cancel=cancel)
    regex = suggested_group_regex(report)
    groups = len(group_names(report.files, regex)) if regex else 0
    loaded = LoadedDataset(path, report, scanned=scanned, suggested_group_regex=regex, suggested_groups=groups)
    if report.modality in thumbnail_modalities:
        loaded.thumbnails, loaded.thumbnail_names = class_thumbnails(report, cancel=cancel)
    return loaded


def class_thumbnails(
    report: ScanReport, per_class: int = THUMBS_PER_CLASS, cancel=None
) -> tuple[dict[str, list[np.ndarray]], dict[str, list[str]]]:
    """Up to ``per_class`` small uint8 images per class of an image dataset, with their file names."""
    images: dict[str, list[np.ndarray]] = {}
    names: dict[str, list[str]] = {}
    classes = report.class_names[:MAX_THUMB_CLASSES]
    if report.kind == "npz":
        x = load_npz(report.path)["x_train"]
        for index, name in enumerate(classes):
            rows = np.flatnonzero(report.labels == index)[:per_class]
            images[name] = [_shrink(x[i]) for i in rows]
            names[name] = [f"x_train[{i}]" for i in rows]
        return images, names
    wanted = set(range(len(classes)))
    for file, label in zip(report.files, report.labels.tolist()):
        if label not in wanted:
            continue
        name = report.class_names[label]
        if len(images.setdefault(name, [])) >= per_class:
            continue
        if cancel is not None and cancel.cancelled:
            raise ScanCancelled("Thumbnail loading cancelled")
        try:
            images[name].append(_shrink(read_image(file)))
        except DatasetError:  # the file changed since the scan; the grid just shows one fewer
            continue
        names.setdefault(name, []).append(Path(file).name)
    return images, names


def preview_split(
    report: ScanReport, val_fraction: float, group_regex: str, seed: int = 42, *, progress=None, cancel=None
) -> SplitPreview:
    """Split as training will (same function, same seed) and describe the sizes."""
    split = split_dataset(report, val_fraction=val_fraction, group_regex=group_regex or None, seed=seed)
    info = split.info
    parts = [f"{info['num_train']} train", f"{info['num_val']} validation"]
    if info["num_test"]:
        parts.append(f"{info['num_test']} test")
    method = SPLIT_METHOD_TEXT.get(info.get("method", ""), info.get("method", ""))
    if info.get("method") == "group":
        pattern = re.compile(group_regex)
        train_groups = {group_of(f, pattern) for f in split.train.ids}
        val_groups = {group_of(f, pattern) for f in split.val.ids} if split.val else set()
        method = (f"{len(train_groups)} groups in train, {len(val_groups)} in validation, "
                  "none on both sides")
    return SplitPreview(" / ".join(parts) + (f"  ·  {method}" if method else ""), info)


def group_regex_error(text: str) -> str | None:
    """None when ``text`` is a usable regular expression, else why it is not."""
    try:
        re.compile(text)
    except re.error as exc:
        return f"Invalid group regex: {exc}."
    return None


def _shrink(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    height, width = array.shape[:2]
    scale = THUMB_MAX_SIDE / max(height, width)
    if scale < 1.0:
        array = cv2.resize(array, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(array)

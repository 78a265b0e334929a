"""Scan a dataset path: classes, counts, unreadable files and warnings.

Accepted layouts (the same as ``keras.utils.image_dataset_from_directory`` plus two more):

- ``root/<class>/<file>`` (files may sit in nested folders under a class);
- ``root/train|val|test/<class>/<file>`` (pre-split; ``validation`` is accepted for ``val``);
- an ``.npz`` file in the ``keras.datasets.mnist`` layout: ``x_train``, ``y_train`` and optionally
  ``x_test``, ``y_test``.

Unreadable files are skipped and reported with their reason; they never crash a run. Each file is
checked by its modality (:mod:`workbench.core.modality`): sound files are decoded in full, empty and
silent recordings count as unreadable, and the report carries the modality's statistics
(:attr:`ScanReport.file_statistics`: durations and sample rates for sound).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.core.modality import accepted_extensions, detect_modality, get_modality, modality_of_file
from workbench.core.errors import DatasetError

SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "test": "test"}
MIN_SAMPLES_PER_CLASS = 5
MAX_IMBALANCE = 10.0

ProgressCallback = Callable[[int, int], None]


class ScanCancelled(Exception):
    """The scan was cancelled through its cancel token."""


@dataclass
class ScanReport:
    """What a dataset path holds. ``files``/``labels``/``subsets`` list only readable samples."""

    path: str
    kind: str  # "folder" | "presplit" | "npz"
    modality: str
    class_names: list[str]
    counts: dict[str, int]
    unreadable: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    split_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    sample_shape: list[int] | None = None
    #: The modality's statistics of the readable files (sound: durations and sample rates), or None.
    file_statistics: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list, repr=False)
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)
    subsets: list[str] = field(default_factory=list, repr=False)

    @property
    def num_samples(self) -> int:
        return int(sum(self.counts.values()))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (without the file list)."""
        return {
            "path": self.path,
            "kind": self.kind,
            "modality": self.modality,
            "class_names": list(self.class_names),
            "counts": dict(self.counts),
            "num_samples": self.num_samples,
            "split_counts": self.split_counts,
            "sample_shape": self.sample_shape,
            "file_statistics": self.file_statistics,
            "unreadable": list(self.unreadable),
            "warnings": list(self.warnings),
        }


def scan_dataset(
    path: str | Path,
    *,
    verify: bool = True,
    progress: ProgressCallback | None = None,
    cancel: Any = None,
    workers: int = 4,
) -> ScanReport:
    """Index ``path`` and check every file decodes (``verify``); see the module docstring for layouts.

    ``progress(done, total)`` is called as files are checked; ``cancel.cancelled`` is polled and a
    :class:`ScanCancelled` is raised when it turns true.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise DatasetError(
            f"Expected a folder with one subfolder per class, or an .npz file. Received: {path} does not exist"
        )
    if root.is_file():
        if root.suffix.lower() != ".npz":
            raise DatasetError(
                f"Expected a folder with one subfolder per class, or an .npz file. Received: the file {path}"
            )
        return _scan_npz(root)
    split_dirs = _split_dirs(root)
    if split_dirs:
        entries = [(subset, cls, f) for subset, d in split_dirs.items() for cls, f in _class_files(d)]
        kind = "presplit"
    else:
        entries = [("all", cls, f) for cls, f in _class_files(root)]
        kind = "folder"
    if not entries:
        raise DatasetError(
            "Expected one subfolder per class holding image, sound or video files. "
            f"Received: {path} has no such subfolders"
        )
    modality = detect_modality([f for _, _, f in entries])
    entries = [e for e in entries if modality_of_file(e[2]) == modality]
    class_names = sorted({cls for _, cls, _ in entries})
    infos: dict[str, dict[str, float]] = {}
    reasons = _verify_files([f for _, _, f in entries], modality, progress, cancel, workers, infos) if verify else {}
    unreadable = [{"path": f, "reason": reasons[f]} for _, _, f in entries if f in reasons]
    readable = [e for e in entries if e[2] not in reasons]
    index = {name: i for i, name in enumerate(class_names)}
    report = ScanReport(
        path=str(root),
        kind=kind,
        modality=modality,
        class_names=class_names,
        counts={name: 0 for name in class_names},
        unreadable=unreadable,
        files=[f for _, _, f in readable],
        labels=np.array([index[cls] for _, cls, _ in readable], dtype=np.int32),
        subsets=[subset for subset, _, _ in readable],
    )
    if verify:
        report.file_statistics = get_modality(modality).file_statistics([infos[f] for _, _, f in readable if f in infos])
    for subset, cls, _ in readable:
        report.counts[cls] += 1
        if kind == "presplit":
            report.split_counts.setdefault(subset, {n: 0 for n in class_names})[cls] += 1
    report.warnings = dataset_warnings(report.counts, len(unreadable))
    return report


def dataset_warnings(counts: dict[str, int], num_unreadable: int = 0) -> list[str]:
    """Human-readable warnings about class counts."""
    warnings: list[str] = []
    if len(counts) < 2:
        warnings.append(
            f"Only {len(counts)} class found ({', '.join(counts) or 'none'}); a classifier needs at least 2."
        )
    small = [f"{name} ({n})" for name, n in counts.items() if n < MIN_SAMPLES_PER_CLASS]
    if small:
        warnings.append(f"Classes with fewer than {MIN_SAMPLES_PER_CLASS} samples: {', '.join(small)}.")
    nonzero = {k: v for k, v in counts.items() if v > 0}
    if len(nonzero) >= 2:
        largest = max(nonzero, key=nonzero.get)
        smallest = min(nonzero, key=nonzero.get)
        ratio = nonzero[largest] / nonzero[smallest]
        if ratio > MAX_IMBALANCE:
            warnings.append(
                f"Classes are imbalanced {ratio:.0f}:1 ('{largest}' has {nonzero[largest]} samples, "
                f"'{smallest}' has {nonzero[smallest]}); accuracy will flatter the model."
            )
    if num_unreadable:
        warnings.append(f"{num_unreadable} unreadable file(s) skipped.")
    return warnings


def _split_dirs(root: Path) -> dict[str, Path]:
    dirs = {SPLIT_NAMES[p.name.lower()]: p for p in root.iterdir() if p.is_dir() and p.name.lower() in SPLIT_NAMES}
    if "train" in dirs and len(dirs) >= 2 and any(c.is_dir() for c in dirs["train"].iterdir()):
        return dirs
    return {}


def _class_files(root: Path) -> list[tuple[str, str]]:
    """(class, file) pairs for every accepted file under each class folder of ``root``, sorted."""
    accepted = accepted_extensions()
    pairs: list[tuple[str, str]] = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for dirpath, dirnames, filenames in os.walk(class_dir):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.startswith(".") and Path(name).suffix.lower() in accepted:
                    pairs.append((class_dir.name, os.path.join(dirpath, name)))
    return pairs


def _verify_files(files, modality, progress, cancel, workers, infos=None) -> dict[str, str]:
    reasons: dict[str, str] = {}
    total = len(files)
    infos = {} if infos is None else infos
    verify_file = get_modality(modality).verify_file

    def check(path: str) -> str | None:
        reason, info = verify_file(path)
        if info is not None:
            infos[path] = info
        return reason

    # Decoders release the GIL, so a few threads overlap file I/O and decoding.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, (path, reason) in enumerate(zip(files, pool.map(check, files)), 1):
            if reason is not None:
                reasons[path] = reason
            if cancel is not None and getattr(cancel, "cancelled", False):
                pool.shutdown(wait=False, cancel_futures=True)
                raise ScanCancelled(f"Scan of {total} files cancelled after {done}")
            if progress is not None and (done % 64 == 0 or done == total):
                progress(done, total)
    return reasons


def _scan_npz(path: Path) -> ScanReport:
    arrays = load_npz(path)
    y_train = arrays["y_train"]
    values = np.unique(np.concatenate([y_train, arrays.get("y_test", y_train[:0])]))
    class_names = [str(v) for v in values]
    index = {v: i for i, v in enumerate(values.tolist())}
    split_counts = {}
    for subset in ("train", "test"):
        if f"y_{subset}" in arrays:
            ys = arrays[f"y_{subset}"]
            split_counts[subset] = {str(v): int((ys == v).sum()) for v in values}
    report = ScanReport(
        path=str(path),
        kind="npz",
        modality="image",
        class_names=class_names,
        counts=dict(split_counts["train"]),
        split_counts=split_counts,
        sample_shape=list(arrays["x_train"].shape[1:]),
        labels=np.array([index[v] for v in y_train.tolist()], dtype=np.int32),
    )
    report.warnings = dataset_warnings(report.counts)
    return report


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Load an npz in the ``keras.datasets.mnist`` layout, checking keys and shapes."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:
        raise DatasetError(f"Expected a readable .npz file. Received: {path} ({exc})") from None
    if "x_train" not in arrays or "y_train" not in arrays:
        raise DatasetError(
            f"Expected an .npz with arrays 'x_train' and 'y_train' (and optionally 'x_test', 'y_test'). "
            f"Received: {', '.join(arrays) or 'no arrays'}"
        )
    for subset in ("train", "test"):
        x, y = arrays.get(f"x_{subset}"), arrays.get(f"y_{subset}")
        if x is None:
            continue
        if y is None or len(x) != len(y) or x.ndim not in (3, 4):
            raise DatasetError(
                f"Expected x_{subset} of shape (N, H, W) or (N, H, W, C) and y_{subset} of shape (N,). "
                f"Received: {x.shape} and {None if y is None else y.shape}"
            )
        arrays[f"y_{subset}"] = np.asarray(y).reshape(-1).astype(np.int64)
    return arrays

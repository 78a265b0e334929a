"""Scan a dataset path: classes, counts, unreadable files and warnings.

Accepted layouts (the same as ``keras.utils.image_dataset_from_directory`` plus two more):

- ``root/<class>/<file>`` (files may sit in nested folders under a class);
- ``root/train|val|test/<class>/<file>`` (pre-split; ``validation`` is accepted for ``val``);
- an ``.npz`` file in the ``keras.datasets.mnist`` layout: ``x_train``, ``y_train`` and optionally
  ``x_test``, ``y_test``; ``x_val``, ``y_val`` when the file fixes its own validation split, and
  ``source``, a JSON string saying how the file was made (kept in the report, so in a model's sidecar).
  A saved test split, ``x_test``/``y_test`` alone, is read where nothing is trained on it
  (``allow_test_only``: ``workbench evaluate`` and ``workbench scan``); training still needs ``x_train``.

Unreadable files are skipped and reported with their reason; they never crash a run. Each file is
checked by its modality (:mod:`workbench.core.modality`): sound files are decoded in full, empty and
silent recordings count as unreadable, video files are decoded to their last frame, and the report
carries the modality's statistics (:attr:`ScanReport.file_statistics`: durations and sample rates for
sound).

Everything else the scan passes over is said too (:attr:`ScanReport.skipped`, counts and examples per
reason): hidden files and folders, files no modality reads, files of another modality than the
dataset's, files outside the class folders, folders that cannot be listed, and symbolic links that
loop back to a folder above them or lead to a folder already scanned (links are followed, loops are
not). File names need not be valid UTF-8: paths are passed on as the operating system gave them, and
:func:`display_path` shows them safely.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.core.modality import (
    accepted_extensions,
    all_modalities,
    detect_modality,
    get_modality,
    modality_of_file,
)
from workbench.core.errors import DatasetError

SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "test": "test"}
MIN_SAMPLES_PER_CLASS = 5
MAX_IMBALANCE = 10.0
#: Examples kept per reason in :attr:`ScanReport.skipped`.
SKIPPED_EXAMPLES = 5

SKIP_HIDDEN = "hidden file or folder"
SKIP_OUTSIDE = "file outside the class folders"
SKIP_NOT_SPLIT = "folder beside train/val/test, not a split"
SKIP_LOOP = "symbolic link loop, back to a folder above it"
SKIP_DUPLICATE = "link to a folder already scanned"
SKIP_UNLISTABLE = "folder that cannot be listed"
SKIP_EMPTY_CLASS = "class folder without data files"

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
    #: What the scan passed over without reading, per reason: ``{"reason", "count", "examples"}`` (the
    #: first few paths, relative to :attr:`path`).
    skipped: list[dict[str, Any]] = field(default_factory=list)
    split_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    sample_shape: list[int] | None = None
    #: The modality's statistics of the readable files (sound: durations and sample rates), or None.
    file_statistics: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list, repr=False)
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)
    subsets: list[str] = field(default_factory=list, repr=False)
    #: The modality's ``info`` of each readable file (sound: duration, rate, length of the sound).
    file_info: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    #: How an ``.npz`` was made, as its ``source`` entry says (e.g. ``workbench pen-digits``), or None.
    source: dict[str, Any] | None = None

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
            "skipped": list(self.skipped),
            "warnings": list(self.warnings),
            **({"source": self.source} if self.source is not None else {}),
        }

    def lines(self, limit: int | None = None) -> list[str]:
        """Every unreadable file with its reason, what was skipped and the warnings, one per line."""
        return report_lines(self.to_dict(), limit)

    def model_warnings(self, input_shape: tuple[int, ...], preprocessing: dict[str, Any] | None) -> list[str]:
        """What happens to these files in a model of ``input_shape`` (e.g. sound clips longer than the
        model's clip are cropped): the modality's ``fit_warnings``, when it has them."""
        fit_warnings = getattr(get_modality(self.modality), "fit_warnings", None)
        if fit_warnings is None or not self.file_info:
            return []
        return list(fit_warnings([self.file_info[f] for f in self.files if f in self.file_info],
                                 tuple(input_shape), preprocessing or {}))


def display_path(path: str | os.PathLike) -> str:
    """``path`` printable anywhere: bytes of a file name that are not UTF-8 shown as ``\\xNN``."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no file system byte stands for
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def report_lines(summary: dict[str, Any], limit: int | None = None) -> list[str]:
    """Lines for a log or a terminal from a :meth:`ScanReport.to_dict` summary: ``unreadable: PATH:
    REASON`` for each unreadable file (the first ``limit``), ``skipped N ...`` per reason, then
    ``warning: ...``."""
    lines: list[str] = []
    unreadable = summary.get("unreadable") or []
    shown = unreadable if limit is None else unreadable[:limit]
    lines += [f"unreadable: {display_path(item['path'])}: {display_path(item['reason'])}" for item in shown]
    if len(shown) < len(unreadable):
        lines.append(f"unreadable: ... and {len(unreadable) - len(shown)} more (see the scan report)")
    for item in summary.get("skipped") or []:
        examples = ", ".join(display_path(e) for e in item["examples"])
        more = ", ..." if item["count"] > len(item["examples"]) else ""
        lines.append(f"skipped {item['count']} ({item['reason']}): {examples}{more}")
    lines += [f"warning: {display_path(w)}" for w in summary.get("warnings") or []]
    return lines


def _relative(path: str | os.PathLike, root: str) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:  # another drive (Windows)
        return os.fspath(path)


class _Skipped:
    """Paths passed over by the scan, grouped by reason (in the order the reasons first occur), written
    relative to the dataset folder: shorter to read, and no machine path travels into a sidecar."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = os.fspath(root)
        self.paths: dict[str, list[str]] = {}

    def add(self, reason: str, path: str | os.PathLike, *, target: str | None = None, note: str = "") -> None:
        shown = _relative(path, self.root)
        if target is not None:
            shown += f" -> {_relative(target, os.path.realpath(self.root))}"
        self.paths.setdefault(reason, []).append(shown + (f" ({note})" if note else ""))

    def to_list(self) -> list[dict[str, Any]]:
        return [{"reason": reason, "count": len(paths), "examples": paths[:SKIPPED_EXAMPLES]}
                for reason, paths in self.paths.items()]


def scan_dataset(
    path: str | Path,
    *,
    verify: bool = True,
    progress: ProgressCallback | None = None,
    cancel: Any = None,
    workers: int = 4,
    allow_test_only: bool = False,
) -> ScanReport:
    """Index ``path`` and check every file decodes (``verify``); see the module docstring for layouts.

    ``progress(done, total)`` is called as files are checked; ``cancel.cancelled`` is polled and a
    :class:`ScanCancelled` is raised when it turns true. ``allow_test_only``: an ``.npz`` holding only
    ``x_test``/``y_test`` is accepted (for evaluation), its counts and labels those of the test split.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise DatasetError("Expected a folder with one subfolder per class, or an .npz file. "
                           f"Received: {display_path(path)} does not exist")
    if root.is_file():
        if root.suffix.lower() != ".npz":
            raise DatasetError("Expected a folder with one subfolder per class, or an .npz file. "
                               f"Received: the file {display_path(path)}")
        return _scan_npz(root, allow_test_only)
    skipped = _Skipped(root)
    seen_dirs = {os.path.realpath(root)}
    split_dirs = _split_dirs(root)
    if split_dirs:
        for child in _listing(root):
            if child.name.startswith("."):
                skipped.add(SKIP_HIDDEN, str(child))
            elif not child.is_dir():
                skipped.add(SKIP_OUTSIDE, str(child))
            elif child.name.lower() not in SPLIT_NAMES:
                skipped.add(SKIP_NOT_SPLIT, str(child))
        entries = [(subset, cls, f) for subset, d in split_dirs.items()
                   for cls, f in _class_files(d, skipped, seen_dirs, cancel)]
        kind = "presplit"
    else:
        entries = [("all", cls, f) for cls, f in _class_files(root, skipped, seen_dirs, cancel)]
        kind = "folder"
    if not entries:
        raise DatasetError(
            "Expected one subfolder per class holding image, sound or video files. "
            f"Received: {display_path(path)} has no such subfolders"
        )
    modality = detect_modality([f for _, _, f in entries])
    noun = get_modality(modality).noun
    for _, _, f in entries:
        other = modality_of_file(f)
        if other != modality:
            skipped.add(f"{get_modality(other).noun} file in a dataset of {noun}s", f)
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
        skipped=skipped.to_list(),
    )
    if verify:
        report.file_info = {f: infos[f] for _, _, f in readable if f in infos}
        report.file_statistics = get_modality(modality).file_statistics(list(report.file_info.values()))
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


def _listing(folder: Path, skipped: _Skipped | None = None) -> list[Path]:
    """The entries of ``folder``, sorted; a folder that cannot be listed is a DatasetError at the top
    and a skipped folder below it."""
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        if skipped is None:
            raise DatasetError(f"Expected a readable folder. Received: {display_path(folder)} "
                               f"({exc.strerror or type(exc).__name__})") from None
        skipped.add(SKIP_UNLISTABLE, folder, note=exc.strerror or type(exc).__name__)
        return []


def _split_dirs(root: Path) -> dict[str, Path]:
    dirs = {SPLIT_NAMES[p.name.lower()]: p for p in _listing(root) if p.is_dir() and p.name.lower() in SPLIT_NAMES}
    if "train" in dirs and len(dirs) >= 2 and any(c.is_dir() for c in _listing(dirs["train"], _Skipped(root))):
        return dirs
    return {}


def _not_data_reason() -> str:
    nouns = [m.noun for m in all_modalities()]
    return f"not {'an' if nouns[0][0] in 'aeiou' else 'a'} {', '.join(nouns[:-1])} or {nouns[-1]} file"


def _enter(folder: str, parent_real: str, skipped: _Skipped, seen_dirs: set[str]) -> bool:
    """Whether to descend into ``folder``: not hidden, not a loop, not a folder already scanned."""
    if os.path.basename(folder).startswith("."):
        skipped.add(SKIP_HIDDEN, folder)
        return False
    real = os.path.realpath(folder)
    if real in seen_dirs:
        above = parent_real == real or parent_real.startswith(real.rstrip(os.sep) + os.sep)
        if above:
            skipped.add(SKIP_LOOP, folder)
        else:
            skipped.add(SKIP_DUPLICATE, folder, target=real)
        return False
    seen_dirs.add(real)
    return True


def _class_files(root: Path, skipped: _Skipped | None = None,
                 seen_dirs: set[str] | None = None, cancel: Any = None) -> list[tuple[str, str]]:
    """(class, file) pairs for every accepted file under each class folder of ``root``, sorted.
    ``cancel.cancelled`` is polled every folder and every 1,024 files (a :class:`ScanCancelled`).

    Symbolic links to folders are followed once: a link back to a folder above it (a loop) or to a
    folder already scanned is skipped. Everything passed over is added to ``skipped`` with its reason.
    """
    skipped = skipped if skipped is not None else _Skipped(root)
    seen_dirs = seen_dirs if seen_dirs is not None else {os.path.realpath(root)}
    accepted = accepted_extensions()
    not_data = _not_data_reason()
    root_real = os.path.realpath(root)
    pairs: list[tuple[str, str]] = []
    seen_dirs.add(root_real)
    # The class folders first, so a link inside one class to another class folder is the duplicate,
    # not the class folder itself.
    class_dirs = []
    for entry in _listing(root, skipped):
        if not entry.is_dir():
            skipped.add(SKIP_HIDDEN if entry.name.startswith(".") else SKIP_OUTSIDE, str(entry))
        elif _enter(str(entry), root_real, skipped, seen_dirs):
            class_dirs.append(entry)

    def unlistable(exc: OSError) -> None:
        skipped.add(SKIP_UNLISTABLE, exc.filename or root, note=exc.strerror or type(exc).__name__)

    for entry in class_dirs:
        before = len(pairs)
        for dirpath, dirnames, filenames in os.walk(entry, followlinks=True, onerror=unlistable):
            _check_cancel(cancel, len(pairs))
            here = os.path.realpath(dirpath)
            dirnames[:] = [d for d in sorted(dirnames) if _enter(os.path.join(dirpath, d), here, skipped, seen_dirs)]
            for count, name in enumerate(sorted(filenames), 1):
                if count % 1024 == 0:
                    _check_cancel(cancel, len(pairs))
                path = os.path.join(dirpath, name)
                if name.startswith("."):
                    skipped.add(SKIP_HIDDEN, path)
                elif Path(name).suffix.lower() in accepted:
                    pairs.append((entry.name, path))
                else:
                    skipped.add(not_data, path)
        if len(pairs) == before:
            skipped.add(SKIP_EMPTY_CLASS, entry)
    return pairs


def _check_cancel(cancel: Any, found: int) -> None:
    if cancel is not None and getattr(cancel, "cancelled", False):
        raise ScanCancelled(f"Scan cancelled while listing files ({found} found)")


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

    # Decoders release the GIL, so a few threads overlap file I/O and decoding. Only a window of
    # files is submitted ahead (not one future per file of a 100,000-file folder), in order.
    window = max(1, workers) * 16
    pending: deque = deque()
    done = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for path in [*files, None]:
            if path is not None:
                pending.append((path, pool.submit(check, path)))
                if len(pending) < window:
                    continue
            while pending and (path is None or len(pending) >= window):
                checked, future = pending.popleft()
                reason = future.result()
                done += 1
                if reason is not None:
                    reasons[checked] = reason
                if cancel is not None and getattr(cancel, "cancelled", False):
                    for _, left in pending:
                        left.cancel()
                    raise ScanCancelled(f"Scan of {total} files cancelled after {done}")
                if progress is not None and (done % 64 == 0 or done == total):
                    progress(done, total)
    return reasons


def _scan_npz(path: Path, allow_test_only: bool = False) -> ScanReport:
    arrays = load_npz(path, require_train=not allow_test_only)
    main = "train" if "x_train" in arrays else "test"  # a saved test split alone: its own counts
    y_main = arrays[f"y_{main}"]
    values = np.unique(np.concatenate([arrays.get(f"y_{s}", y_main[:0]) for s in ("train", "val", "test")]))
    class_names = [str(v) for v in values]
    index = {v: i for i, v in enumerate(values.tolist())}
    split_counts = {}
    for subset in ("train", "val", "test"):
        if f"y_{subset}" in arrays:
            ys = arrays[f"y_{subset}"]
            split_counts[subset] = {str(v): int((ys == v).sum()) for v in values}
    report = ScanReport(
        path=str(path),
        kind="npz",
        modality="image",
        class_names=class_names,
        counts=dict(split_counts[main]),
        split_counts=split_counts,
        sample_shape=list(arrays[f"x_{main}"].shape[1:]),
        labels=np.array([index[v] for v in y_main.tolist()], dtype=np.int32),
        source=_npz_source(arrays, path),
    )
    report.warnings = dataset_warnings(report.counts)
    return report


def _npz_source(arrays: dict[str, np.ndarray], path: Path) -> dict[str, Any] | None:
    """The ``source`` entry of an npz when it is a JSON object in a string (as ``workbench pen-digits``
    writes it), else None: an array of that name in someone else's file is just not a record."""
    import json

    entry = arrays.get("source")
    if entry is None or entry.ndim != 0 or entry.dtype.kind != "U":
        return None
    try:
        source = json.loads(str(entry))
    except ValueError:
        return None
    return source if isinstance(source, dict) else None


def load_npz(path: str | Path, require_train: bool = True) -> dict[str, np.ndarray]:
    """Load an npz in the ``keras.datasets.mnist`` layout, checking keys and shapes.

    ``require_train=False`` also accepts a saved test split alone (``x_test``, ``y_test``), for evaluation.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:
        raise DatasetError(f"Expected a readable .npz file (a ZIP of arrays x_train, y_train, ...). "
                           f"Received: {display_path(path)} ({_npz_problem(path, exc)})") from None
    has_test = "x_test" in arrays and "y_test" in arrays
    if ("x_train" not in arrays or "y_train" not in arrays) and (require_train or not has_test):
        if not require_train:
            raise DatasetError(
                f"Expected an .npz with arrays 'x_test' and 'y_test' (a saved test split), or 'x_train' and "
                f"'y_train'. Received: {', '.join(arrays) or 'no arrays'}"
            )
        raise DatasetError(
            f"Expected an .npz with arrays 'x_train' and 'y_train' (and optionally 'x_val', 'y_val', 'x_test', "
            f"'y_test'). "
            f"Received: {', '.join(arrays) or 'no arrays'}"
        )
    for subset in ("train", "val", "test"):
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


def _npz_problem(path: str | Path, exc: Exception) -> str:
    """Why ``np.load`` refused a file, in the user's terms (never numpy's advice to unpickle it)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as error:
        return error.strerror or type(error).__name__
    if not head:
        return "an empty file"
    if head == b"\x93NUM":
        return "a single .npy array, not an .npz archive of x_train, y_train, ..."
    if head == b"PK\x03\x04":  # a ZIP archive, so an .npz that is damaged or holds something else
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            return "it holds Python objects rather than plain arrays; only numeric arrays are read"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"a damaged or truncated archive: {first}"
    return "not an .npz archive: its first bytes are not a ZIP header"

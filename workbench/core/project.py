"""Projects: a small JSON file holding a dataset, a template, its hyperparameters, augmentation and
the project's training runs. Qt-free, so scripts can read and write projects too.

Versions (the ``format`` tag, see :mod:`workbench.core.file_format`):

1. ``workbench-project/1``: paths inside the project's folder relative to it (with the system's
   separators), others absolute; projects from before sound augmentation have no ``audio_augmentation``.
2. ``workbench-project/2``: paths relative to the project file wherever they share a folder below the
   root (``../data/digits``), always with ``/``; every field present; unknown keys kept.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from dataclasses import dataclass, field, fields
from pathlib import Path, PureWindowsPath
from typing import Any

from workbench.core.atomic import atomic_write_text
from workbench.core.errors import WorkbenchError
from workbench.core.file_format import (
    describe,
    format_tag,
    is_absolute,
    is_number,
    is_path_text,
    is_scalar,
    migrate,
    parse_version,
    resolve_path,
    store_path,
)

_log = logging.getLogger(__name__)

PROJECT_KIND = "workbench-project"
PROJECT_SUFFIX = ".wbproj"


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Relative paths with ``/`` (v1 wrote ``runs\\run-1`` on Windows); ``audio_augmentation`` always there."""
    def posix(path: Any) -> Any:
        if isinstance(path, str) and "\\" in path and not is_absolute(path):
            return PureWindowsPath(path).as_posix()
        return path

    if "dataset" in data:
        data["dataset"] = posix(data["dataset"])
    if isinstance(data.get("runs"), list):
        data["runs"] = [posix(r) for r in data["runs"]]
    data.setdefault("audio_augmentation", {})
    return data


MIGRATIONS = (_v1_to_v2,)
SCHEMA_VERSION = len(MIGRATIONS) + 1
PROJECT_FORMAT = format_tag(PROJECT_KIND, SCHEMA_VERSION)

_TYPES: dict[str, type | tuple[type, ...]] = {
    "dataset": str, "val_fraction": (int, float), "group_regex": str, "template": str,
    "hparams": dict, "augmentation": dict, "audio_augmentation": dict, "video_augmentation": dict, "runs": list,
    "training": dict,
}


@dataclass
class Project:
    """A project's choices and runs; paths usable in memory, relative to the project file on disk.
    Keys this release does not know are kept in ``extra`` and written back."""

    dataset: str = ""
    val_fraction: float = 0.2
    group_regex: str = ""
    template: str = "mnist_cnn"
    hparams: dict[str, Any] = field(default_factory=dict)
    augmentation: dict[str, Any] = field(default_factory=dict)  # image options
    audio_augmentation: dict[str, Any] = field(default_factory=dict)  # sound options (older projects: none)
    video_augmentation: dict[str, Any] = field(default_factory=dict)  # video options (older projects: none)
    # Where runs train: {"distribute": "none"|"mirrored", "cpu_replicas": N, "mixed_precision": bool or
    # None, the machine's default} (older projects: none, i.e. one device)
    training: dict[str, Any] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    def add_run(self, run_dir: str) -> None:
        if run_dir not in self.runs:
            self.runs.append(run_dir)

    @classmethod
    def from_dict(cls, data: Any, relative_to: str | Path | None = None, source: object = "a project") -> Project:
        """A project from ``data`` of any known version (no ``format``: the current one), migrated;
        ``relative_to``: the folder of the file it was read from, to resolve relative paths against."""
        if not isinstance(data, dict):
            raise WorkbenchError(f"Expected a project file holding a JSON object. Received: {type(data).__name__} in {source}")
        version = parse_version(data.get("format", PROJECT_FORMAT), PROJECT_KIND, SCHEMA_VERSION, "project file", source)
        data = migrate(data, version, MIGRATIONS, "project file", source)
        data.pop("format", None)
        known = {f.name: data.pop(f.name) for f in fields(cls) if f.name != "extra" and f.name in data}
        _check_fields(known, source)
        project = cls(**known, extra=data)
        if relative_to is not None:
            project.dataset = resolve_path(project.dataset, relative_to)
            project.runs = [resolve_path(r, relative_to) for r in project.runs]
        return project

    def to_dict(self, relative_to: str | Path | None = None) -> dict[str, Any]:
        """The current version's JSON object (with ``format``); ``relative_to``: the folder of the file
        it goes to, for paths stored relative to it."""
        data: dict[str, Any] = {"format": PROJECT_FORMAT}
        data.update({f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name != "extra"})
        if relative_to is not None:
            data["dataset"] = store_path(self.dataset, relative_to)
            data["runs"] = [store_path(r, relative_to) for r in self.runs]
        for key, value in self.extra.items():
            data.setdefault(key, copy.deepcopy(value))
        return data

    def save(self, path: str | Path) -> Path:
        """Write the project atomically (a ``.wbproj`` suffix is added when missing); returns its path."""
        path = Path(path)
        if path.suffix != PROJECT_SUFFIX:
            path = path.with_suffix(PROJECT_SUFFIX)
        return atomic_write_text(path, json.dumps(self.to_dict(relative_to=path.parent), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> Project:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WorkbenchError(f"Expected a readable project file. Received: {path} ({exc})") from None
        except RecursionError:
            raise WorkbenchError(f"Expected a readable project file. Received: {path} (nested too deeply)") from None
        if isinstance(data, dict) and "format" not in data:
            raise WorkbenchError(f"Expected a project file with \"format\": \"{PROJECT_FORMAT}\" (or an older "
                                 f"version). Received: no format in {path}")
        return cls.from_dict(data, relative_to=path.parent, source=path)


def run_summary(run_dir: str | Path) -> dict[str, Any] | None:
    """Template, key hyperparameters, best validation accuracy, date and history of a run folder,
    or None when the folder holds no finished run or its sidecar cannot be read (the reason is logged:
    a damaged ``model.json`` must not stop the list of runs from showing the others).

    Every value has the type the Runs and Results panels format it as: numbers or None, text, and a
    history of number lists. For a run over several replicas, the batch size and learning rate are
    the global batch and the scaled rate it trained with."""
    from workbench.core.sidecar import read_sidecar, sidecar_path

    model = Path(run_dir) / "model.keras"
    try:
        if not sidecar_path(model).is_file():
            return None  # no finished epoch yet, or not a run folder
        data = read_sidecar(model)
    except (WorkbenchError, OSError, ValueError) as exc:  # damaged; or a path the system refuses (NUL, too long)
        _log.warning("Run %s skipped: %s", run_dir, exc)
        return None
    hp = data.get("hyperparameters") or {}
    metrics = data.get("final_metrics") or {}
    distribution = data.get("distribution") if isinstance(data.get("distribution"), dict) else {}

    def number(value: Any) -> float | int | None:
        return value if is_number(value) and math.isfinite(value) else None

    # A run over several replicas trained with a global batch and a rate scaled with the replicas
    # (the sidecar's "distribution" record): those are what it trained with, so those are shown.
    rates = distribution.get("learning_rates")
    first_rate = number(rates[0]) if isinstance(rates, list) and rates else None

    def text(value: Any, default: str) -> str:
        return value if isinstance(value, str) else default

    return {
        "run_dir": str(run_dir),
        "model_path": str(Path(run_dir) / "model.keras"),
        "template": text(data.get("template"), "?"),
        "epochs": number(hp.get("epochs")),
        "batch_size": number(distribution.get("global_batch_size")) or number(hp.get("batch_size")),
        "learning_rate": first_rate or number(hp.get("learning_rate")),
        "replicas": number(distribution.get("replicas")) or 1,
        "optimizer": text(hp.get("optimizer"), "") or None,
        "dropout": number(hp.get("dropout")),
        "val_accuracy": number(metrics.get("val_accuracy")),
        "status": text(data.get("status"), "?"),
        "created": text(data.get("created"), ""),
        "history": data.get("history") or {},
    }


def _check_fields(known: dict[str, Any], source: object) -> None:
    """Raise :class:`WorkbenchError` unless every known field of a project has its type and range."""
    for name, value in known.items():
        if not isinstance(value, _TYPES[name]) or isinstance(value, bool):
            raise WorkbenchError(f"Expected {name!r} in the project file to be {_type_name(_TYPES[name])}. "
                                 f"Received: {describe(value)} in {source}")
    if not all(is_path_text(r) and r for r in known.get("runs", [])):
        raise WorkbenchError(f"Expected 'runs' in the project file to be a list of folders. "
                             f"Received: {describe(known['runs'])} in {source}")
    if "dataset" in known and not is_path_text(known["dataset"]):
        raise WorkbenchError(f"Expected 'dataset' in the project file to be a path. Received: "
                             f"{describe(known['dataset'])} in {source}")
    fraction = known.get("val_fraction", 0.2)
    if not (math.isfinite(fraction) and 0 <= fraction < 1):
        raise WorkbenchError(f"Expected 'val_fraction' in the project file to be a number from 0 to below 1. "
                             f"Received: {describe(fraction)} in {source}")
    for name in ("hparams", "augmentation", "audio_augmentation", "video_augmentation"):
        for key, value in known.get(name, {}).items():
            if not is_scalar(value) or (isinstance(value, float) and not math.isfinite(value)):
                raise WorkbenchError(f"Expected {name}.{key} in the project file to be text, a number or "
                                     f"true/false. Received: {describe(value)} in {source}")


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", int: "a number", float: "a number", dict: "a JSON object", list: "a list"}
    return names[kind[0] if isinstance(kind, tuple) else kind]

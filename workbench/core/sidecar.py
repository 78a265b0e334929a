"""The JSON sidecar next to every saved model: ``model.keras`` ↔ ``model.json``.

It records everything needed to use and to reproduce the model: template, hyperparameters,
augmentation, class names, preprocessing, dataset and split, seed, library versions, history and
final metrics. :class:`ModelSidecar` is the typed record; :func:`read_sidecar` / :func:`write_sidecar`
keep the plain-dict interface (``sidecar.get("modality", "image")``, ``sidecar["class_names"]``).

Versions (the ``format`` tag, see :mod:`workbench.core.file_format`):

1. ``workbench-model/1``: the dataset path absolute, the scan's path as typed (relative to the working
   folder of the run), the scan's per-modality statistics under ``"audio"``.
2. ``workbench-model/2``: paths (``dataset.path``, ``dataset.scan.path``, the scan's unreadable files,
   ``export.source_model``) relative to the sidecar's folder where they can be; the statistics under
   ``"file_statistics"`` (as :meth:`ScanReport.to_dict` writes them). Read back, paths are usable again.

A model written by ``workbench adapt`` (:mod:`workbench.core.adapt`) carries an ``adaptation`` object:
method, source model (path and SHA-256), the examples (folder, counts, files) and the before/after
figure. Its paths are stored like the others; it needs no new version (a release without the field
keeps it as an unknown key and writes it back).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from workbench.core.atomic import atomic_write_text
from workbench.core.errors import ModelFileError
from workbench.core.file_format import (
    describe,
    format_tag,
    is_absolute,
    is_number,
    is_path_text,
    is_whole_number,
    migrate,
    parse_version,
    resolve_path,
    store_path,
)

SIDECAR_KIND = "workbench-model"


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Statistics key ``audio`` → ``file_statistics``; working-folder-relative paths made absolute.

    v1 kept the scan's path as typed on the command line, relative to a working folder it did not
    record; the dataset path (absolute) names the same dataset, so it replaces it, and unreadable files
    under it are moved along. A relative ``export.source_model`` cannot be located either; it is
    dropped (the export's ``command`` still shows it).
    """
    dataset = data.get("dataset")
    scan = dataset.get("scan") if isinstance(dataset, dict) else None
    if isinstance(scan, dict):
        if "audio" in scan and "file_statistics" not in scan:  # renamed in place, so the file reads the same
            scan = dataset["scan"] = {("file_statistics" if k == "audio" else k): v for k, v in scan.items()}
        typed, root = scan.get("path"), dataset.get("path")
        if isinstance(typed, str) and typed and not is_absolute(typed) and isinstance(root, str) and is_absolute(root):
            scan["path"] = root
            for entry in scan.get("unreadable") or []:
                inner = entry.get("path") if isinstance(entry, dict) else None
                if isinstance(inner, str) and not is_absolute(inner):
                    rel = os.path.relpath(os.path.normpath(inner), os.path.normpath(typed))
                    if not rel.startswith(".."):
                        entry["path"] = os.path.join(root, rel) if rel != "." else root
    export = data.get("export")
    if isinstance(export, dict) and isinstance(export.get("source_model"), str) and not is_absolute(export["source_model"]):
        export.pop("source_model")
    return data


MIGRATIONS: tuple[Callable[[dict[str, Any]], dict[str, Any]], ...] = (_v1_to_v2,)
SCHEMA_VERSION = len(MIGRATIONS) + 1
SIDECAR_FORMAT = format_tag(SIDECAR_KIND, SCHEMA_VERSION)


@dataclass
class ModelSidecar:
    """What ``workbench train`` records next to a model (and an export next to its artefact).

    Fields a file lacks are None (and stay out of the file); keys this release does not know are kept
    in ``extra`` and written back. Paths are usable (absolute or working-folder relative) in memory.
    """

    template: str | None = None
    title: str | None = None
    modality: str = "image"
    input_shape: list[int] | None = None
    class_names: list[str] = field(default_factory=list)
    output: str = "softmax"
    hyperparameters: dict[str, Any] | None = None
    phases: list[dict[str, Any]] | None = None
    augmentation: dict[str, Any] | None = None
    preprocessing: dict[str, Any] | None = None
    dataset: dict[str, Any] | None = None
    split: dict[str, Any] | None = None
    seed: int | None = None
    command: str | None = None
    versions: dict[str, str] | None = None
    history: dict[str, list[float]] | None = None
    final_metrics: dict[str, Any] | None = None
    status: str | None = None
    created: str | None = None
    export: dict[str, Any] | None = None
    adaptation: dict[str, Any] | None = None
    ensemble: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    @property
    def dataset_path(self) -> str | None:
        return (self.dataset or {}).get("path")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], relative_to: str | Path | None = None,
                  source: object = "a sidecar") -> ModelSidecar:
        """A record from ``data`` of any known version (no ``format``: the current one), migrated.

        ``relative_to``: the folder of the file ``data`` was read from, to resolve relative paths against.
        """
        if not isinstance(data, Mapping):
            raise ModelFileError(f"Expected a sidecar holding a JSON object. Received: {type(data).__name__} in {source}")
        version = parse_version(data.get("format", SIDECAR_FORMAT), SIDECAR_KIND, SCHEMA_VERSION,
                                "model sidecar", source, ModelFileError)
        data = migrate(data, version, MIGRATIONS, "model sidecar", source, ModelFileError)
        data.pop("format", None)
        names = [f.name for f in fields(cls) if f.name != "extra"]
        known = {name: data.pop(name) for name in names if name in data}
        _check_fields({k: v for k, v in known.items() if v is not None}, source)
        record = cls(**{k: v for k, v in known.items() if v is not None}, extra=data)
        if relative_to is not None:
            record = record._with_paths(lambda p: resolve_path(p, relative_to))
        return record

    def to_dict(self, relative_to: str | Path | None = None) -> dict[str, Any]:
        """The record as the current version's JSON object (with ``format``); ``relative_to``: the folder
        of the file it goes to, for paths stored relative to it."""
        record = self._with_paths(lambda p: store_path(p, relative_to)) if relative_to is not None else self
        data: dict[str, Any] = {"format": SIDECAR_FORMAT}
        for f in fields(record):
            value = getattr(record, f.name)
            if f.name != "extra" and value is not None:
                data[f.name] = copy.deepcopy(value)
        for key, value in record.extra.items():
            data.setdefault(key, copy.deepcopy(value))
        return data

    @classmethod
    def read(cls, model_path: str | Path) -> ModelSidecar:
        """The sidecar of ``model_path`` (see :func:`sidecar_path`), migrated, with usable paths."""
        target = sidecar_path(model_path)
        if not target.is_file():
            raise ModelFileError(
                f"Expected a sidecar {target.name} next to the model (written by 'workbench train'). "
                f"Received: no such file for {model_path}"
            )
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"Expected a JSON sidecar. Received: {target} ({exc})") from None
        except RecursionError:
            raise ModelFileError(f"Expected a JSON sidecar. Received: {target} (nested too deeply)") from None
        if isinstance(data, dict) and "format" not in data:
            raise ModelFileError(f"Expected a sidecar with \"format\": \"{SIDECAR_FORMAT}\" (or an older version). "
                                 f"Received: no format in {target}")
        return cls.from_dict(data, relative_to=target.parent, source=target)

    def write(self, model_path: str | Path) -> Path:
        """Write the sidecar of ``model_path`` atomically, in the current version, paths relative to it."""
        target = sidecar_path(model_path)
        text = json.dumps(self.to_dict(relative_to=target.parent), indent=2, default=_json_default)
        return atomic_write_text(target, text)

    def _with_paths(self, convert: Callable[[Any], Any]) -> ModelSidecar:
        """A copy with ``convert`` applied to every path the record holds."""
        dataset = copy.deepcopy(self.dataset)
        if isinstance(dataset, dict):
            if "path" in dataset:
                dataset["path"] = convert(dataset["path"])
            scan = dataset.get("scan")
            if isinstance(scan, dict):
                if "path" in scan:
                    scan["path"] = convert(scan["path"])
                for entry in scan.get("unreadable") or []:
                    if isinstance(entry, dict) and "path" in entry:
                        entry["path"] = convert(entry["path"])
        export = copy.deepcopy(self.export)
        if isinstance(export, dict) and "source_model" in export:
            export["source_model"] = convert(export["source_model"])
        adaptation = copy.deepcopy(self.adaptation)
        if isinstance(adaptation, dict):
            if "source_model" in adaptation:
                adaptation["source_model"] = convert(adaptation["source_model"])
            examples = adaptation.get("examples")
            if isinstance(examples, dict) and examples.get("path"):
                examples["path"] = convert(examples["path"])
        ensemble = copy.deepcopy(self.ensemble)
        if isinstance(ensemble, dict):
            for member in ensemble.get("members") or []:
                if isinstance(member, dict) and member.get("model"):
                    member["model"] = convert(member["model"])
        return replace(self, dataset=dataset, export=export, adaptation=adaptation, ensemble=ensemble)


_TEXT_FIELDS = ("template", "title", "modality", "output", "command", "status", "created")
_OBJECT_FIELDS = ("hyperparameters", "augmentation", "preprocessing", "dataset", "split", "versions",
                  "history", "final_metrics", "export", "adaptation", "ensemble")
OUTPUTS = ("softmax", "sigmoid")


def _check_fields(known: dict[str, Any], source: object) -> None:
    """Raise :class:`ModelFileError` unless every known field of a sidecar has its type (absent and
    null fields are fine, except ``class_names``), so no reader meets a list where it wants an object."""
    def bad(name: str, expected: str, value: Any) -> ModelFileError:
        return ModelFileError(f"Expected {name!r} in the sidecar to be {expected}. Received: {describe(value)} in {source}")

    names = known.get("class_names")
    if not isinstance(names, list) or not names or not all(isinstance(c, str) for c in names):
        raise ModelFileError(f"Expected a sidecar with a list of class names. Received: "
                             f"class_names {describe(names)} in {source}")
    if len(set(names)) != len(names):
        raise bad("class_names", "a list of different class names", names)
    for name in _TEXT_FIELDS:
        if name in known and not isinstance(known[name], str):
            raise bad(name, "text", known[name])
    if "modality" in known and not known["modality"]:
        raise bad("modality", "the name of a modality", known["modality"])
    if "output" in known and known["output"] not in OUTPUTS:
        raise bad("output", " or ".join(map(repr, OUTPUTS)), known["output"])
    for name in _OBJECT_FIELDS:
        if name in known and not isinstance(known[name], dict):
            raise ModelFileError(f"Expected {name!r} to be a JSON object in the sidecar. "
                                 f"Received: {type(known[name]).__name__} in {source}")
    shape = known.get("input_shape")
    if shape is not None and (not isinstance(shape, list) or not shape or not all(
            is_whole_number(d) and d > 0 for d in shape)):
        raise bad("input_shape", "a list of positive whole numbers", shape)
    if "phases" in known and not (isinstance(known["phases"], list) and all(isinstance(p, dict) for p in known["phases"])):
        raise bad("phases", "a list of JSON objects", known["phases"])
    if "seed" in known and not is_whole_number(known["seed"]):
        raise bad("seed", "a whole number", known["seed"])
    for curve, values in (known.get("history") or {}).items():
        if not isinstance(values, list) or not all(is_number(v) for v in values):
            raise bad(f"history.{curve}", "a list of numbers", values)
    dataset = known.get("dataset") or {}
    if "path" in dataset and dataset["path"] is not None and not is_path_text(dataset["path"]):
        raise bad("dataset.path", "a path", dataset["path"])
    scan = dataset.get("scan")
    if scan is not None:
        if not isinstance(scan, dict):
            raise bad("dataset.scan", "a JSON object", scan)
        if scan.get("path") is not None and not is_path_text(scan["path"]):
            raise bad("dataset.scan.path", "a path", scan["path"])
        if scan.get("unreadable") is not None and not isinstance(scan["unreadable"], list):
            raise bad("dataset.scan.unreadable", "a list", scan["unreadable"])
    export = known.get("export") or {}
    if export.get("source_model") is not None and not is_path_text(export["source_model"]):
        raise bad("export.source_model", "a path", export["source_model"])
    adaptation = known.get("adaptation") or {}
    if adaptation.get("source_model") is not None and not is_path_text(adaptation["source_model"]):
        raise bad("adaptation.source_model", "a path", adaptation["source_model"])
    examples = adaptation.get("examples")
    if examples is not None and not isinstance(examples, dict):
        raise bad("adaptation.examples", "a JSON object", examples)
    if isinstance(examples, dict) and examples.get("path") is not None and not is_path_text(examples["path"]):
        raise bad("adaptation.examples.path", "a path", examples["path"])


def sidecar_path(model_path: str | Path) -> Path:
    """``run/model.keras`` → ``run/model.json``; a SavedModel folder ``out/`` → ``out/workbench.json``;
    any other file keeps its suffix: ``run/model.tflite`` → ``run/model.tflite.json``.

    Only ``.keras`` drops its suffix, so an export next to the model (``model.tflite``) never
    overwrites the model's own sidecar.
    """
    path = Path(model_path)
    if path.is_dir():
        return path / "workbench.json"
    if path.suffix == ".keras":
        return path.with_suffix(".json")
    return path.with_name(path.name + ".json")


def write_sidecar(model_path: str | Path, data: Mapping[str, Any] | ModelSidecar) -> Path:
    """Write ``data`` (a record, or a plain dict with usable paths and no or any known ``format``) as
    the sidecar of ``model_path``; returns the sidecar's path."""
    record = data if isinstance(data, ModelSidecar) else ModelSidecar.from_dict(data, source="the sidecar to write")
    return record.write(model_path)


def read_sidecar(model_path: str | Path) -> dict[str, Any]:
    """The sidecar of ``model_path`` as a plain dict of the current version, with usable paths."""
    return ModelSidecar.read(model_path).to_dict()


def check_new_model_file(out_path: Path, sources: list[Path], overwrite: bool, *, kind: str, command: str,
                         ours: Callable[[ModelSidecar], bool]) -> None:
    """Refuse to write a derived model (``kind``, e.g. "adapted model") where it would replace a file the
    project did not create: ``out_path`` must be a new ``.keras`` file other than the ``sources``, or with
    ``overwrite`` an earlier one of its kind (its sidecar passes ``ours``), written by ``workbench <command>``."""
    from workbench.core.errors import WorkbenchError

    if out_path.suffix != ".keras":
        raise WorkbenchError(f"Expected a .keras file to write the {kind} to. Received: {out_path}")
    for source in sources:
        if out_path.resolve() == source.resolve() or sidecar_path(out_path).resolve() == sidecar_path(source).resolve():
            what = "the original stays" if len(sources) == 1 else "the models it is made from stay"
            raise WorkbenchError(f"Expected a new file for the {kind}: {what}. Received: {out_path}, "
                                 f"{'the model it is made from' if len(sources) == 1 else 'one of them'}")
    taken = [p for p in (out_path, sidecar_path(out_path)) if p.exists()]
    if not taken:
        return
    mine = False
    if overwrite and out_path.is_file():
        try:
            mine = ours(ModelSidecar.read(out_path))
        except WorkbenchError:
            mine = False
    if not mine:
        what = f"an earlier {kind}" if overwrite else f"a new file (or --overwrite for an earlier {kind})"
        raise WorkbenchError(f"Expected {what}: only files written by 'workbench {command}' are replaced. Received: "
                             f"{', '.join(str(p) for p in taken)} {'exists' if len(taken) == 1 else 'exist'}")


def command_line(argv: Sequence[str] | None = None) -> str | None:
    """The command a sidecar records as what made a model: ``workbench`` and ``argv`` (by default this
    process's own arguments), quoted so that it can be pasted into a shell; None for a process without
    arguments (an embedded interpreter)."""
    if argv is None:
        if not sys.argv:
            return None
        argv = sys.argv[1:]
    return "workbench " + shlex.join(str(a) for a in argv)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (how a sidecar names the exact model it was made from)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import keras
    import numpy
    import tensorflow

    from workbench import __version__

    return {
        "workbench": __version__,
        "python": platform.python_version(),
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")

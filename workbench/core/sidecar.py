"""The JSON sidecar next to every saved model: ``model.keras`` ↔ ``model.json``.

It records everything needed to use and to reproduce the model: template, hyperparameters,
augmentation, class names, preprocessing, dataset and split, seed, library versions, history and
final metrics.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from workbench.core.errors import ModelFileError

SIDECAR_FORMAT = "workbench-model/1"


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


def write_sidecar(model_path: str | Path, data: dict[str, Any]) -> Path:
    target = sidecar_path(model_path)
    payload = {"format": SIDECAR_FORMAT, **data}
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_json_default))
    tmp.replace(target)  # atomic: a crash never leaves half a sidecar
    return target


def read_sidecar(model_path: str | Path) -> dict[str, Any]:
    target = sidecar_path(model_path)
    if not target.is_file():
        raise ModelFileError(
            f"Expected a sidecar {target.name} next to the model (written by 'workbench train'). "
            f"Received: no such file for {model_path}"
        )
    try:
        data = json.loads(target.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"Expected a JSON sidecar. Received: {target} ({exc})") from None
    if data.get("format") != SIDECAR_FORMAT or "class_names" not in data:
        raise ModelFileError(
            f"Expected a sidecar of format {SIDECAR_FORMAT} with class names. Received: {target}"
        )
    return data


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

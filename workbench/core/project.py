"""Projects: a small JSON file holding a dataset, a template, its hyperparameters, augmentation and
the project's training runs. Qt-free, so scripts can read and write projects too."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

PROJECT_FORMAT = "workbench-project/1"
PROJECT_SUFFIX = ".wbproj"


@dataclass
class Project:
    dataset: str = ""
    val_fraction: float = 0.2
    group_regex: str = ""
    template: str = "mnist_cnn"
    hparams: dict[str, Any] = field(default_factory=dict)
    augmentation: dict[str, Any] = field(default_factory=dict)  # image options
    audio_augmentation: dict[str, Any] = field(default_factory=dict)  # sound options (older projects: none)
    runs: list[str] = field(default_factory=list)

    def add_run(self, run_dir: str) -> None:
        if run_dir not in self.runs:
            self.runs.append(run_dir)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix != PROJECT_SUFFIX:
            path = path.with_suffix(PROJECT_SUFFIX)
        data = {"format": PROJECT_FORMAT, **asdict(self)}
        base = path.parent.resolve()
        # Paths inside the project folder are stored relative, so a project folder can be moved.
        data["runs"] = [_relative(r, base) for r in self.runs]
        data["dataset"] = _relative(self.dataset, base) if self.dataset else ""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Project:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise WorkbenchError(f"Expected a readable project file. Received: {path} ({exc})") from None
        if data.pop("format", None) != PROJECT_FORMAT:
            raise WorkbenchError(f"Expected a project file of format {PROJECT_FORMAT}. Received: {path}")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        project = cls(**known)
        base = path.parent.resolve()
        project.runs = [str((base / r).resolve()) if not Path(r).is_absolute() else r for r in project.runs]
        if project.dataset and not Path(project.dataset).is_absolute():
            project.dataset = str((base / project.dataset).resolve())
        return project


def run_summary(run_dir: str | Path) -> dict[str, Any] | None:
    """Template, key hyperparameters, best validation accuracy, date and history of a run folder,
    or None when the folder holds no finished run."""
    sidecar = Path(run_dir) / "model.json"
    try:
        data = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    hp = data.get("hyperparameters", {})
    metrics = data.get("final_metrics", {})
    return {
        "run_dir": str(run_dir),
        "model_path": str(Path(run_dir) / "model.keras"),
        "template": data.get("template", "?"),
        "epochs": hp.get("epochs"),
        "batch_size": hp.get("batch_size"),
        "learning_rate": hp.get("learning_rate"),
        "optimizer": hp.get("optimizer"),
        "dropout": hp.get("dropout"),
        "val_accuracy": metrics.get("val_accuracy"),
        "status": data.get("status", "?"),
        "created": data.get("created", ""),
        "history": data.get("history", {}),
    }


def _relative(path: str, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base))
    except ValueError:
        return str(Path(path).resolve())

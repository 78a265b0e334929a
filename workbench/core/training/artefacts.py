"""The run folder and everything written into it, each file atomically.

``model.keras`` (the best checkpoint), its sidecar ``model.json``, ``last.keras`` (the last finished
epoch with its optimizer state and the resume state, see :mod:`.runfolder`), ``history.csv``
(rewritten after every epoch) and ``evaluation.json``. Every write goes to a temporary file in the
same folder and is renamed over the target, so a run killed at any moment leaves whole files. The
sidecar is written with the first checkpoint (status ``"running"``) and again at the end with the
final status, so a killed run still leaves a folder that ``Predictor.load`` opens; while it runs,
the process holds the folder's ``run.lock``, which is how a reader tells a live run from a killed one.

On a multi-worker run only the chief writes here; the other workers, which must still save for the
collective operations to line up, write into a temporary folder that is removed at the end.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.core.atomic import atomic_path, atomic_write_text
from workbench.core.sidecar import library_versions, read_sidecar, write_sidecar
from workbench.core.training.config import RunSetup
from workbench.core.training.runfolder import LAST_FILE, MODEL_FILE, RESUME_ENTRY, RunFolderClaim

__all__ = ["LAST_FILE", "MODEL_FILE", "RunArtefacts", "default_run_dir", "history_csv", "is_chief"]


def default_run_dir(template_id: str, root: str | Path = "runs") -> Path:
    """``root/<template>-<time>``, with ``-2``, ``-3``… when runs start within the same second."""
    base = Path(root) / f"{template_id}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    candidate, n = base, 2
    while candidate.exists():
        candidate, n = base.with_name(f"{base.name}-{n}"), n + 1
    return candidate


def is_chief(strategy: Any) -> bool:
    """Whether this process writes the run's artefacts: always, except on the non-chief workers of
    a multi-worker strategy (the chief task, or worker 0 of a cluster without one)."""
    if strategy is None:
        return True
    in_multi_worker_mode = getattr(getattr(strategy, "extended", None), "_in_multi_worker_mode", None)
    if in_multi_worker_mode is None or not in_multi_worker_mode():
        return True
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None or task_type == "chief":
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()


class RunArtefacts:
    """Writes one run's files; ``folder`` is the run folder, or a scratch folder on a non-chief worker."""

    def __init__(self, run_dir: str | Path, setup: RunSetup, *, chief: bool = True,
                 claim: RunFolderClaim | None = None, resumed: list[dict[str, Any]] | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.chief = chief
        self.claim = claim  # the folder's lock, released by close()
        if chief:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.folder = self.run_dir
        else:
            self.folder = Path(tempfile.mkdtemp(prefix="workbench-worker-"))
        self.model_path = self.folder / MODEL_FILE
        self.last_path = self.folder / LAST_FILE
        self.resumed = list(resumed or [])  # {"epoch", "at"} of each time the run was resumed
        self._setup = setup
        self._checkpoint_epoch: int | None = None  # the epoch model.keras was last saved at

    @property
    def has_model(self) -> bool:
        return self.model_path.exists()

    def save_model(self, model) -> None:
        """``model.save`` into a temporary ``.keras`` beside the target, then renamed over it."""
        with atomic_path(self.model_path, ".keras") as tmp:
            model.save(tmp)

    def save_checkpoint(self, model, history: dict[str, list[float]], metrics: dict[str, Any],
                        epoch: int | None = None) -> None:
        """The best model so far. The first time the sidecar goes first, so a model file never lacks
        one; later the model goes first, so a kill between the two never leaves a sidecar describing
        a checkpoint that did not land (the older sidecar still fits the older model until then)."""
        if not self.has_model:
            self.write_sidecar("running", history, metrics)
            self.save_model(model)
        else:
            self.save_model(model)
            self.write_sidecar("running", history, metrics)
        self._checkpoint_epoch = epoch

    def save_resume_point(self, model, state: dict[str, Any]) -> None:
        """``last.keras``: the model with its optimizer after epoch ``state["epochs_done"]``, the
        state inside the same file. When that epoch's checkpoint was just saved, its file is copied
        rather than the model serialised a second time."""
        with atomic_path(self.last_path, ".keras") as tmp:
            if self._checkpoint_epoch == state["epochs_done"] and self.model_path.exists():
                shutil.copyfile(self.model_path, tmp)
            else:
                model.save(tmp)
            with zipfile.ZipFile(tmp, "a") as archive:  # keras.models.load_model ignores the extra entry
                archive.writestr(RESUME_ENTRY, json.dumps(state))

    def reopen(self, history: dict[str, list[float]]) -> None:
        """A resumed run: the sidecar says "running" again (with the ``resumed`` list), history.csv
        holds exactly the epochs it continues from, and the old evaluation, which will no longer
        describe model.keras, goes."""
        sidecar = read_sidecar(self.model_path)
        write_sidecar(self.model_path, {**sidecar, "status": "running", "resumed": self.resumed})
        self.write_history(history)
        (self.folder / "evaluation.json").unlink(missing_ok=True)

    def mark_interrupted(self, history: dict[str, list[float]]) -> None:
        """After a KeyboardInterrupt: history kept and the sidecar, if any, says "interrupted"."""
        if history:
            self.write_history(history)
        if self.has_model:
            sidecar = read_sidecar(self.model_path)
            write_sidecar(self.model_path, {**sidecar, "status": "interrupted"})

    def write_history(self, history: dict[str, list[float]]) -> None:
        atomic_write_text(self.folder / "history.csv", history_csv(history))

    def write_evaluation(self, evaluation: dict[str, Any]) -> None:
        atomic_write_text(self.folder / "evaluation.json", json.dumps(evaluation, indent=2))

    def write_sidecar(self, status: str, history: dict[str, list[float]], final_metrics: dict[str, Any]) -> None:
        write_sidecar(self.model_path, {**self._description(), "history": history,
                                        "final_metrics": final_metrics, "status": status,
                                        "created": datetime.now().isoformat(timespec="seconds")})

    def close(self) -> None:
        """Release the run folder (after its final sidecar) or remove a non-chief worker's scratch folder."""
        if self.claim is not None:
            self.claim.release()
        if not self.chief:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _description(self) -> dict[str, Any]:
        s, config = self._setup, self._setup.config
        return {
            "template": s.spec.id,
            "title": s.spec.title,
            "modality": s.spec.modality,
            "input_shape": list(s.input_shape),
            "class_names": list(s.report.class_names),
            "output": "sigmoid" if s.sigmoid else "softmax",
            "hyperparameters": s.hp,
            "phases": [phase.to_dict() for phase in s.phases],
            "augmentation": s.augmentation.to_dict(),
            "preprocessing": s.modality.sidecar_preprocessing(s.preprocessing, s.input_shape),
            "dataset": {"path": str(Path(config.data).resolve()), "scan": s.report.to_dict()},
            "split": s.split.info,
            "seed": s.hp["seed"],
            "command": config.command,
            **({"distribution": self._distribution()} if s.distribution is not None else {}),
            "versions": library_versions(),
            **({"resumed": self.resumed} if self.resumed else {}),
        }


    def _distribution(self) -> dict[str, Any]:
        """The strategy, replicas and devices of the run, its global batch and the rates it trained with."""
        s = self._setup
        return {**s.distribution.to_dict(), "per_replica_batch_size": s.hp["batch_size"],
                "global_batch_size": s.global_batch_size,
                "learning_rates": [s.learning_rate(phase) for phase in s.phases]}


def history_csv(history: dict[str, list[float]]) -> str:
    keys = list(history)
    rows = len(next(iter(history.values()), []))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["epoch", *keys])
    for i in range(rows):
        writer.writerow([i + 1, *(history[k][i] if i < len(history[k]) else math.nan for k in keys)])
    return out.getvalue()

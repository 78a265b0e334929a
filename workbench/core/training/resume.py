"""``resume(run_dir) -> TrainResult``: continue an unfinished run in its own folder.

Everything the run needs is read back from its sidecar (template, hyperparameters, phases,
augmentation, dataset path, split settings and seed) and from ``last.keras`` (the model of the last
finished epoch with its optimizer state, and the resume state saved inside it: epochs done, phase,
best value so far, history). The dataset is scanned and split again with the same settings and must
give the same classes and split sizes. Training continues with ``fit(initial_epoch=epochs done)``:
history.csv goes on from the next epoch, the best checkpoint is replaced only by a better value than
the recorded best, and the final sidecar holds the whole history plus a ``resumed`` list.

Which runs resume: an interrupted (killed), cancelled or failed one, from its last finished epoch
(from scratch when it never finished one, or was killed before its first resume point landed; one
killed after its last epoch is only evaluated and marked completed). A completed or early-stopped
run only with ``epochs`` larger than the epochs it ran: its last phase is extended to that new total.
``epochs`` is always the run's new total, never a count of extra epochs. A run another live process
holds is refused.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.core.augmentation import augmentation_from_dict
from workbench.core.errors import DatasetError, WorkbenchError
from workbench.core.sidecar import read_sidecar
from workbench.core.templates import get_template
from workbench.core.training.artefacts import RunArtefacts
from workbench.core.training.config import Phase, RunSetup, TrainConfig, TrainResult, prepare
from workbench.core.training.events import CancelToken, TrainingListeners
from workbench.core.training.run import ResumeFrom
from workbench.core.training.runfolder import (
    FINISHED,
    LAST_FILE,
    MODEL_FILE,
    RunFolderError,
    claim_run_folder,
    read_resume_state,
)
from workbench.core.training.trainer import run_setup


def resume(run_dir: str | Path, listeners: TrainingListeners | None = None, cancel: CancelToken | None = None,
           *, epochs: int | None = None, command: str | None = None) -> TrainResult:
    """Continue the run in ``run_dir`` (or the run of its ``model.keras``); see the module docstring.

    Raises RunFolderError (a folder that is not a run, is in use, or has nothing left to train) or
    DatasetError (the dataset changed) before any training.
    """
    run_dir = Path(run_dir)
    if run_dir.suffix == ".keras":
        run_dir = run_dir.parent
    if not (run_dir / MODEL_FILE).is_file():
        what = "does not exist" if not run_dir.exists() else f"has no {MODEL_FILE}"
        raise RunFolderError(f"Expected a run folder written by 'workbench train' to resume. "
                             f"Received: {run_dir} {what}")
    claim = claim_run_folder(run_dir, resume=True)  # refuses a run that a live process is training
    try:
        sidecar = read_sidecar(run_dir / MODEL_FILE)
        state = _resume_state(run_dir, sidecar)
        done = state["epochs_done"] if state else 0
        phases = _phases(run_dir, sidecar, done, epochs)
        if state and not 0 <= state.get("phase", -1) < len(phases):
            raise RunFolderError(f"Expected a resume point in one of the run's {len(phases)} phase(s). "
                                 f"Received: phase {state.get('phase')} in {run_dir / LAST_FILE}")
        setup = prepare(_config(run_dir, sidecar, phases))
        _check_same_data(setup, sidecar)
    except BaseException:
        claim.release()
        raise
    resumed = [*(sidecar.get("resumed") or []),
               {"epoch": done, "at": datetime.now().isoformat(timespec="seconds"),
                **({"command": command} if command else {})}]
    artefacts = RunArtefacts(run_dir, setup, claim=claim, resumed=resumed)
    try:
        artefacts.reopen({k: v[:done] for k, v in (state or {}).get("history", {}).items()})
    except BaseException:
        claim.release()
        raise
    if listeners is not None:
        listeners.log(f"Resuming {run_dir} after epoch {done} of {setup.total_epochs}" if state else
                      f"Restarting {run_dir} from its first epoch: it was stopped before its first resume point "
                      f"({LAST_FILE}) was saved")
    return run_setup(setup, artefacts, listeners, cancel,
                     ResumeFrom(run_dir / LAST_FILE, state) if state else None)


def _resume_state(run_dir: Path, sidecar: dict[str, Any]) -> dict[str, Any] | None:
    """The state inside ``last.keras``; None for a run that restarts from scratch: one that never finished
    an epoch, or one killed while saving its first epoch (its checkpoint landed, its first resume point
    did not: the only moment this version leaves a run folder without ``last.keras``; one epoch is lost)."""
    last = run_dir / LAST_FILE
    state = read_resume_state(last)
    if state is not None:
        return state
    if last.exists():
        raise RunFolderError(f"Expected a resume point written by 'workbench train'. Received: {last} has no "
                             f"readable resume state")
    if len((sidecar.get("history") or {}).get("loss") or []) > 1:
        raise RunFolderError(f"Expected {LAST_FILE} (the resume point saved after every epoch) in the run folder. "
                             f"Received: none in {run_dir} (a run from an older version cannot resume)")
    return None


def _phases(run_dir: Path, sidecar: dict[str, Any], done: int, epochs: int | None) -> list[Phase]:
    """The run's phases, the last one extended when ``epochs`` asks for a larger total."""
    phases = []
    for entry in sidecar.get("phases") or []:
        trainable = entry.get("trainable")
        if isinstance(trainable, str) and trainable != "all":
            raise RunFolderError(f"Expected phases a sidecar can describe (layer names, 'all' or none). Received: "
                                 f"phase '{entry.get('name')}' chose its layers with the function {trainable}")
        phases.append(Phase(entry["name"], int(entry["epochs"]), float(entry["learning_rate"]), trainable,
                            entry.get("unfreeze_top")))
    if not phases:
        raise RunFolderError(f"Expected the run's phases in its sidecar. Received: none in {run_dir / 'model.json'}")
    planned = sum(phase.epochs for phase in phases)
    status = sidecar.get("status")
    if epochs is not None:
        extended = phases[-1].epochs + epochs - planned
        if epochs <= done or extended < 1:
            raise RunFolderError(f"Expected --epochs larger than the {done} epoch(s) {run_dir} has run"
                                 f"{' (and than its earlier phases)' if len(phases) > 1 else ''}. "
                                 f"Received: --epochs {epochs}")
        phases[-1] = replace(phases[-1], epochs=extended)
    elif status in FINISHED:  # an unfinished run killed after its last epoch still gets its evaluation
        raise RunFolderError(f"Expected an unfinished run, or --epochs larger than the {done} epoch(s) it ran. "
                             f"Received: {run_dir} is {status or 'finished'} after {done} epoch(s)")
    return phases


def _config(run_dir: Path, sidecar: dict[str, Any], phases: list[Phase]) -> TrainConfig:
    hp = dict(sidecar.get("hyperparameters") or {})
    try:  # names added to the template since the run was recorded take the values the run had
        hp = get_template(sidecar["template"]).recorded_hparams(hp) if sidecar.get("template") else hp
    except WorkbenchError:
        pass  # an unknown template: prepare() says so
    if len(phases) == 1:
        hp["epochs"] = phases[0].epochs
    split = sidecar.get("split") or {}
    dataset = (sidecar.get("dataset") or {}).get("path")
    if not sidecar.get("template") or not dataset:
        raise RunFolderError(f"Expected a sidecar naming its template and dataset. Received: "
                             f"{run_dir / 'model.json'} without them")
    return TrainConfig(
        template=sidecar["template"], data=dataset, hparams=hp,
        augmentation=augmentation_from_dict(sidecar.get("augmentation"), sidecar.get("modality")),
        val_split=split.get("val_fraction", 0.2), group_regex=split.get("group_regex"),
        val_groups=split.get("val_groups"), out_dir=str(run_dir),
        input_shape=tuple(sidecar["input_shape"]) if sidecar.get("input_shape") else None,
        command=sidecar.get("command"), phases=phases)


def _check_same_data(setup: RunSetup, sidecar: dict[str, Any]) -> None:
    """The dataset must still give the run's classes and split, or the resumed epochs train on other data."""
    classes = list(setup.report.class_names)
    if classes != list(sidecar["class_names"]):
        raise DatasetError(f"Expected the run's dataset with classes {sidecar['class_names']}. "
                           f"Received: classes {classes} in {setup.report.path}")
    before = sidecar.get("split") or {}
    now = setup.split.info
    if any(before.get(key) is not None and before.get(key) != now.get(key) for key in ("num_train", "num_val")):
        raise DatasetError(f"Expected the run's split of {before.get('num_train')} training and "
                           f"{before.get('num_val')} validation samples. Received: {now.get('num_train')} and "
                           f"{now.get('num_val')} in {setup.report.path} (the dataset changed)")

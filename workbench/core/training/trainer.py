"""``train(config) -> TrainResult``: one training run, from dataset path to run folder.

Every run writes ``model.keras`` (the best checkpoint), its sidecar ``model.json``, ``last.keras``
(the last finished epoch, with the optimizer and the resume state), ``history.csv`` and
``evaluation.json`` (metrics of the best model on the validation split). A new run needs an empty or
new folder; :func:`workbench.core.training.resume.resume` continues an unfinished one in place.

The work is split three ways: :mod:`.config` checks the configuration and plans the phases,
:mod:`.run` builds the model and runs the phases (inside an optional distribution strategy's scope),
and :mod:`.artefacts` writes the run folder, atomically and from the chief only.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from workbench.core.templates import get_template
from workbench.core.training.artefacts import RunArtefacts, default_run_dir, is_chief
from workbench.core.training.config import Phase, RunSetup, TrainConfig, TrainResult, prepare
from workbench.core.training.distribute import DistributeError, check_choice, local_gpus, make_distribution
from workbench.core.training.precision import (
    cpu_has_bfloat16_units,
    float32_copy,
    resolve_mixed_precision,
    template_allows_mixed_precision,
)
from workbench.core.training.events import CancelToken, TrainingListeners
from workbench.core.training.run import ResumeFrom, RunOutcome, TrainingRun
from workbench.core.training.runfolder import claim_run_folder
from workbench.core.training.run import make_optimizer as _optimizer  # noqa: F401 (the template contract tests)

__all__ = ["Phase", "TrainConfig", "TrainResult", "default_run_dir", "train"]


def train(config: TrainConfig, listeners: TrainingListeners | None = None,
          cancel: CancelToken | None = None) -> TrainResult:
    """Train ``config.template`` on ``config.data``; see the module docstring for what is written.

    ``config.out_dir`` must be a new or empty folder (RunFolderError otherwise, before any work). A
    KeyboardInterrupt leaves the run folder with its history and the sidecar marked "interrupted",
    then propagates.
    """
    spec = get_template(config.template)
    run_dir = Path(config.out_dir) if config.out_dir else default_run_dir(spec.id)
    if config.mixed_precision and not template_allows_mixed_precision(spec):
        raise DistributeError(f"Expected a template that allows mixed precision. Received: template '{spec.id}' "
                              "trains in float32 only")
    check_choice(config.distribute, config.cpu_replicas, strategy=config.strategy)  # no TensorFlow yet
    # A multi-worker strategy, and the logical CPU devices of a mirrored one, must be made before
    # TensorFlow starts its devices in this process: first of all. One device once the data is checked,
    # so that a mistake there is said without loading TensorFlow.
    distribution = None
    if config.strategy is None and check_choice(config.distribute) != "none":
        distribution = _distribution(config, spec)
    chief = distribution.chief if distribution is not None else is_chief(config.strategy)
    claim = claim_run_folder(run_dir) if chief else None
    try:
        setup = prepare(config)
        setup.distribution = distribution or _distribution(config, spec)
    except BaseException:
        if claim is not None:
            claim.release()  # nothing written: the folder goes if the claim made it
        raise
    return run_setup(setup, RunArtefacts(run_dir, setup, chief=chief, claim=claim), listeners, cancel)


def _distribution(config: TrainConfig, spec):
    distribution = make_distribution(config.distribute, cpu_replicas=config.cpu_replicas, strategy=config.strategy,
                                     scale_learning_rate=config.scale_learning_rate)
    distribution.use_mixed_precision(resolve_mixed_precision(
        config.mixed_precision, spec, len(local_gpus()), cpu_has_bfloat16_units()))
    return distribution


def run_setup(setup: RunSetup, artefacts: RunArtefacts, listeners: TrainingListeners | None = None,
              cancel: CancelToken | None = None, resume: ResumeFrom | None = None) -> TrainResult:
    """Run a prepared setup into ``artefacts`` (whose folder claim it releases), new or resumed."""
    listeners = listeners or TrainingListeners()
    cancel = cancel or CancelToken()
    if setup.distribution is None:  # a resumed run trains on one device (or the config's strategy object)
        setup.distribution = make_distribution("none", strategy=setup.config.strategy,
                                               scale_learning_rate=setup.config.scale_learning_rate)
    run = TrainingRun(setup, artefacts, listeners, cancel, resume)
    try:
        outcome = run.execute()
        result = _finish(setup, artefacts, outcome, listeners, cancel)
    except KeyboardInterrupt:
        if artefacts.chief:
            artefacts.mark_interrupted(run.history())
        raise
    finally:
        artefacts.close()
    listeners.run_finished({
        "status": result.status, "run_dir": str(result.run_dir), "model_path": str(result.model_path or ""),
        "best_val_accuracy": result.final_metrics.get("val_accuracy"), "epochs_run": outcome.epochs_completed,
        "message": result.message,
    })
    return result


def _finish(setup: RunSetup, artefacts: RunArtefacts, outcome: RunOutcome, listeners: TrainingListeners,
            cancel: CancelToken) -> TrainResult:
    """The final model, evaluation, history and sidecar of a run that has left its last ``fit``."""
    status, message = outcome.status, outcome.message

    def stage(name: str, text: str) -> None:
        listeners.stage_started({"stage": name, "epoch": None, "message": text})

    if not artefacts.has_model and status != "failed":
        stage("saving", "Saving the model…")
        # A run stopped in its first epoch still leaves a usable model (in float32, as checkpoints are).
        mixed = setup.distribution is not None and setup.distribution.mixed_precision
        artefacts.save_model(float32_copy(outcome.model) if mixed else outcome.model)
    if status == "completed":
        message = f"Completed {outcome.epochs_completed} epochs in {time.perf_counter() - outcome.started:.1f} s."
    if not artefacts.chief and setup.distribution is not None:
        message += f" ({setup.distribution.task}: the chief writes the run folder, this worker wrote nothing)"
    listeners.log(message)
    final_metrics: dict[str, Any] = {"best_epoch": outcome.best_epoch, f"best_{setup.monitor}": outcome.best,
                                     "epochs_run": outcome.epochs_completed,
                                     "train_seconds": round(time.perf_counter() - outcome.started, 2)}
    # A stopped run skips the evaluation pass so Stop returns at once; Results can evaluate later.
    # A non-chief worker's model goes with its scratch folder: only the chief evaluates.
    if artefacts.chief and artefacts.has_model and setup.split.val is not None and not cancel.cancelled:
        stage("evaluating", f"Evaluating the best model on the {setup.num_val:,} validation samples…")
        evaluation = _evaluate(setup, artefacts.model_path)
        artefacts.write_evaluation(evaluation)
        final_metrics["val_accuracy"] = evaluation["accuracy"]
        final_metrics["val_top_k_accuracy"] = evaluation["top_k_accuracy"]
    stage("saving", "Saving the run's history and sidecar…")
    artefacts.write_history(outcome.history)
    if artefacts.has_model:
        artefacts.write_sidecar(status, outcome.history, final_metrics)
    model_path = artefacts.model_path if artefacts.chief and artefacts.has_model else None
    return TrainResult(status, artefacts.run_dir, model_path, outcome.history, final_metrics, message)


def _evaluate(setup: RunSetup, model_path: Path) -> dict[str, Any]:
    """The best checkpoint's metrics on the validation split."""
    import keras

    from workbench.core.evaluation import evaluate_model_on_subset

    best = keras.models.load_model(model_path, compile=False)
    return evaluate_model_on_subset(best, setup.split.val, setup.report.class_names, setup.input_shape,
                                    setup.sigmoid, batch_size=setup.hp["batch_size"],
                                    preprocessing=setup.preprocessing)

"""``train(config) -> TrainResult``: one training run, from dataset path to run folder.

Every run writes ``model.keras`` (the best checkpoint), its sidecar ``model.json``, ``history.csv``
and ``evaluation.json`` (metrics of the best model on the validation split).
"""

from __future__ import annotations

import csv
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.core.augmentation import augmentation_spec_class
from workbench.core.data.pipeline import make_tf_dataset, split_dataset
from workbench.core.data.scan import ScanReport, scan_dataset
from workbench.core.errors import DatasetError
from workbench.core.modality import get_modality
from workbench.core.sidecar import library_versions, write_sidecar
from workbench.core.templates import get_template
from workbench.core.training.events import CancelToken, TrainingListeners

_log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """What to train. ``hparams`` overrides the template's defaults (epochs, batch_size, ...)."""

    template: str
    data: str
    hparams: dict[str, Any] = field(default_factory=dict)
    # The template modality's augmentation spec (images: AugmentationSpec, sound: AudioAugmentationSpec);
    # None or an empty spec of another modality means none, so the GUI's default works for every modality.
    augmentation: Any = None
    val_split: float = 0.2
    group_regex: str | None = None
    val_groups: list[str] | None = None  # validate on exactly these groups (leave-one-speaker-out)
    out_dir: str | None = None
    input_shape: tuple[int, ...] | None = None
    command: str | None = None
    scan: ScanReport | None = None  # reuse a scan the caller already made


@dataclass
class TrainResult:
    status: str  # "completed" | "stopped_early" | "cancelled" | "failed"
    run_dir: Path
    model_path: Path | None
    history: dict[str, list[float]]
    final_metrics: dict[str, Any]
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "run_dir": str(self.run_dir),
            "model_path": str(self.model_path) if self.model_path else None,
            "final_metrics": self.final_metrics,
            "message": self.message,
        }


def default_run_dir(template_id: str, root: str | Path = "runs") -> Path:
    return Path(root) / f"{template_id}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def train(config: TrainConfig, listeners: TrainingListeners | None = None,
          cancel: CancelToken | None = None) -> TrainResult:
    """Train ``config.template`` on ``config.data``; see the module docstring for what is written."""
    listeners = listeners or TrainingListeners()
    cancel = cancel or CancelToken()
    spec = get_template(config.template)
    hp = spec.resolve_hparams(config.hparams)
    report = config.scan or scan_dataset(config.data)
    if report.modality != spec.modality:
        raise DatasetError(
            f"Template '{spec.id}' expects {spec.modality} data. Received: {report.modality} files in {report.path}"
        )
    modality = get_modality(spec.modality)
    if not modality.can_train:
        raise DatasetError(f"{modality.train_unavailable}. Received: template '{spec.id}' on {report.path}")
    augmentation = _augmentation_for(spec.modality, config.augmentation)
    split = split_dataset(report, val_fraction=config.val_split, group_regex=config.group_regex, seed=hp["seed"],
                          val_groups=config.val_groups)
    input_shape = tuple(config.input_shape or spec.input_shape_for(hp))
    preprocessing = spec.preprocessing_for(hp, input_shape)
    run_dir = Path(config.out_dir) if config.out_dir else default_run_dir(spec.id)
    run_dir.mkdir(parents=True, exist_ok=True)
    model_path = run_dir / "model.keras"

    import keras

    from workbench.core.training import callbacks as cb

    keras.utils.set_random_seed(hp["seed"])
    num_classes = len(report.class_names)
    sigmoid = spec.uses_sigmoid(num_classes)
    train_ds = _labels_for_output(
        make_tf_dataset(split.train, input_shape, hp["batch_size"], training=True,
                        augmentation=augmentation, seed=hp["seed"], preprocessing=preprocessing), sigmoid)
    val_ds = _labels_for_output(
        make_tf_dataset(split.val, input_shape, hp["batch_size"], preprocessing=preprocessing),
        sigmoid) if split.val else None
    model = spec.build(num_classes, input_shape, hp)
    model_notes = modality.configure_model(model, augmentation)  # e.g. SpecAugment masks set inside the model
    model.compile(
        optimizer=_optimizer(hp["optimizer"], hp["learning_rate"]),
        loss="binary_crossentropy" if sigmoid else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    steps = math.ceil(len(split.train) / hp["batch_size"])
    nan_guard = cb.NanGuard()
    progress = cb.ProgressCallback(listeners, epochs=hp["epochs"], steps_per_epoch=steps,
                                   batch_size=hp["batch_size"], cancel=cancel)
    monitor = "val_accuracy" if val_ds is not None else "accuracy"
    checkpoint = cb.BestCheckpoint(model_path, monitor, cancel, nan_guard)
    callbacks = [cb.CancelCallback(cancel), nan_guard, progress, checkpoint]
    callbacks += cb.learning_rate_callbacks(hp["lr_schedule"], hp["learning_rate"], hp["epochs"],
                                            "val_loss" if val_ds is not None else "loss")
    early = None
    if hp["early_stopping_patience"] > 0:
        early = keras.callbacks.EarlyStopping(monitor="val_loss" if val_ds is not None else "loss",
                                              patience=hp["early_stopping_patience"])
        callbacks.append(early)

    started = {
        "run_dir": str(run_dir), "template": spec.id, "epochs": hp["epochs"], "steps_per_epoch": steps,
        "num_train": len(split.train), "num_val": len(split.val) if split.val else 0,
        "class_names": list(report.class_names), "batch_size": hp["batch_size"],
    }
    listeners.run_started(started)
    listeners.log(f"Training {spec.title} on {len(split.train)} samples, validating on {started['num_val']} "
                  f"({split.info['method']} split); run folder {run_dir}")
    for note in model_notes:
        listeners.log(note)
    t0 = time.perf_counter()
    history: dict[str, list[float]] = {}
    status, message = "completed", ""
    try:
        model.fit(train_ds, validation_data=val_ds, epochs=hp["epochs"], callbacks=callbacks, verbose=0,
                  shuffle=False)  # the tf.data pipeline shuffles
    except cb.StopRequested:
        pass  # the user's Stop, raised at a batch end: fit left at once
    except Exception as exc:
        status, message = "failed", _explain_failure(exc)
        listeners.log(message)
    if status != "failed":
        # fit hands the model its History when it starts, so a run left by a Stop has one too.
        history = {k: [float(v) for v in vals] for k, vals in model.history.history.items()}
    history = _completed_epochs(history, progress.epochs_completed)
    if nan_guard.where:
        status = "failed"
        message = (f"Training stopped: the loss became NaN at {nan_guard.where}. Try a lower learning rate "
                   f"(now {hp['learning_rate']:g}) or check the data for broken samples.")
    elif status != "failed" and cancel.cancelled:
        status, message = "cancelled", f"Stopped by the user after {progress.epochs_completed} complete epoch(s)."
    elif status != "failed" and early is not None and early.stopped_epoch > 0:
        status, message = "stopped_early", f"Stopped early after epoch {progress.epochs_completed}."
    if not model_path.exists() and status != "failed":
        model.save(model_path)  # a run stopped in its first epoch still leaves a usable model
    if status == "completed":
        message = f"Completed {hp['epochs']} epochs in {time.perf_counter() - t0:.1f} s."
    listeners.log(message)

    final_metrics: dict[str, Any] = {"best_epoch": checkpoint.best_epoch,
                                     f"best_{monitor}": checkpoint.best,
                                     "epochs_run": progress.epochs_completed,
                                     "train_seconds": round(time.perf_counter() - t0, 2)}
    evaluation = None
    # A stopped run skips the evaluation pass so Stop returns at once; Results can evaluate later.
    if model_path.exists() and split.val is not None and not cancel.cancelled:
        from workbench.core.evaluation import evaluate_model_on_subset

        best = keras.models.load_model(model_path, compile=False)
        evaluation = evaluate_model_on_subset(best, split.val, report.class_names, input_shape, sigmoid,
                                              batch_size=hp["batch_size"], preprocessing=preprocessing)
        (run_dir / "evaluation.json").write_text(_dumps(evaluation))
        final_metrics["val_accuracy"] = evaluation["accuracy"]
        final_metrics["val_top_k_accuracy"] = evaluation["top_k_accuracy"]

    _write_history_csv(run_dir / "history.csv", history)
    if model_path.exists():
        write_sidecar(model_path, {
            "template": spec.id,
            "title": spec.title,
            "modality": spec.modality,
            "input_shape": list(input_shape),
            "class_names": list(report.class_names),
            "output": "sigmoid" if sigmoid else "softmax",
            "hyperparameters": hp,
            "augmentation": augmentation.to_dict(),
            "preprocessing": modality.sidecar_preprocessing(preprocessing, input_shape),
            "dataset": {"path": str(Path(config.data).resolve()), "scan": report.to_dict()},
            "split": split.info,
            "seed": hp["seed"],
            "command": config.command,
            "versions": library_versions(),
            "history": history,
            "final_metrics": final_metrics,
            "status": status,
            "created": datetime.now().isoformat(timespec="seconds"),
        })
    result = TrainResult(status, run_dir, model_path if model_path.exists() else None, history, final_metrics, message)
    listeners.run_finished({
        "status": status, "run_dir": str(run_dir), "model_path": str(result.model_path or ""),
        "best_val_accuracy": final_metrics.get("val_accuracy"), "epochs_run": progress.epochs_completed,
        "message": message,
    })
    return result


def _augmentation_for(modality: str, given: Any):
    """The run's augmentation spec for ``modality``; an empty spec of the other kind means none."""
    expected = augmentation_spec_class(modality)
    if given is None or (not isinstance(given, expected) and not given.enabled):
        return expected()
    if not isinstance(given, expected):
        default = type(given)().to_dict()
        on = ", ".join(f"{k}={v}" for k, v in given.to_dict().items() if v != default.get(k))
        raise DatasetError(f"Expected {modality} augmentation options for a {modality} template. "
                           f"Received: {given.modality} options ({on})")
    return given


def _optimizer(name: str, learning_rate: float):
    import keras

    classes = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
               "sgd": lambda learning_rate: keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9),
               "rmsprop": keras.optimizers.RMSprop}
    return classes[name](learning_rate=learning_rate)


def _labels_for_output(ds, sigmoid: bool):
    if not sigmoid:
        return ds
    import tensorflow as tf

    return ds.map(lambda x, y: (x, tf.cast(tf.expand_dims(y, -1), tf.float32)))


def _completed_epochs(history: dict[str, list[float]], epochs: int) -> dict[str, list[float]]:
    """Drop the figures of a partial (cancelled) last epoch."""
    return {k: v[:epochs] for k, v in history.items()}


def _explain_failure(exc: Exception) -> str:
    import tensorflow as tf

    if isinstance(exc, tf.errors.ResourceExhaustedError):
        return "Training ran out of memory. Try a smaller batch size or a smaller input size."
    if isinstance(exc, (tf.errors.InvalidArgumentError, tf.errors.UnknownError)) and "numpy_function" in str(exc).lower() \
            or "Expected a readable" in str(exc):
        first = next((line for line in str(exc).splitlines() if "Received" in line), str(exc).splitlines()[0])
        return f"A data file failed to load during training: {first.strip()}"
    _log.exception("Training failed")
    return f"Training failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _write_history_csv(path: Path, history: dict[str, list[float]]) -> None:
    keys = list(history)
    rows = len(next(iter(history.values()), []))
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *keys])
        for i in range(rows):
            writer.writerow([i + 1, *(history[k][i] for k in keys)])


def _dumps(data: Any) -> str:
    import json

    return json.dumps(data, indent=2)

"""The run: build and compile the model, then execute its phases in order, one ``fit`` each.

Everything from building the model to the last ``fit`` happens inside the distribution strategy's
scope when the config names one. Each phase continues the epoch count of the one before
(``initial_epoch``), so the listeners, the history and the checkpoint see one continuous run; the
callbacks that carry state over the whole run (cancel, NaN guard, progress, history, checkpoint)
are shared by all phases, while early stopping and the learning-rate schedule start afresh with
each phase. Between phases the model is recompiled only when which layers train changes (a fresh
optimizer for the new set of weights); otherwise the optimizer keeps its state and only takes the
new phase's learning rate.

A resumed run (``resume`` = the path of ``last.keras`` and the state stored in it) loads that model
with its optimizer instead of building one, restores the history, the best value and the phase, and
continues with ``fit(initial_epoch=epochs done)``. Early stopping and a plateau schedule start
afresh; the tf.data shuffle and the global seed are offset by the epochs done, so the resumed
epochs do not replay the first epochs' order.

TensorFlow and Keras are imported inside the functions: this module loads with the GUI.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.training.artefacts import RunArtefacts
from workbench.core.training.config import Phase, RunSetup
from workbench.core.training.distribute import make_distribution, prepare_multi_worker_model, scaling_text, where_text
from workbench.core.training.precision import MixedPrecision, float32_copy, mixed_policy_of
from workbench.core.training.events import CancelToken, TrainingListeners

_log = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    status: str  # "completed" | "stopped_early" | "cancelled" | "failed"
    message: str
    history: dict[str, list[float]]
    epochs_completed: int
    best_epoch: int | None
    best: float | None
    model: Any
    started: float  # time.perf_counter() when the first fit began


@dataclass
class ResumeFrom:
    """Where a resumed run continues: ``last.keras`` and the state saved inside it."""

    model_path: Path
    state: dict[str, Any]

    @property
    def epochs_done(self) -> int:
        return int(self.state["epochs_done"])


class TrainingRun:
    """One run of ``setup``'s phases, writing through ``artefacts`` and reporting to ``listeners``."""

    def __init__(self, setup: RunSetup, artefacts: RunArtefacts, listeners: TrainingListeners,
                 cancel: CancelToken, resume: ResumeFrom | None = None) -> None:
        self.setup = setup
        self.artefacts = artefacts
        self.listeners = listeners
        self.cancel = cancel
        self.resume = resume
        self.model = None
        self.recorder = None
        self.phase_index = resume.state["phase"] if resume else 0
        self.phase_start = resume.state["phase_start"] if resume else 0  # the run's epoch index the phase began at
        self.phase: Phase = setup.phases[self.phase_index]
        self.early_stopped = False

    def execute(self) -> RunOutcome:
        """Build (or load), compile and train through every phase; a failure inside ``fit`` becomes a
        "failed" outcome."""
        import keras

        setup = self.setup
        done = self.resume.epochs_done if self.resume else 0
        keras.utils.set_random_seed(setup.hp["seed"] + done)
        self.train_ds, self.val_ds = make_datasets(setup, shuffle_seed=setup.hp["seed"] + done)
        distribution = setup.distribution
        # A multi-worker run's shared Stop flag: a plain local variable, made outside the strategy's scope.
        self.stop_flag = _local_flag() if distribution is not None and distribution.collective else None
        with strategy_scope(run_strategy(setup)):
            if self.resume:
                self._load_resume_point()
                if distribution is not None:  # the model keeps the policy it was built under
                    distribution.use_mixed_precision(mixed_policy_of(self.model))
            else:
                mixed = MixedPrecision(distribution.compute_policy if distribution is not None else None)
                self.model = mixed.build(lambda: setup.spec.build(setup.num_classes, setup.input_shape, setup.hp))
            notes = setup.modality.configure_model(self.model, setup.augmentation)  # e.g. SpecAugment masks
            self.units = layer_units(self.model)
            self.as_built = self._as_built()
            if self._apply_trainable(self.phase) or not self.resume:
                compile_model(self.model, setup, setup.learning_rate(self.phase))
            if self.stop_flag is not None:
                prepare_multi_worker_model(self.model, self.train_ds.element_spec, self.stop_flag)
            self._make_callbacks()
            self._announce(notes)
            status, message = self._run_phases()
        return self._outcome(status, message)

    def _load_resume_point(self) -> None:
        """``last.keras`` compiled, so its optimizer state (moments, iteration count, rate) comes back."""
        import keras

        self.setup.modality.register_layers()
        self.model = keras.models.load_model(self.resume.model_path, compile=True)

    def _as_built(self) -> list[bool]:
        """Which layers the template made trainable (a resumed model carries its phase's flags instead)."""
        saved = self.resume.state.get("as_built") if self.resume else None
        if isinstance(saved, list) and len(saved) == len(self.units):
            return [bool(flag) for flag in saved]
        return [layer.trainable for layer, _ in self.units]

    def _make_callbacks(self) -> None:
        from workbench.core.training import callbacks as cb

        setup, hp = self.setup, self.setup.hp
        self.nan_guard = cb.NanGuard()
        done = self.resume.epochs_done if self.resume else 0
        # first: the epoch-end callbacks ask it, not the live token
        stop = cb.CancelCallback(self.cancel, shared_flag=self.stop_flag)
        self.progress = cb.ProgressCallback(self.listeners, epochs=setup.total_epochs,
                                            steps_per_epoch=self.steps_per_epoch,
                                            batch_size=setup.global_batch_size, cancel=stop, epochs_done=done)
        self.recorder = cb.EpochRecorder(stop, self.artefacts.write_history)
        self.checkpoint = cb.BestCheckpoint(self._save_checkpoint, setup.monitor, stop, self.nan_guard)
        if self.resume:
            state = self.resume.state
            self.recorder.history = {k: list(v[:done]) for k, v in (state.get("history") or {}).items()}
            self.recorder.epochs = done
            self.checkpoint.best, self.checkpoint.best_epoch = state.get("best"), state.get("best_epoch")
        resume_point = cb.ResumePoint(self._save_resume_point, stop, self.nan_guard)
        averaging = weight_averaging_callback(hp)  # first: the epoch's end sees the averaged weights
        self.shared_first = [*([averaging] if averaging else []), stop, self.nan_guard, self.progress]
        # after the schedule, which adds to the logs; the resume point last, so it records the best so far
        self.shared_last = [self.recorder, self.checkpoint, resume_point]

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.setup.split.train) / self.setup.global_batch_size)

    def _saving(self, what: str) -> None:
        epoch = self.recorder.epochs
        self.listeners.stage_started({"stage": "saving", "epoch": epoch,
                                      "message": f"Saving {what} after epoch {epoch}…"})

    def _save_checkpoint(self, model) -> None:
        self._saving("the best model so far")
        # A mixed-precision model is saved computing in float32, to predict at full speed anywhere; its
        # resume point is then serialised on its own (epoch None: last.keras is no copy of model.keras).
        mixed = self.setup.distribution.mixed_precision
        self.artefacts.save_checkpoint(float32_copy(model) if mixed else model, self.recorder.history, {
            "best_epoch": self.checkpoint.best_epoch, f"best_{self.setup.monitor}": self.checkpoint.best,
            "epochs_run": self.recorder.epochs}, epoch=None if mixed else self.recorder.epochs)

    def _save_resume_point(self, model, epochs_done: int) -> None:
        self._saving("the resume point")
        self.artefacts.save_resume_point(model, {
            "version": 1, "epochs_done": epochs_done, "phase": self.phase_index, "phase_start": self.phase_start,
            "best": self.checkpoint.best, "best_epoch": self.checkpoint.best_epoch, "monitor": self.setup.monitor,
            "as_built": self.as_built, "seed": self.setup.hp["seed"], "steps_per_epoch": self.steps_per_epoch,
            "history": copy.deepcopy(self.recorder.history)})

    def _announce(self, notes: list[str]) -> None:
        setup = self.setup
        started = {
            "run_dir": str(self.artefacts.run_dir), "template": setup.spec.id, "epochs": setup.total_epochs,
            "steps_per_epoch": self.steps_per_epoch, "num_train": len(setup.split.train),
            "num_val": setup.num_val, "class_names": list(setup.report.class_names),
            "batch_size": setup.hp["batch_size"],
            **distribution_event(setup),
        }
        self.listeners.run_started(started)
        self.listeners.log(f"Training {setup.spec.title} on {len(setup.split.train)} samples, validating on "
                           f"{started['num_val']} ({setup.split.info['method']} split); "
                           f"run folder {self.artefacts.run_dir}")
        from workbench.core.data.pipeline import data_notes

        # What the scan skipped and why, what the model's input does to the files, what the split leaves out.
        for note in data_notes(setup.report, setup.split, setup.input_shape, setup.preprocessing) + notes:
            self.listeners.log(note)
        self.listeners.log(distribution_line(setup))

    def _run_phases(self) -> tuple[str, str]:
        from workbench.core.training.callbacks import StopRequested

        self.t0 = time.perf_counter()
        phases = self.setup.phases
        try:
            for index in range(self.phase_index, len(phases)):
                phase = phases[index]
                if index != self.phase_index:
                    if self.cancel.cancelled or self.nan_guard.where:
                        break
                    self.phase_index, self.phase_start = index, self.progress.epochs_completed
                    self._enter_phase(phase)
                if self.progress.epochs_completed >= self.phase_start + phase.epochs:
                    continue  # a resumed run whose last finished epoch ended this phase
                self._announce_phase(index, phase)
                self.early_stopped = self._fit(phase, self.phase_start, self.progress.epochs_completed)
        except StopRequested:
            pass  # the user's Stop, raised at a batch end: fit left at once
        except Exception as exc:
            message = explain_failure(exc, self.artefacts.run_dir)
            self.listeners.log(message)
            return "failed", message
        return "completed", ""

    def _enter_phase(self, phase: Phase) -> None:
        """Recompile when the trainable layers change; otherwise only set the learning rate."""
        self.phase = phase
        if self._apply_trainable(phase):
            compile_model(self.model, self.setup, self.setup.learning_rate(phase))
        else:
            self.model.optimizer.learning_rate = self.setup.learning_rate(phase)

    def _apply_trainable(self, phase: Phase) -> bool:
        return apply_trainable(self.model, self.units, trainable_flags(self.units, phase, self.as_built))

    def _announce_phase(self, index: int, phase: Phase) -> None:
        """``phase_started`` for every phase; a line in the log when the run has several."""
        weighted = [layer for layer, _ in self.units if layer.weights]
        training = [layer for layer in weighted if layer.trainable]
        count = len(self.setup.phases)
        first, last = self.phase_start + 1, self.phase_start + phase.epochs
        self.listeners.phase_started({
            "name": phase.name, "index": index, "count": count, "first_epoch": first, "last_epoch": last,
            "epochs": phase.epochs, "learning_rate": float(self.setup.learning_rate(phase)),
            "trainable_layers": len(training), "weighted_layers": len(weighted),
            "trainable_params": sum(math.prod(weight.shape) for layer in training
                                    for weight in layer.trainable_weights),
        })
        if count > 1:
            self.listeners.log(f"Phase {index + 1}/{count} '{phase.name}': epochs "
                               f"{self.progress.epochs_completed + 1}–{last}, learning rate "
                               f"{self.setup.learning_rate(phase):g}, {len(training)} of {len(weighted)} layers with "
                               "weights training")

    def _fit(self, phase: Phase, phase_start: int, initial_epoch: int) -> bool:
        """One ``fit`` for the rest of ``phase`` (which began at epoch index ``phase_start``); whether
        early stopping ended it."""
        import keras

        from workbench.core.training import callbacks as cb

        setup, hp = self.setup, self.setup.hp
        per_phase = cb.learning_rate_callbacks(hp["lr_schedule"], setup.learning_rate(phase), phase.epochs,
                                               setup.loss_monitor, first_epoch=phase_start)
        early = None
        if hp["early_stopping_patience"] > 0:
            early = keras.callbacks.EarlyStopping(monitor=setup.loss_monitor, patience=hp["early_stopping_patience"])
            per_phase.append(early)
        self.model.fit(self.train_ds, validation_data=self.val_ds, initial_epoch=initial_epoch,
                       epochs=phase_start + phase.epochs, callbacks=self.shared_first + per_phase + self.shared_last,
                       verbose=0, shuffle=False)  # the tf.data pipeline shuffles
        return early is not None and early.stopped_epoch > 0

    def _outcome(self, status: str, message: str) -> RunOutcome:
        epochs = self.progress.epochs_completed
        if self.nan_guard.where:
            status = "failed"
            message = (f"Training stopped: the loss became NaN at {self.nan_guard.where}. Try a lower learning "
                       f"rate (now {self.setup.learning_rate(self.phase):g}) or check the data for broken samples.")
        elif status != "failed" and self.cancel.cancelled:
            status, message = "cancelled", f"Stopped by the user after {epochs} complete epoch(s)."
        elif status != "failed" and self.early_stopped:
            status, message = "stopped_early", f"Stopped early after epoch {epochs}."
        history = self.history()
        return RunOutcome(status, message, history, epochs, self.checkpoint.best_epoch, self.checkpoint.best,
                          self.model, self.t0)


    def history(self) -> dict[str, list[float]]:
        """The finished epochs' history (also of a run left by a KeyboardInterrupt)."""
        if self.recorder is None:
            return {}
        epochs = self.progress.epochs_completed
        return {k: v[:epochs] for k, v in self.recorder.history.items()}


def run_strategy(setup: RunSetup):
    """The strategy the run trains under: its distribution's, or the config's (a resumed run: none)."""
    if setup.distribution is not None:
        return setup.distribution.strategy
    return setup.config.strategy


def _local_flag():
    import tensorflow as tf

    return tf.Variable(0.0, trainable=False, name="workbench_stop")


def distribution_event(setup: RunSetup) -> dict[str, Any]:
    """What ``run_started`` says about the devices: ``strategy``, ``replicas``, ``devices``, ``device``,
    ``workers``, ``global_batch_size``, ``learning_rate_scale``, ``mixed_precision``."""
    distribution = setup.distribution or make_distribution("none", strategy=setup.config.strategy)
    return {"strategy": distribution.kind, "replicas": distribution.replicas, "devices": list(distribution.devices),
            "device": distribution.device, "workers": distribution.workers,
            "global_batch_size": setup.global_batch_size, "learning_rate_scale": setup.learning_rate_scale,
            "mixed_precision": distribution.mixed_precision, "compute_dtype": distribution.compute_dtype}


def distribution_line(setup: RunSetup) -> str:
    """The log line saying which device trains, and with several replicas the scaled batch and rate."""
    distribution = setup.distribution or make_distribution("none", strategy=setup.config.strategy)
    line = "Training on " + where_text(distribution.device, distribution.kind, task=distribution.task)
    if distribution.mixed_precision:
        line += f", mixed precision ({distribution.compute_dtype} compute, float32 weights)"
    if distribution.note:
        line += f" ({distribution.note})"
    if setup.replicas > 1:
        line += f"; {setup.replicas} replicas: " + scaling_text(
            setup.hp["batch_size"], setup.phases[0].learning_rate, setup.replicas, setup.learning_rate_scale)
    return line


@contextlib.contextmanager
def strategy_scope(strategy):
    """``strategy.scope()``, or nothing without a strategy."""
    if strategy is None:
        yield
    else:
        with strategy.scope():
            yield


def make_datasets(setup: RunSetup, shuffle_seed: int | None = None):
    """The training and validation ``tf.data`` streams (labels shaped for a sigmoid output)."""
    from workbench.core.data.pipeline import make_tf_dataset

    hp = setup.hp
    seed = hp["seed"] if shuffle_seed is None else shuffle_seed
    batch = setup.global_batch_size  # a distribution strategy splits each batch over its replicas
    train_ds = labels_for_output(
        make_tf_dataset(setup.split.train, setup.input_shape, batch, training=True,
                        augmentation=setup.augmentation, seed=seed, preprocessing=setup.preprocessing),
        setup.sigmoid)
    val_ds = labels_for_output(
        make_tf_dataset(setup.split.val, setup.input_shape, batch, preprocessing=setup.preprocessing),
        setup.sigmoid) if setup.split.val else None
    if setup.distribution is not None and setup.distribution.workers > 1:
        train_ds, val_ds = (shard_by_data(ds) for ds in (train_ds, val_ds))
    return train_ds, val_ds


def shard_by_data(ds):
    """Workers split the batches of one stream, which every worker builds the same way (same files,
    same shuffle seed), instead of TensorFlow's attempt to split by files (our streams read arrays
    or a list of paths)."""
    if ds is None:
        return None
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def compile_model(model, setup: RunSetup, learning_rate: float) -> None:
    model.compile(
        optimizer=make_optimizer(setup.hp["optimizer"], learning_rate, ema=setup.hp.get("weight_averaging", 0.0)),
        loss="binary_crossentropy" if setup.sigmoid else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def make_optimizer(name: str, learning_rate: float, ema: float = 0.0):
    """The optimizer ``name``; with ``ema`` > 0 it also keeps an exponential moving average of the
    weights (that momentum per step), which the run's :func:`weight_averaging_callback` swaps into the
    model for validation and the epoch-end checkpoints; training itself goes on from the raw weights."""
    import keras

    options: dict[str, Any] = {"use_ema": True, "ema_momentum": float(ema)} if ema and ema > 0 else {}
    classes = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
               "sgd": lambda **kwargs: keras.optimizers.SGD(momentum=0.9, **kwargs),
               "rmsprop": keras.optimizers.RMSprop}
    return classes[name](learning_rate=learning_rate, **options)


def weight_averaging_callback(hp: dict[str, Any]):
    """With ``weight_averaging`` on, Keras' ``SwapEMAWeights``: the averaged weights are in the model while it
    validates and from each epoch's end (the checkpoints, the history's epoch) to the next epoch's
    start, and for good after the last epoch; None when it is off. It must come before the
    epoch-end callbacks that save the model. ``last.keras`` holds the averaged weights (its optimizer
    the raw ones), so a resumed run trains on from the average."""
    if not hp.get("weight_averaging"):
        return None
    import keras

    return keras.callbacks.SwapEMAWeights(swap_on_epoch=True)


def layer_units(model, path: tuple[str, ...] = ()) -> list[tuple[Any, tuple[str, ...]]]:
    """The layers a phase freezes or trains, each with the names of the models it sits in: the
    layers of the model and, recursively, of the models nested in it (a pretrained backbone)."""
    import keras

    units = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            units += layer_units(layer, (*path, layer.name))
        else:
            units.append((layer, path))
    return units


def trainable_flags(units, phase: Phase, as_built: list[bool]) -> list[bool]:
    """Whether each unit trains in ``phase`` (see :data:`workbench.core.training.config.Trainable`)."""
    spec = phase.trainable
    if spec is None:
        flags = list(as_built)
    elif isinstance(spec, str):
        if spec != "all":
            raise ValueError(f"Expected trainable None, 'all', layer names or a predicate. Received: {spec!r}")
        flags = [True] * len(units)
    elif callable(spec):
        flags = [bool(spec(layer)) for layer, _ in units]
    else:
        names = set(spec)
        known = {layer.name for layer, _ in units} | {name for _, path in units for name in path}
        if names - known:
            raise ValueError(f"Expected names of the model's layers to train in phase '{phase.name}'. "
                             f"Received: {sorted(names - known)}")
        flags = [layer.name in names or bool(names.intersection(path)) for layer, path in units]
    if phase.unfreeze_top:
        import keras

        top = [i for i, (layer, _) in enumerate(units)
               if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]
        for i in top[-phase.unfreeze_top:]:
            flags[i] = True
    return flags


def apply_trainable(model, units, flags: list[bool]) -> bool:
    """Set each unit's ``trainable``; whether anything changed (the model then needs compiling)."""
    if model.trainable and [layer.trainable for layer, _ in units] == flags:
        return False
    model.trainable = True  # every nested model too, so that each unit's own flag decides
    for (layer, _), flag in zip(units, flags):
        layer.trainable = flag
    return True


def labels_for_output(ds, sigmoid: bool):
    if not sigmoid:
        return ds
    import tensorflow as tf

    return ds.map(lambda x, y: (x, tf.cast(tf.expand_dims(y, -1), tf.float32)))


#: Write failures that are the user's disk, not a bug: said in one line, without a traceback.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def explain_failure(exc: Exception, run_dir: Path | str | None = None) -> str:
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
        where = exc.filename or run_dir
        return (f"Expected to write the run's files in {run_dir}. Received: {exc.strerror or exc}"
                + (f" ({where})" if where and str(where) != str(run_dir) else ""))
    import tensorflow as tf

    if isinstance(exc, tf.errors.ResourceExhaustedError):
        return "Training ran out of memory. Try a smaller batch size or a smaller input size."
    if isinstance(exc, (tf.errors.InvalidArgumentError, tf.errors.UnknownError)) and "numpy_function" in str(exc).lower() \
            or "Expected a readable" in str(exc):
        first = next((line for line in str(exc).splitlines() if "Received" in line), str(exc).splitlines()[0])
        return f"A data file failed to load during training: {first.strip()}"
    _log.exception("Training failed")
    return f"Training failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

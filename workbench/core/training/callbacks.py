"""Keras callbacks that bridge ``fit`` to plain-Python listeners and the cancel token."""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Protocol

import keras

from workbench.core.training.distribute import STOP_KEY
from workbench.core.training.events import CancelToken, TrainingListeners

BATCH_EVENT_INTERVAL_S = 0.1  # ~10 Hz: enough for a smooth curve, cheap for any receiver


class Cancelled(Protocol):
    """What the epoch-end callbacks ask: a :class:`CancelToken`, or the run's :class:`CancelCallback`."""

    @property
    def cancelled(self) -> bool: ...


def current_learning_rate(model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


class ProgressCallback(keras.callbacks.Callback):
    """Reports batch (throttled) and epoch progress to listeners.

    One instance serves every phase of a run: ``epochs`` is the run's total, epochs are numbered
    across phases and the clock starts with the first phase.
    """

    def __init__(self, listeners: TrainingListeners, *, epochs: int, steps_per_epoch: int, batch_size: int,
                 cancel: Cancelled, epochs_done: int = 0) -> None:
        super().__init__()
        self._listeners = listeners
        self._epochs = epochs
        self._steps = steps_per_epoch
        self._batch_size = batch_size
        self._cancel = cancel
        self._epoch = 0
        self._last_emit = 0.0
        self._start = 0.0
        self._epoch_start = 0.0
        self._epochs_before = epochs_done  # finished before this process started (a resumed run)
        self.epochs_completed = epochs_done

    def on_train_begin(self, logs=None):
        if not self._start:
            self._start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        step = batch + 1
        if now - self._last_emit < BATCH_EVENT_INTERVAL_S and step != self._steps:
            return
        self._last_emit = now
        logs = logs or {}
        elapsed = max(now - self._epoch_start, 1e-9)
        self._listeners.batch_ended({
            "epoch": self._epoch + 1,
            "step": step,
            "steps_per_epoch": self._steps,
            "global_step": self._epoch * self._steps + step,
            "total_steps": self._epochs * self._steps,
            "loss": float(logs.get("loss", math.nan)),
            "accuracy": float(logs.get("accuracy", math.nan)),
            "samples_per_second": step * self._batch_size / elapsed,
        })

    def on_test_begin(self, logs=None):
        # fit's validation pass after the epoch's last batch: seconds on a large validation split.
        if not self._cancel.cancelled:
            self._listeners.stage_started({"stage": "validating", "epoch": self._epoch + 1,
                                           "message": f"Validating epoch {self._epoch + 1}/{self._epochs}…"})

    def on_epoch_end(self, epoch, logs=None):
        if self._cancel.cancelled:
            return  # a partial epoch's figures would mislead the curves
        logs = logs or {}
        now = time.perf_counter()
        self.epochs_completed = epoch + 1
        elapsed = now - self._start
        per_epoch = elapsed / max(self.epochs_completed - self._epochs_before, 1)
        self._listeners.epoch_ended({
            "epoch": epoch + 1,
            "epochs": self._epochs,
            "loss": float(logs.get("loss", math.nan)),
            "accuracy": float(logs.get("accuracy", math.nan)),
            "val_loss": float(logs["val_loss"]) if "val_loss" in logs else None,
            "val_accuracy": float(logs["val_accuracy"]) if "val_accuracy" in logs else None,
            "learning_rate": current_learning_rate(self.model),
            "elapsed": elapsed,
            "eta": per_epoch * (self._epochs - self.epochs_completed),
            "samples_per_second": self._steps * self._batch_size / max(now - self._epoch_start, 1e-9),
        })


class StopRequested(Exception):
    """Raised inside ``fit`` by :class:`CancelCallback`; the trainer catches it as a user's Stop."""


class CancelCallback(keras.callbacks.Callback):
    """Ends ``fit`` at the first batch end after the token is cancelled.

    A queued Qt slot could not do this: the worker thread is busy inside ``fit``. Setting
    ``model.stop_training`` would not be enough either: Keras still validates the partial epoch,
    and in the first epoch that means tracing the test step, seconds on a busy 2-core machine,
    for figures a stopped run throws away. Raising leaves ``fit`` at once.

    It is also the token the epoch-end callbacks ask (``cancelled``): placed first, it freezes the
    answer when an epoch ends, so a Stop that lands while that epoch's figures are being reported
    (after its validation finished) still counts the epoch everywhere — history, checkpoint and
    resume point — instead of in some of them.

    On a multi-worker run (``shared_flag``: the variable each step all-reduces, see
    :func:`workbench.core.training.distribute.prepare_multi_worker_model`) a Stop never ends this
    worker alone, which would leave the others waiting in their collectives: the token sets the
    flag, and every worker raises at the step whose reduced logs show it, the same step on all of
    them; the token of a worker whose Stop came from another is then set too.
    """

    def __init__(self, cancel: CancelToken, shared_flag: Any = None) -> None:
        super().__init__()
        self._cancel = cancel
        self._at_epoch_end: bool | None = None
        self._flag = shared_flag
        self._flagged = False
        self._stopped = False  # a multi-worker Stop seen in the reduced logs

    @property
    def cancelled(self) -> bool:
        now = self._stopped if self._flag is not None else self._cancel.cancelled
        return now if self._at_epoch_end is None else self._at_epoch_end

    def on_epoch_begin(self, epoch, logs=None):
        self._at_epoch_end = None

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.pop(STOP_KEY, None)
        self._at_epoch_end = self._stopped if self._flag is not None else self._cancel.cancelled

    def on_train_batch_end(self, batch, logs=None):
        if self._flag is None:
            if self._cancel.cancelled:
                raise StopRequested()
            return
        if float((logs if logs is not None else {}).pop(STOP_KEY, 0.0)) > 0:
            self._stopped = True
            self._cancel.cancel()
            raise StopRequested()
        if self._cancel.cancelled and not self._flagged:
            self._flag.assign(1.0)  # read by the next step's all-reduce on every worker
            self._flagged = True

    def on_test_batch_end(self, batch, logs=None):
        if self._flag is None and self._cancel.cancelled:
            self.model.stop_evaluating = True


class NanGuard(keras.callbacks.Callback):
    """Stops at the first NaN/inf loss and remembers where, for a clear message."""

    def __init__(self) -> None:
        super().__init__()
        self.where: str | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.where = f"epoch {self._epoch + 1}, batch {batch + 1}"
            self.model.stop_training = True


class EpochRecorder(keras.callbacks.Callback):
    """The run's history over all its phases (each ``fit`` starts a new ``History``), handed to
    ``on_update`` after every complete epoch. Place it after the callbacks that add to the logs."""

    def __init__(self, cancel: Cancelled, on_update: Callable[[dict[str, list[float]]], None]) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epochs = 0
        self._cancel = cancel
        self._on_update = on_update

    def on_epoch_end(self, epoch, logs=None):
        if self._cancel.cancelled:
            return  # a partial epoch's figures would mislead
        for key, value in (logs or {}).items():
            self.history.setdefault(key, [math.nan] * self.epochs).append(float(value))
        self.epochs += 1
        for values in self.history.values():
            values.extend([math.nan] * (self.epochs - len(values)))
        self._on_update(self.history)


class BestCheckpoint(keras.callbacks.Callback):
    """Saves the model (through ``save(model)``) whenever the monitored metric improves, across all
    phases; never from a cancelled or NaN epoch."""

    def __init__(self, save: Callable[[Any], None], monitor: str, cancel: Cancelled, nan_guard: NanGuard) -> None:
        super().__init__()
        self.save = save
        self.monitor = monitor
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._cancel = cancel
        self._nan_guard = nan_guard

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or self._cancel.cancelled or self._nan_guard.where is not None:
            return
        value = float(value)
        if self.best is None or value > self.best:
            self.best, self.best_epoch = value, epoch + 1
            self.save(self.model)


class ResumePoint(keras.callbacks.Callback):
    """Hands the model to ``save(model, epochs_done)`` after every complete epoch, for ``last.keras``;
    never from a cancelled or NaN epoch. Place it after :class:`BestCheckpoint`."""

    def __init__(self, save: Callable[[Any, int], None], cancel: Cancelled, nan_guard: NanGuard) -> None:
        super().__init__()
        self.save = save
        self._cancel = cancel
        self._nan_guard = nan_guard

    def on_epoch_end(self, epoch, logs=None):
        if not self._cancel.cancelled and self._nan_guard.where is None:
            self.save(self.model, epoch + 1)


class OneCycle(keras.callbacks.Callback):
    """The one-cycle schedule over one phase, set at every step: a linear warm-up from
    ``base_lr / WARMUP_DIVISOR`` to ``base_lr`` over the first ``WARMUP_SHARE`` of the phase's steps,
    then a cosine decay to ``base_lr / FINAL_DIVISOR``. Steps count from the phase's first batch (the
    run's epoch index ``first_epoch``), so a resumed run continues the curve where it stopped."""

    WARMUP_SHARE = 0.25
    WARMUP_DIVISOR = 25.0
    FINAL_DIVISOR = 1e4

    def __init__(self, base_lr: float, epochs: int, first_epoch: int = 0) -> None:
        super().__init__()
        self.base_lr, self.epochs, self.first_epoch = float(base_lr), max(int(epochs), 1), int(first_epoch)
        self._epoch_in_phase = 0

    def rate(self, step: int, total: int) -> float:
        """The rate at ``step`` (0-based) of ``total`` steps."""
        warm = max(1, int(round(total * self.WARMUP_SHARE)))
        low = self.base_lr / self.WARMUP_DIVISOR
        if step < warm:
            return low + (self.base_lr - low) * step / warm
        done = min(1.0, (step - warm) / max(1, total - warm))
        final = self.base_lr / self.FINAL_DIVISOR
        return final + (self.base_lr - final) * 0.5 * (1 + math.cos(math.pi * done))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_in_phase = epoch - self.first_epoch

    def on_train_batch_begin(self, batch, logs=None):
        steps = int(self.params.get("steps") or 0)
        if not steps:  # an unknown epoch length: fall back to one value per epoch
            steps, batch = 1, 0
        value = self.rate(self._epoch_in_phase * steps + batch, self.epochs * steps)
        self.model.optimizer.learning_rate.assign(value)


def learning_rate_callbacks(
    schedule: str, base_lr: float, epochs: int, monitor: str = "val_loss", first_epoch: int = 0
) -> list[keras.callbacks.Callback]:
    """Callbacks implementing the ``lr_schedule`` hyperparameter over one phase: ``epochs`` epochs
    from ``base_lr``, starting at the run's epoch index ``first_epoch``."""
    if schedule == "step":
        step = max(1, epochs // 3)
        return [keras.callbacks.LearningRateScheduler(lambda e, lr: base_lr * 0.5 ** ((e - first_epoch) // step))]
    if schedule == "cosine":
        return [keras.callbacks.LearningRateScheduler(
            lambda e, lr: base_lr * 0.5 * (1 + math.cos(math.pi * (e - first_epoch) / max(epochs, 1))))]
    if schedule == "one_cycle":
        return [OneCycle(base_lr, epochs, first_epoch)]
    if schedule == "reduce_on_plateau":
        return [keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.5, patience=2, min_lr=base_lr * 1e-3)]
    return []

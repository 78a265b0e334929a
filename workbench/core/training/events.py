"""Plain-Python training events: listeners and the cancel token.

The core never knows Qt. The GUI's worker passes the bound ``emit`` methods of its signals as these
listeners; the CLI passes functions that draw a progress bar or print JSON lines. Every payload is a
dict of plain floats, ints and strings.

Payloads:
- ``run_started``: ``{"run_dir", "template", "epochs", "steps_per_epoch", "num_train", "num_val",
  "class_names", "batch_size", "strategy", "replicas", "devices", "device", "workers", "global_batch_size",
  "learning_rate_scale", "mixed_precision"}``: ``batch_size`` is per replica, ``global_batch_size`` one
  step's over all replicas; ``device`` says in a few words which device(s) train (``"GPU:0 (NVIDIA H200)"``,
  ``"CPU:0"``, ``"2 × CPU"``), ``devices`` names each of this process's (see
  :mod:`workbench.core.training.distribute`); a log line says the same.
- ``phase_started``: ``{"name", "index", "count", "first_epoch", "last_epoch", "epochs", "learning_rate",
  "trainable_layers", "weighted_layers", "trainable_params"}`` before the first epoch of each phase
  (``index`` from 0 of ``count``; ``first_epoch`` is the phase's first epoch in the run's count from 1,
  also when a resumed run continues in the middle of it; ``trainable_layers`` of the ``weighted_layers``
  that hold weights train, ``trainable_params`` weights in all). A run without phases has one, "train".
- ``batch_ended`` (throttled to ~10 Hz): ``{"epoch", "step", "steps_per_epoch", "global_step",
  "total_steps", "loss", "accuracy", "samples_per_second"}``
- ``epoch_ended``: ``{"epoch", "epochs", "loss", "accuracy", "val_loss", "val_accuracy",
  "learning_rate", "elapsed", "eta", "samples_per_second"}`` (epochs count from 1, on through every
  phase of a run; ``epochs`` and ``total_steps`` cover all phases)
- ``run_finished``: ``{"status": "completed"|"cancelled"|"stopped_early"|"failed", "run_dir",
  "model_path", "best_val_accuracy", "epochs_run", "message"}``
- ``stage_started``: ``{"stage": "validating"|"saving"|"evaluating", "epoch", "message"}`` when the run
  leaves its batches for other work: validating at the end of an epoch, saving a checkpoint, and after
  the last batch evaluating the best model and saving the run's files (``epoch`` is the epoch it
  follows, None after the last; ``message`` says it in words). The next ``batch_ended`` means training
  again.
- ``log``: a line of text for the run's log.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

Listener = Callable[[dict[str, Any]], None]


def _ignore(_payload: Any) -> None:
    return None


@dataclass
class TrainingListeners:
    """Callables invoked by the trainer; any left out are ignored."""

    run_started: Listener = _ignore
    phase_started: Listener = _ignore
    batch_ended: Listener = _ignore
    epoch_ended: Listener = _ignore
    run_finished: Listener = _ignore
    log: Callable[[str], None] = _ignore
    stage_started: Listener = _ignore


class CancelToken:
    """A flag set from any thread; the trainer's callback checks it after every batch."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

"""FakeTrainingController: replays a synthetic run at 50 Hz for quick UI work on the training panel.

It has the TrainingController's signals, ``start``/``stop``/``stop_and_wait``/``running``, and
emits plausible payloads (see ``core.training.events``) from a GUI-thread QTimer — no TensorFlow,
no thread, so the panel can be laid out and screenshotted in seconds. A template trained in phases
(transfer_squeezenet) replays its phases, each announced by ``phase_started`` at its first epoch;
each epoch ends validating and saving, and the run evaluating and saving (``stage_started``).
"""

from __future__ import annotations

import math
import random

from PySide6.QtCore import QObject, QTimer, Signal, Slot

TICK_MS = 20  # 50 Hz


class FakeTrainingController(QObject):
    run_started = Signal(dict)
    phase_started = Signal(dict)
    batch_ended = Signal(dict)
    epoch_ended = Signal(dict)
    run_finished = Signal(dict)
    log = Signal(str)
    stage_started = Signal(dict)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, parent: QObject | None = None, steps_per_epoch: int = 40, batch_size: int = 32) -> None:
        super().__init__(parent)
        self._steps = steps_per_epoch
        self._batch_size = batch_size
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_tick)
        self._rng = random.Random(0)
        self._config = None
        self._epochs = 0
        self._phases: list[dict] = []
        self._step = 0
        self._cancelled = False

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self, config) -> None:
        if self.running:
            raise RuntimeError("A training run is already in progress")
        from workbench.core.templates import get_template

        self._config = config
        spec = get_template(config.template)
        hp = spec.resolve_hparams(config.hparams)
        self._phases, first = [], 1
        for phase in spec.phases_for(hp) or [{"name": "train", "epochs": hp["epochs"],
                                              "learning_rate": hp["learning_rate"]}]:
            self._phases.append({**phase, "first_epoch": first})
            first += int(phase["epochs"])
        self._epochs = first - 1
        self._step, self._cancelled = 0, False
        from workbench.core.training.distribute import plan_distribution

        # Where a real run would train on a machine without a GPU (mirrored: CPU replicas).
        plan = plan_distribution(getattr(config, "distribute", "none"), (), getattr(config, "cpu_replicas", None))
        self.run_started.emit({
            "run_dir": config.out_dir or "", "template": config.template, "epochs": self._epochs,
            "steps_per_epoch": self._steps, "num_train": self._steps * self._batch_size,
            "num_val": self._steps * self._batch_size // 4, "class_names": [str(i) for i in range(10)],
            "batch_size": self._batch_size, "strategy": plan.kind, "replicas": plan.replicas,
            "devices": list(plan.devices), "device": plan.device, "workers": 1,
            "global_batch_size": self._batch_size * plan.replicas, "learning_rate_scale": plan.learning_rate_scale,
            "mixed_precision": False,
        })
        self.log.emit(f"Replaying a synthetic {self._epochs}-epoch run (no TensorFlow involved)")
        self._timer.start()

    @Slot()
    def stop(self) -> None:
        self._cancelled = True

    def stop_and_wait(self, timeout_ms: int = 30_000) -> bool:
        if self.running:
            self._cancelled = True
            self._on_tick()
        return True

    def _curve(self, t: float, floor: float, noise: float) -> float:
        return 2.3 * math.exp(-t / 1.8) + floor + abs(self._rng.gauss(0, noise))

    @Slot()
    def _on_tick(self) -> None:
        if self._cancelled:
            self._end("cancelled")
            return
        self._step += 1
        epoch, step = divmod(self._step - 1, self._steps)
        epoch, step = epoch + 1, step + 1
        phase = self._phase_of(epoch)
        if step == 1 and epoch == phase["first_epoch"]:
            index = self._phases.index(phase)
            self.phase_started.emit({
                "name": phase["name"], "index": index, "count": len(self._phases), "first_epoch": epoch,
                "last_epoch": epoch + phase["epochs"] - 1, "epochs": phase["epochs"],
                "learning_rate": phase["learning_rate"], "trainable_layers": 2 + 3 * index,
                "weighted_layers": 28, "trainable_params": 5130 + 200_000 * index,
            })
            if len(self._phases) > 1:
                self.log.emit(f"Phase {index + 1}/{len(self._phases)} '{phase['name']}': epochs {epoch}–"
                              f"{epoch + phase['epochs'] - 1}, learning rate {phase['learning_rate']:g}")
        t = self._step / self._steps
        loss = self._curve(t, 0.05, 0.1)
        self.batch_ended.emit({
            "epoch": epoch, "step": step, "steps_per_epoch": self._steps, "global_step": self._step,
            "total_steps": self._epochs * self._steps, "loss": loss,
            "accuracy": min(1.0, max(0.0, 1.0 - loss / 2.5 + self._rng.gauss(0, 0.02))),
            "samples_per_second": 1000.0 / TICK_MS * self._batch_size * (0.95 + 0.1 * self._rng.random()),
        })
        if step == self._steps:
            self.stage_started.emit({"stage": "validating", "epoch": epoch,
                                     "message": f"Validating epoch {epoch}/{self._epochs}…"})
            val_loss = self._curve(epoch, 0.15, 0.03)
            self.epoch_ended.emit({
                "epoch": epoch, "epochs": self._epochs, "loss": self._curve(epoch, 0.05, 0.0),
                "accuracy": 1.0 - self._curve(epoch, 0.05, 0.0) / 2.5, "val_loss": val_loss,
                "val_accuracy": 1.0 - val_loss / 2.6, "learning_rate": phase["learning_rate"],
                "elapsed": self._step * TICK_MS / 1000, "eta": (self._epochs - epoch) * self._steps * TICK_MS / 1000,
                "samples_per_second": 1000.0 / TICK_MS * self._batch_size,
            })
            self.stage_started.emit({"stage": "saving", "epoch": epoch,
                                     "message": f"Saving the best model so far after epoch {epoch}…"})
            if epoch == self._epochs:
                num_val = self._steps * self._batch_size // 4
                self.stage_started.emit({"stage": "evaluating", "epoch": None,
                                         "message": f"Evaluating the best model on the {num_val:,} validation "
                                                    "samples…"})
                self.stage_started.emit({"stage": "saving", "epoch": None,
                                         "message": "Saving the run's history and sidecar…"})
                self._end("completed")

    def _phase_of(self, epoch: int) -> dict:
        return [phase for phase in self._phases if phase["first_epoch"] <= epoch][-1]

    def _end(self, status: str) -> None:
        self._timer.stop()
        epochs_run = self._step // self._steps
        message = "Replay finished." if status == "completed" else f"Stopped after {epochs_run} epoch(s)."
        self.log.emit(message)
        self.run_finished.emit({
            "status": status, "run_dir": self._config.out_dir or "", "model_path": "",
            "best_val_accuracy": 1.0 - self._curve(max(epochs_run, 1), 0.15, 0.0) / 2.6 if epochs_run else None,
            "epochs_run": epochs_run, "message": message,
        })
        self.finished.emit()

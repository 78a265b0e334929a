"""Training listeners for the terminal: a progress bar on a TTY, JSON lines with ``--json``."""

from __future__ import annotations

import json
import sys
from typing import Any

from workbench.core.training.events import TrainingListeners


def _json_event(name: str):
    def emit(payload: Any) -> None:
        data = {"event": name, **payload} if isinstance(payload, dict) else {"event": name, "message": payload}
        print(json.dumps(data), flush=True)
    return emit


def _format_seconds(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}:{seconds % 60:02d}"


class _ConsoleProgress:
    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()

    def batch(self, p: dict[str, Any]) -> None:
        if not self.tty:
            return
        width = 28
        done = int(width * p["step"] / p["steps_per_epoch"])
        bar = "█" * done + "·" * (width - done)
        self.stream.write(f"\repoch {p['epoch']} [{bar}] {p['step']}/{p['steps_per_epoch']} "
                          f"loss {p['loss']:.4f} acc {p['accuracy']:.4f} {p['samples_per_second']:.0f} samples/s ")
        self.stream.flush()

    def epoch(self, p: dict[str, Any]) -> None:
        val = "" if p["val_loss"] is None else f" val_loss {p['val_loss']:.4f} val_acc {p['val_accuracy']:.4f}"
        line = (f"epoch {p['epoch']}/{p['epochs']}: loss {p['loss']:.4f} acc {p['accuracy']:.4f}{val} "
                f"lr {p['learning_rate']:.2g} elapsed {_format_seconds(p['elapsed'])} eta {_format_seconds(p['eta'])}")
        self.stream.write(("\r\033[K" if self.tty else "") + line + "\n")
        self.stream.flush()

    def log(self, message: str) -> None:
        self.stream.write(("\r\033[K" if self.tty else "") + message + "\n")
        self.stream.flush()


def console_listeners(json_lines: bool = False) -> TrainingListeners:
    if json_lines:
        return TrainingListeners(run_started=_json_event("run_started"), phase_started=_json_event("phase_started"),
                                 batch_ended=_json_event("batch_ended"),
                                 epoch_ended=_json_event("epoch_ended"), run_finished=_json_event("run_finished"),
                                 log=_json_event("log"))
    progress = _ConsoleProgress(sys.stdout)
    # A phase's start is told by the core's log line ("Phase 2/2 'fine_tune': epochs 7–12, …").
    return TrainingListeners(batch_ended=progress.batch, epoch_ended=progress.epoch, log=progress.log)

"""Progress on the terminal: training listeners (a progress bar on a TTY, JSON lines with ``--json``),
and :class:`StderrProgress` for ``predict``, ``evaluate`` and ``scan``, whose results alone go to stdout."""

from __future__ import annotations

import json
import sys
import time
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


class StderrProgress:
    """A one-line progress bar on stderr while it is a terminal; nothing otherwise (a log or a pipe gets
    no carriage-return lines). Results stay on stdout: call :meth:`clear` before printing one, so that
    the bar never sits in front of it on a shared terminal. Also a context manager that clears on exit."""

    WIDTH = 28
    #: Seconds between redraws (the last step always draws).
    INTERVAL = 0.1

    def __init__(self, stream=None, live: bool | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        if live is None:
            try:
                live = bool(self.stream.isatty())
            except (AttributeError, ValueError, OSError):
                live = False
        self.live = live
        self.shown = False
        self._last = 0.0

    def update(self, stage: str, done: int, total: int) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if done < total and now - self._last < self.INTERVAL:
            return
        self._last = now
        filled = int(self.WIDTH * min(done, total) / total) if total else self.WIDTH
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        self.stream.write(f"\r\033[K{stage} [{bar}] {done}/{total}")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False

    def __enter__(self) -> "StderrProgress":
        return self

    def __exit__(self, *exc_info) -> None:
        self.clear()

"""The Training tab's readouts in words: the device line of a started run, durations, end statuses and
numbers that may be missing. Plain functions of the run's event payloads; no widgets."""

from __future__ import annotations

import math

from workbench.core.training.distribute import scaling_text, where_text

STATUS_TEXT = {"completed": "Completed", "cancelled": "Stopped", "stopped_early": "Stopped early",
               "failed": "Failed"}


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def device_text(info: dict, learning_rate: float | None = None) -> str:
    """Which device(s) a started run trains on, from its ``run_started`` payload ("" when it does not
    say): ``Training on CPU:0``, ``Training on 2 × CPU (mirrored) — global batch 128, learning rate 0.002
    (2 × 0.001)``; ``learning_rate``: the hyperparameter's, before scaling (None: not said)."""
    device = info.get("device") or ", ".join(info.get("devices") or ())
    if not device:
        return ""
    mixed = (info.get("compute_dtype") or True) if info.get("mixed_precision") else False
    text = "Training on " + where_text(str(device), str(info.get("strategy") or "none"), mixed)
    replicas = int(info.get("replicas") or 1)
    if replicas > 1 and info.get("batch_size"):
        text += " — " + scaling_text(int(info["batch_size"]), learning_rate, replicas,
                                     float(info.get("learning_rate_scale") or 1), per_replica=False)
    return text


def format_number(value, spec: str, missing: str = "—") -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return missing
    return format(number, spec) if math.isfinite(number) else missing


def finished_text(payload: dict) -> str:
    """The status line of a finished run, from its ``run_finished`` payload: ``Completed after 3 epoch(s):
    best validation accuracy 98.9%.``"""
    status = payload.get("status", "")
    best = payload.get("best_val_accuracy")
    best_text = (f"best validation accuracy {best:.1%}" if isinstance(best, (int, float))
                 else "no validation accuracy")
    return f"{STATUS_TEXT.get(status, status)} after {payload.get('epochs_run', 0)} epoch(s): {best_text}."

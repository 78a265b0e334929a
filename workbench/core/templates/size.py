"""How large a model will be, said before training: parameters, weights and the saved file.

A run saves ``model.keras`` and ``last.keras`` *with the optimizer's state*: Adam keeps two float32
slots per trainable weight, so the file holds about 12 bytes per trainable weight (a 44.9 M-weight
Flatten→Dense CNN wrote a 539 MB ``model.keras``), while an exported model holds 4 bytes per weight.
Plain arithmetic on the summary's counts; no Keras.
"""

from __future__ import annotations

from typing import Any

BYTES_PER_WEIGHT = 4  # float32
#: Slots each optimizer keeps per trainable weight (Adam: m and v; SGD: momentum 0.9; RMSprop: the mean square).
OPTIMIZER_SLOTS = {"adam": 2, "adamw": 2, "sgd": 1, "rmsprop": 1}
PARAMS_WARNING = 50_000_000
FILE_MB_WARNING = 200.0
MB = 1e6


def estimate_model_size(total_params: int, trainable_params: int, optimizer: str = "adam") -> dict[str, Any]:
    """``{"params", "trainable_params", "weights_mb", "file_mb", "run_folder_mb", "warning"}``:
    ``weights_mb`` is an exported model, ``file_mb`` a checkpoint with the optimizer's state,
    ``run_folder_mb`` its two checkpoints (``model.keras`` and ``last.keras``); ``warning`` is "" unless
    the model passes :data:`PARAMS_WARNING` parameters or :data:`FILE_MB_WARNING` MB a file."""
    total, trainable = int(total_params), int(trainable_params)
    slots = OPTIMIZER_SLOTS.get(optimizer, 2)
    weights_mb = total * BYTES_PER_WEIGHT / MB
    file_mb = (total + slots * trainable) * BYTES_PER_WEIGHT / MB
    warning = ""
    if total > PARAMS_WARNING or file_mb > FILE_MB_WARNING:
        warning = (f"Large model: {format_count(total)} parameters, each checkpoint about {file_mb:,.0f} MB "
                   f"(expected at most {format_count(PARAMS_WARNING)} parameters and {FILE_MB_WARNING:,.0f} MB). "
                   "Global pooling instead of Flatten, fewer dense units or a smaller input shrink it.")
    return {"params": total, "trainable_params": trainable, "weights_mb": round(weights_mb, 2),
            "file_mb": round(file_mb, 2), "run_folder_mb": round(2 * file_mb, 2), "warning": warning}


def format_count(count: int) -> str:
    """``44.9 M``, ``312 k``, ``950``."""
    if count >= 1_000_000:
        return f"{count / 1e6:.1f} M"
    if count >= 10_000:
        return f"{count / 1e3:.0f} k"
    return f"{count:,}"


def size_line(size: dict[str, Any]) -> str:
    """``"44.9 M parameters; model file ≈ 539 MB with the optimizer's state (weights 180 MB)"``."""
    return (f"{format_count(size['params'])} parameters; model file ≈ {_mb(size['file_mb'])} with the optimizer's "
            f"state (weights {_mb(size['weights_mb'])}, the run folder ≈ {_mb(size['run_folder_mb'])}).")


def _mb(value: float) -> str:
    return f"{value:,.0f} MB" if value >= 10 else f"{value:.1f} MB" if value >= 0.1 else f"{value * 1000:.0f} kB"

"""Fault injection: the real CLI in a subprocess, killed or starved of disk, and what it leaves.

Helpers shared by the fault tests: a small dataset that trains for a few improving epochs (so a run
writes several checkpoints), the CLI's environment, and :func:`check_run_folder`, which opens every
file a run folder holds the way the app and the CLI do.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import pattern_image, write_image
from tests.paths import REPO_ROOT as ROOT

# Noisy patterns and a low learning rate: validation accuracy climbs over a few epochs, so model.keras
# is rewritten several times early in a run (the moments the kill test aims at).
TRAIN_ARGS = ["--template", "simple_cnn", "--batch-size", "8", "--learning-rate", "3e-4"]


def cli_env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def workbench_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench", *args]


def run_workbench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(workbench_command(*args), env=cli_env(), cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def stderr_lines(stderr: str) -> list[str]:
    """stderr without TensorFlow's start-up chatter (absl/oneDNN/cuda lines printed before logging is set up)."""
    noise = ("WARNING: All log messages before absl::InitializeLog()", "I0000 ", "W0000 ", "E0000 ")
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(noise)]


@pytest.fixture(scope="session")
def noisy_dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults") / "data"
    rng = np.random.default_rng(0)
    for cls, kind in (("a_hbar", "hbar"), ("b_vbar", "vbar"), ("c_blob", "blob")):
        for i in range(20):
            write_image(root / cls / f"{cls}_{i:02d}.png", pattern_image(kind, 28, rng, noise=150.0))
    return root


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, noisy_dataset) -> Path:
    """A finished 2-epoch run folder (model.keras, model.json, last.keras, history.csv, evaluation.json)
    with its dataset beside it in ``../data`` (the sidecar names the data relative to itself, so the
    two can be copied elsewhere together)."""
    base = tmp_path_factory.mktemp("trained")
    shutil.copytree(noisy_dataset, base / "data")
    run_dir = base / "run"
    done = run_workbench("train", *TRAIN_ARGS, "--data", str(base / "data"), "--epochs", "2", "--out", str(run_dir))
    assert done.returncode == 0, done.stderr[-3000:]
    return run_dir


def is_temporary(name: str) -> bool:
    """A file ``workbench.core.atomic`` writes before renaming it over its target."""
    return name.startswith(".") and ".tmp" in name


def check_run_folder(run_dir: Path) -> dict:
    """Open every file of ``run_dir`` as the app and the CLI do; raise AssertionError if one is damaged.

    Returns what was found: ``{"files", "leftovers", "model_loads", "epochs", "sidecar_status",
    "sidecar_ahead_of_model"}``.
    """
    from workbench.core.inference import Predictor
    from workbench.core.project import run_summary
    from workbench.core.sidecar import read_sidecar
    from workbench.core.training.runfolder import lock_holder, read_resume_state, run_status

    names = sorted(os.listdir(run_dir)) if run_dir.is_dir() else []
    leftovers = [n for n in names if is_temporary(n)]
    real = [n for n in names if not is_temporary(n)]
    known = {"model.keras", "model.json", "last.keras", "history.csv", "evaluation.json", "run.lock"}
    assert set(real) <= known, f"unexpected files in {run_dir}: {sorted(set(real) - known)}"
    # A leftover temporary file is never taken for the model: it is hidden, and not named *.keras/*.json
    # alone (its name ends in .tmp.keras / .tmp.json, after a random part).
    for name in leftovers:
        assert name not in known and not name.startswith(("model.", "last.")), name
    found = {"files": real, "leftovers": leftovers, "model_loads": False, "epochs": 0, "sidecar_status": None,
             # Killed inside model.keras's write with an older model.keras in place: the sidecar, written
             # first, already describes the new checkpoint (best epoch, metrics) that never landed.
             "sidecar_ahead_of_model": "model.keras" in real and any(n.startswith(".model.keras.") for n in leftovers)}

    assert lock_holder(run_dir) is None if run_dir.is_dir() else True, "a killed run still holds its lock"
    epochs_in_history = None
    if "history.csv" in real:
        with open(run_dir / "history.csv", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows and rows[0][0] == "epoch", rows[:1]
        epochs = [int(row[0]) for row in rows[1:]]
        assert epochs == list(range(1, len(epochs) + 1)), f"history.csv epochs not consecutive: {epochs}"
        for row in rows[1:]:
            assert len(row) == len(rows[0]), f"short row in history.csv: {row}"
            [float(v) for v in row[1:]]
        epochs_in_history = len(epochs)
        found["epochs"] = len(epochs)
    if "model.json" in real:
        sidecar = read_sidecar(run_dir / "model.keras")
        found["sidecar_status"] = sidecar.get("status")
        summary = run_summary(run_dir)  # what the Runs panel lists
        assert summary is not None and summary["template"] == "simple_cnn", summary
    if "model.keras" in real:
        assert "model.json" in real, "model.keras without its sidecar"
        predictor = Predictor.load(run_dir / "model.keras")
        assert predictor.class_names == ["a_hbar", "b_vbar", "c_blob"]
        x = np.zeros((1, *predictor.input_shape), np.float32)
        assert np.isfinite(predictor.predict_arrays(x)).all()
        found["model_loads"] = True
        status = run_status(run_dir)
        assert status.status in ("interrupted", "completed", "stopped_early", "cancelled", "failed"), status
    if "last.keras" in real:
        import keras

        state = read_resume_state(run_dir / "last.keras")
        assert state is not None, "last.keras without its resume state"
        keras.models.load_model(run_dir / "last.keras", compile=False)
        if epochs_in_history is not None:
            # history.csv is rewritten before last.keras after every epoch, so it is never behind
            assert epochs_in_history >= state["epochs_done"], (epochs_in_history, state["epochs_done"])
    if "evaluation.json" in real:
        json.loads((run_dir / "evaluation.json").read_text())
    return found

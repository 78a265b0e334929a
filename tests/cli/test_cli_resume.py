"""``workbench train`` stopped for real (SIGINT, SIGKILL) in a subprocess leaves a run folder that opens,
reads as cancelled / interrupted, and ``--resume`` finishes; a used ``--out`` is refused."""

from __future__ import annotations

import csv
import math
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import write_image_dataset
from workbench.cli import run_cli
from workbench.core.inference import Predictor
from workbench.core.sidecar import read_sidecar, write_sidecar
from workbench.core.training import run_status

REPO_ROOT = Path(__file__).resolve().parents[2]
BATCH = 4


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_image_dataset(tmp_path_factory.mktemp("cli-resume") / "data", {"down": 12, "up": 12}, seed=6)


def _rows(run: Path) -> list[int]:
    try:
        with (run / "history.csv").open() as handle:
            return [int(row["epoch"]) for row in csv.DictReader(handle)]
    except (FileNotFoundError, KeyError, ValueError):
        return []


@dataclass
class Stopped:
    """A ``workbench train`` subprocess stopped by ``signal``, ``delay`` s after its ``ready`` moment."""

    run: Path
    epochs: int
    signal: int
    delay: float
    returncode: int | None = None
    finished_first: bool = False  # the run ended before the signal: the test could not say anything
    stderr: str = ""


def _train_and_stop(data: Path, folder: Path, stop: Stopped, ready) -> None:
    """Runs in a thread, so that both scenarios' subprocesses load TensorFlow at the same time."""
    argv = [sys.executable, "-m", "workbench", "train", "--template", "simple_cnn", "--data", str(data),
            "--epochs", str(stop.epochs), "--batch-size", str(BATCH), "--seed", "1", "--out", str(stop.run), "--json"]
    with (folder / "out.txt").open("w") as out, (folder / "err.txt").open("w") as err:
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=out, stderr=err)
        deadline = time.monotonic() + 240
        while not ready(stop.run) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(stop.delay)
        stop.finished_first = proc.poll() is not None
        proc.send_signal(stop.signal)
        try:
            stop.returncode = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            stop.returncode = proc.wait()
    stop.stderr = (folder / "err.txt").read_text()


@pytest.fixture(scope="module")
def stopped(data, tmp_path_factory) -> dict[str, Stopped]:
    """One run Ctrl-C'd as its 2nd epoch's history row appears, one SIGKILLed at a random moment after
    its first checkpoint; both subprocesses run at once."""
    root = tmp_path_factory.mktemp("stopped")
    runs = {"sigint": (Stopped(root / "sigint" / "run", 8, signal.SIGINT, 0.0), lambda run: len(_rows(run)) >= 2),
            "sigkill": (Stopped(root / "sigkill" / "run", 12, signal.SIGKILL, random.uniform(0.0, 0.25)),
                        lambda run: (run / "model.keras").exists())}
    threads = []
    for name, (stop, ready) in runs.items():
        (root / name).mkdir()
        threads.append(threading.Thread(target=_train_and_stop, args=(data, root / name, stop, ready)))
        threads[-1].start()
    for thread in threads:
        thread.join()
    return {name: stop for name, (stop, _) in runs.items()}


def _workbench_lines(text: str) -> list[str]:
    """stderr lines of the CLI itself (TensorFlow's native start-up logging aside)."""
    return [line for line in text.splitlines() if line.startswith("workbench")]


def _assert_resumes_to_the_end(run: Path, epochs: int, capsys) -> None:
    import keras

    assert run_cli(["train", "--resume", str(run)]) == 0, capsys.readouterr().err
    assert _rows(run) == list(range(1, epochs + 1))  # no gap, no duplicate
    sidecar = read_sidecar(run / "model.keras")
    assert sidecar["status"] == "completed" and len(sidecar["history"]["loss"]) == epochs
    steps = math.ceil(sidecar["split"]["num_train"] / BATCH)
    assert int(keras.models.load_model(run / "last.keras").optimizer.iterations) == steps * epochs
    assert run_status(run).status == "completed"


def test_ctrl_c_ends_the_run_cleanly_and_resume_finishes_it(stopped, capsys):
    stop = stopped["sigint"]
    run = stop.run
    assert not stop.finished_first, stop.stderr
    assert stop.returncode == 130, stop.stderr
    assert "Traceback" not in stop.stderr and len(_workbench_lines(stop.stderr)) == 1, stop.stderr
    assert "workbench train --resume" in _workbench_lines(stop.stderr)[0]
    done = _rows(run)
    assert done == list(range(1, len(done) + 1)) and 2 <= len(done) < stop.epochs
    assert read_sidecar(run / "model.keras")["status"] == "cancelled"
    assert run_status(run).status == "cancelled" and run_status(run).epochs_run == len(done)
    assert Predictor.load(run / "model.keras").class_names == ["down", "up"]

    _assert_resumes_to_the_end(run, stop.epochs, capsys)


def test_a_run_killed_at_a_random_moment_reads_interrupted_and_resumes(stopped, data, capsys):
    stop = stopped["sigkill"]
    run = stop.run
    assert not stop.finished_first, f"the run finished before the kill {stop.delay:.2f} s after its first checkpoint"
    assert stop.returncode == -signal.SIGKILL, stop.stderr
    state = run_status(run)
    assert state.status == "interrupted" and state.resumable, (stop.delay, state)
    assert read_sidecar(run / "model.keras")["status"] == "running"
    assert Predictor.load(run / "model.keras").class_names == ["down", "up"]
    assert run_cli(["predict", "--model", str(run / "model.keras"), str(next((data / "up").iterdir()))]) == 0
    capsys.readouterr()

    _assert_resumes_to_the_end(run, stop.epochs, capsys)


def _one_error_line(capsys, argv: list[str], expected: str) -> str:
    code = run_cli(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in captured.err, captured
    assert lines[0].startswith("workbench ") and expected in lines[0], lines[0]
    return lines[0]


def test_train_refuses_a_used_file_or_unwritable_out_and_resume_misuse(data, tmp_path, capsys):
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    (tmp_path / "file").write_text("x")
    base = ["train", "--template", "simple_cnn", "--data", str(data), "--epochs", "1", "--out"]
    line = _one_error_line(capsys, base + [str(used)], "Expected an empty or new run folder")
    assert line.endswith(f"Received: {used} holds notes.txt")
    _one_error_line(capsys, base + [str(tmp_path / "file")], "is a file")
    _one_error_line(capsys, base + [str(tmp_path / "file" / "run")], "Expected a run folder that can be written")
    _one_error_line(capsys, base + ["/proc/workbench-run"], "Expected a run folder that can be written")
    assert [p.name for p in used.iterdir()] == ["notes.txt"]

    _one_error_line(capsys, ["train", "--resume", str(used), "--batch-size", "8"],
                    "Expected only --epochs and --json with --resume")
    _one_error_line(capsys, ["train", "--resume", str(used)], "Expected a run folder written by 'workbench train'")
    _one_error_line(capsys, ["train", "--epochs", "1"], "Expected --template and --data (or --resume RUN_DIR)")


def test_evaluate_and_predict_refuse_a_model_from_another_run_than_its_sidecar(data, tmp_path, capsys):
    import keras

    model = tmp_path / "run" / "model.keras"
    model.parent.mkdir()
    keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(3)]).save(model)
    write_sidecar(model, {"class_names": [f"digit{i}" for i in range(10)], "input_shape": [28, 28, 1],
                          "modality": "image", "output": "softmax", "status": "running"})
    expected = "Expected a model with 10 outputs for the sidecar's 10 classes. Received: 3 outputs in"
    _one_error_line(capsys, ["evaluate", "--model", str(model), "--data", str(data)], expected)
    _one_error_line(capsys, ["predict", "--model", str(model), str(next((data / "up").iterdir()))], expected)

"""An unfinished run resumes in its own folder; a killed run reads as interrupted; a used folder is
refused; a model and a sidecar that do not belong together are refused."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import write_image_dataset
from workbench.core.errors import DatasetError, ModelFileError
from workbench.core.inference import Predictor
from workbench.core.sidecar import read_sidecar, write_sidecar
from workbench.core.training import (CancelToken, RunFolderError, TrainConfig, TrainingListeners, interrupted_note,
                                     resume, run_status, train)
from workbench.core.training.runfolder import LOCK_FILE, RunLock, read_resume_state

EPOCHS = 4
STEPS = 2  # 16 training samples in batches of 8


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_image_dataset(tmp_path_factory.mktemp("resume") / "data", {"down": 10, "up": 10}, seed=4)


def _config(data, out, epochs=EPOCHS) -> TrainConfig:
    return TrainConfig("simple_cnn", str(data), {"epochs": epochs, "batch_size": 8, "seed": 3}, out_dir=str(out))


def _csv_epochs(path: Path) -> list[int]:
    with path.open() as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def _cancel_after(epoch: int, cancel: CancelToken) -> TrainingListeners:
    return TrainingListeners(epoch_ended=lambda p: p["epoch"] == epoch and cancel.cancel())


@pytest.fixture(scope="module")
def cancelled_run(data, tmp_path_factory) -> Path:
    """A run stopped by the user after its 2nd epoch (the run folder a Stop or Ctrl-C leaves)."""
    run = tmp_path_factory.mktemp("cancelled") / "run"
    cancel = CancelToken()
    result = train(_config(data, run), _cancel_after(2, cancel), cancel)
    assert result.status == "cancelled", result.message
    return run


def test_a_cancelled_run_resumes_from_its_last_epoch_with_its_optimizer_state(cancelled_run, tmp_path):
    import keras

    run = tmp_path / "run"
    shutil.copytree(cancelled_run, run)
    before = run_status(run)
    assert (before.status, before.epochs_run, before.total_epochs, before.resumable) == ("cancelled", 2, EPOCHS, True)
    assert "workbench train --resume" in interrupted_note(run / "model.keras")
    assert not (run / LOCK_FILE).exists()  # released with the final sidecar
    seen: list[tuple[int, str]] = []

    result = resume(run, TrainingListeners(epoch_ended=lambda p: seen.append((p["epoch"], run_status(run).status))))

    assert result.status == "completed", result.message
    assert seen == [(3, "running"), (4, "running")]  # the sidecar says running again, and the lock is held
    assert _csv_epochs(run / "history.csv") == [1, 2, 3, 4]
    sidecar = read_sidecar(run / "model.keras")
    assert sidecar["status"] == "completed" and len(sidecar["history"]["loss"]) == EPOCHS
    assert sidecar["resumed"][0]["epoch"] == 2 and (run / "evaluation.json").exists()
    # The best checkpoint went on from the recorded best: the first epoch with the highest value.
    val = sidecar["history"]["val_accuracy"]
    assert sidecar["final_metrics"]["best_epoch"] == val.index(max(val)) + 1
    last = keras.models.load_model(run / "last.keras", compile=True)
    assert int(last.optimizer.iterations) == STEPS * EPOCHS  # the optimizer went on, it did not restart
    assert read_resume_state(run / "last.keras")["epochs_done"] == EPOCHS
    assert run_status(run).status == "completed" and not run_status(run).resumable

    with pytest.raises(RunFolderError, match=r"Expected an unfinished run, or --epochs larger than the 4"):
        resume(run)
    with pytest.raises(RunFolderError, match=r"Expected --epochs larger than the 4 .*Received: --epochs 4"):
        resume(run, epochs=4)
    more = resume(run, epochs=EPOCHS + 1)  # a completed run continues to a larger total
    assert more.status == "completed" and _csv_epochs(run / "history.csv") == [1, 2, 3, 4, 5]
    assert int(keras.models.load_model(run / "last.keras").optimizer.iterations) == STEPS * (EPOCHS + 1)


def test_a_keyboard_interrupt_marks_the_run_interrupted_and_keeps_its_history(data, tmp_path):
    run = tmp_path / "run"

    def interrupt(payload):  # Ctrl-C inside epoch 3 (the last batch always reports)
        if payload["epoch"] == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_config(data, run), TrainingListeners(batch_ended=interrupt))

    assert read_sidecar(run / "model.keras")["status"] == "interrupted"
    assert _csv_epochs(run / "history.csv") == [1, 2] and not (run / LOCK_FILE).exists()
    assert run_status(run).status == "interrupted" and run_status(run).resumable
    Predictor.load(run / "model.keras")


def test_a_running_sidecar_reads_interrupted_once_no_live_process_holds_the_run(cancelled_run, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("model.keras", "model.json"):
        (run / name).write_bytes((cancelled_run / name).read_bytes())
    write_sidecar(run / "model.keras", {**read_sidecar(run / "model.keras"), "status": "running"})
    assert run_status(run).status == "interrupted"  # nobody holds it: a killed run

    lock = RunLock(run)  # this process (the GUI trains in a thread of the process that shows the run)
    assert lock.acquire()
    try:
        state = run_status(run)
        assert state.status == "running" and not state.resumable and state.holder["pid"] > 0
        with pytest.raises(RunFolderError, match="being trained by another process"):
            resume(run)
    finally:
        lock.release()

    # Another process holds it, then is killed: the kernel drops its lock and the run reads interrupted.
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from workbench.core.training.runfolder import RunLock; "
        f"lock = RunLock({str(run)!r}); assert lock.acquire(); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        assert run_status(run).status == "running" and run_status(run).holder["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()
    assert run_status(run).status == "interrupted"
    assert (run / LOCK_FILE).exists()  # stale after a kill; harmless, the next owner locks it again


def test_a_new_run_refuses_a_used_file_or_unwritable_out_before_any_work(tmp_path):
    missing_data = str(tmp_path / "no-such-data")  # a scan would fail with DatasetError: the folder check is first
    used = tmp_path / "used"
    used.mkdir()
    (used / "model.json").write_text("{}")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    cases = [(used, r"^Expected an empty or new run folder.*Received: .*used holds model.json$"),
             (a_file, r"^Expected an empty or new run folder. Received: .*file is a file$"),
             (a_file / "run", r"^Expected a run folder that can be written. Received: .*file/run \(Not a directory\)"),
             (Path("/proc/workbench-run"),
              r"^Expected a run folder that can be written. Received: /proc/workbench-run")]
    for out, message in cases:
        with pytest.raises(RunFolderError, match=message):
            train(TrainConfig("simple_cnn", missing_data, out_dir=str(out)))
    assert sorted(p.name for p in used.iterdir()) == ["model.json"]

    # An empty folder is fine, and a failed start leaves it as it was; one it made is removed again.
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "new" / "run"):
        with pytest.raises(DatasetError):
            train(TrainConfig("simple_cnn", missing_data, out_dir=str(out)))
    assert list((tmp_path / "empty").iterdir()) == [] and not (tmp_path / "new").exists()


def test_resume_refuses_what_it_cannot_continue(cancelled_run, data, tmp_path):
    with pytest.raises(RunFolderError, match="Expected a run folder written by 'workbench train'"):
        resume(tmp_path / "nothing")
    run = tmp_path / "run"
    shutil.copytree(cancelled_run, run)
    changed = tmp_path / "changed"
    shutil.copytree(data, changed)
    write_image_dataset(changed, {"down": 0, "up": 0, "sideways": 4}, seed=9)
    sidecar = read_sidecar(run / "model.keras")
    write_sidecar(run / "model.keras", {**sidecar, "dataset": {**sidecar["dataset"], "path": str(changed)}})
    with pytest.raises(DatasetError, match=r"Expected the run's dataset with classes \['down', 'up'\]"):
        resume(run)
    (run / "last.keras").unlink()
    with pytest.raises(RunFolderError, match="Expected last.keras"):
        resume(run)
    assert not (run / LOCK_FILE).exists()


def test_a_run_killed_before_its_first_resume_point_landed_restarts_and_finishes(cancelled_run, tmp_path):
    # The folder a kill leaves between the first epoch's checkpoint (model.keras, a sidecar with one epoch
    # of history) and its first last.keras: the run restarts from scratch rather than refusing.
    run = tmp_path / "run"
    shutil.copytree(cancelled_run, run)
    (run / "last.keras").unlink()
    sidecar = read_sidecar(run / "model.keras")
    one_epoch = {name: values[:1] for name, values in sidecar["history"].items()}
    write_sidecar(run / "model.keras", {**sidecar, "status": "running", "history": one_epoch})
    (run / "history.csv").write_text((run / "history.csv").read_text().splitlines()[0] + "\n")
    state = run_status(run)
    assert state.status == "interrupted" and state.resumable
    logs = []
    result = resume(run, TrainingListeners(log=logs.append))
    assert result.status == "completed", result.message
    assert any(line.startswith(f"Restarting {run} from its first epoch") for line in logs), logs
    assert _csv_epochs(run / "history.csv") == list(range(1, EPOCHS + 1))
    assert read_resume_state(run / "last.keras")["epochs_done"] == EPOCHS
    assert [entry["epoch"] for entry in read_sidecar(run / "model.keras")["resumed"]] == [0]


def test_predictor_refuses_a_model_whose_outputs_do_not_match_the_sidecar(tmp_path):
    import keras

    def save(outputs: int, classes: int, output: str = "softmax") -> Path:
        path = tmp_path / f"m{outputs}-{classes}-{output}" / "model.keras"
        path.parent.mkdir()
        keras.Sequential([keras.Input((4,)), keras.layers.Dense(outputs)]).save(path)
        write_sidecar(path, {"class_names": [f"c{i}" for i in range(classes)], "input_shape": [4],
                             "modality": "image", "output": output, "status": "running"})
        return path

    with pytest.raises(ModelFileError, match=r"^Expected a model with 10 outputs for the sidecar's 10 classes. "
                                             r"Received: 3 outputs in .*model.keras$"):
        Predictor.load(save(3, 10))
    with pytest.raises(ModelFileError, match="Expected a model with 1 output for the sidecar's 2 classes"):
        Predictor.load(save(3, 2, "sigmoid"))
    assert Predictor.load(save(1, 2, "sigmoid")).class_names == ["c0", "c1"]
    assert Predictor.load(save(3, 3)).class_names == ["c0", "c1", "c2"]


def test_run_status_needs_no_tensorflow(cancelled_run):
    """The GUI's panels read it at startup, before TensorFlow has loaded."""
    code = ("import sys; from workbench.core.training.runfolder import run_status; "
            f"state = run_status({str(cancelled_run)!r}); assert state.status == 'cancelled', state; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr

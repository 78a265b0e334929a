"""The run folder while a run is going: sidecar with the first checkpoint, history after every epoch,
atomic checkpoints, and writes from the chief worker only."""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers import write_image_dataset
from workbench.core.inference import Predictor
from workbench.core.training import TrainConfig, TrainingListeners, train
from workbench.core.training import callbacks as training_callbacks
from workbench.core.training.artefacts import RunArtefacts, is_chief
from workbench.core.training.runfolder import run_status

RUN_FILES = {"model.keras", "model.json", "last.keras", "history.csv", "evaluation.json"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_image_dataset(tmp_path_factory.mktemp("artefacts") / "data", {"down": 10, "up": 10}, seed=2)


def _config(data, out, epochs=3, **kwargs) -> TrainConfig:
    return TrainConfig("simple_cnn", str(data), {"epochs": epochs, "batch_size": 8, "seed": 5}, out_dir=str(out),
                       **kwargs)


def _csv_epochs(path: Path) -> list[int]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def test_a_running_run_has_a_loadable_model_sidecar_and_history_after_its_first_epoch(data, tmp_path,
                                                                                      monkeypatch):
    monkeypatch.setattr(training_callbacks, "BATCH_EVENT_INTERVAL_S", 0.0)  # every first batch reports
    run = tmp_path / "run"
    seen: dict[int, dict] = {}

    def on_batch(payload):
        if payload["step"] != 1:
            return
        sidecar = run / "model.json"
        seen[payload["epoch"]] = {
            "sidecar": json.loads(sidecar.read_text()) if sidecar.exists() else None,
            "csv_epochs": _csv_epochs(run / "history.csv"),
            "files": {p.name for p in run.iterdir()},
        }
        if payload["epoch"] == 2:
            shutil.copytree(run, tmp_path / "killed_here")  # what a kill in epoch 2 would leave

    result = train(_config(data, run), TrainingListeners(batch_ended=on_batch))

    assert result.status == "completed", result.message
    assert seen[1] == {"sidecar": None, "csv_epochs": [], "files": {"run.lock"}}  # held while the run lives
    assert seen[2]["files"] == {"model.keras", "model.json", "last.keras", "history.csv", "run.lock"}
    assert seen[2]["sidecar"]["status"] == "running"
    assert len(seen[2]["sidecar"]["history"]["loss"]) == 1 and seen[2]["sidecar"]["final_metrics"]["best_epoch"] == 1
    assert seen[2]["csv_epochs"] == [1] and seen[3]["csv_epochs"] == [1, 2]
    assert _csv_epochs(run / "history.csv") == [1, 2, 3]
    assert json.loads((run / "model.json").read_text())["status"] == "completed"
    assert {p.name for p in run.iterdir()} == RUN_FILES  # no temporary file left behind, the lock released

    predictor = Predictor.load(tmp_path / "killed_here" / "model.keras")
    assert predictor.class_names == ["down", "up"]
    assert run_status(tmp_path / "killed_here").status == "interrupted"  # "running", but nobody holds it


@pytest.mark.parametrize("mixed", [False, True], ids=["float32", "mixed-bfloat16"])
def test_checkpoints_are_saved_beside_the_model_and_renamed_over_it(data, tmp_path, monkeypatch, mixed):
    import keras

    monkeypatch.setenv("WORKBENCH_CPU_BFLOAT16", "1" if mixed else "0")  # the machine's default either way
    targets: list[Path] = []
    save = keras.Model.save
    monkeypatch.setattr(keras.Model, "save", lambda self, path, *a, **k: targets.append(Path(path)) or
                        save(self, path, *a, **k))

    result = train(_config(data, tmp_path / "run", epochs=2))

    assert result.status == "completed"
    checkpoints = [t for t in targets if t.name.startswith(".model.keras.")]
    resume_points = [t for t in targets if t.name.startswith(".last.keras.")]
    assert len(checkpoints) + len(resume_points) == len(targets) and checkpoints  # epoch 1 is the best so far
    if mixed:  # its checkpoint computes in float32, no copy of the mixed model: each resume point is serialised
        assert len(resume_points) == 2
        assert {layer.dtype_policy.name for layer in keras.models.load_model(result.model_path).layers} == {"float32"}
    else:  # one serialisation per epoch: last.keras is a copy of model.keras when that epoch was the best
        assert len(targets) == 2
    for target in targets:
        assert target.parent == result.run_dir and target.name != "model.keras" and target.suffix == ".keras"
        assert not target.exists()


def test_a_checkpoint_write_that_fails_halfway_leaves_the_previous_model(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    artefacts = RunArtefacts(tmp_path / "run", setup=None)
    artefacts.save_model(model)
    before = artefacts.model_path.read_bytes()

    def broken_save(path, *args, **kwargs):
        Path(path).write_bytes(before[: len(before) // 2])
        raise OSError("No space left on device")

    model.save = broken_save
    with pytest.raises(OSError, match="No space"):
        artefacts.save_model(model)

    assert artefacts.model_path.read_bytes() == before
    assert [p.name for p in artefacts.folder.iterdir()] == ["model.keras"]
    assert keras.models.load_model(artefacts.model_path).output_shape == (None, 2)


class FakeMultiWorker:
    """What ``is_chief`` reads of a MultiWorkerMirroredStrategy; its scope is the default strategy's."""

    def __init__(self, task_type, task_id, jobs=("worker",), multi_worker=True) -> None:
        self.extended = SimpleNamespace(_in_multi_worker_mode=lambda: multi_worker)
        spec = SimpleNamespace(as_dict=lambda: {job: ["host:1"] for job in jobs})
        self.cluster_resolver = SimpleNamespace(task_type=task_type, task_id=task_id, cluster_spec=lambda: spec)

    def scope(self):
        return contextlib.nullcontext()


@pytest.mark.parametrize(("strategy", "chief"), [
    (None, True),
    (FakeMultiWorker("worker", 1, multi_worker=False), True),  # one worker: it is the chief
    (FakeMultiWorker("chief", 0, ("chief", "worker")), True),
    (FakeMultiWorker("worker", 0, ("chief", "worker")), False),
    (FakeMultiWorker("worker", 0), True),  # no chief task: worker 0 is the chief
    (FakeMultiWorker("worker", 1), False),
    (FakeMultiWorker(None, None), True),
])
def test_is_chief(strategy, chief):
    assert is_chief(strategy) is chief


def test_real_strategies_are_chief():
    import tensorflow as tf

    assert is_chief(tf.distribute.OneDeviceStrategy("/cpu:0"))
    assert is_chief(tf.distribute.MirroredStrategy(["/cpu:0"]))


def test_a_non_chief_worker_leaves_the_run_folder_alone(data, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    finished: list[dict] = []

    result = train(_config(data, tmp_path / "run", epochs=1, strategy=FakeMultiWorker("worker", 1)),
                   TrainingListeners(run_finished=finished.append))

    assert result.status == "completed", result.message
    assert result.model_path is None and finished[0]["model_path"] == ""
    assert result.run_dir == tmp_path / "run" and not (tmp_path / "run").exists()
    assert list(scratch.iterdir()) == []  # the worker's scratch folder is gone
    assert len(result.history["loss"]) == 1

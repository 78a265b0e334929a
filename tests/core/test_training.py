"""Training runs end to end on tiny synthetic datasets: artefacts, events, cancel, NaN, seeds,
learning-rate schedules, early stopping, binary models and dataset errors."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import write_image_dataset
from workbench.core.errors import DatasetError
from workbench.core.inference import Predictor
from workbench.core.sidecar import read_sidecar
from workbench.core.templates import TemplateSpec, list_templates
from workbench.core.templates import registry as template_registry
from workbench.core.templates.base import training_hyperparameters
from workbench.core.training import CancelToken, TrainConfig, TrainingListeners, train
from workbench.core.training import callbacks as training_callbacks

SIDECAR_KEYS = ("template", "hyperparameters", "augmentation", "class_names", "preprocessing", "dataset",
                "split", "seed", "versions", "history", "final_metrics")


class Recorder:
    """Listeners that keep every event in order."""

    def __init__(self, on_batch=None) -> None:
        self.events: list[tuple[str, object]] = []
        self._on_batch = on_batch

    def _record(self, name):
        def listener(payload):
            self.events.append((name, payload))
            if name == "batch_ended" and self._on_batch is not None:
                self._on_batch(payload)
        return listener

    def listeners(self) -> TrainingListeners:
        return TrainingListeners(**{name: self._record(name) for name in
                                    ("run_started", "batch_ended", "epoch_ended", "run_finished", "log",
                                     "stage_started")})

    def of(self, name: str) -> list:
        return [payload for event, payload in self.events if event == name]


@pytest.fixture(scope="module")
def unthrottled():
    """Every batch reports, so counting batch events counts batches."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training_callbacks, "BATCH_EVENT_INTERVAL_S", 0.0)
        yield


@pytest.fixture
def register(monkeypatch):
    """Register a template for one test only."""
    list_templates()  # load the built-ins first

    def add(spec: TemplateSpec) -> TemplateSpec:
        monkeypatch.setitem(template_registry._registry, spec.id, spec)
        return spec

    return add


@pytest.fixture(scope="module")
def three_classes(tmp_path_factory) -> Path:
    root = write_image_dataset(tmp_path_factory.mktemp("train") / "data")  # 3 classes × 20
    (root / "a_hbar" / "broken.png").write_bytes(b"")  # skipped by the scan, never crashes the run
    return root


@pytest.fixture(scope="module")
def two_classes(tmp_path_factory) -> Path:
    return write_image_dataset(tmp_path_factory.mktemp("binary") / "data", {"down": 10, "up": 10}, seed=4)


def _config(data, out, **hparams) -> TrainConfig:
    base = {"epochs": 2, "batch_size": 8, "seed": 11}
    return TrainConfig("simple_cnn", str(data), {**base, **hparams}, out_dir=str(out))


@pytest.fixture(scope="module")
def completed(three_classes, tmp_path_factory, unthrottled):
    recorder = Recorder()
    result = train(_config(three_classes, tmp_path_factory.mktemp("run") / "run"), recorder.listeners())
    return result, recorder


def test_run_folder_has_model_sidecar_history_and_evaluation(completed, three_classes):
    result, _ = completed
    run = result.run_dir
    assert result.status == "completed", result.message
    assert result.model_path == run / "model.keras" and result.model_path.is_file()

    sidecar = json.loads((run / "model.json").read_text())
    for key in SIDECAR_KEYS:
        assert key in sidecar, f"sidecar lacks {key!r}"
    assert sidecar["template"] == "simple_cnn"
    assert sidecar["class_names"] == ["a_hbar", "b_vbar", "c_blob"]
    assert sidecar["output"] == "softmax"
    assert sidecar["hyperparameters"]["epochs"] == 2 and sidecar["seed"] == 11
    assert sidecar["history"] == result.history
    assert sidecar["split"]["num_train"] + sidecar["split"]["num_val"] == 60
    # stored relative to the run folder or absolute, depending on the sidecar's version: compare as read
    assert Path(read_sidecar(result.model_path)["dataset"]["path"]).resolve() == three_classes.resolve()
    assert [Path(u["path"]).name for u in sidecar["dataset"]["scan"]["unreadable"]] == ["broken.png"]
    assert {"tensorflow", "keras", "numpy", "python"} <= set(sidecar["versions"])
    assert sidecar["final_metrics"]["epochs_run"] == 2

    with (run / "history.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    assert [float(r["loss"]) for r in rows] == pytest.approx(result.history["loss"])

    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["num_samples"] == sidecar["split"]["num_val"]
    assert len(evaluation["confusion_matrix"]) == 3
    assert evaluation["accuracy"] == result.final_metrics["val_accuracy"]
    assert evaluation["accuracy"] > 1 / 3, "two epochs on three easy patterns should beat chance"


def test_listeners_receive_every_event(completed):
    result, recorder = completed
    names = [name for name, _ in recorder.events if name not in ("log", "stage_started")]
    assert names[0] == "run_started" and names[-1] == "run_finished"

    started = recorder.of("run_started")[0]
    assert started["epochs"] == 2 and started["batch_size"] == 8
    assert started["class_names"] == ["a_hbar", "b_vbar", "c_blob"]
    steps = started["steps_per_epoch"]
    assert steps == math.ceil(started["num_train"] / 8)

    batches = recorder.of("batch_ended")
    assert len(batches) == 2 * steps
    assert [b["global_step"] for b in batches] == list(range(1, 2 * steps + 1))
    assert [b["step"] for b in batches] == list(range(1, steps + 1)) * 2
    assert all(b["total_steps"] == 2 * steps and math.isfinite(b["loss"]) for b in batches)

    epochs = recorder.of("epoch_ended")
    assert [e["epoch"] for e in epochs] == [1, 2]
    for e in epochs:
        assert e["val_loss"] is not None and e["val_accuracy"] is not None
        assert e["learning_rate"] == pytest.approx(1e-3)
        assert e["eta"] >= 0 and e["elapsed"] > 0
    assert epochs[-1]["eta"] == 0
    assert [e["loss"] for e in epochs] == pytest.approx(result.history["loss"])

    finished = recorder.of("run_finished")[0]
    assert finished["status"] == "completed" and finished["epochs_run"] == 2
    assert finished["model_path"] == str(result.model_path)
    assert any("Training" in line for line in recorder.of("log"))


def test_after_the_last_batch_the_run_says_it_is_validating_evaluating_and_saving(completed):
    _, recorder = completed
    last_batch = max(i for i, (name, _) in enumerate(recorder.events) if name == "batch_ended")
    after = [(p["stage"], p["epoch"]) for name, p in recorder.events[last_batch:] if name == "stage_started"]
    # The last epoch's validation and checkpoint, then the best model's evaluation and the run's files.
    assert after[0] == ("validating", 2) and ("saving", 2) in after
    assert after[-2:] == [("evaluating", None), ("saving", None)]
    assert all(p["message"].endswith("…") for p in recorder.of("stage_started"))
    finished = next(i for i, (name, _) in enumerate(recorder.events) if name == "run_finished")
    assert finished > max(i for i, (name, _) in enumerate(recorder.events) if name == "stage_started")


def test_same_seed_gives_the_same_history(completed, three_classes, tmp_path):
    first, _ = completed
    again = train(_config(three_classes, tmp_path / "again"))
    assert again.status == "completed"
    assert set(again.history) == set(first.history)
    for key, values in first.history.items():
        np.testing.assert_allclose(again.history[key], values, rtol=1e-6, err_msg=key)


def test_cancel_at_the_first_batch_stops_within_the_epoch(three_classes, tmp_path, unthrottled, monkeypatch):
    import keras

    token = CancelToken()
    after_cancel: list[dict] = []
    # A stopped run must not validate its partial epoch: in the first epoch that traces the test
    # step, which is what made Stop take seconds on a busy machine.
    evaluations: list[bool] = []
    evaluate = keras.Model.evaluate
    monkeypatch.setattr(keras.Model, "evaluate",
                        lambda self, *a, **k: evaluations.append(token.cancelled) or evaluate(self, *a, **k))

    def on_batch(payload):
        if token.cancelled:
            after_cancel.append(payload)
        token.cancel()

    recorder = Recorder(on_batch)
    result = train(_config(three_classes, tmp_path / "run", epochs=3, batch_size=4), recorder.listeners(), token)

    steps = recorder.of("run_started")[0]["steps_per_epoch"]
    assert steps >= 10  # so stopping "within the epoch" means something
    assert result.status == "cancelled"
    assert len(after_cancel) <= 1, f"{len(after_cancel)} batches ran after the cancel"
    assert recorder.of("epoch_ended") == []  # a partial epoch is not reported
    assert result.final_metrics["epochs_run"] == 0
    assert all(len(v) == 0 for v in result.history.values())
    assert result.model_path is not None and result.model_path.is_file()
    assert (tmp_path / "run" / "model.json").is_file()
    assert recorder.of("run_finished")[0]["status"] == "cancelled"
    assert True not in evaluations, "the partial epoch was validated after the Stop"


def test_cancel_in_the_second_epoch_keeps_the_first_epochs_history_and_checkpoint(three_classes, tmp_path,
                                                                                  unthrottled):
    token = CancelToken()
    recorder = Recorder(lambda payload: token.cancel() if payload["epoch"] == 2 else None)
    result = train(_config(three_classes, tmp_path / "run", epochs=3, batch_size=4), recorder.listeners(), token)

    assert result.status == "cancelled" and "after 1 complete epoch" in result.message
    assert [e["epoch"] for e in recorder.of("epoch_ended")] == [1]
    assert result.final_metrics["epochs_run"] == 1 and result.final_metrics["best_epoch"] == 1
    epoch_1 = recorder.of("epoch_ended")[0]
    assert result.history["loss"] == [pytest.approx(epoch_1["loss"])]
    assert result.history["val_accuracy"] == [pytest.approx(epoch_1["val_accuracy"])]
    sidecar = json.loads((tmp_path / "run" / "model.json").read_text())
    assert sidecar["status"] == "cancelled" and len(sidecar["history"]["accuracy"]) == 1
    assert (tmp_path / "run" / "history.csv").read_text().count("\n") == 2  # header + epoch 1


def _nan_model(num_classes, input_shape, hp):
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    x = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, keras.layers.Rescaling(float("nan"))(x))  # every output NaN


def _constant_model(num_classes, input_shape, hp):
    """Predicts the uniform distribution whatever the weights: the validation loss never improves."""
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    x = keras.layers.Dense(num_classes, activation="softmax", kernel_initializer="zeros", trainable=False)(x)
    return keras.Model(inputs, x)


def _test_template(template_id, builder) -> TemplateSpec:
    return TemplateSpec(template_id, template_id, "test template", "image", (28, 28, 1), builder,
                        training_hyperparameters(epochs=2, batch_size=8), binary_output=False)


def test_nan_loss_fails_the_run_with_a_clear_message(three_classes, tmp_path, register):
    register(_test_template("test_nan", _nan_model))
    recorder = Recorder()

    result = train(TrainConfig("test_nan", str(three_classes), out_dir=str(tmp_path / "run")), recorder.listeners())

    assert result.status == "failed"
    assert "NaN" in result.message and "learning rate" in result.message
    finished = recorder.of("run_finished")[0]
    assert finished["status"] == "failed" and "NaN" in finished["message"]
    assert finished["epochs_run"] <= 1
    assert result.model_path is None  # a NaN model is not left behind as if it were usable


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
@pytest.mark.parametrize(("patience", "status", "epochs_run"), [(1, "stopped_early", 2), (0, "completed", 5)])
def test_early_stopping_patience(two_classes, tmp_path, register, patience, status, epochs_run):
    register(_test_template("test_constant", _constant_model))
    recorder = Recorder()
    config = TrainConfig("test_constant", str(two_classes), {"epochs": 5, "early_stopping_patience": patience},
                         out_dir=str(tmp_path / "run"))

    result = train(config, recorder.listeners())

    assert result.status == status, result.message
    assert result.final_metrics["epochs_run"] == epochs_run
    assert len(result.history["val_loss"]) == epochs_run
    assert len(recorder.of("epoch_ended")) == epochs_run
    assert recorder.of("run_finished")[0]["status"] == status


@pytest.fixture(scope="module")
def binary_step_run(two_classes, tmp_path_factory):
    recorder = Recorder()
    config = _config(two_classes, tmp_path_factory.mktemp("step") / "run", epochs=3, lr_schedule="step",
                     learning_rate=0.002)
    return train(config, recorder.listeners()), recorder


def test_step_schedule_halves_the_learning_rate(binary_step_run):
    result, recorder = binary_step_run
    rates = [e["learning_rate"] for e in recorder.of("epoch_ended")]
    assert result.status == "completed"
    assert rates == pytest.approx([0.002, 0.001, 0.0005])


def test_cosine_schedule_decays_the_learning_rate(tmp_path):
    path = tmp_path / "digits.npz"  # also covers training from an array file
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros((10, 28, 28)), np.full((10, 28, 28), 200.0)]) + rng.uniform(0, 40, (20, 28, 28))
    np.savez(path, x_train=x.astype(np.uint8), y_train=np.repeat([4, 9], 10))
    recorder = Recorder()

    result = train(_config(path, tmp_path / "run", epochs=3, lr_schedule="cosine", learning_rate=0.004),
                   recorder.listeners())

    rates = [e["learning_rate"] for e in recorder.of("epoch_ended")]
    assert result.status == "completed"
    assert rates[0] == pytest.approx(0.004)
    assert rates[0] > rates[1] > rates[2] > 0
    assert rates == pytest.approx([0.004 * 0.5 * (1 + math.cos(math.pi * e / 3)) for e in range(3)])
    assert json.loads((tmp_path / "run" / "model.json").read_text())["class_names"] == ["4", "9"]


def test_binary_model_uses_sigmoid_and_predicts_two_probabilities(binary_step_run, two_classes):
    result, _ = binary_step_run
    predictor = Predictor.load(result.model_path)
    assert predictor.sigmoid and predictor.sidecar["output"] == "sigmoid"
    assert predictor.model.output_shape == (None, 1)
    assert predictor.class_names == ["down", "up"]

    files = sorted((two_classes / "down").glob("*.png"))[:2] + sorted((two_classes / "up").glob("*.png"))[:2]
    predictions = predictor.predict_files(files, top_k=3)

    for p in predictions:
        assert len(p.probabilities) == 2
        assert sum(p.probabilities) == pytest.approx(1.0, abs=1e-6)
        assert [c for c, _ in p.top] in (["down", "up"], ["up", "down"])
        assert p.top[0][1] >= p.top[1][1]


def test_audio_template_on_an_image_folder_is_a_dataset_error(image_dataset, tmp_path):
    with pytest.raises(DatasetError, match="expects audio"):
        train(TrainConfig("audio_spectrogram_cnn", str(image_dataset), out_dir=str(tmp_path / "run")))
    assert not (tmp_path / "run").exists()


def test_one_class_is_a_dataset_error(tmp_path):
    data = write_image_dataset(tmp_path / "data", {"only": 8})
    with pytest.raises(DatasetError, match="at least 2 classes"):
        train(TrainConfig("simple_cnn", str(data), out_dir=str(tmp_path / "run")))

"""Training phases: several ``fit`` calls that read as one run, each with its own learning rate and
trainable layers; and training inside a distribution strategy's scope."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import write_image_dataset
from workbench.core.inference import Predictor
from workbench.core.templates import TemplateSpec, list_templates
from workbench.core.templates import registry as template_registry
from workbench.core.templates.base import training_hyperparameters
from workbench.core.training import CancelToken, Phase, TrainConfig, TrainingListeners, train

RUN_FILES = {"model.keras", "model.json", "last.keras", "history.csv", "evaluation.json"}


class Recorder:
    def __init__(self, on_event=None) -> None:
        self.events: list[tuple[str, object]] = []
        self._on_event = on_event

    def listeners(self) -> TrainingListeners:
        def record(name):
            def listener(payload):
                self.events.append((name, payload))
                if self._on_event is not None:
                    self._on_event(name, payload)
            return listener
        return TrainingListeners(**{n: record(n) for n in
                                    ("run_started", "phase_started", "batch_ended", "epoch_ended",
                                     "run_finished", "log")})

    def of(self, name: str) -> list:
        return [payload for event, payload in self.events if event == name]


class BodyAndHead:
    """A template builder that keeps the model it built, so listeners can look at its weights."""

    def __init__(self) -> None:
        self.model = None

    def __call__(self, num_classes, input_shape, hp):
        import keras

        inputs = keras.Input(shape=input_shape)
        x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
        x = keras.layers.Dense(8, activation="relu", name="body")(x)
        self.model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax", name="head")(x))
        return self.model

    def body_kernel(self) -> np.ndarray:
        import keras

        return keras.ops.convert_to_numpy(self.model.get_layer("body").kernel).copy()


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_image_dataset(tmp_path_factory.mktemp("phases") / "data")  # 3 classes × 20


@pytest.fixture
def body_and_head(monkeypatch) -> BodyAndHead:
    list_templates()
    builder = BodyAndHead()
    spec = TemplateSpec("test_body_head", "Body and head", "test template", "image", (28, 28, 1), builder,
                        training_hyperparameters(epochs=2, batch_size=8), binary_output=False)
    monkeypatch.setitem(template_registry._registry, spec.id, spec)
    return builder


@pytest.fixture
def compiles(monkeypatch) -> list[int]:
    import keras

    calls: list[int] = []
    compile_ = keras.Model.compile
    monkeypatch.setattr(keras.Model, "compile", lambda self, *a, **k: calls.append(1) or compile_(self, *a, **k))
    return calls


def _config(data, out, phases=None, **kwargs) -> TrainConfig:
    return TrainConfig("test_body_head", str(data), {"epochs": 2, "batch_size": 8, "seed": 3},
                       out_dir=str(out), phases=phases, **kwargs)


def test_two_phases_are_one_run_with_each_phases_rate_and_trainable_layers(data, tmp_path, body_and_head,
                                                                           compiles):
    kernels: list[np.ndarray] = []
    recorder = Recorder(lambda name, _: kernels.append(body_and_head.body_kernel()) if name == "epoch_ended"
                        else None)
    phases = [Phase("head", 2, 2e-3, trainable=["head"]), Phase("fine_tune", 2, 5e-4, trainable="all")]

    result = train(_config(data, tmp_path / "run", phases), recorder.listeners())

    assert result.status == "completed", result.message
    assert result.message.startswith("Completed 4 epochs")
    assert recorder.of("run_started")[0]["epochs"] == 4
    epochs = recorder.of("epoch_ended")
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4] and {e["epochs"] for e in epochs} == {4}
    assert [e["learning_rate"] for e in epochs] == pytest.approx([2e-3, 2e-3, 5e-4, 5e-4])
    steps = recorder.of("run_started")[0]["steps_per_epoch"]
    assert [b["global_step"] for b in recorder.of("batch_ended")][-1] == 4 * steps
    assert len(compiles) == 2, "the trainable layers changed once, so one recompile"

    assert len(kernels) == 4
    np.testing.assert_array_equal(kernels[0], kernels[1])  # the body is frozen in phase 1 ...
    assert not np.allclose(kernels[1], kernels[2])  # ... and trains in phase 2
    assert not np.allclose(kernels[2], kernels[3])

    assert all(len(v) == 4 for v in result.history.values())
    assert result.final_metrics["epochs_run"] == 4
    with (result.run_dir / "history.csv").open() as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == [1, 2, 3, 4]
    sidecar = json.loads((result.run_dir / "model.json").read_text())
    assert [p["name"] for p in sidecar["phases"]] == ["head", "fine_tune"]
    assert sidecar["phases"][0]["trainable"] == ["head"]
    assert any("Phase 2/2 'fine_tune': epochs 3–4" in line for line in recorder.of("log"))
    # Each phase is announced before its first epoch, where it starts in the run's count.
    started = recorder.of("phase_started")
    assert [(p["name"], p["index"], p["count"], p["first_epoch"], p["last_epoch"]) for p in started] == [
        ("head", 0, 2, 1, 2), ("fine_tune", 1, 2, 3, 4)]
    assert [p["learning_rate"] for p in started] == pytest.approx([2e-3, 5e-4])
    assert [(p["trainable_layers"], p["weighted_layers"]) for p in started] == [(1, 2), (2, 2)]
    head = body_and_head.model.get_layer("head").count_params()
    assert started[0]["trainable_params"] == head
    assert started[1]["trainable_params"] == body_and_head.model.count_params()
    kinds = [event for event, _ in recorder.events if event in ("phase_started", "epoch_ended")]
    assert kinds == ["phase_started", "epoch_ended", "epoch_ended"] * 2


def test_a_new_learning_rate_alone_keeps_the_compiled_model(data, tmp_path, body_and_head, compiles):
    recorder = Recorder()
    phases = [Phase("first", 1, 1e-3), Phase("second", 1, 4e-4)]

    result = train(_config(data, tmp_path / "run", phases), recorder.listeners())

    assert result.status == "completed", result.message
    assert len(compiles) == 1
    assert [e["learning_rate"] for e in recorder.of("epoch_ended")] == pytest.approx([1e-3, 4e-4])


def test_unfreeze_top_trains_the_top_layers_only(data, tmp_path, body_and_head):
    kernels: list[np.ndarray] = []
    recorder = Recorder(lambda name, _: kernels.append(body_and_head.body_kernel())
                        if name in ("run_started", "epoch_ended") else None)
    phases = [Phase("top", 1, 1e-3, trainable=[], unfreeze_top=1), Phase("top_two", 1, 1e-3, trainable=[],
                                                                         unfreeze_top=2)]

    result = train(_config(data, tmp_path / "run", phases), recorder.listeners())

    assert result.status == "completed", result.message
    assert len(kernels) == 3
    np.testing.assert_array_equal(kernels[0], kernels[1])  # only the head trains in phase 1
    assert not np.allclose(kernels[1], kernels[2])


def test_a_stop_in_the_second_phase_ends_the_run(data, tmp_path, body_and_head):
    token = CancelToken()
    recorder = Recorder(lambda name, p: token.cancel() if name == "batch_ended" and p["epoch"] == 2 else None)
    phases = [Phase("one", 1, 1e-3), Phase("two", 2, 1e-3), Phase("three", 1, 1e-3)]

    result = train(_config(data, tmp_path / "run", phases), recorder.listeners(), token)

    assert result.status == "cancelled" and "after 1 complete epoch" in result.message
    assert [e["epoch"] for e in recorder.of("epoch_ended")] == [1]
    assert all(len(v) == 1 for v in result.history.values())
    assert not any("Phase 3/3" in line for line in recorder.of("log"))
    assert json.loads((tmp_path / "run" / "model.json").read_text())["status"] == "cancelled"


def test_unknown_layer_names_fail_with_a_clear_error(data, tmp_path, body_and_head):
    with pytest.raises(ValueError, match="layers to train in phase 'head'.*'neck'"):
        train(_config(data, tmp_path / "run", [Phase("head", 1, 1e-3, trainable=["neck"])]))


@pytest.mark.parametrize("strategy_name", ["one_device", "mirrored"])
def test_a_distribution_strategy_run_writes_the_same_artefacts(data, tmp_path, body_and_head, strategy_name):
    import tensorflow as tf

    strategy = (tf.distribute.OneDeviceStrategy("/cpu:0") if strategy_name == "one_device"
                else tf.distribute.MirroredStrategy(["/cpu:0"]))
    plain = train(_config(data, tmp_path / "plain"))
    scoped = train(_config(data, tmp_path / "scoped", strategy=strategy))

    assert scoped.status == plain.status == "completed", scoped.message
    assert {p.name for p in scoped.run_dir.iterdir()} == {p.name for p in plain.run_dir.iterdir()} == RUN_FILES
    assert set(scoped.history) == set(plain.history)
    assert all(len(v) == 2 for v in scoped.history.values())
    plain_sidecar = json.loads((plain.run_dir / "model.json").read_text())
    scoped_sidecar = json.loads((scoped.run_dir / "model.json").read_text())
    assert set(scoped_sidecar) == set(plain_sidecar) and scoped_sidecar["status"] == "completed"
    assert Predictor.load(scoped.model_path).class_names == ["a_hbar", "b_vbar", "c_blob"]

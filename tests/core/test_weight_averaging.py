"""Weight averaging (the ``weight_averaging`` hyperparameter): the optimizer keeps an exponential moving average of
the weights, and the run swaps it into the model for validation and the epoch-end checkpoints, while
training goes on from the raw weights; after the last epoch the model keeps the average."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.helpers import write_image_dataset
from workbench.core.inference import Predictor
from workbench.core.sidecar import read_sidecar
from workbench.core.templates import TemplateSpec, get_template, list_templates
from workbench.core.templates import registry as template_registry
from workbench.core.templates.base import OPTIMIZERS, training_hyperparameters
from workbench.core.training import CancelToken, TrainConfig, TrainingListeners, resume, train
from workbench.core.training.run import compile_model, make_optimizer, weight_averaging_callback

STEPS = 2  # 16 training samples (20 less the 20% validation) in batches of 8


def _tiny_model(num_classes, input_shape, hp):
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))


@pytest.fixture
def tiny_template(monkeypatch) -> str:
    list_templates()  # the built-ins first
    spec = TemplateSpec("test_ema", "test_ema", "test template", "image", (28, 28, 1), _tiny_model,
                        training_hyperparameters(epochs=2, batch_size=8), binary_output=False)
    monkeypatch.setitem(template_registry._registry, spec.id, spec)
    return spec.id


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_image_dataset(tmp_path_factory.mktemp("ema") / "data", {"down": 10, "up": 10}, seed=4)


def _raw_weights(model) -> list[np.ndarray]:
    """While the average is in the model, the optimizer's average slots hold the raw weights."""
    return [np.asarray(a) for a in model.optimizer._model_variables_moving_average]


def _weights(model) -> list[np.ndarray]:
    return [np.asarray(v) for v in model.optimizer._trainable_variables]


def _same(a, b) -> bool:
    return len(a) == len(b) > 0 and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_every_template_has_weight_averaging_off_by_default():
    for spec in list_templates():
        parameter = spec.hyperparameter("weight_averaging")
        assert (parameter.kind, parameter.default, parameter.minimum) == ("float", 0.0, 0.0)
        assert spec.resolve_hparams({"weight_averaging": "0.99"})["weight_averaging"] == 0.99
        assert weight_averaging_callback(spec.default_hparams()) is None


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_make_optimizer_keeps_an_average_without_overwriting_the_weights(name):
    optimizer = make_optimizer(name, 1e-3, ema=0.99)
    assert optimizer.use_ema and optimizer.ema_momentum == pytest.approx(0.99)
    assert optimizer.ema_overwrite_frequency is None  # training goes on from the raw weights
    assert float(optimizer.learning_rate) == pytest.approx(1e-3)
    if name == "sgd":
        assert optimizer.momentum == pytest.approx(0.9)
    assert not make_optimizer(name, 1e-3).use_ema


def test_compile_turns_averaging_on_with_the_hyperparameter():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    setup = SimpleNamespace(hp={"optimizer": "adam", "weight_averaging": 0.95}, sigmoid=False)
    compile_model(model, setup, 1e-3)
    assert model.optimizer.use_ema
    compile_model(model, SimpleNamespace(hp={"optimizer": "adam"}, sigmoid=False), 1e-3)  # no ema: off
    assert not model.optimizer.use_ema


def test_validation_and_the_epoch_end_see_the_average_and_training_goes_on_from_the_raw_weights():
    import keras

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 5)).astype("float32"), rng.integers(0, 2, 40)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=make_optimizer("sgd", 0.5, ema=0.5), loss="sparse_categorical_crossentropy")
    ends, begins = [], []

    class Check(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            begins.append(_weights(self.model))

        def on_epoch_end(self, epoch, logs=None):
            val_loss = self.model.evaluate(x[:8], y[:8], verbose=0)  # with the weights the model has now
            assert math.isclose(val_loss, logs["val_loss"], rel_tol=1e-5)  # validation saw these weights
            ends.append((_weights(self.model), _raw_weights(self.model)))

    averaging = weight_averaging_callback({"weight_averaging": 0.5})
    model.fit(x, y, batch_size=10, epochs=3, validation_data=(x[:8], y[:8]), callbacks=[averaging, Check()],
              verbose=0)
    for (average, raw), next_begin in zip(ends, begins[1:]):
        assert not _same(average, raw)  # the average is not the raw weights...
        assert _same(next_begin, raw)  # ...and the next epoch trains on from the raw ones
    assert _same(_weights(model), ends[-1][0])  # after the last epoch the model keeps the average


@pytest.mark.filterwarnings("ignore:The structure of `inputs`")
def test_a_run_with_weight_averaging_saves_averaged_models_and_resumes(data, tmp_path, tiny_template):
    import keras

    run = tmp_path / "run"
    cancel = CancelToken()
    config = TrainConfig(tiny_template, str(data), {"epochs": 3, "weight_averaging": 0.9, "seed": 3}, out_dir=str(run))
    first = train(config, TrainingListeners(epoch_ended=lambda p: p["epoch"] == 1 and cancel.cancel()), cancel)
    assert first.status == "cancelled", first.message
    assert read_sidecar(run / "model.keras")["hyperparameters"]["weight_averaging"] == 0.9
    last = keras.models.load_model(run / "last.keras", compile=True)  # the resume point of epoch 1
    assert last.optimizer.use_ema and int(last.optimizer.iterations) == STEPS
    assert not _same(_weights(last), _raw_weights(last))  # saved with the average in the model

    result = resume(run)

    assert result.status == "completed", result.message
    last = keras.models.load_model(run / "last.keras", compile=True)
    assert int(last.optimizer.iterations) == 3 * STEPS
    best = read_sidecar(run / "model.keras")["final_metrics"]["best_epoch"]
    assert best in (1, 2, 3)
    predictor = Predictor.load(run / "model.keras")
    assert predictor.predict_arrays(np.zeros((1, 28, 28, 1), np.float32)).shape == (1, 2)


def test_weight_averaging_out_of_range_is_refused():
    from workbench.core.errors import TemplateError

    spec = get_template("simple_cnn")
    for value in (-0.1, 1.0):
        with pytest.raises(TemplateError, match="weight_averaging"):
            spec.resolve_hparams({"weight_averaging": value})


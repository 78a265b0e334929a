"""Contract tests run over every registered template, so a new template is covered automatically.

Each template must build on a tiny input, give probabilities, learn from one step, survive a
save → load round trip unchanged, and have hyperparameters that validate and round-trip. And each
one must really train: a one-epoch ``train()`` on tiny data of its modality writes a model that
predicts files — or, for a template that declares it cannot train yet, ``train()``, the CLI and the
template listing say so before any work is done.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from tests.audio_helpers import write_tone_dataset
from tests.helpers import untrainable_template, write_image_dataset, write_video_dataset
from workbench.core.errors import DatasetError, TemplateError
from workbench.core.templates import list_templates
from workbench.core.templates.base import TRAINING_KEYS

TEMPLATES = list_templates()
IDS = [t.id for t in TEMPLATES]
REQUIRED_HPARAMS = ("dropout", "learning_rate", "optimizer", *TRAINING_KEYS)
# The smallest sound front end the audio hyperparameters allow, applied where a template has them.
SMALL_AUDIO = {"sample_rate": 8000, "duration": 0.25, "n_mels": 16, "frames": 16}


def tiny_shape(spec) -> tuple[int, ...]:
    """32×32 images with the template's channels (VGG16 needs ≥ 32); 4 frames for video; a 0.25 s
    waveform at the template's sample rate for sound."""
    if spec.modality == "audio":
        return (int(spec.default_hparams().get("sample_rate", 16000) * 0.25),)
    channels = spec.input_shape[-1]
    if spec.modality == "video":
        return (4, 32, 32, channels)
    return (32, 32, channels)


def train_shape(spec) -> tuple[int, ...] | None:
    """The input shape of the one-epoch run: the template's own when it is at most 32×32, else
    32×32 with its channels (big inputs would make the contract slow); None keeps the default."""
    if spec.modality != "image" or max(spec.input_shape[:-1]) <= 32:
        return None
    return (32, 32, spec.input_shape[-1])


def tiny_dataset(spec, root: Path) -> tuple[Path, dict, tuple[int, ...] | None]:
    """(folder of 2 classes × 4 tiny samples of the template's modality, one-epoch hyperparameters,
    input shape for TrainConfig)."""
    hparams = {"epochs": 1, "batch_size": 4}
    if any(hp.name == "fine_tune_epochs" for hp in spec.hyperparameters):  # a second phase: one epoch too
        hparams["fine_tune_epochs"] = 1
    if spec.modality == "audio":
        names = {hp.name for hp in spec.hyperparameters}
        hparams.update({k: v for k, v in SMALL_AUDIO.items() if k in names})
        rate = hparams.get("sample_rate", 16000)
        return (write_tone_dataset(root, per_class=4, classes={"low": 300.0, "high": 2000.0}, sample_rates=(rate,)),
                hparams, None)
    if spec.modality == "video":  # 4 frames of 16×16 (the clips' own size): the default 16 × 64² is slow
        return write_video_dataset(root, {"a_hbar": 2, "b_vbar": 2}), hparams, (4, 16, 16, spec.input_shape[-1])
    shape = train_shape(spec) or tuple(spec.input_shape)
    data = write_image_dataset(root, {"a_hbar": 4, "b_vbar": 4}, size=shape[0], rgb=shape[-1] == 3)
    return data, hparams, train_shape(spec)


@pytest.fixture(autouse=True)
def offline_imagenet_weights(request, monkeypatch, tmp_path_factory):
    """No template downloads anything here (WORKBENCH_OFFLINE=1); one that starts from ImageNet weights
    (a ``weights_path`` hyperparameter) finds made-up ones for the tiny shapes in a Keras cache of the
    session's own (KERAS_HOME), so it builds and trains as it would with the real file."""
    from tests.backbone_helpers import fake_keras_home, template_weights_needs

    monkeypatch.setenv("WORKBENCH_OFFLINE", "1")
    spec = request.node.callspec.params.get("spec") if hasattr(request.node, "callspec") else None
    shapes = [tiny_shape(spec), train_shape(spec) or tuple(spec.input_shape)] if spec else []
    needs = template_weights_needs(spec, shapes) if spec else []
    if needs:
        monkeypatch.setenv("KERAS_HOME", str(fake_keras_home(tmp_path_factory.getbasetemp() / "keras_home", needs)))


def sample_batch(shape: tuple[int, ...], n: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, *shape)).astype(np.float32)


def test_the_article_templates_are_registered():
    assert {"simple_cnn", "mnist_cnn", "regularized_cnn", "transfer_vgg16", "audio_spectrogram_cnn",
            "audio_cnn", "video_cnn_lstm"} <= set(IDS)
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("spec", TEMPLATES, ids=IDS)
def test_metadata_is_consistent(spec):
    described = spec.to_dict()
    json.dumps(described)
    assert spec.title and spec.description
    # Whether it trains is declared, never found out mid-run; a modality without training has none.
    assert described["can_train"] is spec.can_train and described["training_unavailable"] == spec.train_unavailable
    assert spec.can_train == (spec.train_unavailable == "")
    from workbench.core.modality import get_modality

    if not get_modality(spec.modality).can_train:
        assert not spec.can_train
    expected_rank = {"video": 4, "audio": 1}.get(spec.modality, 3)  # sound models take raw waveforms
    assert len(spec.input_shape) == expected_rank
    assert tuple(spec.input_shape_for(spec.default_hparams())) == tuple(spec.input_shape)
    assert spec.preprocessing, "a template must say what preprocessing its inputs need"
    if spec.modality == "audio":
        preprocessing = spec.preprocessing_for(spec.default_hparams(), tiny_shape(spec))
        assert preprocessing["kind"] == "audio" and preprocessing["num_samples"] == tiny_shape(spec)[0]


@pytest.mark.parametrize("spec", TEMPLATES, ids=IDS)
def test_builds_trains_and_round_trips(spec, tmp_path):
    import keras

    from workbench.core.modality import get_modality

    get_modality(spec.modality).register_layers()  # its custom layers, for load_model
    from workbench.core.training.trainer import _optimizer

    shape = tiny_shape(spec)
    x = sample_batch(shape)
    y = np.array([0, 1, 2, 1])
    hp = spec.default_hparams()
    model = spec.build(3, shape, hp)

    probabilities = np.asarray(model(x, training=False))
    assert probabilities.shape == (4, 3)
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)

    model.compile(optimizer=_optimizer(hp["optimizer"], hp["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = [w.copy() for w in model.get_weights()]
    trainable_before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert trainable_before, "a template must have something to train"
    loss = model.train_on_batch(x, y)
    assert math.isfinite(float(np.ravel(loss)[0]))
    trainable_after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(trainable_before, trainable_after)), \
        "one training step changed no weight"
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    expected = np.asarray(model(x, training=False))
    path = tmp_path / f"{spec.id}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(np.asarray(loaded(x, training=False)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spec", TEMPLATES, ids=IDS)
def test_two_classes(spec):
    shape = tiny_shape(spec)
    model = spec.build(2, shape)
    out = np.asarray(model(sample_batch(shape, n=3), training=False))
    if spec.binary_output:
        assert spec.uses_sigmoid(2)
        assert out.shape == (3, 1)
        assert np.all((out >= 0) & (out <= 1))
    else:
        assert out.shape == (3, 2)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
    assert not spec.uses_sigmoid(3)


@pytest.mark.parametrize("spec", TEMPLATES, ids=IDS)
def test_one_class_is_rejected(spec):
    with pytest.raises(TemplateError, match="at least 2 classes"):
        spec.build(1, tiny_shape(spec))


@pytest.mark.parametrize("spec", TEMPLATES, ids=IDS)
def test_hyperparameters_round_trip(spec):
    defaults = spec.default_hparams()
    assert spec.resolve_hparams(defaults) == defaults
    assert spec.resolve_hparams(None) == defaults
    assert spec.resolve_hparams({name: None for name in defaults}) == defaults
    json.dumps(defaults)
    json.dumps([hp.to_dict() for hp in spec.hyperparameters])
    # Values given as strings (from the command line or a settings file) come back typed.
    as_text = {name: str(value) for name, value in defaults.items()}
    assert spec.resolve_hparams(as_text) == defaults
    for name in REQUIRED_HPARAMS:
        assert name in defaults, f"{spec.id} lacks the '{name}' hyperparameter"


@pytest.mark.parametrize("spec", TEMPLATES, ids=IDS)
def test_hyperparameter_defaults_are_within_their_own_ranges(spec):
    for hp in spec.hyperparameters:
        assert hp.coerce(hp.default) == hp.default, hp.name
        assert hp.help, f"{spec.id}.{hp.name} needs help text for the GUI form"


@pytest.mark.parametrize("spec", TEMPLATES, ids=IDS)
def test_invalid_hyperparameters_raise_template_error(spec):
    bad_values: list[tuple[str, object]] = [("no_such_parameter", 1)]
    for hp in spec.hyperparameters:
        if hp.kind in ("int", "float"):
            bad_values.append((hp.name, "not-a-number"))
            if hp.maximum is not None:
                bad_values.append((hp.name, hp.maximum * 2 + 1))
            if hp.minimum is not None:
                bad_values.append((hp.name, hp.minimum - 1))
        if hp.kind == "float":
            bad_values += [(hp.name, "nan"), (hp.name, float("inf"))]
        if hp.kind == "int":
            bad_values += [(hp.name, 2.5), (hp.name, "inf")]
        if hp.kind == "choice":
            bad_values.append((hp.name, "no-such-choice"))
        if hp.kind == "bool":
            bad_values.append((hp.name, "maybe"))
    for name, value in bad_values:
        with pytest.raises(TemplateError, match="Received"):
            spec.resolve_hparams({name: value})
            pytest.fail(f"{spec.id}: {name}={value!r} was accepted")


def test_a_template_that_cannot_train_is_refused_before_any_work(untrainable, tmp_path):
    from workbench.core.training import TrainConfig, train

    data, hparams, input_shape = tiny_dataset(untrainable, tmp_path / "data")
    with pytest.raises(DatasetError, match=re.escape(untrainable.train_unavailable)):
        train(TrainConfig(untrainable.id, str(data), hparams, input_shape=input_shape, out_dir=str(tmp_path / "run")))
    assert not (tmp_path / "run").exists(), "a template that cannot train must be refused before any work"


@pytest.mark.parametrize("spec", TEMPLATES, ids=IDS)
def test_trains_one_epoch_on_tiny_data_of_its_modality(spec, tmp_path):
    from workbench.core.inference import Predictor
    from workbench.core.training import TrainConfig, train

    data, hparams, input_shape = tiny_dataset(spec, tmp_path / "data")
    run = tmp_path / "run"
    config = TrainConfig(spec.id, str(data), hparams, input_shape=input_shape, out_dir=str(run))
    assert spec.can_train, f"{spec.id}: {spec.train_unavailable}"  # every built-in trains
    result = train(config)
    assert result.status == "completed", result.message
    assert result.model_path == run / "model.keras" and result.model_path.is_file()
    assert (run / "model.json").is_file()
    planned = sum(phase["epochs"] for phase in spec.phases_for(hparams) or [{"epochs": 1}])
    assert len(result.history["loss"]) == planned and all(map(math.isfinite, result.history["loss"]))

    files = [min(folder.iterdir()) for folder in sorted(data.iterdir())]  # one per class
    predictions = Predictor.load(result.model_path).predict_files(files)
    assert [p.source for p in predictions] == [str(f) for f in files]
    for prediction in predictions:
        assert len(prediction.probabilities) == 2 and min(prediction.probabilities) >= 0
        assert sum(prediction.probabilities) == pytest.approx(1.0, abs=1e-5)
        assert prediction.label in ("a_hbar", "b_vbar", "high", "low")


@pytest.fixture
def untrainable():
    with untrainable_template() as spec:
        yield spec


def test_the_cli_says_up_front_that_a_template_cannot_train_yet(untrainable, tmp_path, capsys):
    from workbench.cli import run_cli

    spec = untrainable
    assert not spec.can_train and spec.train_unavailable

    assert run_cli(["templates"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(spec.id + " "))
    assert f"(cannot train yet: {spec.train_unavailable})" in line
    assert run_cli(["templates", "--json"]) == 0
    listed = {t["id"]: t for t in json.loads(capsys.readouterr().out)}
    assert listed[spec.id]["can_train"] is False and listed[spec.id]["training_unavailable"] == spec.train_unavailable

    data, _, _ = tiny_dataset(spec, tmp_path / "data")
    # Refused before the data is scanned: a folder that does not exist gets the same one line.
    for folder in (data, tmp_path / "missing"):
        code = run_cli(["train", "--template", spec.id, "--data", str(folder), "--out", str(tmp_path / "run")])
        captured = capsys.readouterr()
        lines = [line for line in captured.err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1, captured
        assert lines[0].startswith("workbench train: error: " + spec.train_unavailable)
        assert "does not exist" not in lines[0] and captured.out == ""
    assert not (tmp_path / "run").exists()

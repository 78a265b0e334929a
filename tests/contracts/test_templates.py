"""Contract tests run over every registered template, so a new template is covered automatically.

Each template must build on a tiny input, give probabilities, learn from one step, survive a
save → load round trip unchanged, and have hyperparameters that validate and round-trip.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from workbench.core.errors import TemplateError
from workbench.core.templates import list_templates
from workbench.core.templates.base import TRAINING_KEYS

TEMPLATES = list_templates()
IDS = [t.id for t in TEMPLATES]
REQUIRED_HPARAMS = ("dropout", "learning_rate", "optimizer", *TRAINING_KEYS)


def tiny_shape(spec) -> tuple[int, ...]:
    """32×32 images with the template's channels (VGG16 needs ≥ 32); 4 frames for video; a 0.25 s
    waveform at the template's sample rate for sound."""
    if spec.modality == "audio":
        return (int(spec.default_hparams().get("sample_rate", 16000) * 0.25),)
    channels = spec.input_shape[-1]
    if spec.modality == "video":
        return (4, 32, 32, channels)
    return (32, 32, channels)


def sample_batch(shape: tuple[int, ...], n: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, *shape)).astype(np.float32)


def test_the_article_templates_are_registered():
    assert {"simple_cnn", "mnist_cnn", "regularized_cnn", "transfer_vgg16", "audio_spectrogram_cnn",
            "audio_cnn", "video_cnn_lstm"} <= set(IDS)
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("spec", TEMPLATES, ids=IDS)
def test_metadata_is_consistent(spec):
    json.dumps(spec.to_dict())
    assert spec.title and spec.description
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

"""Joining trained classifiers: two small sound models trained with different seeds become one model
that reads as the mean of their logits, computes the shared front end once, records its members and
is measured on the validation samples they share; it still adapts and is refused where it cannot be."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.audio_helpers import write_tone_dataset
from workbench.cli import run_cli
from workbench.core.ensemble import ensemble_models
from workbench.core.errors import WorkbenchError
from workbench.core.inference import Predictor
from workbench.core.training import TrainConfig, train

TINY = {"epochs": 2, "batch_size": 8, "sample_rate": 8000, "duration": 0.5, "base_filters": 4, "blocks": 2,
        "frames": 32, "n_mels": 32}


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    return write_tone_dataset(tmp_path_factory.mktemp("ensemble") / "tones", per_class=8)


@pytest.fixture(scope="module")
def members(tones, tmp_path_factory):
    """Two runs of one recipe with seeds 1 and 2, both validated on the group "bob"."""
    paths = []
    for seed in (1, 2):
        run = tmp_path_factory.mktemp(f"seed{seed}") / "run"
        result = train(TrainConfig("audio_cnn", str(tones), {**TINY, "seed": seed}, group_regex=r"_([a-z]+)_",
                                   val_groups=["bob"], out_dir=str(run)))
        assert result.status == "completed", result.message
        paths.append(result.model_path)
    return paths


@pytest.fixture(scope="module")
def joined(members, tmp_path_factory):
    out = tmp_path_factory.mktemp("joined") / "both.keras"
    record = ensemble_models(members, out)
    return out, record


def test_the_joined_model_reads_as_the_mean_of_its_members_logits(members, joined, tones):
    files = sorted(tones.glob("*/*.wav"))
    ensemble = Predictor.load(joined[0])
    inputs = np.stack([ensemble.prepare_file(f) for f in files])
    # log p differs from the logits by one constant per row, which the softmax cancels
    logs = [np.log(Predictor.load(m).predict_arrays(inputs).astype(np.float64)) for m in members]
    expected = np.exp(np.mean(logs, axis=0))
    expected /= expected.sum(axis=1, keepdims=True)
    received = ensemble.predict_arrays(inputs)
    np.testing.assert_allclose(received, expected, atol=1e-4)
    solo = [Predictor.load(m).predict_arrays(inputs) for m in members]
    assert not np.allclose(solo[0], solo[1], atol=1e-3)  # different seeds: different models, so this shows
    assert not np.allclose(received, solo[0], atol=1e-3)


def test_the_front_end_is_computed_once_and_each_member_keeps_its_own_layers(joined):
    import keras

    model = Predictor.load(joined[0]).model
    names = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert names.count("log_mel") == 1 and joined[1]["shared_layers"] == ["log_mel", "spec_augment"]
    assert any(n.startswith("member1_block1_conv1") for n in names)
    assert any(n.startswith("member2_block1_conv1") for n in names)
    assert isinstance(model.layers[-1], keras.layers.Dense) and model.layers[-1].activation.__name__ == "softmax"


def test_the_sidecar_records_the_members_and_the_accuracy_on_their_shared_validation_samples(members, joined, tones):
    out, record = joined
    sidecar = Predictor.load(out).sidecar
    assert [m["seed"] for m in sidecar["ensemble"]["members"]] == [1, 2]
    assert [m["model"] for m in sidecar["ensemble"]["members"]] == [str(m.resolve()) for m in members]
    assert sidecar["template"] == "audio_cnn" and "seed" not in sidecar and "history" not in sidecar
    assert sidecar["title"].endswith("(ensemble of 2)")
    validation = record["validation"]
    bob = sorted(tones.glob("*/*_bob_*.wav"))
    assert validation["measured"] and validation["samples"] == len(bob) == 12
    predictions = Predictor.load(out).predict_files(bob)
    right = np.mean([p.label == f.parent.name for p, f in zip(predictions, bob)])
    assert validation["accuracy"] == pytest.approx(right)
    assert sidecar["final_metrics"]["val_accuracy"] == pytest.approx(right)
    members_accuracy = [json.loads(m.with_suffix(".json").read_text())["final_metrics"]["val_accuracy"]
                        for m in members]
    assert sidecar["final_metrics"]["members_val_accuracy"] == members_accuracy


def test_members_that_validated_on_different_samples_are_joined_but_not_measured(members, tones, tmp_path):
    moved = tmp_path / "other.keras"
    shutil.copyfile(members[1], moved)
    sidecar = json.loads(members[1].with_suffix(".json").read_text())
    sidecar["dataset"]["path"] = sidecar["dataset"]["scan"]["path"] = str(tones)  # stored relative to the run
    sidecar["split"] = {"val_fraction": 0.25, "group_regex": None, "seed": 5}  # a random split of its own
    (tmp_path / "other.json").write_text(json.dumps(sidecar))
    record = ensemble_models([members[0], moved], tmp_path / "joined.keras")
    assert not record["validation"]["measured"] and "different samples" in record["validation"]["reason"]


def test_the_joined_model_adapts_like_any_classifier(joined, tones, tmp_path):
    from workbench.core.adapt import adapt_model

    result = adapt_model(joined[0], tones, tmp_path / "mine.keras", k=3)
    assert result.num_examples == 9 and Predictor.load(tmp_path / "mine.keras").sidecar["status"] == "adapted"


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")
def test_the_joined_model_exports_to_keras_and_tflite_and_reads_the_same(joined, tones, tmp_path):
    from workbench.core.export import export_model

    keras_copy = export_model(joined[0], "keras", out=tmp_path / "copy.keras", data=str(tones), parity_count=6)
    assert keras_copy.parity_max_abs_diff < 1e-5 and keras_copy.top1_agreement == 1.0
    assert Predictor.load(keras_copy.path).sidecar["ensemble"]["members"] == joined[1]["members"]
    tflite = export_model(joined[0], "tflite", out=tmp_path / "both.tflite", data=str(tones), parity_count=6)
    assert tflite.parity_samples == 6 and tflite.parity_max_abs_diff < 1e-3 and tflite.top1_agreement == 1.0


def test_models_of_other_preprocessing_and_existing_files_are_refused(members, joined, tmp_path):
    other = tmp_path / "other.keras"
    shutil.copyfile(members[1], other)
    sidecar = json.loads(members[1].with_suffix(".json").read_text())
    sidecar["preprocessing"]["trim_silence"] = not sidecar["preprocessing"]["trim_silence"]
    (tmp_path / "other.json").write_text(json.dumps(sidecar))
    with pytest.raises(WorkbenchError, match="same preprocessing"):
        ensemble_models([members[0], other], tmp_path / "x.keras")
    with pytest.raises(WorkbenchError, match="at least two models"):
        ensemble_models([members[0]], tmp_path / "x.keras")
    with pytest.raises(WorkbenchError, match="the models it is made from stay"):
        ensemble_models(members, members[0])
    with pytest.raises(WorkbenchError, match="only files written by 'workbench ensemble'"):
        ensemble_models(members, members[0].parent / "last.keras", overwrite=True)
    assert not (tmp_path / "x.keras").exists()


def test_a_member_whose_head_has_no_bias_joins_and_reads_as_the_mean(members, tones, tmp_path):
    import keras

    from workbench.core.adapt import adapt_model
    from workbench.core.adapt_head import classifier_head, feature_extractor

    source = Predictor.load(members[1])
    head = classifier_head(source.model)
    features = feature_extractor(source.model, head)
    no_bias = keras.layers.Dense(head.units, activation="softmax", use_bias=False, name="no_bias_head")
    model = keras.Model(features.inputs, no_bias(features.outputs[0]))
    no_bias.set_weights([head.get_weights()[0]])
    unbiased = tmp_path / "unbiased.keras"
    model.save(unbiased)
    shutil.copyfile(members[1].with_suffix(".json"), tmp_path / "unbiased.json")
    with pytest.raises(WorkbenchError, match="head with a bias"):
        adapt_model(unbiased, tones, tmp_path / "mine.keras", k=3)

    out = tmp_path / "joined.keras"
    ensemble_models([members[0], unbiased], out, measure=False)
    inputs = np.stack([source.prepare_file(f) for f in sorted(tones.glob("*/*.wav"))])
    logs = [np.log(Predictor.load(m).predict_arrays(inputs).astype(np.float64)) for m in (members[0], unbiased)]
    expected = np.exp(np.mean(logs, axis=0))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(Predictor.load(out).predict_arrays(inputs), expected, atol=1e-4)
    assert adapt_model(out, tones, tmp_path / "joined_mine.keras", k=3).num_examples == 9  # the join has a bias


def test_the_command_line_joins_and_replaces_only_its_own_file(members, tmp_path, capsys):
    out = tmp_path / "cli.keras"
    assert run_cli(["ensemble", *map(str, members), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 members joined" in text and "member 2:" in text and "joined: validation accuracy" in text
    assert Predictor.load(out).sidecar["command"].startswith("workbench ensemble ")
    assert run_cli(["ensemble", *map(str, members), "--out", str(out)]) == 2  # exists: refused
    assert "--overwrite for an earlier joined model" in capsys.readouterr().err
    assert run_cli(["ensemble", *map(str, members), "--out", str(out), "--overwrite", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["validation"]["measured"]

"""The model summary behind the Model panel's layer table and ``workbench layers``: every layer (a
pretrained backbone's too), parameter counts that add up, and which layers each phase trains — the
trainer's own choice, not a second opinion."""

from __future__ import annotations

import pytest

from workbench.core.errors import ModelFileError
from workbench.core.templates import get_template
from workbench.core.templates.summary import summarize_model_file, summarize_template

SMALL = {"image_size": 64}


@pytest.fixture(scope="module")
def squeezenet_one_block():
    return summarize_template("transfer_squeezenet", 3, None, {**SMALL, "fine_tune_blocks": 1})


def _rows(summary, prefix: str) -> list[dict]:
    return [r for r in summary["layers"] if r["name"].startswith(prefix) and r["params"]]


def test_the_backbone_is_expanded_and_the_parameters_add_up(squeezenet_one_block):
    summary = squeezenet_one_block
    model = get_template("transfer_squeezenet").build(3, (64, 64, 3), {**SMALL, "fine_tune_blocks": 1})
    assert summary["total_params"] == model.count_params()
    assert sum(r["params"] for r in summary["layers"] if r["depth"] == 0) == model.count_params()
    base = next(r for r in summary["layers"] if r["name"] == "squeezenet_v1_1")
    assert base["nested"] and base["depth"] == 0 and base["type"] == "Functional"
    inner = [r for r in summary["layers"] if r["path"].startswith("squeezenet_v1_1/")]
    assert {r["depth"] for r in inner} == {1}
    assert sum(r["params"] for r in inner) == base["params"] == 722_496
    blocks = {r["name"].split("_")[0] for r in inner if r["params"]}
    assert blocks == {"conv1", *(f"fire{i}" for i in range(2, 10))}
    assert next(r for r in inner if r["name"] == "fire9_concat")["output_shape"].endswith("512)")
    assert summary["input_shape"] == [64, 64, 3]  # the image_size hyperparameter, as train uses it


def test_phase_two_trains_the_top_block_only(squeezenet_one_block):
    summary = squeezenet_one_block
    head, fine_tune = summary["phases"]
    assert (head["name"], fine_tune["name"]) == ("head", "fine_tune")
    fire9, fire8 = _rows(summary, "fire9_"), _rows(summary, "fire8_")
    assert len(fire9) == len(fire8) == 3
    assert all(r["phase_params"] == [0, r["params"]] for r in fire9)
    assert all(r["phase_params"] == [0, 0] and not r["trainable"] for r in fire8)
    head_rows = [r for r in summary["layers"] if r["name"].startswith("head_") and r["params"]]
    assert {r["name"] for r in head_rows} == {"head_norm", "head_output"}  # normalised features, classifier
    assert all(r["phase_params"][0] == r["phase_params"][1] and r["trainable"] for r in head_rows)
    head_trained = sum(r["phase_params"][0] for r in head_rows)  # the norm's moving statistics never train
    assert head["trainable_params"] == head_trained == summary["trainable_params"]
    assert fine_tune["trainable_params"] == head_trained + sum(r["params"] for r in fire9)
    assert fine_tune["trainable_params"] + fine_tune["frozen_params"] == summary["total_params"]
    assert (head["trainable_layers"], fine_tune["trainable_layers"]) == (2, 5)


def test_more_fine_tune_blocks_unfreeze_more_of_the_base():
    summary = summarize_template("transfer_squeezenet", 3, None, {**SMALL, "fine_tune_blocks": 2})
    assert all(r["phase_params"][1] == r["params"] for r in _rows(summary, "fire8_"))
    assert all(r["phase_params"][1] == 0 for r in _rows(summary, "fire7_"))


def test_a_template_without_phases_has_one_phase_that_trains_everything():
    summary = summarize_template("mnist_cnn", 10)
    assert [p["name"] for p in summary["phases"]] == ["train"]
    assert summary["phases"][0]["frozen_params"] == 0 == summary["non_trainable_params"]
    assert all(r["depth"] == 0 and not r["nested"] for r in summary["layers"])


def test_a_saved_model_is_summarised_as_saved(tmp_path):
    model = get_template("mnist_cnn").build(4)
    model.get_layer("conv1").trainable = False
    path = tmp_path / "model.keras"
    model.save(path)
    summary = summarize_model_file(path)
    assert summary["source"] == str(path) and summary["phases"] == []
    assert [r["name"] for r in summary["layers"]] == [layer.name for layer in model.layers]
    assert summary["total_params"] == model.count_params()
    assert not next(r for r in summary["layers"] if r["name"] == "conv1")["trainable"]
    assert summary["input_shape"] == [28, 28, 1]
    with pytest.raises(ModelFileError, match="Received"):
        summarize_model_file(tmp_path / "missing.keras")
    (tmp_path / "broken.keras").write_text("not a model")
    with pytest.raises(ModelFileError, match="Keras model file"):
        summarize_model_file(tmp_path / "broken.keras")


def test_batch_norm_statistics_are_never_counted_as_training():
    summary = summarize_template("regularized_cnn", 3)
    (phase,) = summary["phases"]
    assert summary["non_trainable_params"] > 0  # the moving means and variances
    assert phase["trainable_params"] == summary["trainable_params"]
    norm = next(r for r in summary["layers"] if r["type"] == "BatchNormalization")
    assert norm["phase_params"] == [norm["trainable_capable"]] == [norm["params"] // 2]


def test_regularized_cnn_pools_globally_by_default_and_its_size_is_said_before_training():
    summary = summarize_template("regularized_cnn", 3)
    assert "global_pool" in [r["name"] for r in summary["layers"]]
    assert summary["total_params"] < 1_000_000 and summary["size"]["warning"] == ""
    assert summary["size"]["params"] == summary["total_params"]
    # The article's Flatten→Dense on the 37×37×64 map: 44.9 M weights, a 539 MB checkpoint, flagged.
    flat = summarize_template("regularized_cnn", 3, None, {"pooling": "flatten"})
    assert flat["total_params"] > 44_000_000
    assert flat["size"]["file_mb"] > 500 and "Large model" in flat["size"]["warning"]
    # A run recorded before "pooling" existed flattened: that is what its hyperparameters mean.
    recorded = get_template("regularized_cnn").recorded_hparams({"epochs": 20, "conv_dropout": 0.25})
    assert recorded["pooling"] == "flatten"

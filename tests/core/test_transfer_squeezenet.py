"""transfer_squeezenet: the packaged ImageNet base, a new head, and two phases — the head on the
frozen base, then the top blocks at a lower learning rate — recorded in the sidecar."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import write_image_dataset
from workbench.core.templates import get_template
from workbench.core.training import TrainConfig, train

TINY = {"image_size": 64, "epochs": 1, "fine_tune_epochs": 1, "batch_size": 8, "fine_tune_blocks": 1,
        "lr_schedule": "constant"}


def test_the_default_recipe_is_two_phases_with_a_ten_times_lower_rate_for_the_top_blocks():
    spec = get_template("transfer_squeezenet")
    head, fine_tune = spec.phases_for()
    assert (head["name"], fine_tune["name"]) == ("head", "fine_tune")
    assert fine_tune["learning_rate"] == pytest.approx(head["learning_rate"] / 10)
    assert {"fire9_squeeze1x1", "fire8_expand3x3", "head_output"} <= set(fine_tune["trainable"])
    assert "fire6_squeeze1x1" in fine_tune["trainable"] and "fire5_squeeze1x1" not in fine_tune["trainable"]
    assert len(spec.phases_for({"fine_tune_epochs": 0})) == 1
    assert spec.augmentation_default().enabled


def test_the_built_model_holds_the_imagenet_base_frozen_and_takes_raw_pixels():
    from workbench.core.image.squeezenet import load_pretrained_squeezenet

    spec = get_template("transfer_squeezenet")
    model = spec.build(3, (64, 64, 3), spec.resolve_hparams({"image_size": 64}))
    base = model.get_layer("squeezenet_v1_1")
    assert not base.trainable and model.get_layer("caffe_preprocess") is not None
    reference = load_pretrained_squeezenet((64, 64, 3))
    np.testing.assert_array_equal(base.get_layer("fire9_expand3x3").get_weights()[0],
                                  reference.get_layer("fire9_expand3x3").get_weights()[0])
    assert model.output_shape == (None, 3)


def base_weights(path, names):
    import keras

    import workbench.core.image.layers  # noqa: F401  (registers CaffePreprocess for loading)

    base = keras.models.load_model(path, compile=False).get_layer("squeezenet_v1_1")
    return {name: base.get_layer(name).get_weights()[0] for name in names}


NAMES = ("fire9_expand3x3", "fire8_expand3x3", "conv1")


@pytest.fixture(scope="module")
def original():
    from workbench.core.image.squeezenet import load_pretrained_squeezenet

    reference = load_pretrained_squeezenet((64, 64, 3))
    return {name: reference.get_layer(name).get_weights()[0] for name in NAMES}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_image_dataset(tmp_path_factory.mktemp("photos"), {"a": 12, "b": 12, "c": 12}, size=64, rgb=True)


def test_phase_one_leaves_the_base_as_it_was(tmp_path, data, original):
    result = train(TrainConfig("transfer_squeezenet", str(data), {**TINY, "fine_tune_epochs": 0},
                               out_dir=str(tmp_path / "run")))
    assert result.status == "completed", result.message
    trained = base_weights(tmp_path / "run" / "last.keras", NAMES)
    for name in NAMES:
        np.testing.assert_array_equal(trained[name], original[name])


def test_phase_two_also_trains_the_top_block_and_the_sidecar_records_both(tmp_path, data, original):
    result = train(TrainConfig("transfer_squeezenet", str(data), dict(TINY), out_dir=str(tmp_path / "run")))
    assert result.status == "completed", result.message
    trained = base_weights(tmp_path / "run" / "last.keras", NAMES)
    assert not np.array_equal(trained["fire9_expand3x3"], original["fire9_expand3x3"])
    np.testing.assert_array_equal(trained["fire8_expand3x3"], original["fire8_expand3x3"])  # 1 block only
    np.testing.assert_array_equal(trained["conv1"], original["conv1"])
    sidecar = json.loads((tmp_path / "run" / "model.json").read_text())
    assert [(p["name"], p["epochs"]) for p in sidecar["phases"]] == [("head", 1), ("fine_tune", 1)]
    assert sidecar["phases"][1]["learning_rate"] == pytest.approx(sidecar["phases"][0]["learning_rate"] / 10)

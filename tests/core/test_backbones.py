"""keras.applications backbones for transfer learning (workbench.core.image.backbones and the
transfer_keras / transfer_vgg16 templates): ImageNet weights from weights_path or the Keras cache,
a clear error before training when there are none (never a random base), each backbone's
preprocessing inside the model, grayscale and small inputs adapted in-model, two phases.

Nothing here touches the network: weights are made up (a backbone built with weights=None and
written under the name Keras gives its ImageNet file), and Keras's downloader is replaced by one
that records its calls and fails. MobileNetV2 (9 MB) carries the end-to-end tests; the big
backbones (VGG16, ResNet50) are only built without weights.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.backbone_helpers import write_fake_imagenet_weights
from tests.helpers import write_image_dataset
from workbench.core.errors import TemplateError
from workbench.core.image import backbones
from workbench.core.image.backbones import BACKBONE_NAMES, MissingWeightsError, get_backbone
from workbench.core.templates import get_template

# Keras's own note when MobileNetV2 ImageNet weights are asked for at a size they were not made at.
pytestmark = pytest.mark.filterwarnings("ignore:.*Weights for input shape:UserWarning")

MOBILENET_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"


@pytest.fixture
def downloads(monkeypatch):
    """Keras's downloader replaced: every call is recorded (file name, URL) and fails as offline."""
    from keras.src.utils import file_utils

    calls: list[tuple[str, str]] = []

    def no_network(fname, origin=None, *args, **kwargs):
        calls.append((fname, origin))
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", no_network)
    return calls


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache of the test's own; downloads allowed (WORKBENCH_OFFLINE unset)."""
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv(backbones.OFFLINE_ENV, raising=False)
    return home


def _weights_equal(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def _base(model, backbone: str):
    import keras

    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    assert len(nested) == 1, [layer.name for layer in model.layers]
    return nested[0]


# ------------------------------------------------------------------------------ every backbone, light
@pytest.mark.parametrize("name", BACKBONE_NAMES)
def test_each_backbone_builds_and_its_blocks_name_every_trainable_layer_but_batch_norm(name):
    import keras

    base = backbones.build_backbone(name, (32, 32, 3))
    weighted = [layer.name for layer in base.layers
                if layer.trainable_weights and not isinstance(layer, keras.layers.BatchNormalization)]
    listed = [layer for _, layers in get_backbone(name).blocks for layer in layers]
    assert sorted(listed) == sorted(weighted)  # each once, none missing, no batch norm
    order = {layer.name: i for i, layer in enumerate(base.layers)}
    firsts = [order[layers[0]] for _, layers in get_backbone(name).blocks]
    assert firsts == sorted(firsts), "blocks are listed input side first"


@pytest.mark.parametrize("name", BACKBONE_NAMES)
def test_without_cache_the_download_is_the_one_keras_makes_and_its_failure_names_both_ways_on(
        name, keras_home, downloads):
    with pytest.raises(MissingWeightsError) as caught:
        backbones.load_backbone(name, (32, 32, 3))
    # Asked once, for the very file and URL this module names in its message.
    assert downloads == [(backbones.weights_file_name(name, (32, 32, 3)), backbones.weights_url(name, (32, 32, 3)))]
    message = str(caught.value)
    assert message.startswith(f"Expected the ImageNet weights of {get_backbone(name).title}")
    assert downloads[0][0] in message and str(keras_home / "models") in message
    assert "weights_path" in message and "download failed" in message and "Temporary failure" in message


@pytest.mark.parametrize("shape, alpha, rows", [((96, 96, 3), 0.35, 96), ((150, 150, 3), 1.0, 224),
                                                 ((160, 128, 3), 1.0, 224)])
def test_mobilenet_v2_file_names_follow_the_input_size_and_width_as_keras_does(shape, alpha, rows, keras_home,
                                                                             downloads):
    with pytest.raises(MissingWeightsError):
        backbones.load_backbone("mobilenet_v2", shape, alpha=alpha)
    expected = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}_no_top.h5"
    assert downloads[0][0] == expected == backbones.weights_file_name("mobilenet_v2", shape, alpha)


@pytest.mark.parametrize("name, module", [("vgg16", "vgg16"), ("resnet50", "resnet50"),
                                          ("mobilenet_v2", "mobilenet_v2"), ("efficientnet_b0", "efficientnet")])
def test_the_in_model_preprocessing_is_what_keras_applications_prescribes(name, module):
    """Raw RGB pixels through the layers in front of the backbone give what the backbone's own
    preprocess_input gives (EfficientNet's is a pass-through: it rescales inside itself)."""
    import keras

    pixels = np.random.default_rng(0).uniform(0, 255, (2, 40, 36, 3)).astype("float32")
    inputs = keras.Input(shape=(40, 36, 3))
    adapted = keras.Model(inputs, backbones.adapt_input(inputs, name))
    expected = getattr(keras.applications, module).preprocess_input(pixels.copy())
    np.testing.assert_allclose(np.asarray(adapted(pixels)), expected, rtol=1e-5, atol=1e-4)


def test_grayscale_and_small_inputs_become_rgb_of_the_minimum_size_in_model():
    import keras
    import tensorflow as tf

    gray = np.random.default_rng(1).uniform(0, 255, (2, 28, 20, 1)).astype("float32")
    assert backbones.backbone_input_shape((28, 20, 1)) == (45, 32, 3)  # short side to 32, aspect kept
    assert backbones.backbone_input_shape((150, 150, 3)) == (150, 150, 3)
    with pytest.raises(TemplateError, match="1 .grayscale. or 3 .RGB. channels"):
        backbones.backbone_input_shape((32, 32, 4))
    inputs = keras.Input(shape=(28, 20, 1))
    adapted = keras.Model(inputs, backbones.adapt_input(inputs, "mobilenet_v2"))
    expected = tf.image.resize(np.repeat(gray, 3, axis=-1), (45, 32)).numpy() / 127.5 - 1.0
    np.testing.assert_allclose(np.asarray(adapted(gray)), expected, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- where weights come from
def test_weights_path_loads_that_file_and_never_downloads(tmp_path, keras_home, downloads):
    source = backbones.build_backbone("mobilenet_v2", (32, 32, 3), alpha=0.35)
    path = backbones.save_keras_weights_file(source, tmp_path / "mine" / "anything.h5")
    base = backbones.load_backbone("mobilenet_v2", (64, 64, 3), weights_path=str(path), alpha=0.35)
    assert _weights_equal(base.get_weights(), source.get_weights())
    assert downloads == []


def test_the_keras_cache_is_found_first_and_a_keras_3_weights_file_loads_too(tmp_path, keras_home, downloads):
    source = backbones.build_backbone("mobilenet_v2", (96, 96, 3), alpha=0.35)
    write_fake_imagenet_weights(keras_home / "models", "mobilenet_v2", (96, 96, 3), 0.35, source=source)
    base = backbones.load_backbone("mobilenet_v2", (96, 96, 3), alpha=0.35)
    assert _weights_equal(base.get_weights(), source.get_weights()) and downloads == []

    source.save_weights(tmp_path / "mine.weights.h5")  # Keras 3's own format, by weights_path
    base = backbones.load_backbone("mobilenet_v2", (96, 96, 3), str(tmp_path / "mine.weights.h5"), alpha=0.35)
    assert _weights_equal(base.get_weights(), source.get_weights()) and downloads == []


def test_a_weights_path_that_is_not_a_file_is_an_error_not_a_fallback(tmp_path, keras_home, downloads):
    write_fake_imagenet_weights(keras_home / "models", "mobilenet_v2", (32, 32, 3), 0.35)  # the cache has it
    for given, why in ((tmp_path / "missing.h5", "no such file"), (tmp_path, "a folder")):
        with pytest.raises(MissingWeightsError, match=f"Expected weights_path .*Received: {given} .{why}"):
            backbones.load_backbone("mobilenet_v2", (32, 32, 3), weights_path=str(given), alpha=0.35)
    other = backbones.save_keras_weights_file(backbones.build_backbone("vgg16", (32, 32, 3)), tmp_path / "vgg.h5")
    with pytest.raises(MissingWeightsError, match="Expected a weights file of MobileNetV2 without its top"):
        backbones.load_backbone("mobilenet_v2", (32, 32, 3), weights_path=str(other), alpha=0.35)
    assert downloads == []


def test_offline_never_calls_the_downloader_and_says_how_to_get_the_weights(keras_home, downloads, monkeypatch):
    monkeypatch.setenv(backbones.OFFLINE_ENV, "1")
    with pytest.raises(MissingWeightsError) as caught:
        backbones.load_backbone("vgg16", (150, 150, 3))
    assert downloads == []
    message = str(caught.value)
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in message and str(keras_home / "models") in message
    assert "--hparam weights_path=FILE" in message and "WORKBENCH_OFFLINE=1" in message


def test_architecture_only_builds_without_weights_or_downloads(keras_home, downloads):
    with backbones.architecture_only():
        model = get_template("transfer_keras").build(3, (32, 32, 3), {"image_size": 32})
    assert model.output_shape == (None, 3) and downloads == []


@pytest.mark.parametrize("name, alpha", [("mobilenet_v2", 0.35), ("efficientnet_b0", 1.0)])
def test_loaded_backbones_compute_what_keras_imagenet_models_compute(name, alpha, tmp_path, keras_home,
                                                                    monkeypatch):
    """The same file through load_backbone — by weights_path, and by a download (Keras's downloader
    handing over the file) — and through keras.applications(weights="imagenet") gives the same
    features, EfficientNet's extra ImageNet rescaling included (folded into its normalisation)."""
    import keras
    from keras.src.utils import file_utils

    source = backbones.build_backbone(name, (32, 32, 3), alpha=alpha)
    if name == "efficientnet_b0":  # a file as Keras ships it: ImageNet means and variances
        norm = next(layer for layer in source.layers if isinstance(layer, keras.layers.Normalization))
        norm.adapt_mean.assign(np.array([0.485, 0.456, 0.406], "float32"))
        norm.adapt_variance.assign(np.array([0.229, 0.224, 0.225], "float32") ** 2)
        norm.finalize_state()
    path = write_fake_imagenet_weights(tmp_path, name, (32, 32, 3), alpha, source=source)
    monkeypatch.setattr(file_utils, "get_file", lambda fname, *args, **kwargs: str(path))

    pixels = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    reference = backbones.build_backbone(name, (32, 32, 3), weights="imagenet", alpha=alpha)
    preprocess = getattr(keras.applications, "mobilenet_v2" if name == "mobilenet_v2" else "efficientnet")
    expected = np.asarray(reference(preprocess.preprocess_input(pixels.copy())))
    for weights_path in (str(path), ""):  # "": not in the (empty) cache, so "downloaded"
        inputs = keras.Input(shape=(32, 32, 3))
        ours = backbones.load_backbone(name, (32, 32, 3), weights_path=weights_path, alpha=alpha)
        ours = keras.Model(inputs, ours(backbones.adapt_input(inputs, name)))
        np.testing.assert_allclose(np.asarray(ours(pixels)), expected, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------- the templates
def test_templates_metadata_and_phases_name_real_layers_without_batch_norm():
    keras_spec, vgg_spec = get_template("transfer_keras"), get_template("transfer_vgg16")
    assert keras_spec.hyperparameter("backbone").choices == ("vgg16", "mobilenet_v2", "efficientnet_b0", "resnet50")
    assert "backbone" not in vgg_spec.default_hparams()  # the article's template: VGG16, fixed
    head, fine_tune = vgg_spec.phases_for()
    assert fine_tune["trainable"] == ["head_dense", "head_output", "block5_conv1", "block5_conv2", "block5_conv3"]
    assert fine_tune["learning_rate"] == pytest.approx(head["learning_rate"] / 10)
    assert "random" not in vgg_spec.description  # it says what the code does: pretrained, or an error
    for name in BACKBONE_NAMES:
        phases = keras_spec.phases_for({"backbone": name, "fine_tune_blocks": 20})
        every = {layer for _, layers in get_backbone(name).blocks for layer in layers}
        assert set(phases[1]["trainable"]) == every | {"head_output"}  # all blocks; never a *_bn layer
        assert keras_spec.preprocessing_for({"backbone": name}, (32, 32, 1))["color_mode"] == "grayscale"
    assert len(keras_spec.phases_for({"fine_tune_epochs": 0})) == 1
    assert len(keras_spec.phases_for({"fine_tune_blocks": 0})) == 1
    json.dumps(keras_spec.to_dict())


def test_the_weights_path_hyperparameter_takes_text_from_the_cli_and_refuses_a_checkbox_value():
    spec = get_template("transfer_keras")
    assert spec.resolve_hparams({"weights_path": " /x/weights.h5 "})["weights_path"] == "/x/weights.h5"
    assert spec.hyperparameter("weights_path").kind == "path" and spec.default_hparams()["weights_path"] == ""
    with pytest.raises(TemplateError, match="expects a value of type path"):
        spec.resolve_hparams({"weights_path": False})


def test_a_template_built_from_the_cache_holds_exactly_the_cached_weights(keras_home, downloads, monkeypatch):
    monkeypatch.setenv(backbones.OFFLINE_ENV, "1")
    source = backbones.build_backbone("mobilenet_v2", (32, 32, 3))
    write_fake_imagenet_weights(keras_home / "models", "mobilenet_v2", (32, 32, 3), source=source)
    model = get_template("transfer_keras").build(2, (32, 32, 3), {"image_size": 32})
    base = _base(model, "mobilenet_v2")
    assert _weights_equal(base.get_weights(), source.get_weights()) and not base.trainable
    assert downloads == []


TINY = {"image_size": 32, "epochs": 1, "fine_tune_epochs": 1, "fine_tune_blocks": 1, "batch_size": 4,
        "lr_schedule": "constant", "learning_rate": 0.01}


def test_offline_with_no_weights_a_run_stops_before_training_with_the_clear_error(tmp_path, keras_home, downloads,
                                                                               monkeypatch):
    from workbench.core.training import TrainConfig, train

    monkeypatch.setenv(backbones.OFFLINE_ENV, "1")
    data = write_image_dataset(tmp_path / "data", {"a": 4, "b": 4}, size=32, rgb=True)
    with pytest.raises(MissingWeightsError, match=f"{MOBILENET_FILE}.*weights_path"):
        train(TrainConfig("transfer_keras", str(data), dict(TINY), out_dir=str(tmp_path / "run")))
    assert downloads == [] and not (tmp_path / "run" / "model.keras").exists()
    assert not (tmp_path / "run" / "last.keras").exists()


def test_the_cli_names_both_ways_on_when_the_weights_are_missing(tmp_path, keras_home, downloads, capsys):
    from workbench.cli import run_cli

    data = write_image_dataset(tmp_path / "data", {"a": 4, "b": 4}, size=32, rgb=True)
    code = run_cli(["train", "--template", "transfer_keras", "--data", str(data), "--out", str(tmp_path / "run"),
                    "--epochs", "1", "--hparam", "image_size=32", "--hparam", "fine_tune_epochs=0"])
    err = capsys.readouterr().err
    assert code == 2 and "workbench train: error: Expected the ImageNet weights of MobileNetV2" in err
    assert MOBILENET_FILE in err and "--hparam weights_path=FILE" in err and len(downloads) == 1


def test_grayscale_28px_trains_in_two_phases_and_predicts_raw_pixels(tmp_path, keras_home, downloads, monkeypatch):
    """28×28 grayscale: repeated to RGB and resized to 32 in-model; phase 2 trains the top block only,
    batch norm stays as loaded; the saved model predicts raw pixels and files."""
    import keras

    from workbench.core.inference import Predictor
    from workbench.core.training import TrainConfig, train

    monkeypatch.setenv(backbones.OFFLINE_ENV, "1")
    source = backbones.build_backbone("mobilenet_v2", (32, 32, 3))
    path = write_fake_imagenet_weights(tmp_path / "weights", "mobilenet_v2", (32, 32, 3), source=source)
    data = write_image_dataset(tmp_path / "data", {"a_hbar": 6, "b_vbar": 6}, size=28)
    hparams = {**TINY, "weights_path": str(path)}
    result = train(TrainConfig("transfer_keras", str(data), hparams, input_shape=(28, 28, 1),
                               out_dir=str(tmp_path / "run")))
    assert result.status == "completed", result.message
    assert len(result.history["loss"]) == 2 and downloads == []

    import workbench.core.image.layers  # noqa: F401  (the workbench layers, for load_model)

    model = keras.models.load_model(tmp_path / "run" / "last.keras", compile=False)  # after phase 2
    base = _base(model, "mobilenet_v2")
    changed = {layer.name for layer in base.layers
               if layer.weights and not _weights_equal(layer.get_weights(), source.get_layer(layer.name).get_weights())}
    assert changed == {"block_16_expand", "block_16_depthwise", "block_16_project", "Conv_1"}  # no *_BN, no other

    pixels = np.random.default_rng(3).integers(0, 256, (3, 28, 28, 1)).astype("float32")
    probabilities = model.predict(pixels, verbose=0)
    assert probabilities.shape == (3, 1) and np.all((probabilities >= 0) & (probabilities <= 1))
    sidecar = json.loads((tmp_path / "run" / "model.json").read_text())
    assert [p["name"] for p in sidecar["phases"]] == ["head", "fine_tune"]
    files = [min(folder.iterdir()) for folder in sorted(data.iterdir())]
    predictions = Predictor.load(result.model_path).predict_files(files)
    assert [p.label in ("a_hbar", "b_vbar") for p in predictions] == [True, True]

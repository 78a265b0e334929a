"""The pretrained SqueezeNet v1.1 base: layout, packaged ImageNet weights, what they are worth on real
photos, and clear errors for missing or damaged weight files.

The packaged file ``resources/models/squeezenet_v1_1_imagenet_base.weights.h5`` is made by
``packaging/make_squeezenet_base.py`` from ``../shared/weights/squeezenet_v1_1_imagenet_notop.h5``;
the tests that compare it with that file skip only when ``../shared/weights`` is absent (an installed
wheel without the shared folder). The photo test reads ``../shared/data/clothing`` and fails without it,
as every test on the shared data does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from tests.paths import REPO_ROOT, SHARED_DATA, require_shared
from workbench.core.errors import ModelFileError, WorkbenchError
from workbench.core.image import squeezenet
from workbench.core.image.squeezenet import (
    BLOCKS,
    WEIGHT_COUNT,
    WEIGHTED_LAYERS,
    PretrainedWeightsError,
    build_squeezenet_base,
    load_caffe_h5_weights,
    load_pretrained_squeezenet,
    pretrained_base_path,
    unfreeze_top_blocks,
)

SHARED_WEIGHTS = SHARED_DATA.parent / "weights"
SOURCE = SHARED_WEIGHTS / "squeezenet_v1_1_imagenet_notop.h5"
SOURCE_SHA256 = "2d935d8c102ad1232484a77da8e6fbdf3ff4ab608974a0d8b6283115ffff204f"
CLOTHING = SHARED_DATA / "clothing" / "train"


def needs_shared_weights() -> Path:
    if not SHARED_WEIGHTS.is_dir():
        pytest.skip(f"{SHARED_WEIGHTS} is absent (the packaged weights are compared with it where it exists)")
    return SOURCE


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored_arrays(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The kernel and bias of each Caffe layer in the Keras 2 file, read independently of the loader."""
    found: dict[str, dict[str, np.ndarray]] = {}
    with h5py.File(path, "r") as handle:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                # e.g. fire2/squeeze1x1/fire2/squeeze1x1_3/kernel:0 → fire2_squeeze1x1, kernel
                parts = name.split("/")
                layer = "_".join(parts[: (len(parts) - 1) // 2])
                found.setdefault(layer, {})[parts[-1].split(":")[0]] = obj[()]
        handle.visititems(visit)
    return {layer: (w["kernel"], w["bias"]) for layer, w in found.items()}


# ---- layout ----


def test_the_base_is_squeezenet_v1_1_with_its_weight_count_and_blocks():
    model = build_squeezenet_base((227, 227, 3))
    assert model.count_params() == WEIGHT_COUNT == 722_496
    # 227 → conv1 113 → pool1 56 → pool3 27 → pool5 13, as in the Caffe model; fire9 has 256 + 256 channels.
    assert tuple(model.output.shape) == (None, 13, 13, 512)
    assert [block for block, _ in BLOCKS] == ["conv1"] + [f"fire{i}" for i in range(2, 10)]
    assert sorted(layer.name for layer in model.layers if layer.weights) == sorted(WEIGHTED_LAYERS)
    fire2 = model.get_layer("fire2_expand3x3")
    assert (fire2.kernel_size, fire2.padding, fire2.filters) == ((3, 3), "same", 64)
    conv1 = model.get_layer("conv1")
    assert (conv1.strides, conv1.padding) == ((2, 2), "valid")
    assert not any("/" in layer.name for layer in model.layers)
    # Any input size from about 64 pixels works (a transfer-learning base).
    assert tuple(build_squeezenet_base((64, 64, 3)).output.shape) == (None, 3, 3, 512)


def test_unfreezing_the_top_blocks():
    model = build_squeezenet_base((64, 64, 3))
    assert unfreeze_top_blocks(model, 2) == ["fire8", "fire9"]
    trainable = {w.path.split("/")[0] for w in model.trainable_weights}
    assert trainable == {f"fire{i}_{part}" for i in (8, 9) for part in ("squeeze1x1", "expand1x1", "expand3x3")}
    assert unfreeze_top_blocks(model, 0) == [] and not model.trainable_weights
    assert len(unfreeze_top_blocks(model, 20)) == 9 and len(model.trainable_weights) == 2 * len(WEIGHTED_LAYERS)
    with pytest.raises(ValueError, match="Received: -1"):
        unfreeze_top_blocks(model, -1)


# ---- the packaged weights ----


def test_the_packaged_weights_equal_the_shared_file_layer_by_layer():
    source = needs_shared_weights()
    assert sha256(source) == SOURCE_SHA256
    expected = stored_arrays(source)
    assert sorted(expected) == sorted(WEIGHTED_LAYERS)
    model = load_pretrained_squeezenet((96, 96, 3))
    assert model.count_params() == WEIGHT_COUNT
    for name in WEIGHTED_LAYERS:
        kernel, bias = (np.asarray(w) for w in model.get_layer(name).get_weights())
        np.testing.assert_array_equal(kernel, expected[name][0], err_msg=name)
        np.testing.assert_array_equal(bias, expected[name][1], err_msg=name)
    # Loading the shared file directly gives the same network.
    direct = build_squeezenet_base((96, 96, 3))
    load_caffe_h5_weights(direct, source)
    for a, b in zip(direct.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_packaged_files_say_where_they_come_from_and_are_reproducible(tmp_path):
    path = pretrained_base_path()
    sidecar = json.loads(path.with_name("squeezenet_v1_1_imagenet_base.json").read_text())
    assert sidecar["file"] == path.name and sidecar["sha256"] == sha256(path)
    assert sidecar["source"] == {**sidecar["source"], "file": SOURCE.name, "sha256": SOURCE_SHA256}
    assert sidecar["architecture"]["weight_count"] == WEIGHT_COUNT
    assert {o["licence"] for o in sidecar["origin"]} == {"BSD 2-clause", "MIT"}
    assert any(o.get("commit") == "62b3f05" for o in sidecar["origin"])
    assert sidecar["command"] == "python packaging/make_squeezenet_base.py"
    licence = path.with_name("LICENSE.squeezenet").read_text()
    assert path.name in licence.splitlines()[0] and "MIT License" in licence

    source = needs_shared_weights()
    spec = importlib.util.spec_from_file_location("make_squeezenet_base", REPO_ROOT / "packaging/make_squeezenet_base.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    assert make.main(["--out", str(tmp_path)]) == 0
    assert sha256(tmp_path / path.name) == sha256(path), "the packaged weights are not what the command makes"
    made = (tmp_path / "LICENSE.squeezenet").read_text()
    assert made.splitlines()[2:] == licence.splitlines()[2:]  # the header names the command, with its --out

    # Another file than the one in ../shared/weights/README.md is refused.
    other = tmp_path / "other" / source.name
    other.parent.mkdir()
    other.write_bytes(source.read_bytes() + b"\0")
    (other.parent / "LICENSE.squeezenet").write_text("x")
    assert make.main(["--source", str(other), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


# ---- what the pretrained weights are worth ----


def load_photos(name: str, count: int = 40, size: int = 128) -> np.ndarray:
    from PIL import Image

    files = sorted(require_shared(CLOTHING / name).glob("*.jpg"))[:count]
    assert len(files) == count
    return np.stack([
        np.asarray(Image.open(f).convert("RGB").resize((size, size), Image.BILINEAR), dtype="float32")
        for f in files
    ])


def pooled_features(base, images: np.ndarray) -> np.ndarray:
    import keras

    from workbench.core.image.layers import CaffePreprocess

    inputs = keras.Input(shape=images.shape[1:])
    x = keras.layers.GlobalAveragePooling2D()(base(CaffePreprocess()(inputs)))
    return keras.Model(inputs, x).predict(images, batch_size=40, verbose=0)


def leave_one_out_nearest_mean(features: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of a nearest-class-mean classifier, each photo classified by means without it."""
    features = features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-8)
    right = 0
    for i in range(len(features)):
        rest = np.arange(len(features)) != i
        means = [features[rest & (labels == c)].mean(axis=0) for c in np.unique(labels)]
        right += int(np.argmin([np.linalg.norm(features[i] - m) for m in means]) == labels[i])
    return right / len(features)


def test_the_imagenet_base_separates_real_photos_far_better_than_a_random_one():
    import keras

    images = np.concatenate([load_photos("hat"), load_photos("pants")])
    labels = np.repeat([0, 1], 40)
    pretrained = leave_one_out_nearest_mean(pooled_features(load_pretrained_squeezenet((128, 128, 3)), images), labels)
    keras.utils.set_random_seed(0)
    random = leave_one_out_nearest_mean(pooled_features(build_squeezenet_base((128, 128, 3)), images), labels)
    # Measured: pretrained 0.975, random 0.675.
    assert pretrained >= 0.9, (pretrained, random)
    assert pretrained >= random + 0.2, (pretrained, random)


# ---- errors ----


def test_a_missing_or_damaged_caffe_file_is_a_clear_error(tmp_path):
    model = build_squeezenet_base((64, 64, 3))
    before = [w.copy() for w in model.get_weights()]

    with pytest.raises(PretrainedWeightsError, match=r"Expected .*SqueezeNet.* Received: no file at"):
        load_caffe_h5_weights(model, tmp_path / "absent.h5")

    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"this is not HDF5" * 100)
    with pytest.raises(PretrainedWeightsError, match="not readable as HDF5"):
        load_caffe_h5_weights(model, garbage)

    empty = tmp_path / "empty.h5"
    h5py.File(empty, "w").close()
    with pytest.raises(PretrainedWeightsError, match="'conv1'. Received: .* has no such group"):
        load_caffe_h5_weights(model, empty)

    wrong = tmp_path / "wrong.h5"
    with h5py.File(wrong, "w") as handle:
        for name, layer in ((n, model.get_layer(n)) for n in WEIGHTED_LAYERS):
            group = handle.create_group(name.replace("_", "/", 1) + "/x_1")
            kernel_shape = tuple(layer.kernel.shape)
            if name == "fire5_expand3x3":
                kernel_shape = (1, 1) + kernel_shape[2:]
            group["kernel:0"] = np.zeros(kernel_shape, "float32")
            group["bias:0"] = np.zeros(tuple(layer.bias.shape), "float32")
    with pytest.raises(PretrainedWeightsError, match=r"fire5_expand3x3 .* Received: \[\(1, 1, 32, 128\)"):
        load_caffe_h5_weights(model, wrong)

    # Nothing was half-loaded, and the errors are the kind the CLI and GUI show on one line.
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert issubclass(PretrainedWeightsError, ModelFileError) and issubclass(PretrainedWeightsError, WorkbenchError)


def test_a_missing_or_damaged_packaged_file_says_how_to_make_it(tmp_path, monkeypatch):
    packaged = pretrained_base_path()
    monkeypatch.setattr(squeezenet, "pretrained_base_path", lambda: tmp_path / "absent.weights.h5")
    with pytest.raises(PretrainedWeightsError, match=r"make_squeezenet_base\.py.*Received: no such file"):
        load_pretrained_squeezenet((64, 64, 3))

    damaged = tmp_path / "damaged.weights.h5"
    damaged.write_bytes(packaged.read_bytes()[:50_000])  # cut short, as by an interrupted copy
    monkeypatch.setattr(squeezenet, "pretrained_base_path", lambda: damaged)
    with pytest.raises(PretrainedWeightsError, match=r"remake them with .*make_squeezenet_base\.py.*Received: "):
        load_pretrained_squeezenet((64, 64, 3))

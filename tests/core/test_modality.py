"""The modality registry: every built-in honours the protocol, and a new modality needs no engine edit."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from workbench.core import modality as registry
from workbench.core.data.pipeline import make_tf_dataset, split_dataset, subset_arrays
from workbench.core.data.scan import scan_dataset
from workbench.core.errors import DatasetError
from workbench.core.modality import (
    Modality,
    accepted_extensions,
    detect_modality,
    get_modality,
    modality_names,
    modality_of_file,
    register_modality,
)

ROOT = Path(__file__).resolve().parents[2]
GENERIC_CORE_MODULES = [
    "workbench/core/modality.py", "workbench/core/augmentation.py", "workbench/core/evaluation.py",
    "workbench/core/export.py", "workbench/core/inference/predictor.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "workbench/core/data").glob("*.py")),
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "workbench/core/training").glob("*.py")),
]


@pytest.mark.parametrize("name", ["image", "audio", "video"])
def test_every_builtin_modality_honours_the_protocol(name):
    modality = get_modality(name)
    assert isinstance(modality, Modality)
    assert modality.name == name and modality.extensions and modality.noun
    spec = modality.augmentation_spec.from_dict({})
    assert not spec.enabled and modality.augmentation_spec.from_dict(spec.to_dict()) == spec
    assert modality.can_train or modality.train_unavailable


def test_extensions_do_not_overlap_and_files_find_their_modality():
    seen: dict[str, str] = {}
    for name in ("image", "audio", "video"):
        for ext in get_modality(name).extensions:
            assert ext not in seen, f"{ext} claimed by {seen.get(ext)} and {name}"
            seen[ext] = name
    assert modality_of_file("a/b/C.PNG") == "image" and modality_of_file("x.wav") == "audio"
    assert modality_of_file("clip.avi") == "video" and modality_of_file("notes.txt") is None
    assert detect_modality(["1.wav", "2.wav", "3.png"]) == "audio" and detect_modality([]) == "image"


def test_an_unknown_modality_is_refused_with_what_was_expected():
    with pytest.raises(DatasetError, match=r"Expected a modality in image, audio, video.*Received: 'smell'"):
        get_modality("smell")


def test_generic_core_modules_contain_no_modality_branches():
    """Scan, pipeline, trainer, evaluation, predictor and export ask the registry instead."""
    offenders = []
    for relative in GENERIC_CORE_MODULES:
        tree = ast.parse((ROOT / relative).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                    isinstance(c, ast.Constant) and c.value in ("image", "audio", "video")
                    for c in [node.left, *node.comparators]):
                offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, f"modality branches in generic modules: {offenders}"


class _VectorSpec:
    """A third party's augmentation options: none."""

    enabled = False

    def to_dict(self):
        return {"modality": "vector"}

    def __eq__(self, other):
        return isinstance(other, _VectorSpec)

    @classmethod
    def from_dict(cls, values):
        return cls()

    @classmethod
    def from_pairs(cls, pairs):
        return cls()


class VectorModality:
    """A modality added from outside the engine: comma-separated numbers in .vec files."""

    name = "vector"
    noun = "vector"
    extensions = frozenset({".vec"})
    augmentation_spec = _VectorSpec
    can_train = True
    train_unavailable = ""

    def verify_file(self, path):
        try:
            values = np.loadtxt(path, delimiter=",", ndmin=1)
        except ValueError as exc:
            return str(exc), None
        return None, {"length": float(values.size)}

    def file_statistics(self, infos):
        return {"files": len(infos), "length_max": max(i["length"] for i in infos)}

    def load_file(self, path, input_shape, preprocessing):
        return np.loadtxt(path, delimiter=",", ndmin=1).astype(np.float32)[: input_shape[0]]

    def prepare_array(self, array, input_shape, preprocessing):
        return np.asarray(array, np.float32)

    def sample_arrays(self, ids, arrays, input_shape, preprocessing):
        return np.stack([self.load_file(i, input_shape, preprocessing) for i in ids])

    def tf_dataset(self, ids, labels, arrays, input_shape, batch_size, *, training, augmentation, seed, preprocessing):
        import tensorflow as tf

        x = self.sample_arrays(ids, arrays, input_shape, preprocessing)
        return tf.data.Dataset.from_tensor_slices((x, np.asarray(labels, np.int32))).batch(batch_size)

    def sidecar_preprocessing(self, preprocessing, input_shape):
        return dict(preprocessing)

    def configure_model(self, model, augmentation):
        return []

    def register_layers(self):
        return None

    def float_front_end_layers(self, model):
        return []


@pytest.fixture
def vector_modality():
    register_modality(VectorModality())
    yield get_modality("vector")
    registry._registry.pop("vector", None)


def test_a_registered_modality_is_scanned_split_and_streamed_without_engine_changes(vector_modality, tmp_path):
    for label, offset in (("low", 0.0), ("high", 10.0)):
        folder = tmp_path / label
        folder.mkdir()
        for i in range(6):
            (folder / f"{i}.vec").write_text(",".join(str(offset + i + k) for k in range(4)))
    (tmp_path / "low" / "broken.vec").write_text("not,numbers")
    assert ".vec" in accepted_extensions()
    report = scan_dataset(tmp_path)
    assert report.modality == "vector" and report.counts == {"high": 6, "low": 6}
    assert [Path(u["path"]).name for u in report.unreadable] == ["broken.vec"]
    assert report.file_statistics == {"files": 12, "length_max": 4.0}
    split = split_dataset(report, val_fraction=0.5, seed=1)
    preprocessing = {"kind": "vector"}
    arrays = subset_arrays(split.train, (4,), preprocessing=preprocessing)
    assert arrays.shape == (len(split.train), 4)
    x, y = next(iter(make_tf_dataset(split.train, (4,), 32, preprocessing=preprocessing)))
    assert x.shape == (len(split.train), 4) and sorted(set(y.numpy())) == [0, 1]


def test_registering_twice_needs_replace(vector_modality):
    with pytest.raises(ValueError, match="already registered"):
        register_modality(VectorModality())
    register_modality(VectorModality(), replace=True)
    assert "vector" in modality_names()


def test_an_object_without_the_protocol_is_refused():
    with pytest.raises(TypeError, match="Modality protocol"):
        register_modality(object())  # type: ignore[arg-type]


def test_a_registered_modality_trains_and_predicts_end_to_end(vector_modality, tmp_path):
    """Scan, split, pipeline, trainer, sidecar and predictor all reach the new modality through the
    registry: no engine module was edited for it."""
    import keras

    from workbench.core.inference import Predictor
    from workbench.core.templates import registry as templates
    from workbench.core.templates.base import TemplateSpec, training_hyperparameters
    from workbench.core.training import TrainConfig, train

    def build(num_classes, input_shape, hp):
        inputs = keras.Input(input_shape)
        outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Rescaling(0.1)(inputs))
        return keras.Model(inputs, outputs)

    spec = TemplateSpec("vector_dense", "Dense on vectors", "test", "vector", (4,), build,
                        training_hyperparameters(epochs=8, batch_size=4, learning_rate=0.05),
                        binary_output=False, preprocessing={"kind": "vector"})
    templates.register_template(spec)
    try:
        for label, offset in (("low", 0.0), ("high", 10.0)):
            (tmp_path / "data" / label).mkdir(parents=True)
            for i in range(8):
                (tmp_path / "data" / label / f"{i}.vec").write_text(",".join(str(offset + k) for k in range(4)))
        result = train(TrainConfig("vector_dense", str(tmp_path / "data"), val_split=0.25, out_dir=str(tmp_path / "run")))
        assert result.status == "completed", result.message
        predictor = Predictor.load(result.model_path)
        assert predictor.handler is vector_modality
        [prediction] = predictor.predict_files([tmp_path / "data" / "high" / "0.vec"])
        assert prediction.label == "high"
    finally:
        templates._registry.pop("vector_dense", None)

"""Export to .keras / SavedModel / TFLite with parity checks, and loading errors of the Predictor."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import write_image_dataset
from workbench.core.errors import ExportError, ModelFileError
from workbench.core.export import export_model
from workbench.core.inference import Predictor
from workbench.core.sidecar import read_sidecar, sidecar_path
from workbench.core.training import TrainConfig, train

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*tf.lite.Interpreter is deprecated:UserWarning",
    "ignore:Statistics for quantized inputs were expected:UserWarning",
)

# Largest probability difference allowed between the Keras model and each exported artefact, on the
# same real samples. Measured over three seeds: 0 for .keras and SavedModel, ~3e-7 for float TFLite,
# up to 7.5e-4 for dynamic-range and 4e-3 for int8 quantisation; the bounds leave 10× or more margin.
PARITY_BOUNDS = {
    ("keras", "none"): 1e-5,
    ("savedmodel", "none"): 1e-5,
    ("tflite", "none"): 1e-4,
    ("tflite", "dynamic"): 0.05,
    ("tflite", "int8"): 0.05,
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(model.keras, dataset) of a simple_cnn trained for one epoch on 3 × 20 tiny images."""
    root = tmp_path_factory.mktemp("export")
    data = write_image_dataset(root / "data")
    result = train(TrainConfig("simple_cnn", str(data), {"epochs": 1, "batch_size": 8}, out_dir=str(root / "run")))
    assert result.status == "completed", result.message
    return result.model_path, data


@pytest.fixture(scope="module")
def exports(trained):
    """Every format exported once to its default path, in the order a user might run them."""
    model_path, _ = trained
    results = {}
    for fmt, quantize in PARITY_BOUNDS:
        results[(fmt, quantize)] = export_model(model_path, fmt, quantize=quantize)
    return results


@pytest.mark.parametrize(("fmt", "quantize"), list(PARITY_BOUNDS), ids=[f"{f}-{q}" for f, q in PARITY_BOUNDS])
def test_export_writes_the_artefact_its_sidecar_and_a_parity_figure(exports, trained, fmt, quantize):
    model_path, data = trained
    result = exports[(fmt, quantize)]

    assert result.path.exists() and result.path.parent == model_path.parent
    assert result.size_bytes > 0
    if fmt == "savedmodel":
        assert (result.path / "saved_model.pb").is_file()
    sidecar = read_sidecar(result.path)
    assert sidecar_path(result.path).parent in (result.path, result.path.parent)
    assert {k: sidecar["export"][k] for k in ("format", "quantize", "source_model")} == {
        "format": fmt, "quantize": quantize, "source_model": str(model_path)}
    assert sidecar["class_names"] == ["a_hbar", "b_vbar", "c_blob"]

    assert result.parity_samples == 16
    assert result.parity_source == str(data.resolve())
    assert 0.0 <= result.parity_max_abs_diff <= PARITY_BOUNDS[(fmt, quantize)], result.to_dict()
    assert result.top1_agreement >= (0.99 if quantize == "none" else 0.8)
    json.dumps(result.to_dict())


def test_exports_leave_the_original_model_and_its_sidecar_alone(exports, trained):
    model_path, _ = trained
    sidecar = read_sidecar(model_path)
    assert "export" not in sidecar, f"an export overwrote {sidecar_path(model_path).name}"
    assert sidecar["template"] == "simple_cnn"
    paths = [r.path for r in exports.values()] + [sidecar_path(r.path) for r in exports.values()]
    assert len(set(paths)) == len(paths), "two exports share a file"
    assert model_path not in paths and sidecar_path(model_path) not in paths


def test_float_tflite_matches_keras_on_new_inputs(exports, trained):
    import tensorflow as tf

    predictor = Predictor.load(trained[0])
    x = np.random.default_rng(1).uniform(0, 255, (3, 28, 28, 1)).astype(np.float32)
    interpreter = tf.lite.Interpreter(model_path=str(exports[("tflite", "none")].path))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    outputs = []
    for sample in x:
        interpreter.set_tensor(inp["index"], sample[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(out["index"])[0])
    np.testing.assert_allclose(np.stack(outputs), predictor.predict_arrays(x), atol=1e-4)


def test_int8_model_takes_integer_inputs(exports):
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(exports[("tflite", "int8")].path))
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert exports[("tflite", "int8")].size_bytes < exports[("tflite", "none")].size_bytes


def test_export_to_an_explicit_path_with_other_data(trained, tmp_path):
    model_path, data = trained
    copy = tmp_path / "parity-data"
    shutil.copytree(data, copy)
    result = export_model(model_path, "keras", out=tmp_path / "out" / "mine.keras", data=str(copy), parity_count=5)
    assert result.path == tmp_path / "out" / "mine.keras" and result.path.is_file()
    assert (tmp_path / "out" / "mine.json").is_file()
    assert result.parity_samples == 5 and result.parity_source == str(copy)
    assert Predictor.load(result.path).class_names == ["a_hbar", "b_vbar", "c_blob"]


@pytest.mark.parametrize(("fmt", "quantize", "message"), [
    ("onnx", "none", "export format"),
    ("tflite", "float16", "quantisation"),
    ("keras", "int8", "TFLite only"),
    ("savedmodel", "dynamic", "TFLite only"),
])
def test_invalid_export_options(trained, tmp_path, fmt, quantize, message):
    with pytest.raises(ExportError, match=message):
        export_model(trained[0], fmt, out=tmp_path / "x", quantize=quantize)
    assert not (tmp_path / "x").exists()


def test_predictor_rejects_a_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        Predictor.load(tmp_path / "nothing.keras")


def test_predictor_rejects_a_file_that_is_not_keras(trained, tmp_path):
    other = tmp_path / "model.h5"
    shutil.copyfile(trained[0], other)
    shutil.copyfile(sidecar_path(trained[0]), tmp_path / "model.json")
    with pytest.raises(ModelFileError, match=r"\.keras"):
        Predictor.load(other)


def test_predictor_needs_the_sidecar(trained, tmp_path):
    lonely = tmp_path / "lonely.keras"
    shutil.copyfile(trained[0], lonely)
    with pytest.raises(ModelFileError, match="sidecar"):
        Predictor.load(lonely)


@pytest.mark.parametrize("content", ["{not json", json.dumps({"format": "something-else"}),
                                     json.dumps({"format": "workbench-model/1"})], ids=["not-json", "format", "classes"])
def test_predictor_rejects_a_bad_sidecar(trained, tmp_path, content):
    model = tmp_path / "model.keras"
    shutil.copyfile(trained[0], model)
    (tmp_path / "model.json").write_text(content)
    with pytest.raises(ModelFileError, match="sidecar"):
        Predictor.load(model)


def test_predictor_rejects_a_garbage_keras_file_with_a_sidecar(trained, tmp_path):
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(np.random.default_rng(0).bytes(2048))
    shutil.copyfile(sidecar_path(trained[0]), tmp_path / "garbage.json")
    with pytest.raises(ModelFileError, match="Expected a Keras model file"):
        Predictor.load(garbage)


# -- nothing the project did not create is replaced (an export once deleted a whole run folder) -----------


def _user_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("mine")
    return path


def test_a_savedmodel_export_refuses_a_folder_it_did_not_write_and_keeps_its_files(trained, tmp_path):
    model_path, _ = trained
    target = _user_folder(tmp_path / "mine")
    with pytest.raises(ExportError, match=r"was not written by 'workbench export' \(pass --overwrite"):
        export_model(model_path, "savedmodel", out=target)
    assert (target / "notes.txt").read_text() == "mine" and sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_export_refuses_the_run_folder_and_leaves_the_run_intact(trained):
    model_path, _ = trained
    before = sorted(p.name for p in model_path.parent.iterdir())
    with pytest.raises(ExportError, match="other than the model or its folder"):
        export_model(model_path, "savedmodel", out=model_path.parent)
    assert sorted(p.name for p in model_path.parent.iterdir()) == before
    Predictor.load(model_path)


def test_an_earlier_export_is_replaced_whole_and_overwrite_replaces_a_foreign_target(trained, tmp_path):
    model_path, _ = trained
    target = tmp_path / "sm"
    export_model(model_path, "savedmodel", out=target, parity_count=2)
    (target / "stale.txt").write_text("from the previous export")
    export_model(model_path, "savedmodel", out=target, parity_count=2)  # ours: replaced without --overwrite
    assert not (target / "stale.txt").exists() and (target / "saved_model.pb").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging folder left behind"
    foreign = tmp_path / "foreign.keras"
    foreign.write_text("someone's file")
    with pytest.raises(ExportError, match="was not written by 'workbench export'"):
        export_model(model_path, "keras", out=foreign, parity_count=2)
    assert foreign.read_text() == "someone's file"
    export_model(model_path, "keras", out=foreign, parity_count=2, overwrite=True)
    Predictor.load(foreign)


def test_a_failed_export_leaves_the_previous_one_in_place(trained, tmp_path, monkeypatch):
    model_path, _ = trained
    target = tmp_path / "m.tflite"
    export_model(model_path, "tflite", out=target, parity_count=2)
    before = target.read_bytes()
    import workbench.core.export as export

    def broken(model, quantize, samples, float_layers):
        raise ExportError("conversion failed on purpose")

    monkeypatch.setattr(export, "_tflite_bytes", broken)
    with pytest.raises(ExportError, match="on purpose"):
        export_model(model_path, "tflite", out=target, parity_count=2)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite", "m.tflite.json"]

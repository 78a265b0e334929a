"""The shipped spoken-digit model reads real FSDD recordings (integration; needs ../shared/data)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.paths import SHARED_DATA, require_shared
from workbench.core.inference import Predictor
from workbench.core.resources import resource_path

FSDD = SHARED_DATA / "fsdd"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def predictor():
    path = resource_path("models", "spoken_digits.keras")
    assert path.is_file(), f"the shipped model is missing: {path} (make models-spoken-digits)"
    return Predictor.load(path)


@pytest.fixture(scope="module")
def held_out(predictor):
    """Two recordings per digit of the speaker the shipped model never trained on."""
    require_shared(FSDD)
    speakers = predictor.sidecar["split"].get("val_groups") or []
    assert len(speakers) == 1, "the shipped model should hold out one FSDD speaker for validation"
    files = [sorted((FSDD / str(d)).glob(f"{d}_{speakers[0]}_*.wav"))[i] for d in range(10) for i in (7, 31)]
    return files


def test_the_shipped_model_is_a_small_sound_model(predictor):
    assert predictor.modality == "audio" and predictor.class_names == [str(d) for d in range(10)]
    # Two runs of 24 base filters (for noisy rooms) joined: 2 × 2.8 MB.
    assert predictor.path.stat().st_size < 6_000_000
    assert predictor.preprocessing["kind"] == "audio" and predictor.preprocessing["trim_silence"]


def test_its_sidecar_records_the_makefile_recipe_once_per_seed_and_the_join(predictor):
    """``make models-spoken-digits``: SPOKEN_DIGITS_FLAGS trained with each of SPOKEN_DIGITS_SEEDS, then
    ``workbench ensemble`` of those runs; the sidecar must say exactly that."""
    import re
    import shlex

    from tests.paths import REPO_ROOT

    makefile = (REPO_ROOT / "Makefile").read_text().replace("\\\n", " ")
    variable = {name: re.search(rf"^{name}\s*:=\s*(.*)$", makefile, re.MULTILINE).group(1).split()
                for name in ("SPOKEN_DIGITS_FLAGS", "SPOKEN_DIGITS_SEEDS")}
    ensemble = predictor.sidecar["ensemble"]
    assert [m["seed"] for m in ensemble["members"]] == [int(s) for s in variable["SPOKEN_DIGITS_SEEDS"]]
    for member in ensemble["members"]:
        argv = shlex.split(member["command"])
        assert argv[:2] == ["workbench", "train"] and argv[argv.index("--seed") + 1] == str(member["seed"])
        assert " ".join(variable["SPOKEN_DIGITS_FLAGS"]) in " ".join(argv)
        assert member["val_accuracy"] > 0.9
    assert predictor.sidecar["command"].startswith("workbench ensemble ")
    assert ensemble["validation"]["measured"] and ensemble["validation"]["val_groups"] == ["george"]
    assert ensemble["shared_layers"] == ["log_mel", "spec_augment"]


def test_it_reads_a_new_speakers_digits(predictor, held_out):
    predictions = predictor.predict_files(held_out)
    right = sum(p.label == f.parent.name for p, f in zip(predictions, held_out))
    assert right >= 18, [(f.name, p.label) for p, f in zip(predictions, held_out) if p.label != f.parent.name]


def test_a_microphone_style_recording_reads_the_same(predictor, held_out):
    """The word at 16 kHz inside 1.5 s of quiet room noise, as the microphone panel would pass it."""
    from workbench.core.audio import read_audio, resample

    rng = np.random.default_rng(0)
    right = 0
    for path in held_out:
        samples, rate = read_audio(path)
        word = resample(samples, rate, 16000)
        length = max(24000, word.size + 4000)
        recording = rng.normal(0, 0.001, length).astype(np.float32)
        start = int(rng.integers(1000, length - word.size - 1000))
        recording[start:start + word.size] += word * rng.uniform(0.3, 3.0)
        probabilities = predictor.predict_arrays(predictor.prepare_waveform(recording, 16000)[None])[0]
        right += predictor.class_names[int(np.argmax(probabilities))] == path.parent.name
    assert right >= 18, f"{right}/20 read correctly"


@pytest.mark.parametrize("quantize", ["int8", "dynamic"])
def test_its_quantised_exports_keep_the_front_end_in_float_and_read_as_keras_does(predictor, tmp_path, quantize):
    """Quantised whole, the exports agreed with Keras on 86% (int8) and 94% (dynamic) of george's clips."""
    import tensorflow as tf

    from workbench.core.audio import read_audio
    from workbench.core.export import export_model, tflite_runner

    require_shared(FSDD)
    speaker = predictor.sidecar["split"]["val_groups"][0]
    files = [path for d in range(10) for path in sorted((FSDD / str(d)).glob(f"{d}_{speaker}_*.wav"))[::5]]
    result = export_model(predictor.path, "tflite", out=tmp_path / f"{quantize}.tflite", quantize=quantize,
                          data=str(FSDD), parity_count=4)

    interpreter = tf.lite.Interpreter(model_path=str(result.path))
    assert interpreter.get_input_details()[0]["dtype"] == np.float32  # a waveform does not fit in 8 bits
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    outputs, weights = {}, {}
    for op in interpreter._get_ops_details():
        outputs.setdefault(op["op_name"], set()).update(tensors[i]["dtype"] for i in op["outputs"])
        if op["op_name"] in ("FULLY_CONNECTED", "CONV_2D"):
            weight = tensors[op["inputs"][1]]
            weights[weight["name"].split(";")[0]] = (weight["dtype"], int(np.prod(weight["shape"])))
    assert outputs["LOG"] == {np.float32} and outputs["RFFT2D"] == {np.complex64}
    mel = [dtype for name, (dtype, _) in weights.items() if "/log_mel" in name]
    assert mel == [np.float32], weights  # the mel projection: float weights, so the float kernel
    # TFLite leaves weights under 1,024 values in float (the first convolution's 144).
    assert {dtype for name, (dtype, size) in weights.items() if "conv" in name and size >= 1024} == {np.int8}
    if quantize == "int8":
        assert outputs["CONV_2D"] == {np.int8}
    assert result.size_bytes < predictor.path.stat().st_size / 3

    inputs = np.stack([predictor.prepare_waveform(*read_audio(path)) for path in files])
    reference = predictor.predict_arrays(inputs).argmax(1)
    exported = tflite_runner(result.path)(inputs).argmax(1)
    assert len(files) == 100
    assert (exported == reference).mean() >= 0.97, f"top-1 agreement {(exported == reference).mean():.0%}"

"""Hostile .keras files stay refused: code in a Lambda layer, configs that reach for
``keras.config.enable_unsafe_deserialization`` or ``keras.utils.get_file``, and zip members whose
names climb out of the extraction folder. Each is loaded through ``Predictor.load`` with a valid
sidecar beside it; it must raise ModelFileError, run none of its code and write nothing outside.

Each code-running probe is first shown to run its code when Keras is told to trust the file
(``safe_mode=False``), so a pass means the refusal, not a probe that could never fire."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
import zipfile
from pathlib import Path

import pytest

from workbench.core.errors import ModelFileError
from workbench.core.inference import Predictor
from workbench.core.sidecar import write_sidecar

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore:Skipping invalid path during archive extraction:UserWarning",
                                        "ignore:.*Lambda.*:UserWarning")

SIDECAR = {"class_names": ["a", "b"], "input_shape": [4], "modality": "image", "output": "softmax",
           "preprocessing": {}}


@pytest.fixture(autouse=True)
def keras_safe_mode_restored():
    """A probe that switched Keras's global safe mode off must not leak into other tests."""
    from keras.src.backend.common import global_state

    before = global_state.get_global_attribute("safe_mode_saving")
    yield
    global_state.set_global_attribute("safe_mode_saving", before)


def unsafe_mode_switched_on() -> bool:
    from keras.src.saving import serialization_lib

    return serialization_lib.in_safe_mode() is False


def benign_model() -> keras.Model:
    inputs = keras.Input((4,), name="features")
    outputs = keras.layers.Dense(2, activation="softmax", name="probabilities")(inputs)
    return keras.Model(inputs, outputs)


def lambda_model(marker: Path) -> keras.Model:
    """A model whose Lambda layer writes ``marker`` whenever it runs (as when the model is rebuilt)."""
    inputs = keras.Input((4,), name="features")
    payload = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")  # the path is in its code  # noqa: S307
    hidden = keras.layers.Lambda(payload, name="payload")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="probabilities")(hidden)
    return keras.Model(inputs, outputs)


def save_with_sidecar(model: keras.Model, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    write_sidecar(path, SIDECAR)
    return path


def rewrite_config(path: Path, edit) -> Path:
    """Rewrite ``config.json`` inside the .keras zip ``path`` with ``edit(config)``."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["config.json"] = json.dumps(edit(json.loads(members["config.json"]))).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def test_a_benign_model_with_the_same_sidecar_loads(tmp_path):
    predictor = Predictor.load(save_with_sidecar(benign_model(), tmp_path / "model.keras"))
    assert predictor.class_names == ["a", "b"]


def test_a_lambda_layer_is_refused_and_its_code_never_runs(tmp_path):
    marker = tmp_path / "lambda-ran"
    path = save_with_sidecar(lambda_model(marker), tmp_path / "model.keras")
    marker.unlink(missing_ok=True)  # building the model ran it once
    before = files_under(tmp_path)
    with pytest.raises(ModelFileError, match="Expected a Keras model file"):
        Predictor.load(path)
    assert not marker.exists() and files_under(tmp_path) == before
    keras.models.load_model(path, compile=False, safe_mode=False)  # the probe is live: trusted, it runs
    assert marker.exists()


UNSAFE_SWITCHES = {
    "layer-keras.config": {"module": "keras.config", "class_name": "enable_unsafe_deserialization",
                           "config": {}, "registered_name": None},
    "layer-serialization_lib": {"module": "keras.src.saving.serialization_lib",
                                "class_name": "enable_unsafe_deserialization", "config": {}, "registered_name": None},
    "function-keras.config": {"module": "keras.config", "class_name": "function",
                              "config": "enable_unsafe_deserialization", "registered_name": None},
}


@pytest.mark.parametrize("switch", list(UNSAFE_SWITCHES))
def test_a_config_that_turns_safe_mode_off_is_refused(tmp_path, switch):
    """The switch stands first in the layer list and as the Dense layer's activation; a Lambda layer
    after it would run if the switch worked."""
    marker = tmp_path / "lambda-ran"
    path = save_with_sidecar(lambda_model(marker), tmp_path / "model.keras")
    marker.unlink(missing_ok=True)
    payload = UNSAFE_SWITCHES[switch]

    def edit(config):
        layers = config["config"]["layers"]
        layers.insert(1, {**payload, "name": "switch", "inbound_nodes": []})
        for layer in layers:
            if layer.get("class_name") == "Dense":
                layer["config"]["activation"] = payload
        return config

    rewrite_config(path, edit)
    with pytest.raises(ModelFileError, match="Expected a Keras model file"):
        Predictor.load(path)
    assert not unsafe_mode_switched_on()
    assert not marker.exists()


@pytest.mark.parametrize("module", ["keras.utils", "keras.src.utils.file_utils"])
@pytest.mark.parametrize("as_function", [False, True], ids=["as-layer", "as-activation"])
def test_a_config_that_downloads_a_file_is_refused(tmp_path, module, as_function):
    """``get_file`` would copy ``origin`` (a local file here) into ``cache_dir``: nothing may appear."""
    victim = tmp_path / "victim"
    victim.mkdir()
    source = tmp_path / "payload.txt"
    source.write_text("evil")
    name = f"evil-{uuid.uuid4().hex}.txt"
    path = save_with_sidecar(benign_model(), tmp_path / "model.keras")
    call = {"fname": name, "origin": source.as_uri(), "cache_dir": str(victim), "cache_subdir": "."}

    def edit(config):
        layers = config["config"]["layers"]
        if as_function:
            for layer in layers:
                if layer.get("class_name") == "Dense":
                    layer["config"]["activation"] = {"module": module, "class_name": "function",
                                                     "config": "get_file", "registered_name": None}
        else:
            layers.insert(1, {"module": module, "class_name": "get_file", "config": call, "registered_name": None,
                              "name": "download", "inbound_nodes": []})
        return config

    rewrite_config(path, edit)
    with pytest.raises(ModelFileError, match="Expected a Keras model file"):
        Predictor.load(path)
    assert list(victim.iterdir()) == []
    assert not (Path.home() / ".keras" / "datasets" / name).exists()


def climbing_zip(path: Path, model: Path, names: list[str], keep: tuple[str, ...]) -> Path:
    """A copy of the .keras ``model`` keeping the members ``keep`` and adding ``names`` (each holding
    a copy of ``model.weights.h5``, so a loader that followed a renamed member would find weights)."""
    with zipfile.ZipFile(model) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name in keep:
            archive.writestr(name, members[name])
        for name in names:
            archive.writestr(name, members["model.weights.h5"])
    write_sidecar(path, SIDECAR)
    return path


@pytest.fixture
def contained_temp(tmp_path, monkeypatch):
    """Temporary folders (where Keras extracts archives) and the working folder four levels deep
    inside ``tmp_path``, so a member climbing up to four levels would land inside it, where it is seen."""
    deep = tmp_path / "t1" / "t2" / "t3" / "t4"
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    monkeypatch.chdir(deep)
    return deep


def test_a_zip_whose_weights_climb_out_is_refused_and_writes_nothing(tmp_path, contained_temp):
    model = save_with_sidecar(benign_model(), tmp_path / "source" / "model.keras")
    tag = uuid.uuid4().hex
    names = ["../../model.weights.h5", f"../../{tag}-evil.txt", f"/{tag}-absolute.txt"]
    path = climbing_zip(tmp_path / "hostile.keras", model, names, keep=("metadata.json", "config.json"))
    before = files_under(tmp_path)
    with pytest.raises(ModelFileError, match="Expected a Keras model file"):
        Predictor.load(path)
    assert files_under(tmp_path) == before
    assert not Path(f"/{tag}-absolute.txt").exists() and not Path(f"/{tag}-evil.txt").exists()


def test_a_model_with_extra_members_that_climb_out_is_refused_and_writes_nothing(tmp_path, contained_temp):
    """A valid model with extra members that climb out: Keras alone would load it (its safe-path
    filter skips those members); the Predictor refuses such a file outright, before Keras reads it."""
    model = save_with_sidecar(benign_model(), tmp_path / "source" / "model.keras")
    tag = uuid.uuid4().hex
    names = [f"../../{tag}-evil.txt", f"assets/../../../{tag}-evil2.txt", f"/{tag}-absolute.txt"]
    path = climbing_zip(tmp_path / "hostile.keras", model, names,
                        keep=("metadata.json", "config.json", "model.weights.h5"))
    before = files_under(tmp_path)
    with pytest.raises(ModelFileError, match="whose members stay inside it"):
        Predictor.load(path)
    appeared = {p for p in files_under(tmp_path) - before if tag in p.name}
    assert appeared == set(), appeared
    assert not Path(f"/{tag}-absolute.txt").exists() and not Path(f"/{tag}-evil.txt").exists()
    assert not any(tag in name for name in os.listdir(tempfile.gettempdir()))

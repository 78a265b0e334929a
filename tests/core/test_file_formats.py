"""Versioned sidecars and projects: files written by the first release (checked in under
tests/data/formats) open through today's code, migrated; round trips; newer files refused; paths
relative to the file; shipped sidecars without machine paths."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from workbench.core.errors import ModelFileError, WorkbenchError
from workbench.core.file_format import resolve_path, store_path
from workbench.core.project import PROJECT_FORMAT, Project, run_summary
from workbench.core.resources import resource_path, shipped_models
from workbench.core.sidecar import (SIDECAR_FORMAT, ModelSidecar, command_line, read_sidecar, sidecar_path,
                                    write_sidecar)

FORMATS = Path(__file__).resolve().parent.parent / "data" / "formats"


def v1_sidecar(name: str, tmp_path: Path) -> tuple[Path, dict]:
    """A copy of a checked-in v1 sidecar in ``tmp_path`` (as ``<stem>.json`` next to ``<stem>.keras``)."""
    shutil.copyfile(FORMATS / name, tmp_path / name)
    return tmp_path / name.replace(".json", ".keras"), json.loads((FORMATS / name).read_text())


def string_values(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from string_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_values(item)


def test_the_current_versions_are_2():
    assert SIDECAR_FORMAT == "workbench-model/2" and PROJECT_FORMAT == "workbench-project/2"


def test_a_v1_image_sidecar_opens_migrated(tmp_path):
    model, raw = v1_sidecar("model-v1.json", tmp_path)
    assert raw["format"] == "workbench-model/1"
    record = ModelSidecar.read(model)
    assert record.schema_version == 2 and record.to_dict()["format"] == "workbench-model/2"
    assert record.template == "canvas_digits_cnn" and record.modality == "image"
    assert record.input_shape == [28, 28, 1] and record.class_names == [str(d) for d in range(10)]
    for name in ("hyperparameters", "augmentation", "preprocessing", "split", "versions", "history",
                 "final_metrics", "seed", "command", "status", "created", "title", "output"):
        assert getattr(record, name) == raw[name], name
    # The absolute dataset path stays; the scan's path, typed relative to an unknown working folder, becomes it.
    assert record.dataset["path"] == "/work/shared/data/mnist/mnist_train.npz"
    assert record.dataset["scan"]["path"] == "/work/shared/data/mnist/mnist_train.npz"
    scan = record.dataset["scan"]
    assert "audio" not in scan and scan["file_statistics"] is None
    assert scan["counts"] == raw["dataset"]["scan"]["counts"]
    # A relative source model cannot be located; the export's command still says what it was.
    assert "source_model" not in record.export
    assert record.export["command"] == raw["export"]["command"] and record.export["format"] == "keras"
    assert record.extra == {}


def test_a_v1_audio_sidecar_gets_file_statistics_in_place_of_audio(tmp_path):
    model, raw = v1_sidecar("model-audio-v1.json", tmp_path)
    data = read_sidecar(model)
    scan = data["dataset"]["scan"]
    assert "audio" not in scan and scan["file_statistics"] == raw["dataset"]["scan"]["audio"]
    assert scan["file_statistics"]["files"] == 2500
    assert list(scan) == ["file_statistics" if k == "audio" else k for k in raw["dataset"]["scan"]]
    assert data["dataset"]["path"] == "/work/shared/data/fsdd" == scan["path"]
    assert data["modality"] == "audio" and data["preprocessing"] == raw["preprocessing"]
    assert data["split"]["val_groups"] == raw["split"]["val_groups"]


def test_v1_unreadable_files_move_with_the_scan_path():
    record = ModelSidecar.from_dict({"format": "workbench-model/1", "class_names": ["a"], "dataset": {
        "path": "/data/digits", "scan": {"path": "../data/digits", "audio": None, "unreadable": [
            {"path": "../data/digits/a/bad.png", "reason": "empty"}, {"path": "/elsewhere/x.png", "reason": "?"}]}}})
    scan = record.dataset["scan"]
    assert scan["path"] == "/data/digits" and scan["file_statistics"] is None
    assert [u["path"] for u in scan["unreadable"]] == ["/data/digits/a/bad.png", "/elsewhere/x.png"]


def test_read_sidecar_still_returns_a_plain_dict(tmp_path):
    model, raw = v1_sidecar("model-v1.json", tmp_path)
    data = read_sidecar(model)
    assert type(data) is dict and data["format"] == SIDECAR_FORMAT
    assert data.get("modality", "image") == "image" and "class_names" in data
    assert set(raw) <= set(data) and dict(data) == data
    assert data.get("dataset", {}).get("path") == "/work/shared/data/mnist/mnist_train.npz"


def test_write_then_read_gives_an_equal_record(tmp_path):
    model, _ = v1_sidecar("model-audio-v1.json", tmp_path)
    record = ModelSidecar.read(model)
    record.extra["comment"] = {"from": "a newer tool"}
    copy = tmp_path / "copy" / "model.keras"
    copy.parent.mkdir()
    assert write_sidecar(copy, record) == copy.with_suffix(".json")
    assert json.loads(copy.with_suffix(".json").read_text())["format"] == "workbench-model/2"
    again = ModelSidecar.read(copy)
    assert again == record and again.extra == {"comment": {"from": "a newer tool"}}
    # and through the plain-dict interface, as the export does
    write_sidecar(tmp_path / "third.keras", read_sidecar(copy))
    assert ModelSidecar.read(tmp_path / "third.keras") == record


def test_the_recorded_command_can_be_pasted_into_a_shell(monkeypatch):
    import shlex

    argv = ["adapt", "--data", "my digits/Lena's", "--out", "a.keras"]
    assert command_line(argv) == "workbench adapt --data 'my digits/Lena'\"'\"'s' --out a.keras"
    assert shlex.split(command_line(argv))[1:] == argv
    monkeypatch.setattr("sys.argv", ["workbench", "export", "m.keras", "--format", "tflite"])
    assert command_line() == "workbench export m.keras --format tflite"  # this process's own arguments
    monkeypatch.setattr("sys.argv", [])
    assert command_line() is None  # an embedded interpreter has no command


def test_unknown_keys_survive_a_round_trip(tmp_path):
    model = tmp_path / "m.keras"
    write_sidecar(model, {"class_names": ["a", "b"], "input_shape": [8], "future_field": [1, 2], "extra": 3})
    data = read_sidecar(model)
    assert data["future_field"] == [1, 2] and data["extra"] == 3 and data["class_names"] == ["a", "b"]


def test_a_sidecar_from_a_newer_release_is_refused_naming_both_versions(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps({"format": "workbench-model/3", "class_names": ["a"]}))
    with pytest.raises(ModelFileError, match=r"version 2 or older.*Received: version 3 \(workbench-model/3\)") as info:
        read_sidecar(tmp_path / "m.keras")
    assert "upgrade workbench" in str(info.value)


@pytest.mark.parametrize(("content", "message"), [
    ({"format": "something-else/1", "class_names": ["a"]}, r"Expected a model sidecar with \"format\""),
    ({"format": "workbench-model/x", "class_names": ["a"]}, r"Received: format 'workbench-model/x'"),
    ({"class_names": ["a"]}, r"Received: no format"),
    ({"format": "workbench-model/1"}, r"Expected a sidecar with a list of class names"),
    ({"format": "workbench-model/2", "class_names": ["a"], "dataset": "x"}, r"Expected 'dataset' to be a JSON object"),
    ([1, 2], r"Expected a sidecar holding a JSON object"),
], ids=["kind", "version", "no-format", "no-classes", "dataset-type", "not-object"])
def test_bad_sidecars_say_what_was_expected(tmp_path, content, message):
    (tmp_path / "m.json").write_text(json.dumps(content))
    with pytest.raises(ModelFileError, match=message):
        read_sidecar(tmp_path / "m.keras")


def test_paths_are_stored_relative_to_the_sidecar_and_resolved_on_reading(tmp_path, monkeypatch):
    """A run written as the trainer writes it: the scan's path as typed, relative to the working folder."""
    home = tmp_path / "home"
    data = home / "data" / "digits"
    (data / "a").mkdir(parents=True)
    monkeypatch.chdir(home)
    model = home / "runs" / "run-1" / "model.keras"
    model.parent.mkdir(parents=True)
    write_sidecar(model, {"class_names": ["a"], "input_shape": [28, 28, 1],
                          "dataset": {"path": str(data.resolve()),
                                      "scan": {"path": "data/digits", "file_statistics": None,
                                               "unreadable": [{"path": "data/digits/a/bad.png", "reason": "x"}]}}})
    stored = json.loads(model.with_suffix(".json").read_text())["dataset"]
    assert stored["path"] == stored["scan"]["path"] == "../../data/digits"
    assert stored["scan"]["unreadable"][0]["path"] == "../../data/digits/a/bad.png"

    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(str(home), moved)
    monkeypatch.chdir(tmp_path)
    dataset = read_sidecar(moved / "runs" / "run-1" / "model.keras")["dataset"]
    assert dataset["path"] == dataset["scan"]["path"] == str((moved / "data" / "digits").resolve())
    assert Path(dataset["path"]).is_dir()
    assert dataset["scan"]["unreadable"][0]["path"] == str((moved / "data" / "digits" / "a" / "bad.png").resolve())


def test_a_savedmodel_sidecar_inside_its_folder_points_back_at_the_source_model(tmp_path):
    source = tmp_path / "run" / "model.keras"
    out = tmp_path / "run" / "model_savedmodel"
    out.mkdir(parents=True)
    write_sidecar(out, {"class_names": ["a"], "export": {"format": "savedmodel", "source_model": str(source)}})
    assert sidecar_path(out) == out / "workbench.json"
    assert json.loads((out / "workbench.json").read_text())["export"]["source_model"] == "../model.keras"
    assert read_sidecar(out)["export"]["source_model"] == str(source)


def test_paths_with_only_the_root_in_common_stay_absolute(tmp_path):
    assert store_path("/srv/data/mnist.npz", tmp_path) == "/srv/data/mnist.npz"
    assert store_path("C:\\data\\mnist.npz", tmp_path) == "C:\\data\\mnist.npz"  # another system's path
    assert resolve_path("C:\\data\\mnist.npz", tmp_path) == "C:\\data\\mnist.npz"
    assert store_path(str(tmp_path / "a" / "b"), tmp_path / "c") == "../a/b"
    assert resolve_path("../a/b", tmp_path / "c") == str((tmp_path / "a" / "b").resolve())
    assert store_path("", tmp_path) == "" and store_path(None, tmp_path) is None


def test_the_make_models_steps_write_a_sidecar_without_machine_paths(tmp_path, monkeypatch):
    """train (run folder) → export --format keras --out resources/models/X.keras, as the Makefile runs them."""
    root = tmp_path / "work"
    (root / "shared" / "data" / "mnist").mkdir(parents=True)
    (root / "shared" / "data" / "mnist" / "mnist_train.npz").write_bytes(b"")
    checkout = root / "main"
    (checkout / "resources" / "models").mkdir(parents=True)
    monkeypatch.chdir(checkout)
    trained = checkout / "build" / "models" / "digits" / "model.keras"
    trained.parent.mkdir(parents=True)
    write_sidecar(trained, {  # what the trainer writes
        "template": "canvas_digits_cnn", "class_names": ["0", "1"], "input_shape": [28, 28, 1],
        "dataset": {"path": str(Path("../shared/data/mnist/mnist_train.npz").resolve()),
                    "scan": {"path": "../shared/data/mnist/mnist_train.npz", "file_statistics": None, "unreadable": []}},
        "command": "workbench train --data ../shared/data/mnist/mnist_train.npz --out build/models/digits"})
    exported = read_sidecar(trained)  # what the export does
    exported.pop("format", None)
    exported["export"] = {"format": "keras", "quantize": "none", "source_model": "build/models/digits/model.keras"}
    target = write_sidecar("resources/models/digits.keras", exported)
    stored = json.loads(target.read_text())
    assert stored["dataset"]["path"] == stored["dataset"]["scan"]["path"] == "../../../shared/data/mnist/mnist_train.npz"
    assert stored["export"]["source_model"] == "../../build/models/digits/model.keras"
    assert not [s for s in string_values(stored) if s.startswith("/") or str(tmp_path) in s]
    assert Path(read_sidecar(checkout / "resources/models/digits.keras")["dataset"]["path"]).is_file()


MACHINE_PATH = re.compile(r"^/|^[A-Za-z]:[\\/]|^\\\\|/work/|/home/|/Users/|/tmp/|[A-Za-z]:\\\\Users")


@pytest.mark.parametrize("name", ["digits", "spoken_digits"])
def test_shipped_sidecars_are_current_and_carry_no_machine_paths(name):
    path = resource_path("models", f"{name}.json")
    raw = json.loads(path.read_text())
    assert raw["format"] == SIDECAR_FORMAT
    found = [s for s in string_values(raw) if MACHINE_PATH.search(s)]
    assert not found, f"machine paths in {path}: {found}"
    assert "audio" not in raw["dataset"]["scan"] and "file_statistics" in raw["dataset"]["scan"]
    data = read_sidecar(path.with_suffix(".keras"))
    assert Path(data["dataset"]["path"]).is_absolute()
    assert data["dataset"]["path"].endswith({"digits": "build/data/digits_pen.npz", "spoken_digits": "fsdd"}[name])


def test_every_shipped_model_has_a_readable_sidecar():
    models = shipped_models()
    assert {m.stem for m in models} >= {"digits", "spoken_digits"}
    for model in models:
        assert read_sidecar(model)["class_names"]


# ---- projects ----


def test_a_v1_project_opens_migrated(tmp_path):
    raw = json.loads((FORMATS / "project-v1.wbproj").read_text())
    assert raw["format"] == "workbench-project/1"
    project = Project.load(FORMATS / "project-v1.wbproj")
    assert project.schema_version == 2
    assert project.dataset == str(FORMATS / "data" / "digits")
    assert project.runs == [str(FORMATS / "runs" / "run-1"), str(FORMATS / "runs" / "run-2"), "/srv/shared-runs/run-3"]
    assert (project.template, project.val_fraction, project.group_regex) == ("simple_cnn", 0.3, "_([a-z]+)_")
    assert project.hparams == {"epochs": 3, "learning_rate": 0.005}
    assert project.augmentation == raw["augmentation"] and project.audio_augmentation == raw["audio_augmentation"]
    assert project.video_augmentation == {}  # a project from before video augmentation: none
    assert project.extra == {}


def test_a_project_round_trip_keeps_it_and_moves_with_its_folder(tmp_path):
    project = Project.load(FORMATS / "project-v1.wbproj")
    folder = tmp_path / "digits"
    project.dataset = str(tmp_path / "data" / "digits")  # beside the project folder, not inside it
    project.runs = [str(folder / "runs" / "run-1"), "/srv/shared-runs/run-3"]
    project.extra["notes"] = "kept"
    saved = project.save(folder / "digits")
    assert saved == folder / "digits.wbproj"
    raw = json.loads(saved.read_text())
    assert raw["format"] == "workbench-project/2" and raw["notes"] == "kept"
    assert raw["dataset"] == "../data/digits" and raw["runs"] == ["runs/run-1", "/srv/shared-runs/run-3"]
    assert Project.load(saved) == project

    shutil.move(str(tmp_path), str(tmp_path.parent / (tmp_path.name + "-moved")))
    moved = tmp_path.parent / (tmp_path.name + "-moved")
    again = Project.load(moved / "digits" / "digits.wbproj")
    assert again.dataset == str(moved / "data" / "digits")
    assert again.runs == [str(moved / "digits" / "runs" / "run-1"), "/srv/shared-runs/run-3"]


def test_a_v1_project_without_sound_options_or_with_windows_separators_migrates():
    project = Project.from_dict({"format": "workbench-project/1", "dataset": "data\\digits", "template": "simple_cnn",
                                 "runs": ["runs\\run-1"]}, relative_to="/projects/p")
    assert project.audio_augmentation == {} and project.dataset == "/projects/p/data/digits"
    assert project.runs == ["/projects/p/runs/run-1"]


def test_a_project_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "p.wbproj"
    path.write_text(json.dumps({"format": "workbench-project/7"}))
    with pytest.raises(WorkbenchError, match=r"version 2 or older.*Received: version 7"):
        Project.load(path)


@pytest.mark.parametrize(("content", "message"), [
    ({"format": "workbench-model/1"}, r"Expected a project file with \"format\""),
    ({"dataset": "x"}, r"Received: no format"),
    ({"format": "workbench-project/2", "val_fraction": "a lot"}, r"Expected 'val_fraction' .* a number"),
    ({"format": "workbench-project/2", "runs": [1]}, r"Expected 'runs' .* list of folders"),
], ids=["kind", "no-format", "type", "runs"])
def test_bad_projects_say_what_was_expected(tmp_path, content, message):
    path = tmp_path / "p.wbproj"
    path.write_text(json.dumps(content))
    with pytest.raises(WorkbenchError, match=message):
        Project.load(path)


def test_run_summary_reads_a_v1_sidecar(tmp_path):
    (tmp_path / "run").mkdir()
    shutil.copyfile(FORMATS / "model-v1.json", tmp_path / "run" / "model.json")
    summary = run_summary(tmp_path / "run")
    assert summary["template"] == "canvas_digits_cnn" and summary["epochs"] == 20
    assert summary["val_accuracy"] == pytest.approx(0.99449908318053) and summary["status"] == "completed"
    assert run_summary(tmp_path / "nothing") is None

"""Damaged sidecars and project files: JSON that parses but has the wrong structure gives a
WorkbenchError naming what was expected, never a TypeError, AttributeError or KeyError from inside a
loader. Hand-picked cases from the reports, then Hypothesis-generated ones."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.errors import ModelFileError, WorkbenchError
from workbench.core.project import Project, run_summary
from workbench.core.sidecar import SIDECAR_FORMAT, ModelSidecar, read_sidecar, write_sidecar

FORMATS = Path(__file__).resolve().parent.parent / "data" / "formats"

#: Hypothesis settings for the loaders: modest counts, no example database in the checkout.
LOADER_SETTINGS = settings(max_examples=50, deadline=None, database=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

SOUND_SIDECAR = {
    "format": SIDECAR_FORMAT, "template": "simple_cnn", "title": "Simple CNN", "modality": "image",
    "input_shape": [28, 28, 1], "class_names": ["a", "b"], "output": "softmax",
    "hyperparameters": {"epochs": 2, "learning_rate": 0.001}, "phases": [{"epochs": 2}],
    "augmentation": {"rotation": 5.0}, "preprocessing": {"kind": "image"},
    "dataset": {"path": "/data/x", "scan": {"path": "/data/x", "unreadable": []}},
    "split": {"val_fraction": 0.2}, "seed": 3, "command": "workbench train", "versions": {"workbench": "1"},
    "history": {"accuracy": [0.5, 0.7]}, "final_metrics": {"val_accuracy": 0.7}, "status": "completed",
    "created": "2024-01-01T00:00:00", "export": {"format": "keras", "source_model": "/runs/model.keras"},
}
VALID_PROJECT = json.loads((FORMATS / "project-v1.wbproj").read_text())

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def damaged(valid: dict) -> st.SearchStrategy:
    """``valid`` with some fields replaced by arbitrary JSON (wrong types, nulls, nesting) or removed,
    plus a few keys of the real nested objects; or any JSON value at all."""
    keys = sorted(valid)
    edits = st.dictionaries(st.sampled_from(keys), json_values | st.just("<drop>"), min_size=1, max_size=4)
    nested = st.fixed_dictionaries({}, optional={
        "path": json_values, "scan": st.fixed_dictionaries({}, optional={
            "path": json_values, "unreadable": json_values, "audio": json_values})})

    def apply(edit: dict, inner: dict, use_inner: bool) -> dict:
        data = json.loads(json.dumps(valid))
        for key, value in edit.items():
            if value == "<drop>":
                data.pop(key, None)
            else:
                data[key] = value
        if use_inner:
            data["dataset"] = inner
        return data

    versions = st.sampled_from([valid.get("format"), valid.get("format", "").replace("/2", "/1")])
    mutated = st.builds(apply, edits, nested, st.booleans())
    return st.one_of(mutated, st.builds(lambda d, v: {**d, "format": v}, mutated, versions), json_values)


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


# -- sidecars ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [
    [1, 2], 3, "text", None, True, {"format": 2},
    {**SOUND_SIDECAR, "class_names": "a,b"}, {**SOUND_SIDECAR, "class_names": []},
    {**SOUND_SIDECAR, "class_names": ["a", 1]}, {**SOUND_SIDECAR, "class_names": ["a", "a"]},
    {**SOUND_SIDECAR, "input_shape": "28x28"}, {**SOUND_SIDECAR, "input_shape": [28, -1]},
    {**SOUND_SIDECAR, "input_shape": [28.5]}, {**SOUND_SIDECAR, "input_shape": [True]},
    {**SOUND_SIDECAR, "hyperparameters": [1]}, {**SOUND_SIDECAR, "preprocessing": "image"},
    {**SOUND_SIDECAR, "modality": 3}, {**SOUND_SIDECAR, "output": "linear"}, {**SOUND_SIDECAR, "seed": "7"},
    {**SOUND_SIDECAR, "phases": [1, 2]}, {**SOUND_SIDECAR, "history": {"accuracy": "high"}},
    {**SOUND_SIDECAR, "dataset": {"path": 5}}, {**SOUND_SIDECAR, "dataset": {"path": "a\x00b"}},
    {**SOUND_SIDECAR, "dataset": {"scan": []}}, {**SOUND_SIDECAR, "export": {"source_model": ["x"]}},
    {**SOUND_SIDECAR, "format": "workbench-model/1", "dataset": {"path": "/d", "scan": {"path": "d", "unreadable": 5}}},
])
def test_a_sidecar_with_the_wrong_structure_gives_a_model_file_error(tmp_path, content):
    write_json(tmp_path / "model.json", content)
    with pytest.raises(ModelFileError, match=r"Expected .*Received: "):
        read_sidecar(tmp_path / "model.keras")


def test_a_sidecar_nested_too_deeply_gives_a_model_file_error(tmp_path):
    (tmp_path / "model.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="Expected a JSON sidecar"):
        read_sidecar(tmp_path / "model.keras")


def test_the_trainers_sidecar_with_numpy_values_is_still_written(tmp_path):
    np = pytest.importorskip("numpy")
    record = {**SOUND_SIDECAR, "input_shape": [np.int64(28), 28, 1], "seed": np.int32(3),
              "history": {"accuracy": [np.float32(0.5)]}}
    write_sidecar(tmp_path / "model.keras", record)
    assert read_sidecar(tmp_path / "model.keras")["input_shape"] == [28, 28, 1]


@LOADER_SETTINGS
@given(content=damaged(SOUND_SIDECAR))
def test_generated_sidecars_load_or_give_a_model_file_error(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("sidecar")
    write_json(folder / "model.json", content)
    try:
        data = read_sidecar(folder / "model.keras")
    except ModelFileError as exc:
        assert "Expected" in str(exc) and "Received" in str(exc)
        return
    # What loads is usable as the readers use it.
    assert isinstance(data["class_names"], list) and all(isinstance(c, str) for c in data["class_names"])
    assert data.get("input_shape") is None or all(isinstance(d, int) and d > 0 for d in data["input_shape"])
    for name in ("hyperparameters", "preprocessing", "dataset", "final_metrics", "history"):
        assert isinstance(data.get(name, {}), dict)
    write_sidecar(folder / "again.keras", ModelSidecar.from_dict(data))  # and writes back
    assert read_sidecar(folder / "again.keras")["class_names"] == data["class_names"]
    summary = run_summary(_as_run(folder))
    assert summary is not None and (summary["val_accuracy"] is None or math.isfinite(summary["val_accuracy"]))


@LOADER_SETTINGS
@given(content=json_values)
def test_any_json_value_as_a_sidecar_record_gives_a_model_file_error_or_a_record(content):
    try:
        ModelSidecar.from_dict(content)
    except ModelFileError:
        pass


def _as_run(folder: Path) -> Path:
    run = folder / "run"
    run.mkdir(exist_ok=True)
    shutil.copyfile(folder / "model.json", run / "model.json")
    return run


# -- run summaries (the Runs and Results panels) ------------------------------------------------------------


@pytest.mark.parametrize("content", [[1, 2], 5, "x", {**SOUND_SIDECAR, "class_names": {"a": 1}}])
def test_run_summary_skips_a_damaged_model_json(tmp_path, content):
    write_json(tmp_path / "model.json", content)
    assert run_summary(tmp_path) is None


def test_run_summary_gives_numbers_or_none_for_the_columns_the_panels_format(tmp_path):
    write_json(tmp_path / "model.json", {**SOUND_SIDECAR, "hyperparameters": {"learning_rate": "fast", "epochs": [3]},
                                         "final_metrics": {"val_accuracy": "best"}})
    summary = run_summary(tmp_path)
    assert summary["learning_rate"] is None and summary["epochs"] is None and summary["val_accuracy"] is None
    assert summary["template"] == "simple_cnn" and summary["history"] == {"accuracy": [0.5, 0.7]}


def test_run_summary_of_a_path_the_system_refuses_is_none(tmp_path):
    assert run_summary(str(tmp_path / ("x" * 5000))) is None
    assert run_summary(str(tmp_path / "a\x00b")) is None


# -- projects ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [
    [1, 2], 3, "text", None, {"format": []},
    {**VALID_PROJECT, "dataset": ["data"]}, {**VALID_PROJECT, "dataset": "a\x00b"},
    {**VALID_PROJECT, "val_fraction": 5}, {**VALID_PROJECT, "val_fraction": float("nan")},
    {**VALID_PROJECT, "val_fraction": True}, {**VALID_PROJECT, "hparams": [1]},
    {**VALID_PROJECT, "hparams": {"epochs": {"n": 3}}}, {**VALID_PROJECT, "augmentation": "strong"},
    {**VALID_PROJECT, "audio_augmentation": {"speed": [0.1]}}, {**VALID_PROJECT, "runs": "runs/run-1"},
    {**VALID_PROJECT, "runs": [None]}, {**VALID_PROJECT, "runs": [""]}, {**VALID_PROJECT, "template": 3},
    {**VALID_PROJECT, "group_regex": None},
])
def test_a_project_with_the_wrong_structure_gives_a_workbench_error(tmp_path, content):
    path = write_json(tmp_path / "p.wbproj", content)
    with pytest.raises(WorkbenchError, match=r"Expected .*Received: "):
        Project.load(path)


@LOADER_SETTINGS
@given(content=damaged(VALID_PROJECT))
def test_generated_projects_load_or_give_a_workbench_error(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("project")
    path = write_json(folder / "p.wbproj", content)
    try:
        project = Project.load(path)
    except WorkbenchError as exc:
        assert "Expected" in str(exc) and "Received" in str(exc)
        return
    assert isinstance(project.dataset, str) and all(isinstance(r, str) for r in project.runs)
    assert isinstance(project.hparams, dict) and 0 <= project.val_fraction < 1
    again = Project.load(project.save(folder / "again.wbproj"))  # and saves back
    assert again.runs == project.runs and again.dataset == project.dataset


@LOADER_SETTINGS
@given(content=json_values)
def test_any_json_value_as_a_project_record_gives_a_workbench_error_or_a_project(content):
    try:
        Project.from_dict(content)
    except WorkbenchError:
        pass

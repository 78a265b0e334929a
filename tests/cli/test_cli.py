"""The command line, run in-process through ``run_cli`` (one subprocess proves the entry point)."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import write_image_dataset
from tests.paths import REPO_ROOT
from workbench.cli import run_cli
from workbench.core.templates import list_templates

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def assert_user_error(capsys, argv: list[str], *expected: str) -> str:
    """``argv`` exits 2 with one line on stderr naming the command, and no traceback."""
    code = run_cli(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2, captured
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"workbench {argv[0]}: error: ")
    assert "Traceback" not in captured.err + captured.out
    for text in expected:
        assert text in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_image_dataset(tmp_path_factory.mktemp("cli") / "data")


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    """``workbench train --json`` once for the module: (exit code, JSON events, run folder)."""
    run = tmp_path_factory.mktemp("cli-run") / "run"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_cli(["train", "--template", "simple_cnn", "--data", str(dataset), "--epochs", "2",
                        "--batch-size", "8", "--seed", "3", "--augment", "rotation=5", "--out", str(run), "--json"])
    return code, json_lines(out.getvalue()), run


def test_templates_json_lists_every_template(capsys):
    assert run_cli(["templates", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in listed] == [t.id for t in list_templates()]
    for entry in listed:
        assert {h["name"] for h in entry["hyperparameters"]} >= {"epochs", "learning_rate", "optimizer", "dropout"}


def test_templates_text_lists_ids_and_titles(capsys):
    assert run_cli(["templates"]) == 0
    out = capsys.readouterr().out
    for spec in list_templates():
        assert spec.id in out and spec.title in out


def test_entry_point_runs_as_a_module():
    proc = subprocess.run([sys.executable, "-m", "workbench", "templates", "--json"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert {t["id"] for t in json.loads(proc.stdout)} == {t.id for t in list_templates()}


def test_entry_point_reports_user_errors_without_a_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "workbench", "scan", str(tmp_path / "missing")], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "workbench scan: error:" in proc.stderr and "does not exist" in proc.stderr


def test_scan_json(capsys, tmp_path):
    root = write_image_dataset(tmp_path / "d", {"x": 6, "y": 9})
    (root / "y" / "bad.png").write_text("nope")
    assert run_cli(["scan", str(root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["class_names"] == ["x", "y"]
    assert report["counts"] == {"x": 6, "y": 9} and report["num_samples"] == 15
    assert [Path(u["path"]).name for u in report["unreadable"]] == ["bad.png"]


def test_scan_text_shows_counts_and_warnings(capsys, tmp_path):
    root = write_image_dataset(tmp_path / "d", {"x": 6, "y": 3})
    assert run_cli(["scan", str(root)]) == 0
    out = capsys.readouterr().out
    assert "9 samples in 2 classes" in out
    assert "warning:" in out and "y (3)" in out


def test_scan_errors(capsys, tmp_path):
    assert_user_error(capsys, ["scan", str(tmp_path / "missing")], "does not exist")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "loose.png").write_bytes(b"")
    assert_user_error(capsys, ["scan", str(tmp_path / "flat")], "subfolder")
    bad = tmp_path / "bad.npz"
    import numpy as np

    np.savez(bad, images=np.zeros((2, 4, 4)))
    assert_user_error(capsys, ["scan", str(bad)], "x_train")


def test_train_errors(capsys, dataset, tmp_path):
    one_class = write_image_dataset(tmp_path / "one", {"only": 6})
    base = ["train", "--epochs", "1", "--out", str(tmp_path / "run")]
    assert_user_error(capsys, base + ["--template", "simple_cnn", "--data", str(one_class)], "at least 2 classes")
    assert_user_error(capsys, base + ["--template", "no_such_net", "--data", str(dataset)], "no_such_net",
                      "simple_cnn")
    assert_user_error(capsys, base + ["--template", "simple_cnn", "--data", str(tmp_path / "missing")],
                      "does not exist")
    assert_user_error(capsys, base + ["--template", "simple_cnn", "--data", str(dataset), "--augment", "rotation"],
                      "key=value")
    assert_user_error(capsys, base + ["--template", "simple_cnn", "--data", str(dataset), "--augment", "spin=3"],
                      "spin")
    assert_user_error(capsys, base + ["--template", "simple_cnn", "--data", str(dataset), "--augment",
                                      "rotation=720"], "rotation")
    assert_user_error(capsys, base + ["--template", "simple_cnn", "--data", str(dataset), "--hparam",
                                      "learning_rate=nan"], "learning_rate")
    assert_user_error(capsys, base + ["--template", "simple_cnn", "--data", str(dataset), "--optimizer", "adamax"],
                      "optimizer")
    assert_user_error(capsys, base + ["--template", "audio_spectrogram_cnn", "--data", str(dataset)], "audio")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_file_that_is_not_a_model(capsys, dataset, tmp_path, command):
    image = next((dataset / "a_hbar").glob("*.png"))
    fake = tmp_path / "fake.keras"
    fake.write_text("not a model")
    (tmp_path / "fake.json").write_text(json.dumps({"format": "workbench-model/1", "class_names": ["a", "b"],
                                                    "input_shape": [28, 28, 1]}))
    tail = [str(image)] if command == "predict" else ["--data", str(dataset)]
    assert_user_error(capsys, [command, "--model", str(image), *tail], ".keras")
    assert_user_error(capsys, [command, "--model", str(fake), *tail], "Keras model file")
    assert_user_error(capsys, [command, "--model", str(tmp_path / "none.keras"), *tail], "does not exist")


def test_train_json_prints_event_lines(trained):
    code, events, run = trained
    assert code == 0
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "result"
    for kind in ("batch_ended", "epoch_ended", "run_finished"):
        assert kind in kinds
    assert kinds.index("run_finished") < kinds.index("result")
    assert [e["epoch"] for e in events if e["event"] == "epoch_ended"] == [1, 2]
    batches = [e for e in events if e["event"] == "batch_ended"]
    assert all({"step", "steps_per_epoch", "loss"} <= set(b) for b in batches)
    result = events[-1]
    assert result["status"] == "completed"
    assert result["model_path"] == str(run / "model.keras") and Path(result["model_path"]).is_file()
    sidecar = json.loads((run / "model.json").read_text())
    assert sidecar["augmentation"]["rotation"] == 5.0 and sidecar["hyperparameters"]["epochs"] == 2


def test_predict_json_gives_top_k(trained, dataset, capsys):
    _, _, run = trained
    files = [next((dataset / cls).glob("*.png")) for cls in ("a_hbar", "c_blob")]
    assert run_cli(["predict", "--model", str(run / "model.keras"), *map(str, files), "--top-k", "2",
                    "--json"]) == 0
    predictions = json_lines(capsys.readouterr().out)
    assert [p["source"] for p in predictions] == [str(f) for f in files]
    for p in predictions:
        assert len(p["top"]) == 2
        assert p["top"][0]["probability"] >= p["top"][1]["probability"]
        assert p["label"] == p["top"][0]["class"]
        assert len(p["probabilities"]) == 3 and sum(p["probabilities"]) == pytest.approx(1.0, abs=1e-5)


def test_predict_text(trained, dataset, capsys):
    _, _, run = trained
    image = next((dataset / "b_vbar").glob("*.png"))
    assert run_cli(["predict", "--model", str(run / "model.keras"), str(image)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{image}: ") and "%" in out


def test_evaluate_json(trained, dataset, capsys):
    _, _, run = trained
    assert run_cli(["evaluate", "--model", str(run / "model.keras"), "--data", str(dataset), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["num_samples"] == 60
    assert len(report["confusion_matrix"]) == 3 and sum(map(sum, report["confusion_matrix"])) == 60
    assert [c["class"] for c in report["per_class"]] == ["a_hbar", "b_vbar", "c_blob"]
    correct = sum(report["confusion_matrix"][i][i] for i in range(3))
    assert report["accuracy"] == pytest.approx(correct / 60)  # the figure agrees with its own matrix


def test_evaluate_text_prints_a_confusion_matrix(trained, dataset, capsys):
    _, _, run = trained
    assert run_cli(["evaluate", "--model", str(run / "model.keras"), "--data", str(dataset)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "confusion matrix" in out and "(60 samples)" in out


def test_export_tflite_prints_parity(trained, capsys, tmp_path):
    _, _, run = trained
    target = tmp_path / "model.tflite"
    assert run_cli(["export", "--model", str(run / "model.keras"), "--format", "tflite", "--out", str(target)]) == 0
    out = capsys.readouterr().out
    assert "parity on 16 real samples" in out and "top-1 agreement 100%" in out
    assert len(out.splitlines()) == 2, out  # the report only: not the converter's model signature
    assert target.is_file() and target.stat().st_size > 0


def test_export_json_and_bad_quantisation(trained, capsys, tmp_path):
    _, _, run = trained
    assert run_cli(["export", "--model", str(run / "model.keras"), "--format", "keras", "--out",
                    str(tmp_path / "copy.keras"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["format"] == "keras" and result["parity_max_abs_diff"] <= 1e-5
    assert_user_error(capsys, ["export", "--model", str(run / "model.keras"), "--format", "keras",
                               "--quantize", "int8", "--out", str(tmp_path / "q.keras")], "TFLite only")

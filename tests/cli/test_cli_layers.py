"""``workbench layers``: the Model panel's layer table on the command line (the same core function),
and the console's word when a run's second phase begins."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from tests.helpers import write_image_dataset
from workbench.cli import run_cli
from workbench.core.templates import get_template
from workbench.core.templates.summary import summarize_template


def _row(lines: list[str], name: str) -> list[str]:
    return next(line.split() for line in lines if line.split() and line.split()[0] == name)


def test_layers_of_a_two_phase_template(capsys):
    argv = ["layers", "transfer_squeezenet", "--classes", "3", "--hparam", "image_size=64",
            "--hparam", "fine_tune_blocks=1"]
    assert run_cli(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[1].split()
    assert header[-2:] == ["1:head", "2:fine_tune"]
    assert _row(lines, "fire9_expand3x3")[-2:] == ["frozen", "trains"]
    assert _row(lines, "fire8_expand3x3")[-2:] == ["frozen", "frozen"]
    assert _row(lines, "head_output")[-2:] == ["trains", "trains"]
    assert _row(lines, "fire9_concat")[-2:] == ["-", "-"]  # no weights
    nested = next(line for line in lines if "fire9_squeeze1x1" in line)
    assert nested.startswith("  fire9_squeeze1x1")  # the backbone's layers indented under it
    model = get_template("transfer_squeezenet").build(3, (64, 64, 3), {"image_size": 64})
    assert f"total parameters: {model.count_params():,}" in lines
    assert any(line.startswith("phase 2 fine_tune") and "5 of 27 layers" in line for line in lines)

    assert run_cli([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(summarize_template("transfer_squeezenet", 3, None,
                                                               {"image_size": "64", "fine_tune_blocks": "1"})))


def test_layers_of_a_saved_model_and_errors(tmp_path, capsys):
    model = get_template("mnist_cnn").build(4)
    path = tmp_path / "model.keras"
    model.save(path)
    assert run_cli(["layers", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}: model mnist_cnn")
    assert _row(lines, "conv1")[-1] == "trains" and lines[1].split()[-1] == "trainable"
    assert f"total parameters: {model.count_params():,}" in lines

    for argv, expected in ((["layers", "no_such_template"], "Unknown template"),
                           (["layers", str(tmp_path / "missing.keras")], "Expected a template id or a saved model"),
                           (["layers", "mnist_cnn", "--classes", "1"], "at least 2"),
                           (["layers", str(path), "--classes", "3"], "template id only")):
        assert run_cli(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("workbench layers: error: ") and expected in err, err


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return write_image_dataset(tmp_path_factory.mktemp("photos"), {"a": 8, "b": 8}, size=64, rgb=True)


def test_the_console_says_when_phase_two_starts(photos, tmp_path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_cli(["train", "--template", "transfer_squeezenet", "--data", str(photos), "--out",
                        str(tmp_path / "run"), "--epochs", "1", "--batch-size", "8", "--hparam", "image_size=64",
                        "--hparam", "fine_tune_epochs=1", "--hparam", "fine_tune_blocks=1", "--augment", "none"])
    lines = out.getvalue().splitlines()
    assert code == 0, lines
    epochs = [i for i, line in enumerate(lines) if line.startswith("epoch ") and "/2:" in line]
    phase = [i for i, line in enumerate(lines) if line.startswith("Phase 2/2 'fine_tune': epochs 2–2")]
    assert len(epochs) == 2 and len(phase) == 1, lines
    assert epochs[0] < phase[0] < epochs[1]  # between the head's epoch and the fine-tuning epoch


def test_json_lines_carry_the_phase_started_event(capsys):
    from workbench.cli_progress import console_listeners

    payload = {"name": "fine_tune", "index": 1, "count": 2, "first_epoch": 4, "last_epoch": 6, "epochs": 3,
               "learning_rate": 1e-4, "trainable_layers": 4, "weighted_layers": 26, "trainable_params": 202_314}
    console_listeners(json_lines=True).phase_started(payload)
    assert json.loads(capsys.readouterr().out) == {"event": "phase_started", **payload}

"""``workbench adapt``: a real writer's turned digits (3 per class, saved as collect mode saves them)
adapt the shipped digits model into a new file; the original stays; errors are one line."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.adapt_helpers import split_examples, write_drawings, writer_digits
from tests.cli.test_cli import assert_user_error
from workbench.cli import run_cli
from workbench.core.inference import Predictor
from workbench.core.resources import resource_path

MODEL = resource_path("models", "digits.keras")


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    chosen, _ = split_examples(writer_digits(12), 3)
    return write_drawings(tmp_path_factory.mktemp("cli-adapt") / "mine", chosen, 45.0)


def test_adapt_writes_a_new_model_and_prints_before_and_after(examples, tmp_path, capsys):
    original = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    out = tmp_path / "mine.keras"
    assert run_cli(["adapt", "--model", str(MODEL), "--data", str(examples), "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model_path"] == str(out) and result["num_examples"] == 30 and result["method"] == "prototypes"
    assert result["after_accuracy"] > result["before_accuracy"] + 0.2, result
    assert Predictor.load(out).sidecar["adaptation"]["command"].startswith("workbench adapt --model ")
    assert hashlib.sha256(MODEL.read_bytes()).hexdigest() == original

    assert run_cli(["adapt", "--model", str(MODEL), "--data", str(examples), "--out", str(out), "--overwrite",
                    "--k", "2"]) == 0
    text = capsys.readouterr().out
    assert "Your 20 examples: the original model read" in text and "the adapted one" in text
    assert text.splitlines()[3].split() == ["0", "2", *text.splitlines()[3].split()[2:]]  # class 0: 2 examples


def test_adapt_errors_are_one_line(examples, tmp_path, capsys):
    few = write_drawings(tmp_path / "few", [d for d in split_examples(writer_digits(12), 2)[0] if d.label != 4])
    assert_user_error(capsys, ["adapt", "--model", str(MODEL), "--data", str(few), "--out", str(tmp_path / "a.keras")],
                      "Expected at least 2 examples of every class the model knows", "Received: none of 4")
    assert_user_error(capsys, ["adapt", "--model", str(MODEL), "--data", str(examples), "--out", str(MODEL)],
                      "the original stays")
    assert not (tmp_path / "a.keras").exists()

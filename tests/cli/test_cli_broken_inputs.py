"""The broken-input corpus through the command line: ``scan``, ``train``, ``evaluate`` and ``predict``
each finish (exit status 0, or 2 for a user error), name every broken file with its reason, and never
print a traceback.

The corpora are written by :mod:`tests.helpers`. Scans and the image corpus's ``train`` and
``predict`` run as real ``python -m workbench`` processes whose output is strict UTF-8, so a file name
that is not valid UTF-8 must be printed safely; ``evaluate``, the sound corpus and the user errors run
in-process through ``run_cli`` to keep the module fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    write_broken_image_corpus,
    write_broken_sound_corpus,
    write_broken_video_corpus,
    write_image_dataset,
)
from tests.paths import REPO_ROOT
from workbench.cli import run_cli
from workbench.core.data.scan import display_path

SOUND_HPARAMS = ["--hparam", "sample_rate=8000", "--hparam", "duration=0.5", "--hparam", "n_mels=16",
                 "--hparam", "frames=16"]


def workbench(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m workbench ARGS`` with strict UTF-8 output (no surrogate escapes to hide behind)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")}
    result = subprocess.run([sys.executable, "-m", "workbench", *args], cwd=REPO_ROOT, env=env, timeout=timeout,
                            capture_output=True, text=True, errors="replace")
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def in_process(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(argv)
    assert "Traceback" not in out.getvalue() + err.getvalue()
    return code, out.getvalue(), err.getvalue()


def assert_named_with_reasons(text: str, root: Path, cases: dict) -> None:
    """Every broken case appears on a line of ``text`` with its path and its reason."""
    lines = text.splitlines()
    for name, reason in cases.items():
        if reason is None:
            continue
        shown = display_path(str(root / name))
        matching = [line for line in lines if shown in line]
        assert matching, f"{shown} is not named in:\n{text}"
        assert any(reason.lower() in line.lower() for line in matching), (reason, matching)


@pytest.fixture(scope="module")
def image_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-broken") / "images"
    cases, skipped = write_broken_image_corpus(root)
    return root, cases, skipped


@pytest.fixture(scope="module")
def image_run(image_corpus, tmp_path_factory):
    """``workbench train`` on the image corpus, once for the module."""
    root, _, _ = image_corpus
    run = tmp_path_factory.mktemp("cli-broken-run") / "run"
    result = workbench("train", "--template", "simple_cnn", "--data", str(root), "--epochs", "1",
                       "--batch-size", "8", "--seed", "2", "--out", str(run))
    return result, run


@pytest.mark.parametrize("corpus", ["images", "sounds", "videos"])
def test_scan_names_every_broken_and_skipped_file(tmp_path, corpus):
    if corpus == "videos":
        pytest.importorskip("cv2")
    writer = {"images": write_broken_image_corpus, "sounds": write_broken_sound_corpus,
              "videos": write_broken_video_corpus}[corpus]
    root = tmp_path / corpus
    cases, skipped = writer(root)

    result = workbench("scan", str(root))

    assert result.returncode == 0, result.stderr
    assert_named_with_reasons(result.stdout, root, cases)
    skipped_lines = [line for line in result.stdout.splitlines() if line.strip().startswith("skipped ")]
    for name, reason in skipped.items():
        assert any(display_path(name) in line and reason in line for line in skipped_lines), (name, skipped_lines)
    for name, reason in cases.items():
        if reason is None:
            assert display_path(name) not in result.stdout  # read and counted: nothing to say about it


def test_scan_json_lists_unreadable_and_skipped(image_corpus):
    root, cases, skipped = image_corpus
    result = workbench("scan", str(root), "--json")
    assert result.returncode == 0
    summary = json.loads(result.stdout)
    assert len(summary["unreadable"]) == sum(1 for r in cases.values() if r is not None)
    assert sum(item["count"] for item in summary["skipped"]) == len(skipped)


def test_train_on_the_image_corpus_completes_and_records_what_it_skipped(image_corpus, image_run):
    root, cases, _ = image_corpus
    result, run = image_run
    assert result.returncode == 0, result.stderr
    assert "completed" in result.stdout
    scan = json.loads((run / "model.json").read_text())["dataset"]["scan"]
    reasons = {Path(item["path"]).name: item["reason"] for item in scan["unreadable"]}
    for name, reason in cases.items():
        if reason is not None:
            assert reason.lower() in reasons[Path(name).name].lower()
    assert scan["skipped"]


def test_evaluate_on_the_image_corpus_names_every_broken_file(image_corpus, image_run):
    root, cases, _ = image_corpus
    _, run = image_run
    code, out, err = in_process(["evaluate", "--model", str(run / "model.keras"), "--data", str(root)])
    assert code == 0, err
    good = sum(1 for r in cases.values() if r is None) + 10
    assert f"({good} samples)" in out
    assert_named_with_reasons(out, root, cases)
    out.encode("utf-8")  # printable in a strict UTF-8 terminal


def test_predict_on_the_image_corpus_predicts_the_good_and_names_the_broken(image_corpus, image_run):
    root, cases, _ = image_corpus
    _, run = image_run
    files = [str(root / name) for name in cases]
    result = workbench("predict", "--model", str(run / "model.keras"), *files, "--top-k", "2")
    assert result.returncode == 2  # some files could not be read
    for name, reason in cases.items():
        shown = display_path(str(root / name))
        if reason is None:
            assert any(line.startswith(f"{shown}: ") for line in result.stdout.splitlines()), (shown, result.stdout)
        else:
            assert shown in result.stderr and shown not in result.stdout
    assert all(line.startswith("workbench predict: error: ") for line in result.stderr.splitlines() if line.strip()
               and "Received:" in line)

    for k in ("0", "-1"):
        code, _, err = in_process(["predict", "--model", str(run / "model.keras"), files[0], "--top-k", k])
        assert code == 2 and f"Expected --top-k of at least 1. Received: {k}" in err


def test_sound_corpus_trains_evaluates_and_predicts(tmp_path):
    root = tmp_path / "sounds"
    cases, _ = write_broken_sound_corpus(root)
    run = tmp_path / "run"

    code, out, err = in_process(["train", "--template", "audio_spectrogram_cnn", "--data", str(root), "--epochs", "1",
                                 "--batch-size", "8", *SOUND_HPARAMS, "--out", str(run)])
    assert code == 0, err
    scan = json.loads((run / "model.json").read_text())["dataset"]["scan"]
    assert len(scan["unreadable"]) == sum(1 for r in cases.values() if r is not None)

    code, out, err = in_process(["evaluate", "--model", str(run / "model.keras"), "--data", str(root)])
    assert code == 0, err
    assert_named_with_reasons(out, root, cases)
    assert f"warning: 1 of {sum(1 for r in cases.values() if r is None) + 8} clips are longer than 0.5 s" in out

    files = [str(root / name) for name in cases]
    code, out, err = in_process(["predict", "--model", str(run / "model.keras"), *files, "--json"])
    assert code == 2
    results = [json.loads(line) for line in out.splitlines()]
    errors = {r["source"] for r in results if "error" in r}
    # A silent recording is no use for training, but predicting it is asked for: it gets a prediction.
    assert errors == {display_path(str(root / n)) for n, r in cases.items() if r not in (None, "silent")}
    assert sum("label" in r for r in results) == sum(1 for r in cases.values() if r in (None, "silent"))


def test_video_corpus_trains_on_its_readable_clips_and_names_the_broken_ones(tmp_path):
    pytest.importorskip("cv2")
    root = tmp_path / "videos"
    write_broken_video_corpus(root)
    code, out, err = in_process(["scan", str(root)])
    broken = [line for line in out.splitlines() if line.strip().startswith("unreadable:")]
    assert code == 0 and broken and "Traceback" not in err
    code, _, err = in_process(["train", "--template", "simple_cnn", "--data", str(root), "--epochs", "1",
                               "--out", str(tmp_path / "run")])
    assert code == 2 and "expects image data" in err and "video" in err


def test_one_image_per_class_without_validation_trains_and_records_why(tmp_path):
    root = write_image_dataset(tmp_path / "d", {"a": 1, "b": 1})
    run = tmp_path / "run"
    code, out, err = in_process(["train", "--template", "simple_cnn", "--data", str(root), "--epochs", "1",
                                 "--val-split", "0", "--out", str(run)])
    assert code == 0, err
    split = json.loads((run / "model.json").read_text())["split"]
    assert any(w.startswith("No validation split (the validation fraction is 0)") for w in split["warnings"])


@pytest.mark.parametrize(("content", "expected"), [
    (b"just text\n", "not an .npz archive"),
    (b"", "empty file"),
])
def test_a_file_named_npz_that_is_not_one_is_said_plainly(tmp_path, content, expected):
    path = tmp_path / "data.npz"
    path.write_bytes(content)
    for argv in (["scan", str(path)], ["train", "--template", "simple_cnn", "--data", str(path), "--epochs", "1",
                                       "--out", str(tmp_path / "run")]):
        code, _, err = in_process(argv)
        assert code == 2 and expected in err and "pickle" not in err

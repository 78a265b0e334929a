"""A quiet command line: results alone on stdout, no TensorFlow native log lines unless ``--verbose``,
progress on stderr only while it is a terminal; ``evaluate`` reads a saved test split alone; ``--version``.

The start-up filter (:mod:`workbench.tf_quiet`) is checked against a stand-in ``tensorflow`` package
that writes TensorFlow's lines to descriptor 2 the way its C++ does (fast); one subprocess runs the
real ``workbench predict`` with the shipped digit model.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest

from tests.paths import MNIST_NPZ, REPO_ROOT, require_shared
from workbench import __version__
from workbench.cli import run_cli
from workbench.cli_progress import StderrProgress
from workbench.core.data.scan import load_npz, scan_dataset
from workbench.core.errors import DatasetError
from workbench.tf_quiet import filter_native_lines

DIGITS_MODEL = REPO_ROOT / "resources" / "models" / "digits.keras"
#: What TensorFlow 2.21's C++ writes at import on a machine without CUDA, and at its first operation.
NATIVE_NOISE = re.compile(r"absl::InitializeLog|oneDNN custom operations|Could not find cuda drivers|cuInit|"
                          r"^[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]", re.MULTILINE)
NATIVE_STARTUP = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                  b"I0000 00:00:1796162070.996352   23769 port.cc:153] oneDNN custom operations are on.\n"
                  b"I0000 00:00:1796162070.996728   23769 cudart_stub.cc:31] Could not find cuda drivers on "
                  b"your machine, GPU will not be used.\n"
                  b"E0000 00:00:1796162073.691972   23769 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, **extra}


@pytest.fixture(scope="module")
def fake_tensorflow(tmp_path_factory) -> Path:
    """A folder holding a stand-in ``tensorflow`` package: its import writes the native start-up lines
    to descriptor 2 (as C++ does, below Python), then a Python warning and a line on ``sys.stderr``."""
    root = tmp_path_factory.mktemp("fake_tf")
    (root / "tensorflow").mkdir()
    (root / "tensorflow" / "__init__.py").write_text(textwrap.dedent(f"""
        import os, sys, warnings
        os.write(2, {NATIVE_STARTUP!r} * 2)
        sys.stderr.write("python line kept\\n")
        warnings.warn("python warning kept")
        if os.environ.get("FAKE_TF_FAILS"):
            raise ImportError("fake tensorflow is broken")
        FAKE = True
    """))
    return root


def _import_fake(fake_tensorflow: Path, code: str = "", **env: str) -> subprocess.CompletedProcess:
    script = f"import workbench\n{code}\nimport tensorflow\nassert tensorflow.FAKE\nprint('imported')"
    return subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                          env=_clean_env(PYTHONPATH=os.pathsep.join([str(fake_tensorflow), str(REPO_ROOT)]), **env))


def test_tensorflow_import_drops_native_startup_lines_but_keeps_python_output(fake_tensorflow):
    proc = _import_fake(fake_tensorflow)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "imported\n"
    assert not NATIVE_NOISE.search(proc.stderr), proc.stderr
    assert "python line kept" in proc.stderr and "python warning kept" in proc.stderr


def test_verbose_keeps_native_startup_lines(fake_tensorflow):
    proc = _import_fake(fake_tensorflow, "from workbench.tf_quiet import set_verbose; set_verbose(True)\n"
                                         "import os; assert 'TF_CPP_MIN_LOG_LEVEL' not in os.environ")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("absl::InitializeLog()") == 2 and proc.stderr.count("cuInit") == 2


def test_a_level_the_user_set_is_kept(fake_tensorflow):
    """TF_CPP_MIN_LOG_LEVEL=2 from the user: not overridden, and only lines below it are dropped."""
    proc = _import_fake(fake_tensorflow, "import os; assert os.environ['TF_CPP_MIN_LOG_LEVEL'] == '2'",
                        TF_CPP_MIN_LOG_LEVEL="2")
    assert proc.returncode == 0, proc.stderr
    assert "oneDNN" not in proc.stderr and "absl::InitializeLog" not in proc.stderr
    assert proc.stderr.count("failed call to cuInit") == 2  # an error-level line the user asked to see


def test_an_import_error_is_still_shown(fake_tensorflow):
    proc = _import_fake(fake_tensorflow, FAKE_TF_FAILS="1")
    assert proc.returncode == 1
    assert "ImportError: fake tensorflow is broken" in proc.stderr
    assert "python line kept" in proc.stderr and not NATIVE_NOISE.search(proc.stderr)


def test_filter_native_lines_by_level():
    data = NATIVE_STARTUP + b"a Python line\n"
    assert filter_native_lines(data, 0) == data
    assert filter_native_lines(data, 3) == b"a Python line\n"
    assert b"cuInit" in filter_native_lines(data, 2) and b"oneDNN" not in filter_native_lines(data, 2)


def test_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        run_cli(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"workbench {__version__}"
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        assert tomllib.load(f)["project"]["version"] == __version__


def test_progress_bar_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, log = Terminal(), io.StringIO()
    for stream in (tty, log):
        with StderrProgress(stream) as progress:
            progress.update("predicting", 32, 64)
            progress.update("predicting", 64, 64)
    assert log.getvalue() == ""
    assert "predicting [" in tty.getvalue() and "64/64" in tty.getvalue()
    assert tty.getvalue().endswith("\r\033[K")  # the bar is erased, leaving the line to the results


@pytest.fixture(scope="module")
def test_only_npz(tmp_path_factory) -> Path:
    """The usual layout of a saved test split: x_test and y_test alone (60 MNIST digits)."""
    with np.load(require_shared(MNIST_NPZ)) as data:
        x, y = data["x_train"][:60], data["y_train"][:60]
    path = tmp_path_factory.mktemp("npz") / "test_split.npz"
    np.savez(path, x_test=x, y_test=y)
    return path


def test_training_still_needs_x_train(test_only_npz):
    for read in (lambda: scan_dataset(test_only_npz), lambda: load_npz(test_only_npz)):
        with pytest.raises(DatasetError, match="Expected an .npz with arrays 'x_train' and 'y_train'"):
            read()
    report = scan_dataset(test_only_npz, allow_test_only=True)
    assert report.num_samples == 60 and list(report.split_counts) == ["test"]


def test_scan_reports_a_test_split_alone(capsys, test_only_npz):
    assert run_cli(["scan", str(test_only_npz)]) == 0
    captured = capsys.readouterr()
    assert "60 samples in 10 classes" in captured.out and "test split alone" in captured.out
    assert captured.err == ""


def test_evaluate_reads_a_test_split_alone(capsys, test_only_npz):
    assert run_cli(["evaluate", "--json", "--model", str(DIGITS_MODEL), "--data", str(test_only_npz)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # the whole of stdout is one JSON document
    assert report["num_samples"] == 60 and report["accuracy"] > 0.9
    assert not NATIVE_NOISE.search(captured.err)


def test_predict_subprocess_prints_only_results(tmp_path):
    """The real entry point with the shipped model: stdout is JSON lines, neither stream has a native
    log line (TensorFlow is imported, and its first operation runs, in this process)."""
    from PIL import Image

    with np.load(require_shared(MNIST_NPZ)) as data:
        images, labels = data["x_train"][:2], data["y_train"][:2]
    files = []
    for i, (image, label) in enumerate(zip(images, labels)):
        files.append(tmp_path / f"digit{i}_{label}.png")
        Image.fromarray(255 - image).save(files[-1])  # dark ink on white paper, as drawn
    proc = subprocess.run([sys.executable, "-m", "workbench", "predict", "--json", "--model", str(DIGITS_MODEL),
                           *map(str, files)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
                          env=_clean_env())
    assert proc.returncode == 0, proc.stderr
    assert not NATIVE_NOISE.search(proc.stdout + proc.stderr), proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["source"] for r in results] == [str(f) for f in files]
    assert [r["top"][0]["class"] for r in results] == [str(label) for label in labels]

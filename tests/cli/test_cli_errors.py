"""Paths the user gets wrong end in one line and exit status 2, never a traceback: the eight of the
report (``train --out`` a file or an unwritable path; ``export --out`` an unwritable path, a path under
a file, a device or a full disk; a sidecar that is a JSON list; a sidecar whose class count is not the
model's; ``evaluate`` of a sound folder with an image model), and the model they name is left as it was.
Anything else unexpected is one line and status 1, with the traceback on request."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audio_helpers import write_tone_dataset
from tests.helpers import write_image_dataset
from tests.paths import REPO_ROOT
from workbench.cli import run_cli

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")

#: Log lines TensorFlow and absl write to the process's stderr themselves (not the CLI's output).
NATIVE_LOG = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)")
#: A path no user can write to, root included: /proc refuses new entries.
UNWRITABLE = "/proc/workbench-no-such-folder/out"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(run folder, image dataset) of ``workbench train`` for one epoch on 3 × 20 tiny images."""
    root = tmp_path_factory.mktemp("cli-errors")
    data = write_image_dataset(root / "data")
    with contextlib.redirect_stdout(io.StringIO()):
        code = run_cli(["train", "--template", "simple_cnn", "--data", str(data), "--epochs", "1",
                        "--batch-size", "8", "--out", str(root / "run")])
    assert code == 0
    return root / "run", data


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def one_error_line(capfd, argv: list[str], *expected: str, code: int = 2) -> str:
    """``argv`` exits ``code`` with one line on stderr (besides TensorFlow's own log lines) naming
    the command, and no traceback on either stream, at file-descriptor level."""
    with contextlib.redirect_stdout(io.StringIO()):
        result = run_cli(argv)
    out, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if line.strip() and not NATIVE_LOG.match(line)]
    assert result == code, err
    assert "Traceback" not in err + out, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"workbench {argv[0]}: error: ")
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def copy_run(run: Path, target: Path) -> Path:
    shutil.copytree(run, target)
    return target / "model.keras"


# -- train --out ---------------------------------------------------------------------------------------------


def test_train_out_an_existing_file(capfd, trained, tmp_path):
    _, data = trained
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    one_error_line(capfd, ["train", "--template", "simple_cnn", "--data", str(data), "--epochs", "1",
                           "--out", str(existing)], str(existing))
    assert existing.read_text() == "mine"


@pytest.mark.parametrize("where", ["unwritable", "under-a-file"])
def test_train_out_a_path_that_cannot_be_written(capfd, trained, tmp_path, where):
    _, data = trained
    (tmp_path / "file").write_text("mine")
    out = UNWRITABLE if where == "unwritable" else str(tmp_path / "file" / "run")
    one_error_line(capfd, ["train", "--template", "simple_cnn", "--data", str(data), "--epochs", "1", "--out", out])
    assert (tmp_path / "file").read_text() == "mine"


# -- export --out ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["keras", "savedmodel", "tflite"])
def test_export_out_an_unwritable_path(capfd, trained, fmt):
    run, _ = trained
    before = fingerprint(run)
    one_error_line(capfd, ["export", "--model", str(run / "model.keras"), "--format", fmt, "--out", UNWRITABLE],
                   "/proc/workbench-no-such-folder")
    assert fingerprint(run) == before


def test_export_out_a_path_under_a_file(capfd, trained, tmp_path):
    run, _ = trained
    (tmp_path / "file").write_text("mine")
    before = fingerprint(run)
    one_error_line(capfd, ["export", "--model", str(run / "model.keras"), "--out", str(tmp_path / "file" / "x.keras")])
    assert fingerprint(run) == before and (tmp_path / "file").read_text() == "mine"


@pytest.mark.parametrize("overwrite", [False, True])
def test_export_out_a_device_is_refused_and_never_replaced(capfd, trained, overwrite):
    run, _ = trained
    before = fingerprint(run)
    device = Path("/dev/full")
    if not device.is_char_device():
        pytest.skip("no /dev/full on this system")
    one_error_line(capfd, ["export", "--model", str(run / "model.keras"), "--out", str(device)]
                   + (["--overwrite"] if overwrite else []), "/dev/full")
    assert device.is_char_device() and not list(Path("/dev").glob(".full.*"))
    assert fingerprint(run) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_export_over_a_named_pipe_is_refused_even_with_overwrite(capfd, trained, tmp_path):
    run, _ = trained
    pipe = tmp_path / "pipe.keras"
    os.mkfifo(pipe)
    one_error_line(capfd, ["export", "--model", str(run / "model.keras"), "--out", str(pipe), "--overwrite"],
                   "device, pipe or socket")
    assert pipe.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["pipe.keras"]


@pytest.mark.parametrize("fmt", ["keras", "tflite"])
def test_export_to_a_full_disk(capfd, trained, tmp_path, monkeypatch, fmt):
    """The disk fills while the artefact is written (ENOSPC when it is flushed): one line, no half
    file, no temporary file left, the model untouched."""
    import workbench.core.atomic as atomic

    run, _ = trained
    before = fingerprint(run)

    def full(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(atomic, "_fsync_file", full)
    out = tmp_path / "exports" / f"model.{fmt}"
    one_error_line(capfd, ["export", "--model", str(run / "model.keras"), "--format", fmt, "--out", str(out)],
                   os.strerror(errno.ENOSPC))
    assert list(out.parent.iterdir()) == []
    assert fingerprint(run) == before


def test_a_full_disk_for_the_exports_sidecar(capfd, trained, tmp_path, monkeypatch):
    import workbench.core.sidecar as sidecar

    run, _ = trained

    def full(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(sidecar, "atomic_write_text", full)
    one_error_line(capfd, ["export", "--model", str(run / "model.keras"), "--out", str(tmp_path / "x.keras")],
                   "sidecar", os.strerror(errno.ENOSPC))


# -- damaged sidecars, mismatched models and data ------------------------------------------------------------


@pytest.mark.parametrize("command", ["export", "predict", "evaluate"])
def test_a_sidecar_that_is_a_json_list(capfd, trained, tmp_path, command):
    run, data = trained
    model = copy_run(run, tmp_path / "run")
    (tmp_path / "run" / "model.json").write_text(json.dumps([1, 2]))
    argv = {"export": ["export", "--model", str(model)],
            "predict": ["predict", "--model", str(model), str(next(data.rglob("*.png")))],
            "evaluate": ["evaluate", "--model", str(model), "--data", str(data)]}[command]
    one_error_line(capfd, argv, "Expected a sidecar holding a JSON object", "Received: list")


def test_a_sidecar_whose_class_count_is_not_the_models(capfd, trained, tmp_path):
    """Depends on Predictor.load comparing the sidecar's classes with the model's outputs."""
    run, data = trained
    model = copy_run(run, tmp_path / "run")
    sidecar = json.loads((tmp_path / "run" / "model.json").read_text())
    sidecar["class_names"] += ["extra_1", "extra_2"]
    (tmp_path / "run" / "model.json").write_text(json.dumps(sidecar))
    one_error_line(capfd, ["predict", "--model", str(model), str(next(data.rglob("*.png")))], "5 classes")


def test_evaluate_a_sound_folder_with_an_image_model(capfd, trained, tmp_path):
    """Depends on evaluation checking the dataset's modality against the model's (the classes match)."""
    run, data = trained
    sound = write_tone_dataset(tmp_path / "tones")
    renamed = tmp_path / "sound"
    renamed.mkdir()
    for source, name in zip(sorted(p for p in sound.iterdir() if p.is_dir()), sorted(p.name for p in data.iterdir())):
        shutil.copytree(source, renamed / name)
    one_error_line(capfd, ["evaluate", "--model", str(run / "model.keras"), "--data", str(renamed)])


# -- errors that are not the user's ------------------------------------------------------------------------


def test_an_os_error_from_any_command_is_one_line(capfd, monkeypatch):
    import workbench.cli as cli

    def refuse(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/srv/data")

    monkeypatch.setattr(cli, "cmd_templates", refuse)
    one_error_line(capfd, ["templates"], "Permission denied (EACCES): /srv/data")


def test_a_user_error_inside_a_tensorflow_pipeline_is_one_line(capfd, monkeypatch):
    import tensorflow as tf

    import workbench.cli as cli

    def wrapped(args):
        raise tf.errors.UnknownError(None, None, "Error in user-defined function: Traceback (most recent call last):\n"
                                     "  File \"x.py\", line 1\nworkbench.core.errors.DatasetError: Expected a readable "
                                     "image. Received: a.wav (cannot identify image file)\n\n\t [[{{node PyFunc}}]]")

    monkeypatch.setattr(cli, "cmd_templates", wrapped)
    line = one_error_line(capfd, ["templates"])
    assert line.endswith("error: Expected a readable image. Received: a.wav (cannot identify image file)")


def test_a_bug_is_one_line_with_status_1_and_its_traceback_on_request(capfd, monkeypatch):
    import workbench.cli as cli

    def bug(args):
        raise KeyError("boom")

    monkeypatch.setattr(cli, "cmd_templates", bug)
    with contextlib.redirect_stdout(io.StringIO()):
        assert run_cli(["templates"]) == 1
    _, err = capfd.readouterr()
    assert "Traceback" not in err and "internal error: KeyError: 'boom'" in err and "--debug" in err
    with pytest.raises(KeyError):
        run_cli(["--debug", "templates"])
    monkeypatch.setenv("WORKBENCH_DEBUG", "1")
    with pytest.raises(KeyError):
        run_cli(["templates"])


def test_the_real_process_prints_no_traceback(trained, tmp_path):
    run, _ = trained
    (tmp_path / "file").write_text("mine")
    proc = subprocess.run([sys.executable, "-m", "workbench", "export", "--model", str(run / "model.keras"),
                           "--out", str(tmp_path / "file" / "x.keras")], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.strip() and not NATIVE_LOG.match(line)]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("workbench export: error: "), proc.stderr

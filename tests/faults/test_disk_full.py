"""A full disk and a read-only folder: ``workbench train`` and ``workbench export`` say so in one line
and lose nothing that was there before.

The disk is a small tmpfs mounted for the test (CI runs as root; ``mount`` may still be refused in
a container). Where it cannot be mounted (or ``WORKBENCH_FAULTS_NO_MOUNT=1``), the same scenarios run
in-process against a folder whose writes are refused by patching ``open``/``os.open`` (and, for a
read-only folder, ``mkdir``/``replace``/``unlink``) to raise the error the system would: the
TensorFlow-native SavedModel writer cannot be reached that way, so that one case needs the mount.
Running as root, a ``chmod 0o555`` folder would not refuse anything, so a read-only remount (or the
patch) stands in for it.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.conftest import TRAIN_ARGS, is_temporary, run_workbench, stderr_lines

pytestmark = pytest.mark.slow

SIZE = "48m"


@dataclass
class Outcome:
    returncode: int
    lines: list[str]  # stderr, without TensorFlow's start-up chatter
    tracebacks: list[str] = field(default_factory=list)

    def one_line(self) -> str:
        assert len(self.lines) == 1 and not self.tracebacks and "Traceback" not in "\n".join(self.lines), \
            "expected one line on stderr. Received:\n" + "\n".join(self.lines + self.tracebacks)
        return self.lines[0]


class Disk:
    """A small file system at ``root``: a real tmpfs, or a folder whose writes a patch refuses."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, capsys, caplog) -> None:
        self.root = root
        self._monkeypatch, self._capsys, self._caplog = monkeypatch, capsys, caplog
        root.mkdir(parents=True, exist_ok=True)
        self.mounted = _mount_tmpfs(root)
        self.mode = "tmpfs" if self.mounted else "patched"

    def run(self, *args: str) -> Outcome:
        """``workbench ARGS``: a subprocess on the tmpfs; in-process (under the patch) otherwise."""
        if self.mounted:
            done = run_workbench(*args)
            return Outcome(done.returncode, stderr_lines(done.stderr))
        from workbench.cli import run_cli

        self._capsys.readouterr()
        self._caplog.clear()
        with self._caplog.at_level(logging.ERROR):
            code = run_cli(list(args))
        err = self._capsys.readouterr().err
        # Run as a process, a logged exception is printed to stderr as a traceback.
        tracebacks = [logging.Formatter().format(r) for r in self._caplog.records if r.exc_info]
        return Outcome(code, stderr_lines(err), tracebacks)

    def fill(self, leave_bytes: int = 0) -> None:
        """No space left, or ``leave_bytes`` (enough for small files, not for a model)."""
        if not self.mounted:
            big_only = (lambda name: name.endswith(".keras") or name.endswith(".tflite")) if leave_bytes else None
            _refuse_writes(self._monkeypatch, self.root, errno.ENOSPC, only=big_only)
            return
        filler = self.root / "filler"
        chunk = b"\0" * (1 << 20)
        with open(filler, "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
        for _ in range(64):  # tmpfs rounds to pages; smaller writes may still fit
            try:
                with open(filler, "ab", buffering=0) as handle:
                    handle.write(b"\0" * 4096)
            except OSError:
                break
        if leave_bytes:
            os.truncate(filler, max(0, filler.stat().st_size - leave_bytes))

    def make_read_only(self) -> None:
        if self.mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(self.root)], check=True, capture_output=True)
        else:
            _refuse_writes(self._monkeypatch, self.root, errno.EROFS, read_only=True)

    def close(self) -> None:
        if self.mounted and subprocess.run(["umount", str(self.root)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(self.root)], capture_output=True)


def _mount_tmpfs(path: Path) -> bool:
    if os.environ.get("WORKBENCH_FAULTS_NO_MOUNT", "") not in ("", "0"):
        return False
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def _refuse_writes(monkeypatch: pytest.MonkeyPatch, root: Path, code: int, *, only=None,
                   read_only: bool = False) -> None:
    """Make every write under ``root`` (or of the file names ``only`` accepts) fail with ``code``."""
    root = root.resolve()
    real_open, real_os_open = builtins.open, os.open

    def refused(path) -> bool:
        if isinstance(path, int):
            return False
        p = Path(os.fsdecode(path))
        inside = p.resolve().is_relative_to(root)
        return inside and (only is None or only(p.name))

    def fail(path):
        raise OSError(code, os.strerror(code), os.fsdecode(path))

    def fake_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and refused(file):
            fail(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, mode=0o777, *, dir_fd=None):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND) and refused(path):
            fail(path)
        return real_os_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    if read_only:
        for name in ("mkdir", "unlink", "remove", "rmdir"):
            real = getattr(os, name)

            def guarded(path, *args, _real=real, **kwargs):
                if refused(path):
                    fail(path)
                return _real(path, *args, **kwargs)

            monkeypatch.setattr(os, name, guarded)
        for name in ("replace", "rename"):
            real = getattr(os, name)

            def guarded2(src, dst, *args, _real=real, **kwargs):
                if refused(src) or refused(dst):
                    fail(dst)
                return _real(src, dst, *args, **kwargs)

            monkeypatch.setattr(os, name, guarded2)


@pytest.fixture
def disk(tmp_path, monkeypatch, capsys, caplog):
    disk = Disk(tmp_path / "disk", monkeypatch, capsys, caplog)
    yield disk
    monkeypatch.undo()
    disk.close()


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "filler"}


def _leftovers(folder: Path) -> list[str]:
    return [str(p.relative_to(folder)) for p in folder.rglob("*") if is_temporary(p.name)]


def _copy_run(trained_run: Path, root: Path) -> Path:
    """The finished run and its dataset, side by side as the sidecar expects them, into ``root``."""
    shutil.copytree(trained_run.parent / "data", root / "data")
    run = root / "run"
    shutil.copytree(trained_run, run)
    return run


def test_export_to_a_full_disk_says_so_and_keeps_the_earlier_export(disk, trained_run):
    model = str(trained_run / "model.keras")
    target = disk.root / "export.keras"
    first = disk.run("export", "--model", model, "--format", "keras", "--out", str(target))
    assert first.returncode == 0, first.lines
    before = _digests(disk.root)
    disk.fill()

    again = disk.run("export", "--model", model, "--format", "keras", "--out", str(target))
    line = again.one_line()
    assert again.returncode == 2 and "No space left on device" in line and str(target) in line, line
    if disk.mounted:  # TensorFlow's own C++ writer: only a real full disk reaches it
        saved = disk.run("export", "--model", model, "--format", "savedmodel", "--out", str(disk.root / "sm"))
        assert saved.returncode == 2 and "No space left on device" in saved.one_line()
    assert _digests(disk.root) == before, "the earlier export changed"
    assert not _leftovers(disk.root)
    assert sorted(p.name for p in disk.root.iterdir() if p.name != "filler") == ["export.json", "export.keras"]


def test_training_on_a_full_disk_says_so_in_one_line(disk, noisy_dataset):
    disk.fill()
    out = disk.root / "run"
    result = disk.run("train", *TRAIN_ARGS, "--data", str(noisy_dataset), "--epochs", "2", "--out", str(out))
    line = result.one_line()
    assert result.returncode == 2 and "No space left on device" in line and str(out) in line, line
    assert not (out / "model.keras").exists() and not _leftovers(disk.root)


# The known gap: a write error inside fit() becomes a "failed" run; core/training/run.py
# explain_failure() logs its traceback (_log.exception) and `workbench train` exits 1, printing
# "failed: Training failed: OSError: [Errno 28] No space left on device" on stdout.


def test_a_disk_filling_up_during_training_loses_nothing_and_says_so(disk, trained_run):
    from workbench.core.inference import Predictor
    from workbench.core.training.runfolder import read_resume_state

    run = _copy_run(trained_run, disk.root)
    before = _digests(run)
    disk.fill(leave_bytes=256 * 1024)  # room for history.csv and model.json, not for a model
    result = disk.run("train", "--resume", str(run), "--epochs", "4")
    assert any("No space left on device" in line for line in result.lines + result.tracebacks), result

    assert result.returncode != 0, result.lines
    after = _digests(run)
    for name in ("model.keras", "last.keras"):  # the checkpoint and the resume point are untouched
        assert after[name] == before[name], f"{name} changed"
    Predictor.load(run / "model.keras")
    assert read_resume_state(run / "last.keras")["epochs_done"] == 2
    assert not _leftovers(disk.root)

    assert not result.tracebacks and not any(line.startswith("Traceback") for line in result.lines)
    line = result.one_line()
    assert result.returncode == 2 and "No space left on device" in line and str(run) in line, line


def test_a_read_only_folder_says_so_and_loses_nothing(disk, trained_run):
    from workbench.core.inference import Predictor

    run = _copy_run(trained_run, disk.root)
    target = disk.root / "export.keras"
    assert disk.run("export", "--model", str(run / "model.keras"), "--out", str(target)).returncode == 0
    before = _digests(disk.root)
    disk.make_read_only()

    attempts = {
        "new run": ("train", *TRAIN_ARGS, "--data", str(disk.root / "data"), "--epochs", "1",
                    "--out", str(disk.root / "run2")),
        "resume": ("train", "--resume", str(run), "--epochs", "4"),
        "export over the earlier one": ("export", "--model", str(run / "model.keras"), "--out", str(target)),
    }
    for what, args in attempts.items():
        result = disk.run(*args)
        line = result.one_line()
        assert result.returncode == 2 and "Read-only file system" in line, f"{what}: {line}"
    assert _digests(disk.root) == before
    Predictor.load(run / "model.keras")  # reading needs no write access

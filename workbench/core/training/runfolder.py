"""Who owns a run folder, and what state a run is in, without TensorFlow.

A training process holds an OS lock on ``run.lock`` in its run folder for as long as it runs
(``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows). The kernel drops the lock when the process
ends in any way, SIGKILL and power loss included, so a sidecar that still says ``"running"`` while
no process holds the lock is an interrupted run. The lock file also names the holder (pid, host,
start time) for messages; it is removed when the run ends normally, and a stale one left by a kill
is simply re-locked by the next owner.

``last.keras`` is the run's resume point: the model of the last finished epoch with its optimizer
state, and, inside the same zip file, ``workbench/resume.json`` (epochs done, phase, best value so
far, the history up to that epoch). Model and state are one file, written atomically, so they never
disagree after a kill.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

MODEL_FILE = "model.keras"
LAST_FILE = "last.keras"
LOCK_FILE = "run.lock"
RESUME_ENTRY = "workbench/resume.json"
FINISHED = ("completed", "stopped_early")


class RunFolderError(WorkbenchError):
    """A run folder that cannot be written, is taken, or cannot be resumed."""


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        # flock, not fcntl/lockf: its lock belongs to this open file, so a check from another thread
        # of the same process (the GUI's panels while its worker trains) sees the lock as taken.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class RunLock:
    """The lock a live training process holds on its run folder."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another live run holds it. OSError when it cannot be written."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        for attempt in range(3):  # a status check holds it for microseconds; do not mistake that for a run
            if _try_lock(fd):
                break
            time.sleep(0.05 * (attempt + 1))
        else:
            os.close(fd)
            return False
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": datetime.now().isoformat(timespec="seconds")}
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(info).encode())
        except OSError:  # a full disk: leave no lock file behind
            with contextlib.suppress(OSError):
                self.path.unlink()
            _unlock(fd)
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = None


def lock_holder(run_dir: str | Path) -> dict[str, Any] | None:
    """The live process holding ``run_dir`` (``{"pid", "host", "started"}``, or ``{}`` when unreadable),
    or None when no process does."""
    path = Path(run_dir) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    except OSError:
        return {}  # cannot even open it: assume the owner is alive rather than call its run dead
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
        try:
            return json.loads(os.read(fd, 4096) or b"{}")
        except (OSError, ValueError):
            return {}
    finally:
        os.close(fd)


class RunFolderClaim:
    """A run folder taken by this process: its lock, and the folders the claim made."""

    def __init__(self, run_dir: Path, lock: RunLock, created: list[Path]) -> None:
        self.run_dir = run_dir
        self.lock = lock
        self._created = created  # innermost first

    def release(self) -> None:
        """Release the lock; the folders the claim made go too if nothing was written into them (a
        run that failed or was interrupted before its first epoch leaves nothing behind)."""
        self.lock.release()
        _remove_empty(self._created)


def claim_run_folder(run_dir: str | Path, *, resume: bool = False) -> RunFolderClaim:
    """Create (or, with ``resume``, reopen) ``run_dir`` and lock it for this process.

    A new run needs an empty or new folder: a folder holding another run is refused, never mixed
    with it (a killed 3-class run beside an old 10-class sidecar would load as a 10-class model).
    Raises :class:`RunFolderError` before anything is written.
    """
    run_dir = Path(run_dir)
    try:
        if run_dir.exists() and not run_dir.is_dir():
            raise RunFolderError(f"Expected an empty or new run folder. Received: {run_dir} is a file")
        if not resume and run_dir.is_dir():
            entries = sorted(p.name for p in run_dir.iterdir() if p.name != LOCK_FILE)
            if not entries and (run_dir / LOCK_FILE).exists() and lock_holder(run_dir) is not None:
                entries = [LOCK_FILE]  # a live run that has not written its first checkpoint yet
            if entries:
                shown = ", ".join(entries[:4]) + (", …" if len(entries) > 4 else "")
                hint = (f"; to continue that run: workbench train --resume {run_dir}"
                        if MODEL_FILE in entries else "")
                raise RunFolderError(f"Expected an empty or new run folder{hint}. "
                                     f"Received: {run_dir} holds {shown}")
        created = [p for p in (run_dir, *run_dir.parents) if not p.exists()]
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            lock = RunLock(run_dir)
            acquired = lock.acquire()
        except OSError:
            _remove_empty(created)  # a failed claim leaves no folder it made
            raise
        if not acquired:
            holder = lock_holder(run_dir) or {}
            who = f" (pid {holder['pid']} on {holder.get('host', '?')})" if "pid" in holder else ""
            raise RunFolderError(f"Expected a run folder no other run is using. Received: {run_dir} is being "
                                 f"trained by another process{who}")
    except OSError as exc:
        raise RunFolderError(f"Expected a run folder that can be written. "
                             f"Received: {run_dir} ({exc.strerror or exc})") from None
    if resume:
        _remove_stale_temporaries(run_dir)
    return RunFolderClaim(run_dir, lock, created)


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (innermost first) while they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            break


def _remove_stale_temporaries(run_dir: Path) -> None:
    """Temporary files of writes a kill interrupted (``.model.keras.*.tmp.keras``, ...): ours, named
    by workbench.core.atomic, and as large as a model each. Only called while holding the lock."""
    for leftover in run_dir.glob(".*.tmp*"):
        if leftover.is_file():
            with contextlib.suppress(OSError):
                leftover.unlink()


def read_resume_state(last_path: str | Path) -> dict[str, Any] | None:
    """The resume state stored inside ``last.keras``, or None when there is no readable one."""
    try:
        with zipfile.ZipFile(last_path) as archive:
            state = json.loads(archive.read(RESUME_ENTRY))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("epochs_done"), int) else None


@dataclass
class RunStatus:
    """What a run folder's state is, read from its sidecar, lock and resume point."""

    run_dir: Path
    model_path: Path
    status: str  # the sidecar's status, except "running" without a live process → "interrupted"
    epochs_run: int  # finished epochs the folder holds (the resume point's, else the sidecar's)
    total_epochs: int | None  # what the run was planned for
    best_epoch: int | None  # the epoch model.keras comes from
    holder: dict[str, Any] | None  # the live process, while one trains the run
    resumable: bool  # ``--resume`` continues it without a new epoch total

    @property
    def unfinished(self) -> bool:
        return self.status in ("interrupted", "cancelled", "failed")


def run_status(path: str | Path) -> RunStatus:
    """The state of a run folder, or of the run a ``.keras`` model sits in. Raises ModelFileError
    when there is no readable sidecar (a run killed before its first checkpoint has none)."""
    from workbench.core.sidecar import read_sidecar

    path = Path(path)
    model = path / MODEL_FILE if path.is_dir() else path
    run_dir = model.parent
    sidecar = read_sidecar(model)
    status, holder = sidecar.get("status") or "unknown", None
    if status == "running":
        holder = lock_holder(run_dir)
        if holder is None:  # re-read: the run may have finished between the two reads
            status = read_sidecar(model).get("status") or "unknown"
            status = "interrupted" if status == "running" else status
    metrics = sidecar.get("final_metrics") or {}
    state = read_resume_state(run_dir / LAST_FILE) if model.name == MODEL_FILE else None
    epochs = state["epochs_done"] if state else metrics.get("epochs_run")
    if not isinstance(epochs, int):
        epochs = len((sidecar.get("history") or {}).get("loss", []))
    phases = sidecar.get("phases") or []
    total = sum(int(p.get("epochs", 0)) for p in phases) or (sidecar.get("hyperparameters") or {}).get("epochs")
    resumable = holder is None and status not in FINISHED and status != "running"
    return RunStatus(run_dir, model, status, epochs, total, metrics.get("best_epoch"), holder, resumable)


def interrupted_note(model_path: str | Path) -> str | None:
    """One line saying that a model comes from an unfinished run, or None (also when unknown)."""
    try:
        state = run_status(model_path)
    except (WorkbenchError, OSError):
        return None
    if state.status == "running":
        return f"note: {state.model_path} comes from a run still training (epoch {state.epochs_run} done so far)"
    if not state.unfinished:
        return None
    best = f", best epoch {state.best_epoch}" if state.best_epoch else ""
    article = "an" if state.status[0] in "aeiou" else "a"
    return (f"note: {state.model_path} comes from {article} {state.status} run ({state.epochs_run} of "
            f"{state.total_epochs or '?'} epochs{best}); continue it with: workbench train --resume {state.run_dir}")

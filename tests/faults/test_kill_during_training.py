"""kill -9 of ``workbench train`` at chosen and random moments: every file left is whole.

Each kill is a fresh run of the real CLI in a subprocess. The test polls the run folder for the
temporary files ``workbench.core.atomic`` writes (``.model.keras.*.tmp.keras`` and friends) and sends
SIGKILL as soon as the one it aims at appears, plus a seeded jitter so the kill lands at different
points inside the write. Afterwards every file in the folder must open as the app and the CLI open it
(:func:`tests.faults.conftest.check_run_folder`), and a run that had a checkpoint before the kill
must still have a model that loads.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.conftest import TRAIN_ARGS, check_run_folder, cli_env, is_temporary, workbench_command
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")]

SEED = 20261201
POLL_S = 0.0005
RUN_TIMEOUT_S = 120.0  # a loaded CI machine takes its time to import TensorFlow


@dataclass
class KillPlan:
    name: str
    prefix: str | None  # kill when a temporary file with this prefix appears; None: at a random time
    after_model: bool = False  # ...and only once model.keras already exists (a checkpoint to lose)
    nth: int = 1  # ...the nth such temporary file


PLANS = [
    KillPlan("the first checkpoint write", ".model.keras."),
    KillPlan("a checkpoint write over an earlier checkpoint", ".model.keras.", after_model=True),
    KillPlan("a sidecar write over an earlier checkpoint's", ".model.json.", after_model=True),
    KillPlan("a resume-point (last.keras) write", ".last.keras.", after_model=True),
    KillPlan("a history.csv write", ".history.csv.", nth=2),
    KillPlan("a random moment", None),
]


@dataclass
class KillOutcome:
    plan: str
    hit: bool  # the awaited moment came before the run ended
    had_model: bool  # model.keras existed when the kill was sent
    seconds: float
    returncode: int | None


def _kill_at(plan: KillPlan, run_dir: Path, data: Path, rng: random.Random, log: Path) -> KillOutcome:
    with open(log, "w") as out:
        proc = subprocess.Popen(workbench_command("train", *TRAIN_ARGS, "--data", str(data), "--epochs", "30",
                                                  "--out", str(run_dir)),
                                env=cli_env(), cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
    start = time.monotonic()
    at = start + rng.uniform(3.0, 7.0) if plan.prefix is None else None  # import, scan, first epochs
    seen: set[str] = set()
    hit = False
    try:
        while proc.poll() is None and time.monotonic() - start < RUN_TIMEOUT_S:
            if at is not None:
                if time.monotonic() >= at:
                    hit = True
                    break
            else:
                try:
                    names = os.listdir(run_dir)
                except FileNotFoundError:
                    names = []
                ready = not plan.after_model or "model.keras" in names
                seen.update(n for n in names if n.startswith(plan.prefix) and is_temporary(n) and ready)
                if len(seen) >= plan.nth:
                    hit = True
                    time.sleep(rng.uniform(0.0, 0.04))  # somewhere inside the write (or just after it)
                    break
            time.sleep(POLL_S)
        had_model = (run_dir / "model.keras").exists()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    return KillOutcome(plan.name, hit, had_model, round(time.monotonic() - start, 2), proc.returncode)


def test_kill_9_at_checkpoint_writes_and_random_moments_leaves_whole_files(tmp_path, noisy_dataset):
    rng = random.Random(SEED)
    outcomes = []
    for i, plan in enumerate(PLANS):
        run_dir = tmp_path / f"run{i}"
        outcome = _kill_at(plan, run_dir, noisy_dataset, rng, tmp_path / f"run{i}.log")
        log = (tmp_path / f"run{i}.log").read_text(errors="replace")
        assert outcome.hit, f"the run ended before {plan.name} (exit {outcome.returncode}):\n{log[-2000:]}"
        assert outcome.returncode == -signal.SIGKILL, f"{plan.name}: exit {outcome.returncode}\n{log[-2000:]}"
        found = check_run_folder(run_dir)
        if outcome.had_model:
            assert found["model_loads"], f"{plan.name}: the checkpoint written before the kill is gone: {found}"
        outcomes.append((outcome, found))
        print(f"{plan.name}: killed after {outcome.seconds:.2f} s; files {found['files']}, leftovers "
              f"{found['leftovers']}, epochs in history {found['epochs']}, sidecar {found['sidecar_status']}"
              f"{' (ahead of model.keras)' if found['sidecar_ahead_of_model'] else ''}")
    assert any(o.had_model and f["leftovers"] for o, f in outcomes), \
        "no kill landed inside a write while an earlier checkpoint existed"


# -- the GUI: training runs in a child process (workbench/gui/workers/training_worker.py) -------------


@pytest.mark.gui
def test_the_app_survives_its_training_process_being_killed(qtbot, tmp_path, noisy_dataset):
    """kill -9 of the training process (the OOM killer's way) after a checkpoint: the app reports it in
    one message, Start comes back, and the checkpoint loads."""
    import multiprocessing

    from workbench.core.training import TrainConfig
    from workbench.gui.workers.training_controller import TrainingController

    controller = TrainingController()
    failures, finished_runs, killed = [], [], []
    controller.failed.connect(failures.append)
    controller.run_finished.connect(finished_runs.append)

    def kill_after_a_checkpoint(payload: dict) -> None:
        if payload["epoch"] >= 2 and not killed:
            child = multiprocessing.active_children()
            killed.extend(p.pid for p in child if p.name == "workbench-training")
            for pid in killed:
                os.kill(pid, signal.SIGKILL)

    controller.epoch_ended.connect(kill_after_a_checkpoint)
    run_dir = tmp_path / "run"
    config = TrainConfig(template="simple_cnn", data=str(noisy_dataset), out_dir=str(run_dir),
                         hparams={"epochs": 200, "batch_size": 8, "learning_rate": 3e-4})
    try:
        with qtbot.waitSignal(controller.finished, timeout=120_000):
            controller.start(config)
    finally:
        assert controller.stop_and_wait(30_000)
    assert len(killed) == 1, "the run did not train in a child process named workbench-training"
    assert not controller.running and not finished_runs
    assert len(failures) == 1 and "SIGKILL" in failures[0] and "\n" not in failures[0], failures
    found = check_run_folder(run_dir)
    assert found["model_loads"] and found["sidecar_status"] == "running", found


GUI_THAT_DIES = """
import os, signal, sys
from PySide6.QtCore import QCoreApplication
from workbench.core.training import TrainConfig
from workbench.gui.workers.training_controller import TrainingController

app = QCoreApplication([])
controller = TrainingController()
def on_epoch(payload):
    if payload["epoch"] == 2:
        import multiprocessing
        print(*(p.pid for p in multiprocessing.active_children() if p.name == "workbench-training"), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
controller.epoch_ended.connect(on_epoch)
controller.start(TrainConfig(template="simple_cnn", data=sys.argv[1], out_dir=sys.argv[2],
                             hparams={"epochs": 200, "batch_size": 8, "learning_rate": 3e-4}))
app.exec()
"""


def _ended(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_killed_app_does_not_leave_its_training_running(tmp_path, noisy_dataset):
    """kill -9 of the app mid-run: its training process notices within a second, stops as the user's
    Stop would (status "cancelled", files whole) and exits, instead of training on orphaned."""
    run_dir = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", GUI_THAT_DIES, str(noisy_dataset), str(run_dir)], env=cli_env(),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 20
    while not _ended(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ended(pid), "the training process is still running after the app was killed"
    found = check_run_folder(run_dir)
    assert found["model_loads"] and found["sidecar_status"] == "cancelled", found

"""The runs and results panels say "interrupted" for a run whose sidecar still says "running" but
which no live process trains any more (a killed run), and "running" while one does."""

from __future__ import annotations

import pytest

from workbench.core.sidecar import write_sidecar
from workbench.core.training.runfolder import RunLock
from workbench.gui.panels.results_panel import ResultsPanel
from workbench.gui.panels.runs_panel import RunsPanel
from workbench.gui.state import AppState

pytestmark = pytest.mark.gui


@pytest.fixture
def killed_run(tmp_path):
    """A run folder as a kill after its first checkpoint leaves it (the model itself is never loaded here)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.keras").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip: enough for the panels
    write_sidecar(run / "model.keras", {
        "template": "simple_cnn", "title": "Simple CNN", "class_names": ["a", "b"], "input_shape": [28, 28, 1],
        "modality": "image", "output": "softmax", "status": "running", "hyperparameters": {"epochs": 5},
        "history": {"loss": [0.9]}, "final_metrics": {"best_epoch": 1, "epochs_run": 1}})
    return run


def test_runs_panel_shows_a_killed_run_as_interrupted_and_a_live_one_as_running(make_widget, killed_run):
    panel = make_widget(RunsPanel)
    panel.set_runs([str(killed_run)])
    assert panel.status_of(0) == "interrupted (epoch 1)"

    lock = RunLock(killed_run)  # a live training process holds its run folder
    assert lock.acquire()
    try:
        panel.set_runs([str(killed_run)])
        assert panel.status_of(0) == "running"
    finally:
        lock.release()


def test_results_panel_heading_says_interrupted(make_widget, killed_run):
    panel = make_widget(ResultsPanel, AppState(), size=(900, 700))
    assert panel.open_model(str(killed_run / "model.keras"))
    heading = panel.findChild(type(panel._heading), "resultsHeading").text()
    assert "status interrupted, 1 epoch(s)" in heading, heading


def test_runs_made_before_the_first_save_move_next_to_the_project(tmp_path, killed_run):
    """They sat in the app's data folder, recorded by absolute path; saving moves them and records them
    relative to the project file."""
    import json
    import shutil
    from pathlib import Path

    from workbench.gui.project_controller import ProjectController, unsaved_runs_root

    state = AppState()
    controller = ProjectController(state)
    unsaved = Path(unsaved_runs_root()) / "run-1"
    unsaved.parent.mkdir(parents=True)
    shutil.copytree(killed_run, unsaved)
    controller.project.add_run(str(unsaved))
    moved_signals = []
    controller.runs_moved.connect(moved_signals.append)
    path = controller.save(str(tmp_path / "project" / "digits.wbproj"))
    target = tmp_path / "project" / "runs" / "run-1"
    assert target.is_dir() and not unsaved.exists()
    assert json.loads(Path(path).read_text())["runs"] == ["runs/run-1"]
    assert moved_signals == [{str(unsaved): str(target)}]
    assert str(target.parent) in controller.last_save_note and "Moved 1 run" in controller.last_save_note
    assert controller.runs_root() == str(tmp_path / "project" / "runs")


def test_a_run_over_two_replicas_shows_the_global_batch_and_the_scaled_rate(make_widget, tmp_path):
    """The hyperparameters hold the per-replica batch and the user's rate; the run trained with the
    global batch and the rate scaled with the replicas (its sidecar's distribution record)."""
    from workbench.core.project import run_summary
    from workbench.gui.panels.runs_panel import COLUMNS

    run = tmp_path / "mirrored"
    run.mkdir()
    (run / "model.keras").write_bytes(b"PK\x05\x06" + bytes(18))
    write_sidecar(run / "model.keras", {
        "template": "mnist_cnn", "title": "MNIST CNN", "class_names": ["a", "b"], "input_shape": [28, 28, 1],
        "modality": "image", "output": "softmax", "status": "completed",
        "hyperparameters": {"epochs": 3, "batch_size": 128, "learning_rate": 0.006},
        "distribution": {"strategy": "mirrored", "replicas": 2, "devices": ["CPU:0", "CPU:1"],
                         "per_replica_batch_size": 128, "global_batch_size": 256, "learning_rates": [0.012]},
        "history": {"loss": [0.9]}, "final_metrics": {"best_epoch": 1, "epochs_run": 3}})
    summary = run_summary(run)
    assert (summary["batch_size"], summary["learning_rate"], summary["replicas"]) == (256, 0.012, 2)

    panel = make_widget(RunsPanel)
    panel.set_runs([str(run)])
    table = panel._table
    assert table.item(0, COLUMNS.index("LR")).text() == "0.012"
    assert table.item(0, COLUMNS.index("Batch")).text() == "256 (2 replicas)"
    assert "2 replicas" in table.item(0, COLUMNS.index("Batch")).toolTip()

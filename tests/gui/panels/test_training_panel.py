from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QProgressBar, QPushButton

from demos.fake_training_controller import FakeTrainingController
from tests.gui.stop_timing import StopTiming
from tests.audio_helpers import write_tone_dataset
from tests.helpers import write_image_dataset
from workbench.core.data.scan import scan_dataset
from workbench.gui.panels.training_panel import TrainingPanel
from workbench.gui.state import AppState
from workbench.gui.workers.training_controller import TrainingController

pytestmark = pytest.mark.gui

TRAIN_TIMEOUT_MS = 120_000


@pytest.fixture
def controller():
    controller = TrainingController()
    yield controller
    assert controller.stop_and_wait(30_000), "the training thread did not end"


@pytest.fixture
def make_panel(make_widget, tmp_path):
    def make(controller, dataset: Path | None = None, **hparams) -> TrainingPanel:
        state = AppState()
        state.set_template("simple_cnn")
        if dataset is not None:
            state.set_dataset(str(dataset), scan_dataset(dataset))
        state.set_hparams(hparams)
        panel = make_widget(TrainingPanel, state, controller)
        panel.runs_root = str(tmp_path / "runs")
        return panel

    return make


def _child(panel, kind, name):
    widget = panel.findChild(kind, name)
    assert widget is not None, name
    return widget


def test_training_through_the_start_button(make_panel, controller, qtbot, tmp_path):
    dataset = write_image_dataset(tmp_path / "data", {"a_hbar": 20, "b_vbar": 20})
    panel = make_panel(controller, dataset, epochs=2, batch_size=8)
    start, stop = _child(panel, QPushButton, "trainStartButton"), _child(panel, QPushButton, "trainStopButton")
    finished_runs = []
    panel._state.run_finished.connect(finished_runs.append)

    with qtbot.waitSignal(controller.finished, timeout=TRAIN_TIMEOUT_MS):
        qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
        assert not start.isEnabled() and stop.isEnabled()

    counts = panel.curves.point_counts()
    assert counts["batch"] >= 2 and counts["epoch"] == 2
    progress = _child(panel, QProgressBar, "trainProgressBar")
    assert progress.maximum() > 1 and progress.value() == progress.maximum()
    assert start.isEnabled() and not stop.isEnabled()
    assert [p["status"] for p in finished_runs] == ["completed"]
    model = Path(finished_runs[0]["model_path"])
    assert model.name == "model.keras" and model.is_file()
    assert model.parent.parent == tmp_path / "runs"
    log = _child(panel, QPlainTextEdit, "trainLog").toPlainText()
    assert "Epoch 2/2: loss" in log and "Completed" in log
    assert _child(panel, QLabel, "trainEpochLabel").text() == "Epoch 2/2"
    assert "best validation accuracy" in _child(panel, QLabel, "trainStatusLabel").text()
    assert not _child(panel, QLabel, "trainErrorLabel").text()


def test_a_real_two_phase_run_marks_phase_two_through_the_training_process(make_panel, controller, qtbot,
                                                                           tmp_path):
    # The child process sends phase_started like epoch_ended; the panel marks where fine-tuning begins.
    dataset = write_image_dataset(tmp_path / "data", {"a": 8, "b": 8}, size=64, rgb=True)
    panel = make_panel(controller, dataset)
    panel._state.set_template("transfer_squeezenet")
    panel._state.set_hparams({"image_size": 64, "epochs": 1, "fine_tune_epochs": 1, "fine_tune_blocks": 1,
                              "batch_size": 8})
    phases = []
    controller.phase_started.connect(phases.append)
    with qtbot.waitSignal(controller.finished, timeout=TRAIN_TIMEOUT_MS):
        assert panel.start()
    assert not panel.error_text()
    assert [(p["name"], p["index"], p["first_epoch"]) for p in phases] == [("head", 0, 1), ("fine_tune", 1, 2)]
    assert phases[1]["trainable_layers"] == 5 and phases[1]["weighted_layers"] == 27  # head norm + output + fire9
    assert panel.curves.point_counts()["epoch"] == 2
    assert panel.curves.phase_markers() == [(1.0, "fine-tune")]


def test_stop_ends_a_run_within_two_seconds(make_panel, controller, qtbot, tmp_path):
    dataset = write_image_dataset(tmp_path / "data", {"a_hbar": 150, "b_vbar": 150})
    panel = make_panel(controller, dataset, epochs=50, batch_size=4)  # minutes if left alone
    # The default 20% validation split: a stopped run neither validates its partial epoch nor
    # evaluates the best model, so the split's size must not show in the time to stop.
    finished_runs = []
    panel._state.run_finished.connect(finished_runs.append)
    with qtbot.waitSignal(controller.batch_ended, timeout=TRAIN_TIMEOUT_MS):
        qtbot.mouseClick(_child(panel, QPushButton, "trainStartButton"), Qt.MouseButton.LeftButton)

    timing = StopTiming(controller)
    elapsed = timing.click(qtbot, controller.finished, _child(panel, QPushButton, "trainStopButton"))
    print(f"Stop → finished: {elapsed:.2f} s; {timing.timeline()}")

    assert elapsed < 2.0, f"Stop took {elapsed:.2f} s; {timing.timeline()}"
    assert [p["status"] for p in finished_runs] == ["cancelled"]
    assert _child(panel, QPushButton, "trainStartButton").isEnabled()
    assert "Stopped" in _child(panel, QLabel, "trainStatusLabel").text()


def test_a_failing_run_shows_the_error_and_start_comes_back(make_panel, controller, qtbot, tmp_path):
    dataset = write_image_dataset(tmp_path / "data", {"only_class": 10})
    panel = make_panel(controller, dataset, epochs=1)
    with qtbot.waitSignal(controller.finished, timeout=TRAIN_TIMEOUT_MS):
        qtbot.mouseClick(_child(panel, QPushButton, "trainStartButton"), Qt.MouseButton.LeftButton)
    error = _child(panel, QLabel, "trainErrorLabel")
    assert error.isVisibleTo(panel) and "at least 2 classes" in error.text()
    assert "ERROR: Expected at least 2 classes" in _child(panel, QPlainTextEdit, "trainLog").toPlainText()
    assert _child(panel, QPushButton, "trainStartButton").isEnabled()
    assert not _child(panel, QPushButton, "trainStopButton").isEnabled()


def test_start_without_a_dataset_explains_in_the_panel(make_panel, controller):
    panel = make_panel(controller)
    assert panel.start() is False
    assert not controller.running
    assert "Expected a dataset" in panel.error_text()
    panel._state.set_hparams({"epochs": 0})  # out of range: caught before any thread starts
    panel._state.dataset_path = "/somewhere"
    assert panel.start() is False and "epochs" in panel.error_text()


def test_replayed_events_fill_labels_progress_and_eta(make_panel, qtbot):
    fake = FakeTrainingController(steps_per_epoch=5)
    panel = make_panel(fake, epochs=3)
    panel._state.dataset_path = "synthetic"
    seen, progress, at_epoch_end = [], [], []
    bar = _child(panel, QProgressBar, "trainProgressBar")
    fake.batch_ended.connect(lambda _payload: seen.append(_child(panel, QLabel, "trainEtaLabel").text()))
    fake.batch_ended.connect(lambda _payload: progress.append(bar.value()))
    fake.epoch_ended.connect(lambda _payload: at_epoch_end.append(bar.value()))
    with qtbot.waitSignal(fake.finished, timeout=10_000):
        assert panel.start()
    assert panel.curves.point_counts() == {"batch": 15, "epoch": 3}
    # Counters follow the reports at a paced rate, and each epoch's end shows its exact step.
    assert progress == sorted(progress) and at_epoch_end == [5, 10, 15]
    assert any(text.endswith("left") for text in seen)
    assert _child(panel, QLabel, "trainStepLabel").text() == "Step 5/5"
    assert "samples/s" in _child(panel, QLabel, "trainSpeedLabel").text()
    assert _child(panel, QLabel, "trainLearningRateLabel").text().startswith("Learning rate 0.00")
    assert _child(panel, QProgressBar, "trainProgressBar").value() == 15
    assert _child(panel, QPushButton, "trainStartButton").isEnabled()


def test_a_run_in_two_phases_marks_where_fine_tuning_begins(make_panel, qtbot):
    fake = FakeTrainingController(steps_per_epoch=5)
    panel = make_panel(fake)
    panel._state.set_template("transfer_squeezenet")
    panel._state.set_hparams({"epochs": 2, "fine_tune_epochs": 3})
    panel._state.dataset_path = "synthetic"
    phases = []
    fake.phase_started.connect(phases.append)
    with qtbot.waitSignal(fake.finished, timeout=10_000):
        assert panel.start()
    assert [(p["name"], p["first_epoch"]) for p in phases] == [("head", 1), ("fine_tune", 3)]
    assert panel.curves.point_counts()["epoch"] == 5  # one timeline over both phases
    assert panel.curves.phase_markers() == [(2.0, "fine-tune")]  # phase 2's batches start at x = 2
    assert _child(panel, QLabel, "trainLearningRateLabel").text() == "Learning rate 0.0001"
    assert "Phase 2/2 'fine_tune'" in _child(panel, QPlainTextEdit, "trainLog").toPlainText()
    panel._state.set_template("simple_cnn")  # a new run starts without the old run's marker
    panel._state.set_hparams({"epochs": 1})
    with qtbot.waitSignal(fake.finished, timeout=10_000):
        assert panel.start()
    assert panel.curves.phase_markers() == []


def test_start_is_disabled_with_the_reason_until_the_template_fits_the_data(make_panel, controller, qtbot, tmp_path):
    panel = make_panel(controller)
    start, reason = _child(panel, QPushButton, "trainStartButton"), _child(panel, QLabel, "trainStartBlockedLabel")
    assert not start.isEnabled() and "Choose a dataset" in reason.text()
    sounds = write_tone_dataset(tmp_path / "sounds", per_class=2)
    panel._state.set_dataset(str(sounds), scan_dataset(sounds))  # simple_cnn is chosen: an image template
    assert not start.isEnabled() and reason.isVisibleTo(panel)
    assert "expects image data" in reason.text() and "sound files" in reason.text()
    assert "expects image data" in start.toolTip()
    assert _child(panel, QLabel, "trainStatusLabel").text().startswith("Not ready")  # not "Ready."
    assert panel.start() is False and not controller.running  # refused before any thread starts
    panel._state.set_template("audio_cnn")
    assert start.isEnabled() and not reason.isVisibleTo(panel)


def test_after_the_last_batch_the_panel_says_evaluating_and_saving(make_panel, qtbot):
    fake = FakeTrainingController(steps_per_epoch=3)
    panel = make_panel(fake, epochs=2)
    panel._state.dataset_path = "synthetic"
    status, eta = _child(panel, QLabel, "trainStatusLabel"), _child(panel, QLabel, "trainEtaLabel")
    shown = []
    fake.stage_started.connect(lambda stage: shown.append((stage["stage"], status.text(), eta.text())))
    with qtbot.waitSignal(fake.finished, timeout=10_000):
        assert panel.start()
    assert ("evaluating", "Evaluating the best model on the 24 validation samples…", "evaluating") in shown
    assert shown[-1][0] == "saving" and shown[-1][1].startswith("Saving") and "left" not in shown[-1][2]
    assert any(text.startswith("Validating epoch 1/2") for _, text, _ in shown)
    assert "Evaluating the best model" in _child(panel, QPlainTextEdit, "trainLog").toPlainText()


def test_another_dataset_or_template_clears_the_previous_runs_figures(make_panel, qtbot):
    fake = FakeTrainingController(steps_per_epoch=3)
    panel = make_panel(fake, epochs=1)
    panel._state.dataset_path = "synthetic"
    with qtbot.waitSignal(fake.finished, timeout=10_000):
        assert panel.start()
    status = _child(panel, QLabel, "trainStatusLabel")
    assert status.text().startswith("Completed after 1 epoch(s)")
    panel._state.set_template("mnist_cnn")
    assert status.text() == "Ready." and panel.curves.point_counts() == {"batch": 0, "epoch": 0}
    assert _child(panel, QProgressBar, "trainProgressBar").value() == 0
    assert _child(panel, QLabel, "trainEpochLabel").text() == "Epoch —"

"""The composed main window, driven as a user would: load data, pick a template, train, inspect."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QScrollBar

from tests.gui.stop_timing import StopTiming
from tests.paths import MNIST_FOLDERS_SMALL, require_shared
from workbench.core.audio.augment import AudioAugmentationSpec
from workbench.core.image.augment import AugmentationSpec
from workbench.core.video.augment import VideoAugmentationSpec

pytestmark = pytest.mark.gui


@pytest.fixture
def make_window(make_widget, tmp_path):
    """Build shown main windows (closed at teardown; a thread left running fails the test)."""
    from workbench.gui.main_window import MainWindow

    def make():
        window = make_widget(MainWindow)
        window.training_panel.runs_root = str(tmp_path / "runs")
        window.ask_stop_training = lambda: True  # no modal dialog in tests
        window.show()
        return window

    return make


def _load_mnist_small(qtbot, window) -> None:
    with qtbot.waitSignal(window.data_panel.scan_finished, timeout=60_000):
        window.data_panel.load_path(str(require_shared(MNIST_FOLDERS_SMALL)))


def test_train_one_epoch_through_the_gui_shows_curves_and_confusion_matrix(qtbot, make_window):
    window = make_window()
    _load_mnist_small(qtbot, window)
    window.state.set_template("mnist_cnn")
    window.state.set_hparams({"epochs": 1, "batch_size": 32})
    with qtbot.waitSignal(window.results_panel.evaluation_shown, timeout=240_000):
        window.training_panel.findChild(QAbstractButton, "trainStartButton").click()
    counts = window.training_panel.curves.point_counts()
    assert counts["batch"] >= 1 and counts["epoch"] == 1, counts
    evaluation = window.results_panel.evaluation
    matrix = evaluation["confusion_matrix"]
    assert len(matrix) == 10 and sum(map(sum, matrix)) == 200  # the 20% validation split of 1,000
    assert evaluation["accuracy"] > 0.3  # far above 10% chance after one epoch
    assert window.runs_panel.run_count() == 1


def test_stop_mid_epoch_returns_within_two_seconds(qtbot, make_window):
    window = make_window()
    _load_mnist_small(qtbot, window)
    window.state.set_template("mnist_cnn")
    window.state.set_hparams({"epochs": 20, "batch_size": 4})  # 200 steps an epoch: Stop lands mid-epoch
    with qtbot.waitSignal(window.controller.batch_ended, timeout=120_000) as first_batch:
        window.training_panel.findChild(QAbstractButton, "trainStartButton").click()
    assert first_batch.args[0]["step"] < first_batch.args[0]["steps_per_epoch"]
    stop = window.training_panel.findChild(QAbstractButton, "trainStopButton")
    timing = StopTiming(window.controller)
    elapsed = timing.click(qtbot, window.controller.finished, stop, timeout_ms=10_000)
    assert elapsed < 2.0, f"Stop took {elapsed:.2f} s; {timing.timeline()}"
    assert window.training_panel.findChild(QAbstractButton, "trainStartButton").isEnabled()


def test_closing_during_training_stops_the_worker_and_keeps_a_model(qtbot, make_window, tmp_path):
    window = make_window()
    _load_mnist_small(qtbot, window)
    window.state.set_template("simple_cnn")
    window.state.set_hparams({"epochs": 20, "batch_size": 4})
    with qtbot.waitSignal(window.controller.run_started, timeout=120_000) as started:
        window.training_panel.findChild(QAbstractButton, "trainStartButton").click()
    qtbot.waitSignal(window.controller.batch_ended, timeout=60_000).wait()
    window.close()
    assert not window.controller.running
    assert (Path(started.args[0]["run_dir"]) / "model.keras").is_file()


def test_project_round_trip_restores_choices_and_runs(qtbot, make_window, tmp_path):
    window = make_window()
    window.state.set_template("simple_cnn")
    window.state.set_hparams({"epochs": 3, "learning_rate": 0.005})
    window.state.set_split(0.3, "")
    window.state.set_augmentation(AugmentationSpec(rotation=15))
    window.state.set_audio_augmentation(AudioAugmentationSpec(speed=0.1, freq_mask=6))
    window.state.set_video_augmentation(VideoAugmentationSpec(zoom=0.2, horizontal_flip=True))
    path = window.projects.save(str(tmp_path / "digits.wbproj"))
    window.close()
    other = make_window()
    other.open_project(path)
    assert other.state.augmentation == AugmentationSpec(rotation=15)
    assert other.state.audio_augmentation == AudioAugmentationSpec(speed=0.1, freq_mask=6)
    assert other.audio_augmentation_panel.slider("freq_mask").value() == 6
    assert other.state.video_augmentation == VideoAugmentationSpec(zoom=0.2, horizontal_flip=True)
    assert other.state.template_id == "simple_cnn"
    assert other.state.hparams.get("epochs") == 3 and other.state.hparams.get("learning_rate") == 0.005
    assert other.state.val_fraction == pytest.approx(0.3)
    assert "digits" in other.windowTitle()


def test_last_choices_persist_across_launches(qtbot, make_window):
    window = make_window()
    window.state.set_template("simple_cnn")
    window.state.set_hparams({"epochs": 7})
    window.tabs.setCurrentIndex(2)
    window.close()
    again = make_window()
    assert again.state.template_id == "simple_cnn"
    assert again.state.hparams.get("epochs") == 7
    assert again.tabs.currentWidget() is again.start_page  # every launch opens on the start page


def test_every_interactive_widget_has_an_object_name_and_accessible_name(qtbot, make_window):
    window = make_window()
    missing = []
    for kind in (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit):
        for widget in window.findChildren(kind):
            if isinstance(widget, QScrollBar) or widget.objectName().startswith("qt_"):
                continue  # Qt's own internals (scroll bars, tab-bar scrollers, spin-box line edits)
            if isinstance(widget, QLineEdit) and isinstance(widget.parent(), (QAbstractSpinBox, QComboBox)):
                continue  # the editor inside a spin box or combo box: the outer widget carries the names
            if isinstance(widget.parent(), QLineEdit):
                continue  # a line edit's built-in clear button
            if not widget.objectName() or not widget.accessibleName():
                missing.append(f"{type(widget).__name__} '{widget.objectName()}' in {type(widget.parent()).__name__}")
    assert not missing, "\n".join(missing)

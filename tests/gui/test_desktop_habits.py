"""Desktop habits of the main window: it fits a 1280×720 screen, the main actions have keys shown in the
menus and tooltips, every control has a name (and every option a tooltip), messages read in a dark
palette, the Runs dock folds away and remembers it, and nothing builds a model summary (importing
TensorFlow) for a Model tab nobody opened."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QHeaderView,
    QLineEdit, QScrollBar, QWidget,
)

from workbench.core.templates import list_templates
from workbench.gui.widgets._style import MESSAGE_COLORS, contrast_ratio, make_plot_widget, message_color

pytestmark = pytest.mark.gui

INTERACTIVE = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractItemView)


@pytest.fixture
def window(make_widget, tmp_path):
    from workbench.gui.main_window import MainWindow

    made = make_widget(MainWindow, restore_session=False)
    made.training_panel.runs_root = str(tmp_path / "runs")
    made.ask_stop_training = lambda: True
    return made


def _qt_internal(widget: QWidget) -> bool:
    """Qt's own parts, named by the widget holding them: scroll bars, tab scrollers, table headers, the
    editor inside a spin box, a combo box's editor and pop-up list, a line edit's clear button."""
    if isinstance(widget, (QScrollBar, QHeaderView)) or widget.objectName().startswith("qt_"):
        return True
    ancestor = widget.parent()
    while ancestor is not None:
        if isinstance(ancestor, (QComboBox, QAbstractSpinBox, QLineEdit)):
            return True
        ancestor = ancestor.parent()
    return False


def test_the_window_fits_a_1280_by_720_screen(window):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720, hint
    window.resize(1280, 720)
    window.show()
    assert window.height() <= 720  # nothing forces it taller


def test_every_interactive_widget_has_a_name_a_screen_reader_can_say(window):
    missing = []
    for kind in INTERACTIVE:
        for widget in window.findChildren(kind):
            if _qt_internal(widget):
                continue
            text = widget.text() if isinstance(widget, QAbstractButton) else ""
            if not (widget.accessibleName() or text.replace("&", "").strip()):
                missing.append(f"{type(widget).__name__} '{widget.objectName()}' in {type(widget.parent()).__name__}")
    assert not missing, "\n".join(sorted(set(missing)))


def test_every_hyperparameter_and_augmentation_control_has_a_tooltip_and_a_name(window):
    missing = []
    for spec in list_templates():  # every template's form, as the Model panel builds it
        window.state.set_template(spec.id)
        for hp in spec.hyperparameters:
            editor = window.model_panel.form.editor(hp.name)
            if not (editor.toolTip() and editor.accessibleName()):
                missing.append(f"{spec.id}: hyperparameter {hp.name}")
    for modality in ("image", "audio", "video"):  # every modality's augmentation page, shown or hidden options
        page = window.augmentation_stack.panel(modality)
        for kind in (QAbstractSlider, QAbstractSpinBox, QComboBox, QAbstractButton):
            for control in page.findChildren(kind):
                if _qt_internal(control):
                    continue
                if not control.accessibleName() or not (control.toolTip() or isinstance(control, QAbstractButton)
                                                        and control.text() and control.toolTip()):
                    missing.append(f"{modality}: {type(control).__name__} '{control.objectName()}'")
    assert not missing, "\n".join(missing)


def test_main_actions_have_keys_shown_in_menus_and_tooltips(window, qtbot):
    def action(name: str):
        return next(a for a in window.actions() if a.objectName() == name)

    keys = {"actionOpenDatasetFolder": QKeySequence.StandardKey.Open, "actionSaveProject": QKeySequence.StandardKey.Save}
    for name, key in keys.items():
        assert action(name).shortcut() == QKeySequence(key), name
    assert action("actionStartTraining").shortcut() == QKeySequence("Ctrl+Return")
    assert action("actionStopTraining").shortcut() == QKeySequence(Qt.Key.Key_Escape)
    # Without a dataset neither can run, so neither key does anything (Esc stays the canvas's).
    assert not action("actionStartTraining").isEnabled() and not action("actionStopTraining").isEnabled()
    for index in range(window.tabs.count()):
        go = action(f"actionShowTab{index}")
        assert go.shortcut() == QKeySequence(f"Ctrl+{index}")
        assert f"Ctrl+{index}" in window.tabs.tabToolTip(index)
        go.trigger()
        assert window.tabs.currentIndex() == index
    assert "Esc" in window.training_panel.findChild(QAbstractButton, "trainStopButton").toolTip()
    # Del and Ctrl+L clear the Draw canvas (Qt enables them only while the Draw tab is shown; not shown
    # here: showing it loads the digit model, seconds of TensorFlow this test does not need).
    draw = window.test_panel.draw
    clear = draw.findChild(type(action("actionStartTraining")), "drawClearAction")
    assert {k.toString() for k in clear.shortcuts()} == {"Del", "Ctrl+L"}
    draw.canvas.set_strokes([[(0.2, 0.2), (0.8, 0.8)]])
    clear.trigger()
    assert draw.canvas.is_empty()
    assert "Del" in draw.findChild(QAbstractButton, "drawClearButton").toolTip()


def test_the_runs_dock_collapses_to_its_title_and_remembers_it(window, qtbot):
    window.resize(1280, 900)
    window.show()
    qtbot.waitExposed(window)
    dock = window.runs_dock
    dock.set_collapsed(False)
    assert window.runs_panel.isVisible()
    title = dock.titleBarWidget().sizeHint().height()
    dock.set_collapsed(True)
    qtbot.waitUntil(lambda: dock.height() <= title + 4, timeout=2000)
    assert not window.runs_panel.isVisible()
    settings = QSettings()
    dock.save_collapsed(settings)
    dock.set_collapsed(False)
    assert window.runs_panel.isVisible()
    dock.restore_collapsed(settings)
    assert dock.is_collapsed()
    assert "none yet" in dock.findChild(QWidget, "runsDockSummary").text()


def test_the_model_summary_waits_for_the_model_tab(window, qtbot):
    window.show()
    debounce = window.model_panel.findChild(QTimer, "modelSummaryDebounceTimer")
    window.state.set_hparams({"epochs": 3})  # a change that would rebuild the summary
    qtbot.wait(400)  # longer than the summary's debounce
    assert not debounce.isActive() and window.model_panel.summary is None
    assert window.model_panel.findChild(QWidget, "modelSummaryStatus").text() == ""  # no build started
    window.tabs.setCurrentWidget(window.model_panel)
    assert debounce.isActive()  # shown: the summary is built now
    debounce.stop()  # (not here: building imports TensorFlow, seconds the test does not need)


@pytest.mark.parametrize("dark", [False, True])
def test_messages_and_plots_read_in_light_and_dark_palettes(qapp, dark):
    palette = QPalette(qapp.palette())
    window_color, text_color, base = ("#2d2d30", "#e6e6e6", "#1e1e1e") if dark else ("#efefef", "#202020", "#ffffff")
    for role, color in ((QPalette.ColorRole.Window, window_color), (QPalette.ColorRole.WindowText, text_color),
                        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.Text, text_color)):
        palette.setColor(role, QColor(color))
    saved = QPalette(qapp.palette())
    QApplication.setPalette(palette)
    try:
        for kind in MESSAGE_COLORS:
            assert contrast_ratio(message_color(kind), QColor(window_color)) >= 4.5, kind
        plot = make_plot_widget("probe", "probe")  # plots take the palette's colours, not pyqtgraph's black
        background = plot.backgroundBrush().color()
        assert background == QColor(base)
        axis_text = plot.getPlotItem().getAxis("left").textPen().color()
        assert contrast_ratio(axis_text, background) >= 4.5
        plot.deleteLater()
    finally:
        QApplication.setPalette(saved)

""""Adapt to my examples" in the Draw tab's collect mode and the Microphone tab: the adaptation runs on
its own thread, reports before/after, and the Test panel switches to the new model while the original
stays in its list. Examples are real: a writer's pen strokes turned 45°, george's recordings."""

from __future__ import annotations

import hashlib
import shutil
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QComboBox, QProgressBar, QPushButton

from tests.adapt_helpers import split_examples, write_drawings, writer_digits
from tests.fake_sounddevice import fake_sounddevice
from tests.paths import SHARED_DATA, require_shared
from workbench.core import adapt as core_adapt
from workbench.core.resources import resource_path
from workbench.gui.panels.live.draw_test_widget import DrawTestWidget
from workbench.gui.panels.live.microphone_test_widget import MicrophoneTestWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui

DIGITS = resource_path("models", "digits.keras")
SPOKEN = resource_path("models", "spoken_digits.keras")
ADAPT_TIMEOUT_MS = 90_000  # the first adaptation also imports TensorFlow


@pytest.fixture(scope="module")
def turned_examples(tmp_path_factory) -> Path:
    chosen, _ = split_examples(writer_digits(2), 3)
    return write_drawings(tmp_path_factory.mktemp("gui-adapt") / "my-drawings", chosen, 45.0)


@pytest.fixture
def fake_sd(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice())


@pytest.fixture
def adapt_threads(monkeypatch) -> list[str]:
    """The name of the thread every ``adapt_model`` call runs on."""
    names: list[str] = []
    real = core_adapt.adapt_model

    def recording(*args, **kwargs):
        names.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(core_adapt, "adapt_model", recording)
    return names


def adapted_dir() -> Path:
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / "adapted"


def test_the_draw_tab_adapts_off_the_gui_thread_and_tests_the_new_model(make_widget, qtbot, fake_sd,
                                                                         turned_examples, adapt_threads):
    from workbench.gui.panels.live_test_panel import LiveTestPanel
    from workbench.gui.state import AppState

    original = hashlib.sha256(DIGITS.read_bytes()).hexdigest()
    panel = make_widget(LiveTestPanel, AppState(), show=True, size=(1000, 800))
    draw = panel.draw
    assert panel.current_model() == str(DIGITS)
    draw.collect.setChecked(True)
    draw.collect.set_directory(turned_examples)
    button = draw.findChild(QPushButton, "drawAdaptButton")
    assert button.isVisible() and button.isEnabled()
    with qtbot.waitSignal(draw.model_adapted, timeout=ADAPT_TIMEOUT_MS) as adapted:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert draw.findChild(QProgressBar, "drawAdaptProgress").isVisible()
        assert draw.findChild(QPushButton, "drawAdaptCancelButton").isVisible()
        assert not button.isEnabled()
    new_model = Path(adapted.args[0])
    assert adapt_threads and threading.main_thread().name not in adapt_threads
    assert new_model.parent == adapted_dir() and new_model.is_file() and new_model.with_suffix(".json").is_file()
    result = draw.collect.adapt.last_result()
    text = draw.collect.adapt.message_text()
    assert f"Before: the model read {result['before_correct']} of your 30 examples" in text
    assert f"After adapting: {result['after_correct']} of 30" in text and new_model.name in text
    assert result["after_accuracy"] > result["before_accuracy"] + 0.2
    # The panel tests the new model; the original stays in the list, untouched.
    assert panel.current_model() == str(new_model)
    combo = panel.findChild(QComboBox, "testModelCombo")
    assert combo.findData(str(DIGITS)) >= 0 and "(adapted)" in combo.currentText()
    assert hashlib.sha256(DIGITS.read_bytes()).hexdigest() == original
    qtbot.waitUntil(draw.is_ready, timeout=ADAPT_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not draw.collect.adapt.is_busy(), timeout=5_000)
    assert button.isEnabled() and not draw.findChild(QProgressBar, "drawAdaptProgress").isVisible()
    # Adapting again while the adapted model is chosen starts from the original, not on top of it.
    with qtbot.waitSignal(draw.model_adapted, timeout=ADAPT_TIMEOUT_MS) as again:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert draw.collect.adapt.last_result()["source_model"] == str(DIGITS)
    assert panel.current_model() == again.args[0] != str(new_model)


def test_too_few_drawings_are_named_a_cancel_writes_nothing_and_adapting_again_works(make_widget, qtbot, tmp_path,
                                                                                      turned_examples):
    draw = make_widget(DrawTestWidget, PredictorCache(), show=True, size=(900, 700))
    draw.set_model(str(DIGITS))
    draw.collect.setChecked(True)
    few = tmp_path / "few"
    shutil.copytree(turned_examples, few)
    shutil.rmtree(few / "9")
    for extra in sorted((few / "4").iterdir())[1:]:
        extra.unlink()
    draw.collect.set_directory(few)
    button = draw.findChild(QPushButton, "drawAdaptButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Could not adapt" in draw.collect.adapt.message_text(), timeout=ADAPT_TIMEOUT_MS)
    message = draw.collect.adapt.message_text()
    assert "Expected at least 2 examples of every class" in message and "Received: none of 9; 1 of 4" in message

    draw.collect.set_directory(turned_examples)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(draw.findChild(QPushButton, "drawAdaptCancelButton"), Qt.MouseButton.LeftButton)
    assert "Cancelled" in draw.collect.adapt.message_text()
    qtbot.waitUntil(lambda: not draw.collect.adapt.is_busy(), timeout=ADAPT_TIMEOUT_MS)
    assert draw.collect.adapt.last_result() is None
    assert not adapted_dir().exists() or not list(adapted_dir().iterdir())
    # Again on the same thread, after a job that had loaded the model (TensorFlow's thread state lasts).
    with qtbot.waitSignal(draw.model_adapted, timeout=ADAPT_TIMEOUT_MS):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert draw.collect.adapt.last_result()["num_examples"] == 30


def test_the_microphone_tab_adapts_to_a_new_voice(make_widget, qtbot, fake_sd, tmp_path, adapt_threads):
    fsdd = require_shared(SHARED_DATA / "fsdd")
    for f in sorted(fsdd.glob("*/*_george_*.wav")):
        if int(f.stem.rsplit("_", 1)[1]) < 3:
            (tmp_path / "voice" / f.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(f, tmp_path / "voice" / f.parent.name / f.name)
    tab = make_widget(MicrophoneTestWidget, PredictorCache(), show=True, size=(1000, 650))
    tab.set_model(str(SPOKEN))
    tab.clip.set_directory(tmp_path / "voice")
    button = tab.findChild(QPushButton, "micAdaptButton")
    assert button.isEnabled()
    with qtbot.waitSignal(tab.model_adapted, timeout=ADAPT_TIMEOUT_MS) as adapted:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert Path(adapted.args[0]).is_file() and threading.main_thread().name not in adapt_threads
    assert "Before: the model read" in tab.clip.adapt.message_text()
    assert tab.clip.adapt.last_result()["num_examples"] == 30
    tab.set_model(str(resource_path("models", "digits.keras")))
    assert not button.isEnabled()  # a drawing model cannot be adapted to recordings

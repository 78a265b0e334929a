"""DrawTestWidget: live digit prediction through real mouse events, collect mode, model checks.

Written against the shipped digits model (resources/models/digits.keras): without it these tests
fail, they do not skip. ``WORKBENCH_DIGITS_MODEL=path/to/model.keras`` points them at another
digits model while one is being trained.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from tests.gui.strokes import load_replay_digits, replay_strokes, send_left_drag_move, to_widget
from workbench.core.resources import resource_path
from workbench.gui.panels.live.draw_test_widget import DrawTestWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui

MODEL = Path(os.environ.get("WORKBENCH_DIGITS_MODEL") or resource_path("models", "digits.keras"))
LOAD_TIMEOUT_MS = 60_000  # the first load imports TensorFlow
PREDICT_TIMEOUT_MS = 10_000
DIGITS = load_replay_digits()
# A zigzag is no digit: models spread their guesses (digits model: top class ~67%).
SCRIBBLE = [[(0.2, 0.4), (0.3, 0.6), (0.4, 0.4), (0.5, 0.6), (0.6, 0.4), (0.7, 0.6), (0.8, 0.4)]]


@pytest.fixture(scope="module")
def cache() -> PredictorCache:
    return PredictorCache()  # the model loads once for the whole module


@pytest.fixture
def make_draw(qtbot, make_widget, cache):
    """Build shown Draw tabs using ``model`` (none by default)."""

    def make(model: str | Path = "") -> DrawTestWidget:
        widget = make_widget(DrawTestWidget, cache, size=(900, 620))
        widget.set_model(str(model))
        widget.show()
        qtbot.waitExposed(widget)
        return widget

    return make


@pytest.fixture
def drawing(qtbot, make_draw):
    """A DrawTestWidget with the digits model loaded and warmed up."""
    assert MODEL.is_file(), f"Expected the shipped digits model. Received: {MODEL} does not exist"
    widget = make_draw(MODEL)
    qtbot.waitUntil(widget.is_ready, timeout=LOAD_TIMEOUT_MS)
    return widget


def draw_and_wait(qtbot, widget: DrawTestWidget, strokes) -> dict:
    """Replay ``strokes`` through mouse events on a clean canvas; return the answer shown for them."""
    widget.canvas.clear()
    replay_strokes(qtbot, widget.canvas, strokes)
    qtbot.waitUntil(lambda: widget.is_settled() and widget.last_result() is not None, timeout=PREDICT_TIMEOUT_MS)
    return widget.last_result()


def test_every_replayed_digit_is_read_as_its_label(drawing, qtbot):
    misread = []
    for entry in DIGITS:
        result = draw_and_wait(qtbot, drawing, entry["strokes"])
        predicted = drawing.class_names()[int(np.argmax(result["probabilities"]))]
        if predicted != str(entry["label"]):
            misread.append(f"{entry['label']} ({entry['note']}) read as {predicted}")
    assert not misread, f"{len(misread)} of {len(DIGITS)} misread: {misread}"


def test_prediction_appears_before_the_mouse_is_released(drawing, qtbot):
    finished = []
    drawing.canvas.stroke_finished.connect(lambda: finished.append(True))
    stroke = next(e for e in DIGITS if e["label"] == 1)["strokes"][0]
    points = [to_widget(drawing.canvas, p) for p in stroke]
    qtbot.mousePress(drawing.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0].toPoint())
    for position in points[1:]:
        send_left_drag_move(drawing.canvas, position)
    qtbot.waitUntil(lambda: drawing.prediction_text() != "", timeout=PREDICT_TIMEOUT_MS)
    assert not finished, "the stroke should still be open (button held)"
    assert "ms" in drawing.latency_text()
    qtbot.mouseRelease(drawing.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       points[-1].toPoint())
    assert finished


def test_prediction_updates_while_a_long_stroke_keeps_moving(drawing, qtbot):
    # Moves every 10 ms keep restarting the 40 ms pause timer; the answer must still come mid-stroke.
    canvas = drawing.canvas
    start = to_widget(canvas, (0.3, 0.2))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start.toPoint())
    moves = 0
    while drawing.prediction_text() == "" and moves < 400:
        t = moves / 400
        send_left_drag_move(canvas, to_widget(canvas, (0.3 + 0.4 * np.sin(6 * t), 0.2 + 0.6 * t)))
        moves += 1
        qtbot.wait(10)
    assert drawing.prediction_text() != "", "no prediction while the stroke kept moving"
    assert moves < 400
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start.toPoint())


def test_blank_canvas_shows_no_prediction(drawing, qtbot):
    assert drawing.prediction_text() == ""
    assert "Draw a digit" in drawing.message_text()
    draw_and_wait(qtbot, drawing, DIGITS[0]["strokes"])
    assert drawing.prediction_text() != ""
    qtbot.mouseClick(drawing.findChild(QPushButton, "drawClearButton"), Qt.MouseButton.LeftButton)
    assert drawing.canvas.is_empty()
    assert drawing.prediction_text() == "" and drawing.last_result() is None
    qtbot.waitUntil(drawing.is_settled, timeout=PREDICT_TIMEOUT_MS)
    assert drawing.prediction_text() == "", "a late answer for the cleared drawing was shown"


def test_blank_image_is_reported_blank_without_a_model_call(cache):
    from workbench.core.inference.live import LiveModel

    live = LiveModel(cache.get(str(MODEL)))
    result = live.predict_image(np.zeros((280, 280), np.uint8))
    assert result.blank and result.probabilities.size == 0 and result.predict_ms == 0.0


def test_live_prediction_keeps_only_the_newest_waiting_image(qtbot, cache):
    from workbench.gui.workers.live_predict_controller import LivePredictController

    controller = LivePredictController(cache)
    try:
        with qtbot.waitSignal(controller.model_loaded, timeout=LOAD_TIMEOUT_MS):
            controller.load(str(MODEL))
        results = []
        controller.prediction_ready.connect(results.append)
        images = []
        for i in range(20):  # submitted faster than any model answers
            image = np.zeros((280, 280), np.uint8)
            image[40:240, 20 + 10 * i:40 + 10 * i] = 255
            images.append(image)
            controller.submit(image)
        qtbot.waitUntil(lambda: not controller.busy and not controller.has_pending, timeout=PREDICT_TIMEOUT_MS)
        assert len(results) == 2, "only the first image and the newest waiting one should be classified"
        expected = cache.get(str(MODEL)).prepare_image(images[-1])
        np.testing.assert_array_equal(results[-1]["model_input"], expected)
    finally:
        controller.shutdown()


def test_low_confidence_reads_not_sure(drawing, qtbot):
    drawing.threshold_spin.setValue(0.999)
    assert drawing.bars.threshold() == pytest.approx(0.999)
    result = draw_and_wait(qtbot, drawing, SCRIBBLE)
    assert float(np.max(result["probabilities"])) < 0.999
    assert drawing.prediction_text().startswith("not sure")


def test_model_input_preview_is_the_prepared_28x28(drawing, qtbot):
    result = draw_and_wait(qtbot, drawing, DIGITS[5]["strokes"])
    x = result["model_input"]
    assert x.shape == (28, 28, 1) and x.max() == 255.0
    from workbench.core.inference import Predictor
    from workbench.core.sidecar import read_sidecar

    expected = Predictor(None, read_sidecar(MODEL), MODEL).prepare_image(drawing.canvas.render_image())
    np.testing.assert_array_equal(x, expected)


def test_cli_predict_on_a_png_of_the_drawing_agrees_with_the_canvas(drawing, qtbot, tmp_path, capsys):
    from workbench.cli import run_cli

    three = next(e for e in DIGITS if e["label"] == 3)
    result = draw_and_wait(qtbot, drawing, three["strokes"])
    png = tmp_path / "drawing.png"
    Image.fromarray(drawing.canvas.render_image()).save(png)
    capsys.readouterr()
    assert run_cli(["predict", "--model", str(MODEL), str(png), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    canvas_label = drawing.class_names()[int(np.argmax(result["probabilities"]))]
    assert answer["label"] == canvas_label
    np.testing.assert_allclose(answer["probabilities"], result["probabilities"], atol=1e-5)


def test_collect_mode_saves_into_the_clicked_class_folder(qtbot, make_draw, tmp_path):
    widget = make_draw()
    widget.collect.setChecked(True)
    widget.collect.set_directory(tmp_path)
    replay_strokes(qtbot, widget.canvas, DIGITS[0]["strokes"])
    qtbot.mouseClick(widget.findChild(QPushButton, "drawCollectClass_3"), Qt.MouseButton.LeftButton)
    saved = list((tmp_path / "3").glob("draw_*.png"))
    assert len(saved) == 1
    image = np.asarray(Image.open(saved[0]))
    assert image.shape == (280, 280) and image.max() == 255 and image[0, 0] == 0  # white on black
    assert widget.canvas.is_empty()
    assert "Saved 3" in widget.collect.status_text() and "now 1 in class 3" in widget.collect.status_text()

    replay_strokes(qtbot, widget.canvas, DIGITS[1]["strokes"])
    path = widget.save_drawing("3")
    assert path.parent == tmp_path / "3" and path.is_file()
    assert "now 2 in class 3" in widget.collect.status_text()


def test_digit_key_on_the_canvas_saves_into_that_class(qtbot, make_draw, tmp_path):
    widget = make_draw()
    widget.collect.setChecked(True)
    widget.collect.set_directory(tmp_path)
    seven = next(e for e in DIGITS if e["label"] == 7)
    replay_strokes(qtbot, widget.canvas, seven["strokes"])
    widget.canvas.setFocus()
    qtbot.keyClick(widget.canvas, Qt.Key.Key_7)
    assert len(list((tmp_path / "7").glob("draw_*.png"))) == 1
    assert widget.canvas.is_empty()
    # Collect mode closed: digit keys save nothing.
    widget.collect.setChecked(False)
    replay_strokes(qtbot, widget.canvas, seven["strokes"])
    qtbot.keyClick(widget.canvas, Qt.Key.Key_7)
    assert len(list((tmp_path / "7").glob("draw_*.png"))) == 1
    assert not widget.canvas.is_empty()


def test_collect_folder_is_remembered(make_draw, tmp_path):
    first = make_draw()
    first.collect.set_directory(tmp_path)
    first.shutdown()
    second = make_draw()
    assert second.collect.directory() == str(tmp_path)


def test_a_model_that_is_not_28x28_shows_a_message(qtbot, make_draw, tmp_path):
    model = tmp_path / "cats.keras"
    model.write_bytes(b"not loaded: the sidecar decides")
    model.with_suffix(".json").write_text(json.dumps({
        "format": "workbench-model/1", "modality": "image", "input_shape": [150, 150, 3],
        "class_names": ["cat", "dog"], "preprocessing": {}}))
    widget = make_draw(model)
    assert "This model expects 150×150×3 images; the canvas draws 28×28 digits" in widget.message_text()
    assert not widget.is_ready()
    replay_strokes(qtbot, widget.canvas, DIGITS[0]["strokes"])
    qtbot.waitUntil(widget.is_settled, timeout=PREDICT_TIMEOUT_MS)
    assert widget.prediction_text() == "" and widget.last_result() is None


def test_importing_the_draw_tab_does_not_load_tensorflow():
    code = ("import sys, workbench.gui.panels.live_test_panel, workbench.gui.panels.live.draw_test_widget; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture
def test_panel(make_widget):
    from workbench.gui.panels.live_test_panel import LiveTestPanel
    from workbench.gui.state import AppState

    return make_widget(LiveTestPanel, AppState())


def test_test_panel_opens_on_the_draw_tab(test_panel):
    assert [test_panel.tabs.tabText(i) for i in range(test_panel.tabs.count())] == ["Draw", "Files", "Camera", "Microphone"]
    assert test_panel.tabs.currentWidget() is test_panel.draw


def test_test_panel_selects_the_shipped_digits_model(test_panel):
    shipped = resource_path("models", "digits.keras")
    assert shipped.is_file(), f"Expected the shipped digits model. Received: {shipped} does not exist"
    assert test_panel.current_model() == str(shipped)

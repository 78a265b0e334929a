"""DrawTestWidget: draw a digit and watch the model's answer change while you draw.

Pacing: the canvas says ``drawing_changed`` on every mouse move. A 40 ms single-shot timer, restarted
by every change, renders once the pen pauses; a 120 ms timer, started by the first change and not
restarted, forces a render during a long stroke, so the answer updates before the button is
released. Rendering the strokes is cheap and stays on the GUI thread (it reads the canvas); the
MNIST-style preparation and the model call run in a :class:`LivePredictController` worker that keeps
only the newest image while it is busy, so the answer never lags behind a backlog.

The preparation is :meth:`Predictor.prepare_image`, the same path as training and
``workbench predict``, so a PNG of the drawing gets the same answer from the command line. The
28×28 the model actually received comes back with each answer and is shown, enlarged, next to the
canvas. Only image models with input 28×28×1 can take a drawing; others get a message instead.

In collect mode, "Adapt to my examples" adapts the model to the drawings collected so far (on its own
thread, :class:`~workbench.gui.panels.live.adapt_widget.AdaptWidget`); ``model_adapted`` then names
the new model, which the Test panel selects.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QImage, QKeyEvent, QKeySequence, QPixmap
from PySide6.QtWidgets import (QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from workbench.core.errors import DatasetError, WorkbenchError
from workbench.core.image.collect import count_images, save_class_image
from workbench.core.modality import DEFAULT_MODALITY
from workbench.gui.panels.live.draw_collect_widget import DIGIT_CLASSES, DrawCollectWidget
from workbench.gui.widgets._style import message_style
from workbench.gui.widgets.draw_canvas_widget import DrawCanvasWidget
from workbench.gui.widgets.probability_bars_widget import DEFAULT_THRESHOLD, ProbabilityBarsWidget
from workbench.gui.workers.live_predict_controller import LivePredictController
from workbench.gui.workers.predictor_cache import PredictorCache

CANVAS_MODALITY = "image"  # what the canvas makes: the one modality this tab can feed
CANVAS_INPUT_SHAPE = (28, 28, 1)
DEBOUNCE_MS = 40  # render this long after the pen stops moving
MAX_WAIT_MS = 120  # but at least this often while it keeps moving
COLLECT_SIZE = 280  # collected drawings are saved at this size, not as the 28×28
PREVIEW_SCALE = 6
HINT_DRAW = "Draw a digit in the black square: the prediction updates while you draw."
LATENCY_HISTORY = 1000


def incompatibility(sidecar: dict) -> str | None:
    """Why a model cannot classify drawings, or None when it can (image model, input 28×28×1)."""
    modality = sidecar.get("modality") or DEFAULT_MODALITY
    shape = tuple(int(v) for v in sidecar.get("input_shape", ()))
    takes_images = modality == CANVAS_MODALITY
    if takes_images and shape == CANVAS_INPUT_SHAPE:
        return None
    what = "×".join(str(v) for v in shape) or "other"
    kind = "images" if takes_images else f"{modality} input"
    return (f"This model expects {what} {kind}; the canvas draws 28×28 digits. "
            "Choose a digits model above (e.g. the shipped digits model) to draw.")


class DrawTestWidget(QWidget):
    """The Draw tab of the Test panel: canvas, what the model sees, live class probabilities.

    Signals:
        model_adapted(str): "Adapt to my examples" wrote this new model (the panel selects it).
    """

    model_adapted = Signal(str)

    def __init__(self, cache: PredictorCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawTestWidget")
        self._model_path = ""
        self._compatible = False
        self._requested_path = ""  # the model asked of the worker (loaded or loading)
        self._class_names: list[str] = []
        self._last_result: dict | None = None
        self._latencies: deque[float] = deque(maxlen=LATENCY_HISTORY)

        self._controller = LivePredictController(cache, "drawPredictThread", self)
        self._controller.model_loaded.connect(self._on_model_loaded)
        self._controller.model_failed.connect(self._on_model_failed)
        self._controller.prediction_ready.connect(self._on_prediction_ready)
        self._controller.prediction_failed.connect(self._on_prediction_failed)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._max_wait = QTimer(self, singleShot=True, interval=MAX_WAIT_MS)
        self._debounce.timeout.connect(self._on_render_due)
        self._max_wait.timeout.connect(self._on_render_due)

        self.canvas = DrawCanvasWidget(self)
        self.canvas.setMinimumSize(280, 280)
        self.canvas.drawing_changed.connect(self._on_drawing_changed)
        self.canvas.installEventFilter(self)
        self._message = QLabel(HINT_DRAW, self)
        self._message.setObjectName("drawMessage")
        self._message.setAccessibleName("Draw tab message")
        self._message.setWordWrap(True)
        clear = QPushButton("Clear", self)
        clear.setObjectName("drawClearButton")
        clear.setAccessibleName("Clear the drawing")
        clear.setToolTip("Clear the canvas (Del, Ctrl+L, or Esc and right-click on the canvas)")
        clear.clicked.connect(self._on_clear_clicked)
        clear_action = QAction("Clear the drawing", self)
        clear_action.setObjectName("drawClearAction")
        clear_action.setShortcuts([QKeySequence(Qt.Key.Key_Delete), QKeySequence("Ctrl+L")])
        # Qt enables a widget's shortcut only while the widget is visible: these work on the Draw tab only,
        # and a text field there keeps its own Del.
        clear_action.triggered.connect(self._on_clear_clicked)
        self.addAction(clear_action)
        undo = QPushButton("Undo", self)
        undo.setObjectName("drawUndoButton")
        undo.setAccessibleName("Undo the last stroke")
        undo.setToolTip("Remove the last stroke (Ctrl+Z)")
        undo.clicked.connect(self._on_undo_clicked)

        self._preview = QLabel(self)
        self._preview.setObjectName("drawModelInput")
        self._preview.setAccessibleName("What the model sees, 28 by 28 pixels, enlarged")
        self._preview.setFixedSize(28 * PREVIEW_SCALE + 2, 28 * PREVIEW_SCALE + 2)
        self._preview.setFrameShape(QFrame.Shape.Box)
        self._preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        caption = QLabel("What the model sees (28×28)", self)
        caption.setObjectName("drawModelInputCaption")
        self.bars = ProbabilityBarsWidget(self, threshold=DEFAULT_THRESHOLD)
        self.threshold_spin = QDoubleSpinBox(self)
        self.threshold_spin.setObjectName("drawThresholdSpin")
        self.threshold_spin.setAccessibleName("Confidence threshold")
        self.threshold_spin.setToolTip("Below this top probability the prediction reads \"not sure\".")
        self.threshold_spin.setRange(0.0, 1.0)
        self.threshold_spin.setDecimals(3)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setValue(DEFAULT_THRESHOLD)
        self.threshold_spin.valueChanged.connect(self._on_threshold_changed)
        self._latency = QLabel("", self)
        self._latency.setObjectName("drawLatencyLabel")
        self._latency.setWordWrap(True)
        self._latency.setAccessibleName("Prediction latency")
        self._latency.setToolTip("Time to prepare the drawing (MNIST-style) and run the model, on a "
                                 "background thread; the median is over the last predictions.")
        self.collect = DrawCollectWidget(self)
        self.collect.save_requested.connect(self._on_save_requested)
        self.collect.adapt.adapt_requested.connect(self._on_adapt_requested)
        self.collect.adapt.adapted.connect(self._on_adapted)
        self.collect.adapt.set_available(False, "Choose a digits model above to adapt it.")
        self._clear_display()
        self._show_preview(None)

        buttons = QHBoxLayout()
        buttons.addWidget(clear)
        buttons.addWidget(undo)
        buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self._message)
        left.addWidget(self.canvas, 1)
        left.addLayout(buttons)
        middle = QVBoxLayout()
        middle.addWidget(caption, 0, Qt.AlignmentFlag.AlignHCenter)
        middle.addWidget(self._preview, 0, Qt.AlignmentFlag.AlignHCenter)
        middle.addSpacing(12)
        threshold_label = QLabel("Confidence &threshold", self)
        threshold_label.setBuddy(self.threshold_spin)
        middle.addWidget(threshold_label)
        middle.addWidget(self.threshold_spin)
        middle.addWidget(self._latency)
        middle.addStretch(1)
        middle_holder = QWidget(self)
        middle_holder.setLayout(middle)
        middle_holder.setFixedWidth(max(28 * PREVIEW_SCALE + 2, caption.sizeHint().width()) + 24)
        self.bars.setMinimumSize(260, 240)
        row = QHBoxLayout()
        row.addLayout(left, 1)
        row.addWidget(middle_holder)
        row.addWidget(self.bars)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addWidget(self.collect)

    # ------------------------------------------------------------------------------------ public
    def set_model(self, path: str) -> None:
        """Use the model at ``path`` ("" for none); loads when the tab is shown."""
        from workbench.core.sidecar import read_sidecar

        self._model_path, self._compatible, self._requested_path = str(path or ""), False, ""
        self._controller.unload()
        self._clear_display()
        self.collect.adapt.set_available(False, "Choose a digits model above to adapt it.")
        if not self._model_path:
            self._set_message("Choose a model above (the shipped digits model is made for drawing).")
            return
        try:
            sidecar = read_sidecar(self._model_path)
        except WorkbenchError as exc:
            self._set_message(str(exc), warning=True)
            return
        problem = incompatibility(sidecar)
        if problem:
            self._set_message(problem, warning=True)
            self._show_preview(None)
            return
        self._compatible = True
        self.collect.adapt.set_available(True)
        self.collect.set_class_names(sidecar.get("class_names") or DIGIT_CLASSES)
        if self.isVisible():
            self._start_loading()
        else:
            self._set_message(HINT_DRAW)

    def preferred_model(self, current: str) -> str:
        """Keep ``current``: a model that cannot take drawings is explained on the tab."""
        return ""

    def shutdown(self) -> None:
        """Stop the timers and the prediction thread (the owner calls this before closing)."""
        self._debounce.stop()
        self._max_wait.stop()
        self._controller.shutdown()
        self.collect.adapt.shutdown()

    def is_ready(self) -> bool:
        """A compatible model is loaded and warmed up."""
        return self._compatible and self._controller.ready

    def is_settled(self) -> bool:
        """Nothing left to do: no render due, nothing in or waiting for the worker."""
        return not (self._debounce.isActive() or self._max_wait.isActive() or self._controller.busy
                    or self._controller.has_pending)

    def prediction_text(self) -> str:
        """The headline shown ("3 · 97%", "not sure (…)"), or "" when no prediction is shown."""
        if self._last_result is None or self._last_result["blank"]:
            return ""
        return self.bars.top_label_text()

    def last_result(self) -> dict | None:
        """The answer shown: probabilities, model_input, blank, prepare_ms, predict_ms, total_ms."""
        return self._last_result

    def class_names(self) -> list[str]:
        return list(self._class_names)

    def message_text(self) -> str:
        return self._message.text()

    def latency_text(self) -> str:
        return self._latency.text()

    def latencies_ms(self) -> list[float]:
        """Prepare + predict time of each prediction since the model loaded (warm-up excluded)."""
        return list(self._latencies)

    def save_drawing(self, class_name: str) -> Path:
        """Save the drawing (280×280, white on black) into ``<dataset>/<class_name>/``; clear the canvas."""
        if self.canvas.is_empty():
            raise DatasetError("Expected a drawing to save. Received: an empty canvas")
        directory = self.collect.directory()
        if not directory:
            raise DatasetError("Expected a dataset folder for collected drawings. Received: none chosen")
        path = save_class_image(self.canvas.render_image(COLLECT_SIZE), directory, class_name)
        count = count_images(path.parent)
        self.collect.show_message(
            f"Saved {class_name} → …/{class_name}/{path.name} (now {count} in class {class_name})")
        self.canvas.clear()
        return path

    # ----------------------------------------------------------------------------------- private
    def _start_loading(self) -> None:
        self._requested_path = self._model_path
        self._controller.load(self._model_path)
        self._set_message("Loading the model (the first time also loads TensorFlow)…")
        self._latency.setText("")
        if not self.canvas.is_empty():
            self._on_render_due()  # waits in the controller until the model is ready

    def _set_message(self, text: str, warning: bool = False) -> None:
        self._message.setText(text)
        self._message.setStyleSheet(message_style("warning", bold=True) if warning else "")

    def _clear_display(self) -> None:
        self._last_result = None
        self.bars.clear()

    def _show_preview(self, model_input: np.ndarray | None) -> None:
        side = 28 * PREVIEW_SCALE
        if model_input is None:
            pixels = np.zeros((28, 28), np.uint8)
        else:
            pixels = np.ascontiguousarray(np.clip(np.rint(model_input[..., 0]), 0, 255).astype(np.uint8))
        image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0],
                       QImage.Format.Format_Grayscale8).copy()
        # Nearest-neighbour: every model pixel stays a crisp square, as the model sees it.
        self._preview.setPixmap(QPixmap.fromImage(image.scaled(
            side, side, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation)))

    def _collect(self, class_name: str) -> None:
        if self.canvas.is_empty():
            self.collect.show_message("Nothing to save: draw a digit first.")
            return
        if not self.collect.ensure_directory():
            self.collect.show_message("Choose a dataset folder first.")
            return
        try:
            self.save_drawing(class_name)
        except (WorkbenchError, OSError) as exc:
            self.collect.show_message(f"Could not save: {exc}")
        self.canvas.setFocus()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        # Loading waits until the tab is seen, so TensorFlow never loads for a tab nobody opened.
        if self._compatible and self._requested_path != self._model_path:
            self._start_loading()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self.canvas and event.type() == QEvent.Type.KeyPress and self.collect.isChecked():
            key_event: QKeyEvent = event
            text = key_event.text()
            allowed = Qt.KeyboardModifier.NoModifier | Qt.KeyboardModifier.KeypadModifier
            if len(text) == 1 and text.isdigit() and not (key_event.modifiers() & ~allowed):
                class_name = self.collect.class_for_key(int(text))
                if class_name is not None:
                    self._collect(class_name)
                    return True
        return super().eventFilter(watched, event)

    @Slot()
    def _on_drawing_changed(self) -> None:
        if self.canvas.is_empty():
            self._debounce.stop()
            self._max_wait.stop()
            self._controller.discard()
            self._clear_display()
            self._show_preview(None)
            return
        self._debounce.start()  # restarts: fires once the pen pauses
        if not self._max_wait.isActive():
            self._max_wait.start()  # not restarted: fires during a long stroke

    @Slot()
    def _on_render_due(self) -> None:
        self._debounce.stop()
        self._max_wait.stop()
        if self._compatible and not self.canvas.is_empty():
            self._controller.submit(self.canvas.render_image())

    @Slot(object)
    def _on_model_loaded(self, info: object) -> None:
        self._class_names = list(info["class_names"])
        self.collect.set_class_names(self._class_names)
        self._latencies.clear()
        self._set_message(HINT_DRAW)
        self._latency.setText(f"Model ready (warm-up {info['warmup_ms']:.0f} ms).")

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self._set_message(f"Could not load the model: {message}", warning=True)

    @Slot(object)
    def _on_prediction_ready(self, result: object) -> None:
        if self.canvas.is_empty():
            return  # cleared while this answer was on its way
        self._last_result = result
        self._show_preview(result["model_input"])
        if result["blank"]:
            self.bars.clear()
            return
        self.bars.set_probabilities(self._class_names, result["probabilities"])
        self._latencies.append(result["total_ms"])
        median = float(np.median(self._latencies))
        self._latency.setText(f"Prepare + predict: {result['total_ms']:.1f} ms\n"
                              f"median {median:.1f} ms over {len(self._latencies)}")

    @Slot(str)
    def _on_prediction_failed(self, message: str) -> None:
        self._set_message(f"Prediction failed: {message}", warning=True)

    @Slot(float)
    def _on_threshold_changed(self, value: float) -> None:
        self.bars.set_threshold(value)

    @Slot()
    def _on_clear_clicked(self) -> None:
        self.canvas.clear()
        self.canvas.setFocus()

    @Slot()
    def _on_undo_clicked(self) -> None:
        self.canvas.undo()
        self.canvas.setFocus()

    @Slot(str)
    def _on_save_requested(self, class_name: str) -> None:
        self._collect(class_name)

    @Slot()
    def _on_adapt_requested(self) -> None:
        if not self.collect.ensure_directory():
            self.collect.adapt.show_message("Choose the dataset folder with your drawings first.", "warning")
            return
        self.collect.adapt.start(self._model_path, self.collect.directory())

    @Slot(object)
    def _on_adapted(self, result: object) -> None:
        self.model_adapted.emit(str(result["model_path"]))


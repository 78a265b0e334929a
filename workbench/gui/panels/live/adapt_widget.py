"""AdaptWidget: the "Adapt to my examples" button of the Draw and Microphone tabs, with progress and cancel.

A click asks the owner (``adapt_requested``), which knows the model and the examples folder and calls
:meth:`AdaptWidget.start`. The adaptation (:func:`~workbench.core.adapt.adapt_model`) runs on a
:class:`TaskRunner` thread; the GUI thread only shows progress. The new model is written under
``<AppDataLocation>/adapted/`` (the original is never touched) and ``adapted`` hands the owner the
result, whose ``model_path`` the Test panel then selects; the original stays in its model list.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from workbench.gui.panels.live.adapt_jobs import adapt_job
from workbench.gui.panels.panel_widgets import message_label, named, set_message, set_progress_deferred
from workbench.gui.workers.task_runner import TaskRunner


def adapted_models_dir() -> Path:
    """``<AppDataLocation>/adapted``: where the GUI writes adapted models."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / "adapted"


def result_text(result: dict) -> str:
    """The before/after figure of an adaptation, for the user."""
    n = result["num_examples"]
    text = (f"Before: the model read {result['before_correct']} of your {n} examples "
            f"({result['before_accuracy']:.0%}). After adapting: {result['after_correct']} of {n} "
            f"({result['after_accuracy']:.0%}; each example checked by a model adapted without it). "
            f"Now testing {Path(result['model_path']).name}; the original stays in the model list.")
    if result.get("skipped"):
        text += f" {len(result['skipped'])} unreadable file(s) left out."
    return text


class AdaptWidget(QWidget):
    """"Adapt to my examples": a button, a progress bar with Cancel while it runs, and the outcome.

    Signals:
        adapt_requested(): the button was clicked (the owner calls :meth:`start`).
        adapted(object): the adaptation finished: :meth:`AdaptResult.to_dict` (``model_path`` is the new model).
    """

    adapt_requested = Signal()
    adapted = Signal(object)

    def __init__(self, prefix: str, noun: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{prefix}AdaptWidget")
        self._last_result: dict | None = None
        self._available = True
        # One Python thread state for the thread's life: each adaptation loads a model (TensorFlow's
        # per-thread state must outlast the slot call, see workbench.gui.workers.python_thread).
        self._runner = TaskRunner(f"{prefix}AdaptThread", self, python_thread=True)
        self._runner.result_ready.connect(self._on_result_ready)
        self._runner.failed.connect(self._on_failed)
        self._runner.progressed.connect(self._on_progressed)
        self._runner.busy_changed.connect(self._on_busy_changed)
        self._button = named(QPushButton("Adapt to my examples", self), f"{prefix}AdaptButton",
                             "Adapt the model to my examples",
                             f"Teach the model your {noun}: it learns from the {noun} saved in the dataset folder "
                             "(at least 2 of every class) in seconds and is saved as a new model; the original "
                             "stays.")
        self._tooltip = self._button.toolTip()
        self._button.clicked.connect(self._on_button_clicked)
        self._progress = named(QProgressBar(self), f"{prefix}AdaptProgress", "Adaptation progress")
        self._progress.setVisible(False)
        self._cancel = named(QPushButton("Cancel", self), f"{prefix}AdaptCancelButton", "Cancel the adaptation")
        self._cancel.setVisible(False)
        self._cancel.clicked.connect(self._on_cancel_clicked)
        self._message = message_label(f"{prefix}AdaptMessage", "Adaptation outcome")
        self._message.setParent(self)
        self._message.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self._button)
        row.addWidget(self._progress, 1)
        row.addWidget(self._cancel)
        row.addStretch(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self._message)

    # ------------------------------------------------------------------------------------ public
    def start(self, model_path: str, examples_dir: str) -> bool:
        """Adapt ``model_path`` to the examples in ``examples_dir`` in the background; False (with the
        reason shown) when either is missing. An adapted model is adapted again from its original
        (:func:`~workbench.core.adapt.adaptation_base`), so the examples are not counted twice."""
        if not model_path:
            self.show_message("Expected a model to adapt. Received: none chosen above.", "warning")
            return False
        if not examples_dir:
            self.show_message("Expected a dataset folder with your examples. Received: none chosen.", "warning")
            return False
        from workbench.core.adapt import adaptation_base, default_adapted_path

        model_path = str(adaptation_base(model_path))  # adapting an adapted model again starts from its original
        out = default_adapted_path(model_path, adapted_models_dir())
        self._last_result = None
        self._progress.setRange(0, 0)  # busy until the first progress report
        self.show_message(f"Adapting {Path(model_path).name} to the examples in {examples_dir}…")
        self._runner.submit(adapt_job(model_path, examples_dir, str(out)))
        return True

    def cancel(self) -> None:
        self._runner.cancel()

    def is_busy(self) -> bool:
        return self._runner.busy

    def last_result(self) -> dict | None:
        """The result of the last adaptation that finished (None: none, or it failed or was cancelled)."""
        return self._last_result

    def message_text(self) -> str:
        return self._message.text()

    def show_message(self, text: str, kind: str = "info") -> None:
        set_message(self._message, text, kind)

    def set_available(self, available: bool, reason: str = "") -> None:
        """Enable the button (a model that can be adapted is chosen) or disable it, saying why."""
        self._available = bool(available)
        self._button.setEnabled(self._available and not self._runner.busy)
        self._button.setToolTip(self._tooltip if available else (reason or self._tooltip))

    def shutdown(self) -> None:
        """Cancel a running adaptation (stopped before it writes, it writes nothing) and end the thread."""
        self._runner.shutdown()

    # ----------------------------------------------------------------------------------- private
    @Slot()
    def _on_button_clicked(self) -> None:
        self.adapt_requested.emit()

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self._runner.cancel()
        self.show_message("Cancelled.", "warning")

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self._button.setEnabled(self._available and not busy)
        self._progress.setVisible(busy)
        self._cancel.setVisible(busy)

    @Slot(int, int)
    def _on_progressed(self, done: int, total: int) -> None:
        if self._progress.maximum() != total:
            self._progress.setRange(0, total)
        set_progress_deferred(self._progress, done)

    @Slot(object)
    def _on_result_ready(self, result: object) -> None:
        self._last_result = dict(result)
        self.show_message(result_text(self._last_result))
        self.adapted.emit(self._last_result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.show_message(f"Could not adapt: {message}", "error")

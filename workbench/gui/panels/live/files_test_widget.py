"""FilesTestWidget: open or drop files and see the selected model's top-k predictions.

The model's modality decides everything that differs (see
:data:`~workbench.gui.modality_widgets.MODALITY_WIDGETS`): which files it takes, how a row starts
(an image's thumbnail, a sound's duration and rate), how a file is predicted, and the detail view
under the table — for sound, the selected row as the model heard it (spectrogram, probabilities,
Play), where a recording longer than the model's clip is also read word by word.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core.modality import DEFAULT_MODALITY, get_modality, modality_of_file
from workbench.gui.modality_widgets import widgets_for
from workbench.gui.panels.live.files_jobs import classify_files
from workbench.gui.workers.predictor_cache import PredictorCache
from workbench.gui.workers.task_runner import TaskRunner


def _top_text(top: list[dict]) -> str:
    return ", ".join(f"{t['class']} {t['probability']:.1%}" for t in top)


def words_text(words: list[dict]) -> str:
    """"0.71–1.22 s: 5 (93%) · 1.57–2.02 s: 1 (99%)" for the words of a recording."""
    return " · ".join(f"{w['start_s']:.2f}–{w['end_s']:.2f} s: {w['label']} ({w['top'][0]['probability']:.0%})"
                      for w in words)


class FilesTestWidget(QWidget):
    """Predictions for files; the model comes from :meth:`set_model`.

    Signals:
        predictions_shown(int): the table now shows the results of that many files.
    """

    predictions_shown = Signal(int)

    def __init__(self, cache: PredictorCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filesTestWidget")
        self.setAcceptDrops(True)
        self._cache = cache
        self._model_path = ""
        self._modality = DEFAULT_MODALITY
        self._runner = TaskRunner("filesPredictThread", self)
        self._runner.result_ready.connect(self._on_predictions_ready)
        self._runner.failed.connect(self._on_failed)
        self._open = QPushButton("Open files…")
        self._open.setObjectName("testOpenFilesButton")
        self._open.setAccessibleName("Open files to classify")
        self._open.clicked.connect(self._on_open_clicked)
        self._status = QLabel()
        self._status.setObjectName("testFilesStatus")
        self._status.setWordWrap(True)
        self._table = QTableWidget(0, 4, self)
        self._table.setObjectName("testFilesTable")
        self._table.setAccessibleName("Predictions for files")
        self._table.verticalHeader().setVisible(False)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._table.currentCellChanged.connect(self._on_current_cell_changed)
        #: What each table row shows in the detail: (detail data or None, word index or None).
        self._rows: list[tuple] = []
        self._class_names: list[str] = []
        #: The detail view under the table for the model's modality (None: it has none), and the
        #: ones made for earlier models, kept hidden.
        self.detail: QWidget | None = None
        self._details: dict[type, QWidget] = {}
        row = QHBoxLayout()
        row.addWidget(self._open)
        row.addWidget(self._status, 1)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(row)
        self._layout.addWidget(self._table, 1)
        self._show_modality()

    def set_model(self, model_path: str) -> None:
        self._model_path = model_path
        try:
            from workbench.core.sidecar import read_sidecar

            self._modality = (read_sidecar(model_path).get("modality") if model_path else None) or DEFAULT_MODALITY
        except Exception:
            self._modality = DEFAULT_MODALITY  # a broken sidecar is reported when predicting
        self._show_modality()

    def preferred_model(self, current: str) -> str:
        """Any model can classify files: keep ``current``."""
        return ""

    def shutdown(self) -> None:
        self._runner.shutdown()
        for detail in self._details.values():
            detail.shutdown()

    def classify(self, paths: list[str], top_k: int = 3) -> None:
        """Predict ``paths`` in the background; rows appear when done."""
        if not self._model_path:
            self._status.setText("Choose a model first (train one, or pick a shipped model above).")
            return
        supported = [p for p in paths if modality_of_file(p) == self._modality]
        skipped = len(paths) - len(supported)
        if not supported:
            extensions = get_modality(self._modality).extensions
            self._status.setText(f"Expected {widgets_for(self._modality).noun} files "
                                 f"({', '.join(sorted(extensions))}). "
                                 f"Received: {', '.join(Path(p).name for p in paths[:3])}")
            return
        self._status.setText(f"Classifying {len(supported)} file(s)…" + (f" ({skipped} skipped)" if skipped else ""))
        self._runner.submit(partial(classify_files, self._cache, self._model_path, supported,
                                    widgets_for(self._modality).predict_file, top_k))

    def row_count(self) -> int:
        return self._table.rowCount()

    def prediction_text(self, row: int) -> str:
        item = self._table.item(row, 2)
        return item.text() if item else ""

    def select_row(self, row: int) -> None:
        """Select a result row (for sound, the detail below shows that file)."""
        self._table.setCurrentCell(row, 1)

    @Slot()
    def _on_open_clicked(self) -> None:
        patterns = " ".join(f"*{e}" for e in sorted(get_modality(self._modality).extensions))
        kind = f"{widgets_for(self._modality).label}s"
        paths, _ = QFileDialog.getOpenFileNames(self, "Files to classify", "", f"{kind} ({patterns})")
        if paths:
            self.classify(paths)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.classify(paths)

    @Slot(object)
    def _on_predictions_ready(self, outcome: dict) -> None:
        results = outcome["results"]
        widgets = widgets_for(self._modality)
        self._class_names = outcome["class_names"]
        self._rows = []
        if self.detail is not None:
            self.detail.clear()
        self._table.setRowCount(0)
        for kind, data, heard in results:
            words = data.get("words", []) if kind == "ok" else []
            if len(words) > 1:  # a recording of several words: read them in order, each on its own row
                cells = (f"{' · '.join(w['label'] for w in words)}  ({len(words)} words)", words_text(words))
            elif kind == "ok":
                cells = (f"{data['top'][0]['class']}  ({data['top'][0]['probability']:.1%})", _top_text(data["top"]))
            else:
                cells = ("unreadable", data["message"])
            self._add_row(widgets.file_cell(data["source"]), Path(data["source"]).name, *cells)
            self._rows.append((heard, None))
            for index, word in enumerate(words if len(words) > 1 else []):
                where = f"   ↳ word {index + 1}, {word['start_s']:.2f}–{word['end_s']:.2f} s"
                self._add_row(QTableWidgetItem(), where, f"{word['label']}  ({word['top'][0]['probability']:.1%})",
                              _top_text(word["top"]))
                self._rows.append((heard, index))
        self._table.resizeColumnsToContents()
        self._status.setText(f"{len(results)} file(s) classified with {Path(self._model_path).name}."
                             + (widgets.select_hint if results else ""))
        if results:
            self._table.setCurrentCell(0, 1)
        self.predictions_shown.emit(len(results))

    def _add_row(self, first: QTableWidgetItem, *texts: str) -> None:
        row = self._table.rowCount()
        self._table.insertRow(row)
        self._table.setItem(row, 0, first)
        for column, text in enumerate(texts, start=1):
            self._table.setItem(row, column, QTableWidgetItem(text))

    @Slot(int, int, int, int)
    def _on_current_cell_changed(self, row: int, _column: int, _previous_row: int, _previous_column: int) -> None:
        if self.detail is None or not 0 <= row < len(self._rows):
            return
        heard, word = self._rows[row]
        if heard is None:
            self.detail.clear()
        else:
            self.detail.show_prediction(heard, word, self._class_names)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._status.setText(f"Could not classify: {message}")

    def _show_modality(self) -> None:
        """Header, row height, prompt and detail view for the model's modality."""
        widgets = widgets_for(self._modality)
        self._table.setHorizontalHeaderLabels((widgets.label, "File", "Prediction", "Top classes"))
        self._table.verticalHeader().setDefaultSectionSize(widgets.file_row_height)
        self._status.setText(f"Open or drop {widgets.noun} files here to classify them with the selected model."
                             + widgets.files_hint)
        if self.detail is not None:
            self.detail.hide()
        self.detail = None
        if widgets.file_detail is not None:
            if widgets.file_detail not in self._details:
                self._details[widgets.file_detail] = widgets.file_detail(self)
                self._layout.addWidget(self._details[widgets.file_detail], 1)
            self.detail = self._details[widgets.file_detail]
            self.detail.clear()
            self.detail.show()

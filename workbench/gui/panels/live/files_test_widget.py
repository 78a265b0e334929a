"""FilesTestWidget: open or drop files and see the selected model's top-k predictions.

The file's and the model's modality decide everything that differs (see
:data:`~workbench.gui.modality_widgets.MODALITY_WIDGETS`): which files a model takes (its own
modality's, and those of modalities whose entry names it in ``file_models``: an image model reads a
video frame by frame), how a row starts (an image's thumbnail, a sound's duration and rate, a
video's frame, duration and rate), how a file is predicted, and the detail view under the table —
for sound, the selected row as the model heard it (spectrogram, probabilities, Play), where a
recording longer than the model's clip is also read word by word; for video, the probabilities
along its timeline, window by window; for an image, the picture, its probabilities and, on demand,
its Grad-CAM heat map (computed off the GUI thread by the detail view).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core.modality import DEFAULT_MODALITY, get_modality, modality_of_file
from workbench.gui.modality_widgets import MODALITY_WIDGETS, widgets_for
from workbench.gui.panels.live.file_cells import TEXT_ROW
from workbench.gui.panels.live.files_jobs import classify_files
from workbench.gui.workers.predictor_cache import PredictorCache
from workbench.gui.workers.task_runner import TaskRunner


def _top_text(top: list[dict]) -> str:
    return ", ".join(f"{t['class']} {t['probability']:.1%}" for t in top)


def words_text(words: list[dict]) -> str:
    """"0.71–1.22 s: 5 (93%) · 1.57–2.02 s: 1 (99%)" for the words of a recording."""
    return " · ".join(f"{w['start_s']:.2f}–{w['end_s']:.2f} s: {w['label']} ({w['top'][0]['probability']:.0%})"
                      for w in words)


def _label_text(data: dict) -> str:
    return f"{data['top'][0]['class']}  ({data['top'][0]['probability']:.1%})"


def row_texts(kind: str, data: dict) -> tuple[tuple[str, str], list[tuple[str, str, str]]]:
    """A result's (prediction, top classes) texts and its parts' rows (where, prediction, top classes):
    a long recording's words, read in order, or a video's windows along its timeline."""
    if kind != "ok":
        return ("unreadable", data["message"]), []
    words, windows = data.get("words", []), data.get("windows", [])
    if len(words) > 1:  # a recording of several words: read them in order, each on its own row
        return ((f"{' · '.join(w['label'] for w in words)}  ({len(words)} words)", words_text(words)),
                [(f"   ↳ word {i + 1}, {w['start_s']:.2f}–{w['end_s']:.2f} s", _label_text(w), _top_text(w["top"]))
                 for i, w in enumerate(words)])
    if len(windows) > 1:  # a video read window by window: the overall answer, then each window's
        return ((_label_text(data), f"{_top_text(data['top'])}  · {len(windows)} windows"),
                [(f"   ↳ {w['start_s']:.1f}–{w['end_s']:.1f} s", _label_text(w), _top_text(w["top"]))
                 for w in windows])
    return (_label_text(data), _top_text(data["top"])), []


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
        self._clear = QPushButton("Clear list")
        self._clear.setObjectName("testClearFilesButton")
        self._clear.setAccessibleName("Clear the list of classified files")
        self._clear.setToolTip("Remove every file from the list (opening or dropping files adds to it)")
        self._clear.clicked.connect(self.clear_results)
        self._clear.setEnabled(False)
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
        #: What each table row shows in the detail: (the file's modality, detail data or None, the
        #: index of the row's word or window, or None for the whole file).
        self._rows: list[tuple] = []
        #: Every file classified since the list was last cleared (opening more files adds to it).
        self._results: list[tuple] = []
        self._class_names: list[str] = []
        #: The detail view shown under the table (None: none), and every one made so far, kept
        #: hidden while another modality's rows are selected.
        self.detail: QWidget | None = None
        self._details: dict[type, QWidget] = {}
        row = QHBoxLayout()
        row.addWidget(self._open)
        row.addWidget(self._clear)
        row.addWidget(self._status, 1)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(row)
        self._layout.addWidget(self._table, 1)
        self._show_modality()

    def set_model(self, model_path: str) -> None:
        if model_path != self._model_path:
            self._results = []  # another model's answers
            self._fill_table()
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
        readable = self._readable_modalities()
        supported = [p for p in paths if modality_of_file(p) in readable]
        skipped = len(paths) - len(supported)
        if not supported:
            expected = " or ".join(f"{widgets_for(m).noun} files ({', '.join(sorted(get_modality(m).extensions))})"
                                   for m in readable)
            self._status.setText(f"Expected {expected}. Received: {', '.join(Path(p).name for p in paths[:3])}")
            return
        self._status.setText(f"Classifying {len(supported)} file(s)…" + (f" ({skipped} skipped)" if skipped else ""))
        predicts = [widgets_for(modality_of_file(p)).predict_file for p in supported]
        self._runner.submit(partial(classify_files, self._cache, self._model_path, supported, predicts, top_k))

    def row_count(self) -> int:
        return self._table.rowCount()

    def prediction_text(self, row: int) -> str:
        item = self._table.item(row, 2)
        return item.text() if item else ""

    def select_row(self, row: int) -> None:
        """Select a result row (for sound and video, the detail below shows that file or that part of it)."""
        self._table.setCurrentCell(row, 1)

    def file_filters(self) -> list[str]:
        """The file dialog's filters: every kind of file the model reads together, then each kind."""
        kinds = [(f"{widgets_for(m).label}s", " ".join(f"*{e}" for e in sorted(get_modality(m).extensions)))
                 for m in self._readable_modalities()]
        each = [f"{kind} ({patterns})" for kind, patterns in kinds]
        if len(kinds) == 1:
            return each
        return [f"{' and '.join(kind for kind, _p in kinds)} ({' '.join(p for _k, p in kinds)})", *each]

    @Slot()
    def _on_open_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Files to classify", "", ";;".join(self.file_filters()))
        if paths:
            self.classify(paths)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.classify(paths)

    @Slot()
    def clear_results(self) -> None:
        """Empty the list of classified files."""
        self._results = []
        self._fill_table()
        self._show_modality()

    @Slot(object)
    def _on_predictions_ready(self, outcome: dict) -> None:
        results = outcome["results"]
        self._class_names = outcome["class_names"]
        again = {data["source"] for _kind, data, _detail in results}  # a file opened again moves to the end
        self._results = [r for r in self._results if r[1]["source"] not in again] + list(results)
        first_new = self._fill_table(len(self._results) - len(results))
        shown = list(dict.fromkeys(modality_of_file(data["source"]) or self._modality
                                   for _kind, data, _detail in self._results))
        hints = "".join(dict.fromkeys(widgets_for(m).select_hint for m in shown))
        listed = f" {len(self._results)} in the list." if len(self._results) > len(results) else ""
        self._status.setText(f"{len(results)} file(s) classified with {Path(self._model_path).name}.{listed}" + hints)
        if results:
            self._table.setCurrentCell(first_new, 1)
        self.predictions_shown.emit(len(results))

    def _fill_table(self, first_new: int = 0) -> int:
        """Rows for every listed result; returns the row of result number ``first_new``."""
        self._rows = []
        for detail in self._details.values():
            detail.clear()
        self._table.setRowCount(0)
        self._clear.setEnabled(bool(self._results))
        first_row = 0
        for number, (kind, data, detail) in enumerate(self._results):
            if number == first_new:
                first_row = self._table.rowCount()
            modality = modality_of_file(data["source"]) or self._modality
            widgets = widgets_for(modality)
            cells, parts = row_texts(kind, data)
            self._add_row(widgets.file_cell(data["source"]), Path(data["source"]).name, *cells)
            self._table.setRowHeight(self._table.rowCount() - 1, widgets.file_row_height)
            self._rows.append((modality, detail, None))
            for index, texts in enumerate(parts):
                self._add_row(QTableWidgetItem(), *texts)
                self._table.setRowHeight(self._table.rowCount() - 1, TEXT_ROW)
                self._rows.append((modality, detail, index))
        self._table.resizeColumnsToContents()
        return first_row

    def _add_row(self, first: QTableWidgetItem, *texts: str) -> None:
        row = self._table.rowCount()
        self._table.insertRow(row)
        self._table.setItem(row, 0, first)
        for column, text in enumerate(texts, start=1):
            self._table.setItem(row, column, QTableWidgetItem(text))

    @Slot(int, int, int, int)
    def _on_current_cell_changed(self, row: int, _column: int, _previous_row: int, _previous_column: int) -> None:
        if not 0 <= row < len(self._rows):
            return
        modality, detail, part = self._rows[row]
        self._show_detail(widgets_for(modality).file_detail or widgets_for(self._modality).file_detail)
        if self.detail is None:
            return
        if detail is None or widgets_for(modality).file_detail is not type(self.detail):
            self.detail.clear()
        else:
            self.detail.show_prediction(detail, part, self._class_names)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._status.setText(f"Could not classify: {message}")

    def _show_modality(self) -> None:
        """Header, row height, prompt and detail view for the model's modality."""
        widgets = widgets_for(self._modality)
        readable = self._readable_modalities()
        self._table.setHorizontalHeaderLabels((widgets.label, "File", "Prediction", "Top classes"))
        self._table.verticalHeader().setDefaultSectionSize(widgets.file_row_height)
        self._status.setText(f"Open or drop {' or '.join(widgets_for(m).noun for m in readable)} files here to "
                             "classify them with the selected model."
                             + "".join(widgets_for(m).files_hint for m in readable))
        self._show_detail(widgets.file_detail)
        if self.detail is not None:
            self.detail.clear()

    def _readable_modalities(self) -> list[str]:
        """The modalities whose files the model reads: its own first, then those that name it."""
        others = [name for name, widgets in MODALITY_WIDGETS.items()
                  if name != self._modality and self._modality in widgets.file_models]
        return [self._modality, *others]

    def _show_detail(self, kind: type[QWidget] | None) -> None:
        """Show the detail view of class ``kind`` under the table (made on first use), or none."""
        if self.detail is not None and type(self.detail) is kind:
            return
        if self.detail is not None:
            self.detail.hide()
        self.detail = None
        if kind is not None:
            if kind not in self._details:
                self._details[kind] = kind(self)
                if hasattr(self._details[kind], "set_predictor_cache"):  # a detail that runs the model itself
                    self._details[kind].set_predictor_cache(self._cache)
                self._layout.addWidget(self._details[kind], 1)
            self.detail = self._details[kind]
            self.detail.show()

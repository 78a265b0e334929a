"""FilesTestWidget: open or drop files and see the selected model's top-k predictions.

Image models take image files; sound models (sidecar modality "audio") take wav/flac/ogg/mp3,
shown with their duration and rate instead of a thumbnail. For sound, the selected row is shown
below the table as the model heard it (:class:`SoundFileDetailWidget`: spectrogram, probabilities,
Play), and a recording longer than the model's clip is also read word by word.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core.modality import get_modality, modality_of_file
from workbench.gui.panels.sound_file_detail_widget import SoundFileDetailWidget
from workbench.gui.workers.predictor_cache import PredictorCache
from workbench.gui.workers.task_runner import TaskRunner

THUMBNAIL = 56
SOUND_ROW = 28


def _thumbnail(path: str) -> QPixmap | None:
    try:
        from workbench.core.image.io import read_image

        image = read_image(path)
    except Exception:
        return None
    gray = image if image.ndim == 2 else image.mean(axis=2).astype(np.uint8)
    gray = np.ascontiguousarray(gray)
    qimage = QImage(gray.data, gray.shape[1], gray.shape[0], gray.strides[0], QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(qimage.copy()).scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation)


def _audio_summary(path: str) -> str:
    """"0.64 s · 8 kHz" for a sound file (read from its header), "" when unreadable."""
    try:
        import soundfile

        info = soundfile.info(path)
    except Exception:
        return ""
    return f"{info.duration:.2f} s · {info.samplerate / 1000:g} kHz"


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
        self._modality = "image"
        self._runner = TaskRunner("filesPredictThread", self)
        self._runner.result_ready.connect(self._on_predictions_ready)
        self._runner.failed.connect(self._on_failed)
        self._open = QPushButton("Open files…")
        self._open.setObjectName("testOpenFilesButton")
        self._open.setAccessibleName("Open files to classify")
        self._open.clicked.connect(self._on_open_clicked)
        self._status = QLabel("Open or drop image files here to classify them with the selected model.")
        self._status.setObjectName("testFilesStatus")
        self._status.setWordWrap(True)
        self._table = QTableWidget(0, 4, self)
        self._table.setObjectName("testFilesTable")
        self._table.setAccessibleName("Predictions for files")
        self._table.setHorizontalHeaderLabels(("Image", "File", "Prediction", "Top classes"))
        self._table.verticalHeader().setDefaultSectionSize(THUMBNAIL + 6)
        self._table.verticalHeader().setVisible(False)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._table.currentCellChanged.connect(self._on_current_cell_changed)
        #: What each table row shows in the detail: ("file", SoundFilePrediction | None) or
        #: ("word", SoundFilePrediction, word index).
        self._rows: list[tuple] = []
        self._class_names: list[str] = []
        self.detail = SoundFileDetailWidget(self)
        self.detail.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self._open)
        row.addWidget(self._status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self._table, 1)
        layout.addWidget(self.detail, 1)

    def set_model(self, model_path: str) -> None:
        self._model_path = model_path
        try:
            from workbench.core.sidecar import read_sidecar

            self._modality = read_sidecar(model_path).get("modality", "image") if model_path else "image"
        except Exception:
            self._modality = "image"  # a broken sidecar is reported when predicting
        kind = "sound" if self._modality == "audio" else self._modality
        self._table.setHorizontalHeaderLabels(("Sound" if self._modality == "audio" else "Image", "File",
                                               "Prediction", "Top classes"))
        # Image rows hold a thumbnail; sound rows are one line of text (a long recording adds a row per word).
        self._table.verticalHeader().setDefaultSectionSize(SOUND_ROW if self._modality == "audio" else THUMBNAIL + 6)
        self._status.setText(f"Open or drop {kind} files here to classify them with the selected model."
                             + (" Recordings longer than the model's clip are also read word by word."
                                if self._modality == "audio" else ""))
        self.detail.clear()
        self.detail.setVisible(self._modality == "audio")

    def shutdown(self) -> None:
        self._runner.shutdown()
        self.detail.shutdown()

    def classify(self, paths: list[str], top_k: int = 3) -> None:
        """Predict ``paths`` in the background; rows appear when done."""
        if not self._model_path:
            self._status.setText("Choose a model first (train one, or pick a shipped model above).")
            return
        supported = [p for p in paths if modality_of_file(p) == self._modality]
        skipped = len(paths) - len(supported)
        if not supported:
            extensions = get_modality(self._modality).extensions
            kind = "sound" if self._modality == "audio" else self._modality
            self._status.setText(f"Expected {kind} files ({', '.join(sorted(extensions))}). "
                                 f"Received: {', '.join(Path(p).name for p in paths[:3])}")
            return
        model_path, cache, sound = self._model_path, self._cache, self._modality == "audio"
        self._status.setText(f"Classifying {len(supported)} file(s)…" + (f" ({skipped} skipped)" if skipped else ""))

        def predict(progress, cancel):
            from workbench.core.inference.sound_files import predict_sound_file

            predictor = cache.get(model_path)
            results = []
            for i, path in enumerate(supported):
                if cancel.cancelled:
                    break
                try:
                    if sound:  # the summary for the table, the arrays for the detail below it
                        heard = predict_sound_file(predictor, path, top_k=top_k)
                        results.append(("ok", heard.to_dict(), heard))
                    else:
                        results.append(("ok", predictor.predict_files([path], top_k=top_k)[0].to_dict(), None))
                except Exception as exc:
                    results.append(("error", {"source": path, "message": str(exc)}, None))
                progress(i + 1, len(supported))
            return {"class_names": list(predictor.class_names), "results": results}

        self._runner.submit(predict)

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
        kind = "Sounds" if self._modality == "audio" else "Images"
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
        self._class_names = outcome["class_names"]
        self._rows = []
        self.detail.clear()
        self._table.setRowCount(0)
        for kind, data, heard in results:
            thumb = QTableWidgetItem()
            if modality_of_file(data["source"]) == "audio":
                thumb.setText(_audio_summary(data["source"]))
            elif (pixmap := _thumbnail(data["source"])) is not None:
                thumb.setData(Qt.ItemDataRole.DecorationRole, pixmap)
            words = data.get("words", []) if kind == "ok" else []
            if len(words) > 1:  # a recording of several words: read them in order, each on its own row
                cells = (f"{' · '.join(w['label'] for w in words)}  ({len(words)} words)", words_text(words))
            elif kind == "ok":
                cells = (f"{data['top'][0]['class']}  ({data['top'][0]['probability']:.1%})", _top_text(data["top"]))
            else:
                cells = ("unreadable", data["message"])
            self._add_row(thumb, Path(data["source"]).name, *cells)
            self._rows.append(("file", heard))
            for index, word in enumerate(words if len(words) > 1 else []):
                where = f"   ↳ word {index + 1}, {word['start_s']:.2f}–{word['end_s']:.2f} s"
                self._add_row(QTableWidgetItem(), where, f"{word['label']}  ({word['top'][0]['probability']:.1%})",
                              _top_text(word["top"]))
                self._rows.append(("word", heard, index))
        self._table.resizeColumnsToContents()
        self._status.setText(f"{len(results)} file(s) classified with {Path(self._model_path).name}."
                             + (" Select a row to see and hear what the model read."
                                if self._modality == "audio" and results else ""))
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
        if self._modality != "audio" or not 0 <= row < len(self._rows):
            return
        what, heard, *index = self._rows[row]
        if heard is None:
            self.detail.clear()
            return
        name = Path(heard.prediction.source).name
        if what == "word":
            word = heard.words[index[0]]
            self.detail.show_clip(f"{name}, word {index[0] + 1} ({word.start_s:.2f}–{word.end_s:.2f} s): the clip "
                                  "the model read", word.clip, heard.sample_rate, word.features, self._class_names,
                                  word.probabilities)
        elif len(heard.words) > 1:
            self.detail.show_recording(f"{name}: the whole {heard.duration_s:.2f} s recording and the words found",
                                       heard.recording, heard.sample_rate, heard.recording_features,
                                       [(w.start_s, w.end_s, w.label) for w in heard.words])
        else:
            self.detail.show_clip(f"{name}: {heard.duration_s:.2f} s; the model read this "
                                  f"{heard.clip.size / heard.sample_rate:.2f} s clip (trimmed, level-normalised, "
                                  f"fitted as in training)", heard.clip, heard.sample_rate, heard.features,
                                  self._class_names, heard.prediction.probabilities)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._status.setText(f"Could not classify: {message}")

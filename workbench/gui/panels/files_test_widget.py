"""FilesTestWidget: open or drop files and see the selected model's top-k predictions.

Image models take image files; sound models (sidecar modality "audio") take wav/flac/ogg/mp3,
shown with their duration and rate instead of a thumbnail.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core.data.formats import EXTENSIONS_BY_MODALITY, modality_of_file
from workbench.gui.workers.predictor_cache import PredictorCache
from workbench.gui.workers.task_runner import TaskRunner

THUMBNAIL = 56


def _thumbnail(path: str) -> QPixmap | None:
    try:
        from workbench.core.data.images import read_image

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


class FilesTestWidget(QWidget):
    """Predictions for files; the model comes from :meth:`set_model`."""

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
        row = QHBoxLayout()
        row.addWidget(self._open)
        row.addWidget(self._status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self._table)

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
        self._status.setText(f"Open or drop {kind} files here to classify them with the selected model.")

    def shutdown(self) -> None:
        self._runner.shutdown()

    def classify(self, paths: list[str], top_k: int = 3) -> None:
        """Predict ``paths`` in the background; rows appear when done."""
        if not self._model_path:
            self._status.setText("Choose a model first (train one, or pick a shipped model above).")
            return
        supported = [p for p in paths if modality_of_file(p) == self._modality]
        skipped = len(paths) - len(supported)
        if not supported:
            extensions = EXTENSIONS_BY_MODALITY.get(self._modality, ())
            kind = "sound" if self._modality == "audio" else self._modality
            self._status.setText(f"Expected {kind} files ({', '.join(sorted(extensions))}). "
                                 f"Received: {', '.join(Path(p).name for p in paths[:3])}")
            return
        model_path, cache = self._model_path, self._cache
        self._status.setText(f"Classifying {len(supported)} file(s)…" + (f" ({skipped} skipped)" if skipped else ""))

        def predict(progress, cancel):
            predictor = cache.get(model_path)
            results = []
            for i, path in enumerate(supported):
                if cancel.cancelled:
                    break
                try:
                    results.append(("ok", predictor.predict_files([path], top_k=top_k)[0].to_dict()))
                except Exception as exc:
                    results.append(("error", {"source": path, "message": str(exc)}))
                progress(i + 1, len(supported))
            return results

        self._runner.submit(predict)

    def row_count(self) -> int:
        return self._table.rowCount()

    def prediction_text(self, row: int) -> str:
        item = self._table.item(row, 2)
        return item.text() if item else ""

    @Slot()
    def _on_open_clicked(self) -> None:
        patterns = " ".join(f"*{e}" for e in sorted(EXTENSIONS_BY_MODALITY.get(self._modality, ())))
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
    def _on_predictions_ready(self, results: list) -> None:
        self._table.setRowCount(0)
        for kind, data in results:
            row = self._table.rowCount()
            self._table.insertRow(row)
            thumb = QTableWidgetItem()
            if modality_of_file(data["source"]) == "audio":
                thumb.setText(_audio_summary(data["source"]))
            elif (pixmap := _thumbnail(data["source"])) is not None:
                thumb.setData(Qt.ItemDataRole.DecorationRole, pixmap)
            self._table.setItem(row, 0, thumb)
            self._table.setItem(row, 1, QTableWidgetItem(Path(data["source"]).name))
            if kind == "ok":
                best = data["top"][0]
                self._table.setItem(row, 2, QTableWidgetItem(f"{best['class']}  ({best['probability']:.1%})"))
                self._table.setItem(row, 3, QTableWidgetItem(
                    ", ".join(f"{t['class']} {t['probability']:.1%}" for t in data["top"])))
            else:
                self._table.setItem(row, 2, QTableWidgetItem("unreadable"))
                self._table.setItem(row, 3, QTableWidgetItem(data["message"]))
        self._table.resizeColumnsToContents()
        self._status.setText(f"{len(results)} file(s) classified with {Path(self._model_path).name}.")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._status.setText(f"Could not classify: {message}")

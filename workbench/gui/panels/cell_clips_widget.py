"""CellClipsWidget: the sound clips of one confusion-matrix cell, heard and seen.

What the Results panel shows under the matrix for a sound model, where an image model shows
thumbnails: the cell's clips, most confident mistake first, and for the selected clip its
spectrogram as the model read it, every class's probability and Play (the Files tab's
:class:`~workbench.gui.panels.live.sound_file_detail_widget.SoundFileDetailWidget`). The clip is read
by :func:`~workbench.core.inference.sound_files.predict_sound_file` on a TaskRunner thread — the same
preparation as training and the Files tab — and only plain data reaches the widgets.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from workbench.gui.panels.live.sound_file_detail_widget import SoundFileDetailWidget
from workbench.gui.panels.results_jobs import SampleImageLoader, caption
from workbench.gui.workers.task_runner import TaskRunner


def hear_clip_job(models, model_path: str, path: str, progress, cancel):
    """The clip at ``path`` read by the model at ``model_path`` (runs on the runner's thread)."""
    from workbench.core.inference.sound_files import predict_sound_file

    return predict_sound_file(models.get(model_path), path, words=False)


class CellClipsWidget(QWidget):
    """A list of a cell's clips and the selected clip's spectrogram, probabilities and Play.

    Signals:
        clip_shown(str): the selected clip's spectrogram and probabilities are on screen (its path).
    """

    clip_shown = Signal(str)

    def __init__(self, models, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cellClipsWidget")
        self._models = models  # a PredictorCache shared with the panel's other jobs
        self._model_path = ""
        self._class_names: list[str] = []
        self._roots = ("", "")
        self._reader = TaskRunner("resultsClipThread", self, python_thread=True)
        self._reader.result_ready.connect(self._on_heard)
        self._reader.failed.connect(self._on_failed)
        self.clips = QListWidget(self)
        self.clips.setObjectName("resultsClipList")
        self.clips.setAccessibleName("Misclassified clips, most confident first")
        self.clips.setMaximumHeight(80)
        self.clips.currentRowChanged.connect(self._on_row_changed)
        self.detail = SoundFileDetailWidget(self)
        self.detail.setMinimumHeight(200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.clips)
        layout.addWidget(self.detail, 1)
        self._pending_path = ""

    def set_model(self, model_path: str, class_names: list[str], dataset_path: str, scan_path: str = "") -> None:
        """Clips are read by this model; relative sample ids map onto ``dataset_path``."""
        self._model_path, self._class_names = str(model_path), list(class_names)
        self._roots = (dataset_path or "", scan_path or "")
        self.clear()

    def show_samples(self, samples: list[dict[str, Any]]) -> None:
        """List the cell's samples (``{"sample", "true", "predicted", "confidence"}``) and show the first."""
        self.clear()
        for sample in samples:
            item = QListWidgetItem(f"{Path(str(sample['sample'])).name}   {caption(sample)}")
            item.setToolTip(str(sample["sample"]))
            item.setData(0x0100, str(sample["sample"]))  # Qt.UserRole
            self.clips.addItem(item)
        if samples:
            self.clips.setCurrentRow(0)

    def clear(self) -> None:
        self._reader.cancel()
        self.clips.blockSignals(True)
        self.clips.clear()
        self.clips.blockSignals(False)
        self.detail.clear()
        self._pending_path = ""

    def shutdown(self) -> None:
        self._reader.shutdown()
        self.detail.shutdown()

    # ----------------------------------------------------------------------------------- private
    @Slot(int)
    def _on_row_changed(self, row: int) -> None:
        item = self.clips.item(row) if row >= 0 else None
        if item is None or not self._model_path:
            return
        path = str(SampleImageLoader().resolve(str(item.data(0x0100)), *self._roots))
        self._pending_path = path
        self.detail.show_message(f"Reading {Path(path).name}…")
        self._reader.submit(functools.partial(hear_clip_job, self._models, self._model_path, path))

    @Slot(object)
    def _on_heard(self, heard) -> None:
        self.detail.show_prediction(heard, None, self._class_names)
        self.clip_shown.emit(self._pending_path)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.detail.show_message(f"Could not read {Path(self._pending_path).name}: {message}")

"""CameraCollectWidget: the Camera tab's "Add to dataset" row (capture → retrain).

A class chooser (the model's classes, or type a new one), the dataset folder (the Data panel's
dataset when it is a folder, else one chosen here) and the button. What is saved depends on the
model: the current frame as a PNG for image models, the last seconds as an .avi clip for video
models. The tab hands over the frames (:meth:`save_frame`, :meth:`save_clip`); encoding and the
atomic write run on a :class:`TaskRunner` thread, so the feed never stalls on a disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.gui.workers.task_runner import TaskRunner


class CameraCollectWidget(QWidget):
    """Class, folder and "Add to dataset".

    Signals:
        save_requested(str): save into this class (the folder is set): the tab answers with
            :meth:`save_frame` or :meth:`save_clip`.
        saved(str): a capture was written to this path.
    """

    save_requested = Signal(str)
    saved = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraCollect")
        self._directory = ""
        self._mode_text = ""
        self._saver = TaskRunner("cameraSaveThread", self)
        self._saver.result_ready.connect(self._on_save_finished)
        self._saver.failed.connect(self._on_save_failed)
        self._class = QComboBox(self)
        self._class.setObjectName("cameraClassCombo")
        self._class.setAccessibleName("Class to save the capture as")
        self._class.setToolTip("Class folder the capture goes into (type a new name for a new class)")
        self._class.setEditable(True)
        self._class.setMinimumContentsLength(8)
        self._add = QPushButton("Add to dataset", self)
        self._add.setObjectName("cameraAddToDatasetButton")
        self._add.setAccessibleName("Add the capture to the dataset")
        self._add.clicked.connect(self._on_add_clicked)
        self._folder = QPushButton("Folder…", self)
        self._folder.setObjectName("cameraDatasetFolderButton")
        self._folder.setAccessibleName("Choose the dataset folder for captures")
        self._folder.clicked.connect(self._on_folder_clicked)
        self._what = QLabel("", self)
        self._what.setObjectName("cameraCollectWhat")
        self._status = QLabel("", self)
        self._status.setObjectName("cameraCollectStatus")
        self._status.setAccessibleName("Last saved capture")
        self._status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Class:", self))
        row.addWidget(self._class)
        row.addWidget(self._add)
        row.addWidget(self._folder)
        row.addWidget(self._what, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self._status)
        self.set_mode("image", 0.0)

    # ------------------------------------------------------------------------------------ public
    def set_mode(self, mode: str, seconds: float) -> None:
        """What "Add to dataset" saves: "image" (the current frame) or "video" (the last ``seconds``)."""
        self._mode_text = (f"saves the last {seconds:.1f} s as an .avi clip" if mode == "video"
                           else "saves the current frame as a PNG")
        self._add.setToolTip(f"Add to dataset: {self._mode_text}")
        self._show_what()

    def set_class_names(self, names: Sequence[str]) -> None:
        current = self._class.currentText()
        self._class.clear()
        self._class.addItems([str(n) for n in names])
        if current:
            self._class.setCurrentText(current)

    def set_class(self, name: str) -> None:
        self._class.setCurrentText(str(name))

    def class_name(self) -> str:
        return self._class.currentText().strip()

    def directory(self) -> str:
        return self._directory

    def set_directory(self, path: str | Path) -> None:
        self._directory = str(path)
        self._folder.setToolTip(f"Dataset folder: {self._directory}")
        self._show_what()

    def show_message(self, text: str) -> None:
        self._status.setText(text)

    def status_text(self) -> str:
        return self._status.text()

    def save_frame(self, image: np.ndarray, class_name: str) -> None:
        """Write ``image`` (RGB) as ``<folder>/<class_name>/camera_<time>.png`` in the background."""
        directory = self._directory

        def job(progress, cancel) -> str:
            from workbench.core.sources.camera_collect import save_frame_image

            return str(save_frame_image(image, directory, class_name))

        self._submit(job)

    def save_clip(self, images: list[np.ndarray], timestamps: list[float], class_name: str) -> None:
        """Write ``images`` (RGB, captured at ``timestamps``) as ``<folder>/<class_name>/camera_<time>.avi``."""
        directory = self._directory

        def job(progress, cancel) -> str:
            from workbench.core.sources.camera_collect import clip_fps, save_frames_clip

            return str(save_frames_clip(images, clip_fps(timestamps), directory, class_name))

        self._submit(job)

    def shutdown(self) -> None:
        """End the saving thread (a write in progress finishes first)."""
        self._saver.shutdown()

    # ----------------------------------------------------------------------------------- private
    def _submit(self, job) -> None:
        if not self._directory:
            self.show_message("Choose a dataset folder first (Folder…).")
            return
        self._saver.submit(job)

    def _show_what(self) -> None:
        self._what.setText(f"{self._mode_text} into <folder>/<class>/ · folder: {self._directory or '(none chosen)'}")

    @Slot()
    def _on_folder_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder for camera captures", self._directory)
        if path:
            self.set_directory(path)

    @Slot()
    def _on_add_clicked(self) -> None:
        if not self._directory:
            self._on_folder_clicked()
            if not self._directory:
                return
        name = self.class_name()
        if not name:
            self.show_message("Type or choose a class first.")
            return
        self.save_requested.emit(name)

    @Slot(object)
    def _on_save_finished(self, path: object) -> None:
        path = Path(str(path))
        count = sum(1 for p in path.parent.iterdir() if p.suffix.lower() == path.suffix.lower())
        self.show_message(f"Saved {path.parent.name}/{path.name} (now {count} {path.suffix} files in "
                          f"{path.parent.name})")
        self.saved.emit(str(path))

    @Slot(str)
    def _on_save_failed(self, message: str) -> None:
        self.show_message(f"Could not save: {message}")

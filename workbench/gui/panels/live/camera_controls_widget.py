"""CameraControlsWidget: the Camera tab's source picker: cameras found, "Video file…", a stream URL.

The list holds the cameras :func:`~workbench.core.sources.camera.list_cameras` found, the video files
and URLs used in this session, and a last "Video file…" entry that opens a file dialog: any video
plays as if it were a camera (useful without a webcam, and to test a model on a recording). A URL
(``rtsp://``, ``http://``) is typed into the field and opened with Enter or "Open".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from workbench.core.sources.camera import CameraInfo, source_kind

CHOOSE_FILE = "\x00choose-file"  # the data of the "Video file…" entry (never a real source)
VIDEO_FILTER = "Videos (*.avi *.mp4 *.mkv *.mov *.webm *.m4v);;All files (*)"


def source_label(source: str) -> str:
    """How the list shows a source: "Camera 0", "clip.avi (video file)", the URL."""
    kind = source_kind(source)
    if kind == "device":
        return f"Camera {int(source)}"
    return f"{Path(source).name} (video file)" if kind == "file" else source


class CameraControlsWidget(QWidget):
    """Source list, Refresh, URL field.

    Signals:
        source_chosen(str): the user picked a source: a camera index ("0"), a file path or a URL.
        refresh_requested(): look for cameras again.
    """

    source_chosen = Signal(str)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraControls")
        self._current: str | None = None
        self._combo = QComboBox(self)
        self._combo.setObjectName("cameraSourceCombo")
        self._combo.setAccessibleName("Camera or video source")
        self._combo.setToolTip("The camera to use, or a video file that plays as if it were one")
        self._combo.setMinimumContentsLength(22)
        self._combo.activated.connect(self._on_activated)
        self._refresh = QPushButton("Refresh", self)
        self._refresh.setObjectName("cameraRefreshButton")
        self._refresh.setAccessibleName("Look for cameras again")
        self._refresh.clicked.connect(self.refresh_requested)
        self._url = QLineEdit(self)
        self._url.setObjectName("cameraUrlEdit")
        self._url.setAccessibleName("Stream URL")
        self._url.setPlaceholderText("or a stream URL: rtsp://… http://…")
        self._url.setClearButtonEnabled(True)
        self._url.returnPressed.connect(self._on_url_entered)
        self._open_url = QPushButton("Open", self)
        self._open_url.setObjectName("cameraOpenUrlButton")
        self._open_url.setAccessibleName("Open the stream URL")
        self._open_url.clicked.connect(self._on_url_entered)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        source_label_widget = QLabel("&Source:", self)
        source_label_widget.setBuddy(self._combo)
        layout.addWidget(source_label_widget)
        layout.addWidget(self._combo, 1)
        layout.addWidget(self._refresh)
        layout.addSpacing(12)
        layout.addWidget(self._url, 1)
        layout.addWidget(self._open_url)
        self.set_cameras([])

    # ------------------------------------------------------------------------------------ public
    def set_cameras(self, cameras: Sequence[CameraInfo]) -> None:
        """List ``cameras`` first, keep the files and URLs used, and end with "Video file…"."""
        others = [self._combo.itemData(i) for i in range(self._combo.count())]
        others = [s for s in others if s != CHOOSE_FILE and source_kind(s) != "device"]
        self._combo.clear()
        for camera in cameras:
            self._combo.addItem(camera.label, str(camera.index))
        for source in others:
            self._combo.addItem(source_label(source), source)
        self._combo.addItem("Video file…", CHOOSE_FILE)
        self._select(self._current)

    def add_source(self, source: str) -> None:
        """Show ``source`` as the current one (added to the list when new); emits nothing."""
        source = str(source)
        if self._combo.findData(source) < 0:
            self._combo.insertItem(self._combo.count() - 1, source_label(source), source)
        if source_kind(source) == "stream":
            self._url.setText(source)
        self._current = source
        self._select(source)

    def current_source(self) -> str | None:
        """The source in use (None before one was chosen)."""
        return self._current

    def sources(self) -> list[str]:
        """Every source listed (cameras, files, URLs), without the "Video file…" entry."""
        return [self._combo.itemData(i) for i in range(self._combo.count()) if self._combo.itemData(i) != CHOOSE_FILE]

    def camera_count(self) -> int:
        return sum(1 for s in self.sources() if source_kind(s) == "device")

    def choose_file(self, path: str) -> None:
        """As if ``path`` was picked in the "Video file…" dialog."""
        self.add_source(path)
        self.source_chosen.emit(path)

    # ----------------------------------------------------------------------------------- private
    def _select(self, source: str | None) -> None:
        index = self._combo.findData(source) if source is not None else -1
        self._combo.setCurrentIndex(index if index >= 0 else (0 if self._combo.count() > 1 else -1))

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        data = self._combo.itemData(index)
        if data == CHOOSE_FILE:
            start = self._current if self._current and source_kind(self._current) == "file" else ""
            path, _ = QFileDialog.getOpenFileName(self, "Video file to use as the camera", start, VIDEO_FILTER)
            if path:
                self.choose_file(path)
            else:
                self._select(self._current)
            return
        if data is not None and data != self._current:
            self._current = data
            self.source_chosen.emit(data)

    @Slot()
    def _on_url_entered(self) -> None:
        url = self._url.text().strip()
        if url:
            self.add_source(url)
            self.source_chosen.emit(url)

"""MicrophoneClipWidget: the last captured clip: its spectrogram, playback, "Add to dataset…" and
"Adapt to my examples" (:class:`AdaptWidget`: teach the model the clips saved in the dataset folder).

Playback runs :func:`~workbench.gui.workers.playback.playback_job` on a :class:`TaskRunner` thread,
so a new Play or :meth:`shutdown` can stop it. Saving is a
small WAV write, done in the GUI thread: ``<dataset>/<class>/mic_<timestamp>.wav``, the layout the
Data panel trains on. The dataset folder is remembered in QSettings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.audio.modality import AUDIO_EXTENSIONS
from workbench.core.errors import WorkbenchError
from workbench.core.sources.display_spectrogram import StreamingSpectrogram
from workbench.core.sources.microphone import dbfs
from workbench.core.sources.utterance import save_class_clip
from workbench.gui import settings_keys
from workbench.gui.panels.live.adapt_widget import AdaptWidget
from workbench.gui.widgets.spectrogram_view_widget import SpectrogramViewWidget
from workbench.gui.workers.playback import playback_job
from workbench.gui.workers.task_runner import TaskRunner



class MicrophoneClipWidget(QWidget):
    """Shows one clip; plays it; saves it into a folder-per-class dataset.

    Signals:
        playback_started(float): a clip of that many seconds started playing (the owner ignores
            the microphone meanwhile: the speakers may reach it).
        playing_changed(bool): playback began or ended (PortAudio must not be re-initialised meanwhile).
    """

    playback_started = Signal(float)
    playing_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("micClipWidget")
        self._samples = np.zeros(0, np.float32)
        self._rate = 0
        self._directory = str(QSettings().value(settings_keys.MICROPHONE_COLLECT_DIR, "", type=str) or "")
        self._player = TaskRunner("micPlaybackThread", self)
        self._player.failed.connect(self._on_playback_failed)
        self._player.busy_changed.connect(self._on_player_busy_changed)

        self.view = SpectrogramViewWidget("micClipSpectrogram", "Spectrogram of the captured clip", self)
        self.view.setMinimumHeight(120)
        self._info = QLabel("No clip yet: speak (auto trigger) or hold “Hold to talk”.", self)
        self._info.setObjectName("micClipInfo")
        self._info.setAccessibleName("Captured clip")
        self._info.setWordWrap(True)
        self._play = QPushButton("▶ Play", self)
        self._play.setObjectName("micPlayButton")
        self._play.setAccessibleName("Play the captured clip")
        self._play.setToolTip("Play the captured clip on the default output device")
        self._play.clicked.connect(self._on_play_clicked)
        self._class = QComboBox(self)
        self._class.setObjectName("micClassCombo")
        self._class.setAccessibleName("Class to save the clip as")
        self._class.setToolTip("Class folder the clip is saved into (type a new name for a new class)")
        self._class.setEditable(True)
        self._class.setMinimumContentsLength(8)
        self._add = QPushButton("Add to dataset…", self)
        self._add.setObjectName("micAddToDatasetButton")
        self._add.setAccessibleName("Add the clip to a dataset")
        self._add.setToolTip("Save the clip as <dataset>/<class>/mic_<time>.wav (asks for the folder once)")
        self._add.clicked.connect(self._on_add_clicked)
        self._folder = QPushButton("Folder…", self)
        self._folder.setObjectName("micDatasetFolderButton")
        self._folder.setAccessibleName("Choose the dataset folder for saved clips")
        self._folder.clicked.connect(self._on_folder_clicked)
        self._saved = QLabel("", self)
        self._saved.setObjectName("micSavedLabel")
        self._saved.setAccessibleName("Last saved clip")
        self._saved.setWordWrap(True)
        #: "Adapt to my examples": the owner (the Microphone tab) answers its ``adapt_requested``.
        self.adapt = AdaptWidget("mic", "recordings", self)
        self._show_directory()

        actions = QHBoxLayout()
        actions.addWidget(self._play)
        actions.addStretch(1)
        actions.addWidget(QLabel("Class:", self))
        actions.addWidget(self._class)
        actions.addWidget(self._add)
        actions.addWidget(self._folder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._info)
        layout.addWidget(self.view, 1)
        layout.addLayout(actions)
        layout.addWidget(self._saved)
        layout.addWidget(self.adapt)
        self._set_enabled(False)

    # ------------------------------------------------------------------------------------ public
    def set_clip(self, samples: np.ndarray, sample_rate: int, note: str = "") -> None:
        """Show ``samples`` (mono float32) as the current clip."""
        self._samples, self._rate = np.asarray(samples, np.float32), int(sample_rate)
        spectrogram = StreamingSpectrogram(self._rate)
        self.view.set_spectrogram(spectrogram.compute(self._samples), spectrogram.columns_per_second)
        rms, peak = dbfs(self._samples)
        self._info.setText(f"Clip: {self._samples.size / self._rate:.2f} s at {self._rate} Hz · "
                           f"level {rms:.0f} dBFS (peak {peak:.0f})" + (f" · {note}" if note else ""))
        self._set_enabled(True)

    def clip(self) -> tuple[np.ndarray, int]:
        """(samples, sample rate) of the clip shown; empty samples when none."""
        return self._samples, self._rate

    def set_class_names(self, names: list[str]) -> None:
        current = self._class.currentText()
        self._class.clear()
        self._class.addItems([str(n) for n in names])
        if current:
            self._class.setCurrentText(current)

    def set_class(self, name: str) -> None:
        """Preselect the class to save into (e.g. the model's answer)."""
        self._class.setCurrentText(str(name))

    def directory(self) -> str:
        return self._directory

    def set_directory(self, path: str | Path) -> None:
        self._directory = str(path)
        QSettings().setValue(settings_keys.MICROPHONE_COLLECT_DIR, self._directory)
        self._show_directory()

    def ensure_directory(self) -> bool:
        """True when a dataset folder is set, asking the user for one if not."""
        if not self._directory:
            self._on_folder_clicked()
        return bool(self._directory)

    def save_clip(self, class_name: str | None = None) -> Path:
        """Save the clip into ``<directory>/<class>/``; raises WorkbenchError when it cannot."""
        from workbench.core.errors import DatasetError

        if self._samples.size == 0:
            raise DatasetError("Expected a captured clip to save. Received: none yet")
        if not self._directory:
            raise DatasetError("Expected a dataset folder for saved clips. Received: none chosen")
        name = (class_name if class_name is not None else self._class.currentText()).strip()
        path = save_class_clip(self._samples, self._rate, self._directory, name)
        count = sum(1 for p in path.parent.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
        self._saved.setText(f"Saved {name}/{path.name} (now {count} clips in {name})")
        return path

    def play(self) -> None:
        if self._samples.size:
            self.playback_started.emit(self._samples.size / self._rate)
            self._player.submit(playback_job(self._samples, self._rate))

    def is_playing(self) -> bool:
        return self._player.busy

    def saved_text(self) -> str:
        return self._saved.text()

    def shutdown(self) -> None:
        """Stop playback and adapting, and end their threads."""
        self._player.shutdown()
        self.adapt.shutdown()

    # ----------------------------------------------------------------------------------- private
    def _set_enabled(self, enabled: bool) -> None:
        self._play.setEnabled(enabled)
        self._add.setEnabled(enabled)

    def _show_directory(self) -> None:
        self._folder.setToolTip(f"Dataset folder: {self._directory or '(none chosen)'}")

    @Slot()
    def _on_play_clicked(self) -> None:
        self.play()

    @Slot()
    def _on_folder_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder for recorded clips", self._directory)
        if path:
            self.set_directory(path)

    @Slot()
    def _on_add_clicked(self) -> None:
        if not self.ensure_directory():
            return
        try:
            self.save_clip()
        except (WorkbenchError, OSError) as exc:
            self._saved.setText(f"Could not save: {exc}")

    @Slot(bool)
    def _on_player_busy_changed(self, busy: bool) -> None:
        self.playing_changed.emit(busy)

    @Slot(str)
    def _on_playback_failed(self, message: str) -> None:
        self._saved.setText(f"Could not play the clip: {message}")

"""SoundFileDetailWidget: the Files tab's selected sound, as the model heard it.

Shown under the Files tab's table for sound models. A clip row (a file, or one word of a long
recording) shows the log-mel spectrogram of the clip the model read (the model's own front end),
every class's probability and Play. A long recording's row shows the whole recording's spectrogram
with its words marked and labelled, and plays the whole recording. Everything shown is plain data
from :func:`~workbench.core.inference.sound_files.predict_sound_file`; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.gui.widgets.probability_bars_widget import ProbabilityBarsWidget
from workbench.gui.widgets.spectrogram_view_widget import SpectrogramViewWidget
from workbench.gui.workers.playback import playback_job
from workbench.gui.workers.task_runner import TaskRunner

#: The model's features are standardised (mean 0, unit variance): fixed levels show them alike.
FEATURE_LEVELS = (-2.5, 2.5)
PROMPT = "Select a row above to see and hear what the model read."


class SoundFileDetailWidget(QWidget):
    """Spectrogram, probabilities and Play for the selected clip or recording."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("soundFileDetailWidget")
        self.setAccessibleName("Selected sound")
        self._samples = np.zeros(0, np.float32)
        self._rate = 0
        self._player = TaskRunner("filesPlaybackThread", self)
        self._player.failed.connect(self._on_playback_failed)
        self._title = QLabel(PROMPT, self)
        self._title.setObjectName("soundFileTitle")
        self._title.setWordWrap(True)
        self.view = SpectrogramViewWidget("soundFileSpectrogram", "Spectrogram the model read", self)
        self.view.setMinimumHeight(140)
        self.bars = ProbabilityBarsWidget(self)
        self.bars.setMinimumWidth(220)
        self._play = QPushButton("▶ Play", self)
        self._play.setObjectName("soundFilePlayButton")
        self._play.setAccessibleName("Play the selected sound")
        self._play.clicked.connect(self.play)
        self._play.setEnabled(False)
        self._note = QLabel("", self)
        self._note.setObjectName("soundFileNote")
        self._note.setWordWrap(True)

        left = QVBoxLayout()
        left.addWidget(self._title)
        left.addWidget(self.view, 1)
        controls = QHBoxLayout()
        controls.addWidget(self._play)
        controls.addWidget(self._note, 1)
        left.addLayout(controls)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 3)
        layout.addWidget(self.bars, 1)

    # ------------------------------------------------------------------------------------ public
    def show_prediction(self, heard, word: int | None, class_names: Sequence[str]) -> None:
        """A Files-tab row: the file ``heard`` (a :class:`~workbench.core.inference.sound_files.
        SoundFilePrediction`) as a whole, or its word number ``word``."""
        name = Path(heard.prediction.source).name
        if word is not None:
            found = heard.words[word]
            self.show_clip(f"{name}, word {word + 1} ({found.start_s:.2f}–{found.end_s:.2f} s): the clip "
                           "the model read", found.clip, heard.sample_rate, found.features, class_names,
                           found.probabilities)
        elif len(heard.words) > 1:
            self.show_recording(f"{name}: the whole {heard.duration_s:.2f} s recording and the words found",
                                heard.recording, heard.sample_rate, heard.recording_features,
                                [(w.start_s, w.end_s, w.label) for w in heard.words])
        else:
            self.show_clip(f"{name}: {heard.duration_s:.2f} s; the model read this "
                           f"{heard.clip.size / heard.sample_rate:.2f} s clip (trimmed, level-normalised, "
                           f"fitted as in training)", heard.clip, heard.sample_rate, heard.features,
                           class_names, heard.prediction.probabilities)

    def show_clip(self, title: str, clip: np.ndarray, sample_rate: int, features: np.ndarray,
                  class_names: Sequence[str], probabilities: Sequence[float]) -> None:
        """One clip the model read: its features, its probabilities; Play plays the clip."""
        self._set_sound(clip, sample_rate, "Play the clip as the model read it (trimmed, level-normalised, "
                                           "fitted to the model's length)")
        seconds = max(self._samples.size, 1) / self._rate
        self.view.set_spectrogram(np.asarray(features, np.float32), features.shape[0] / seconds, FEATURE_LEVELS)
        self.bars.show()
        self.bars.set_probabilities(list(class_names), probabilities)
        self._title.setText(title)
        self._note.setText("")

    def show_recording(self, title: str, recording: np.ndarray, sample_rate: int, features: np.ndarray,
                       words: Sequence[tuple[float, float, str]]) -> None:
        """A whole recording with its words marked: (start s, end s, label) each; Play plays it all."""
        self._set_sound(recording, sample_rate, "Play the whole recording")
        seconds = max(self._samples.size, 1) / self._rate
        self.view.set_spectrogram(np.asarray(features, np.float32), features.shape[0] / seconds, FEATURE_LEVELS)
        self.view.set_spans(words)
        self.bars.hide()  # one recording, several answers: the words' rows have their probabilities
        self._title.setText(title)
        self._note.setText(f"{len(words)} word(s) found; select a word's row to see what the model read there."
                           if words else "No word found: the recording is quieter than the detector's threshold.")

    def clear(self) -> None:
        self._samples, self._rate = np.zeros(0, np.float32), 0
        self.view.clear()
        self.bars.clear()
        self.bars.show()
        self._note.setText("")
        self._title.setText(PROMPT)
        self._play.setEnabled(False)

    def show_message(self, text: str) -> None:
        """Nothing to hear yet (or it could not be read): ``text`` instead of the title."""
        self.clear()
        self._title.setText(text)

    def title_text(self) -> str:
        return self._title.text()

    def note_text(self) -> str:
        return self._note.text()

    def sound(self) -> tuple[np.ndarray, int]:
        """(samples, sample rate) that Play plays."""
        return self._samples, self._rate

    @Slot()
    def play(self) -> None:
        if self._samples.size:
            self._player.submit(playback_job(self._samples, self._rate))

    def shutdown(self) -> None:
        self._player.shutdown()

    # ----------------------------------------------------------------------------------- private
    def _set_sound(self, samples: np.ndarray, sample_rate: int, tooltip: str) -> None:
        self._samples, self._rate = np.asarray(samples, np.float32), int(sample_rate)
        self._play.setToolTip(tooltip)
        self._play.setEnabled(self._samples.size > 0)

    @Slot(str)
    def _on_playback_failed(self, message: str) -> None:
        self._note.setText(f"Cannot play: {message}")

"""VideoFileDetailWidget: the Files tab's selected video, as the model read it along its timeline.

Shown under the Files tab's table for a video file (read by a video model window by window, or by
an image model frame by frame). The file's row shows every window's class probabilities against
time, with a few of its frames along the top, and the whole clip's probabilities; a window's row
shades that window and shows its probabilities. Everything shown is plain data from
:func:`~workbench.gui.panels.live.files_jobs.predict_video_file`; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.gui.widgets.probability_bars_widget import ProbabilityBarsWidget
from workbench.gui.widgets.video_timeline_widget import VideoTimelineWidget

PROMPT = "Select a video's row above to see what the model read along its timeline."


class VideoFileDetailWidget(QWidget):
    """Probability against time for the selected video, and the selected window's probabilities."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoFileDetailWidget")
        self.setAccessibleName("Selected video")
        self._title = QLabel(PROMPT, self)
        self._title.setObjectName("videoFileTitle")
        self._title.setWordWrap(True)
        self.timeline = VideoTimelineWidget(self)
        self.timeline.setMinimumHeight(200)
        self.bars = ProbabilityBarsWidget(self)
        self.bars.setMinimumWidth(220)
        self._note = QLabel("", self)
        self._note.setObjectName("videoFileNote")
        self._note.setWordWrap(True)
        self._shown = None  # the VideoFileView on the timeline (one plot per file, not per row)

        left = QVBoxLayout()
        left.addWidget(self._title)
        left.addWidget(self.timeline, 1)
        left.addWidget(self._note)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 3)
        layout.addWidget(self.bars, 1)

    # ------------------------------------------------------------------------------------ public
    def show_prediction(self, view, window: int | None, class_names: Sequence[str]) -> None:
        """A Files-tab row: the video of ``view`` (a :class:`~workbench.gui.panels.live.files_jobs.
        VideoFileView`) as a whole, or its window number ``window``."""
        seen = view.seen
        if view is not self._shown:
            self.timeline.set_timeline(class_names, [(w.start_s, w.end_s, w.probabilities) for w in seen.windows],
                                       seen.duration_s, view.frames)
            self._shown = view
        self.timeline.select_window(window)
        name = Path(seen.prediction.source).name
        count = len(seen.windows)
        if window is not None:
            found = seen.windows[window]
            self._title.setText(f"{name}, window {window + 1} of {count} ({found.start_s:.1f}–{found.end_s:.1f} s): "
                                f"{found.top[0][0]} {found.top[0][1]:.0%}")
            self.bars.set_probabilities(list(class_names), found.probabilities)
            self._note.setText("The shaded window is the stretch of video the model read for this row.")
        else:
            self._title.setText(f"{name}: {seen.duration_s:.1f} s at {seen.fps:g} fps ({seen.num_frames} frames), "
                                f"read in {count} window{'s' if count != 1 else ''}; overall "
                                f"{seen.prediction.label} {seen.prediction.top[0][1]:.0%}")
            self.bars.set_probabilities(list(class_names), seen.prediction.probabilities)
            self._note.setText("Each point is one window the model read; select a window's row to shade it. "
                               "The bars on the right are the whole clip's answer."
                               if count > 1 else "The model read the whole clip as one window.")

    def clear(self) -> None:
        self._shown = None
        self.timeline.clear()
        self.bars.clear()
        self._note.setText("")
        self._title.setText(PROMPT)

    def title_text(self) -> str:
        return self._title.text()

    def note_text(self) -> str:
        return self._note.text()

    def shutdown(self) -> None:
        """Nothing runs in the background here (the Files tab predicts); kept for the detail protocol."""

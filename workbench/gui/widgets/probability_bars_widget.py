"""Class probabilities of one prediction: the top label in a big font, and a horizontal bar each.

When the top probability is under a threshold the widget says "not sure" instead of pretending,
because a softmax always sums to one and picks *something*, even for a scribble.
Updates are cheap when the class names stay the same (live camera, microphone or drawing), so the
bars and their text items are reused rather than rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.gui.widgets._style import (
    BLUE, GREY, WARNING, make_plot_widget, make_static, palette_colors,
)

DEFAULT_THRESHOLD = 0.6
NOT_SURE = "not sure"


class ProbabilityBarsWidget(QWidget):
    """The prediction as a headline plus one bar per class (top class first in the list order)."""

    def __init__(self, parent: QWidget | None = None, threshold: float = DEFAULT_THRESHOLD) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityBarsWidget")
        self.setAccessibleName("Class probabilities")
        self._threshold = threshold
        self._names: list[str] = []
        self._probs = np.zeros(0)
        self._texts: list[pg.TextItem] = []

        self._top_label = QLabel(self)
        self._top_label.setObjectName("probabilityTopLabel")
        self._top_label.setAccessibleName("Prediction")
        self._top_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        self._top_label.setFont(font)
        self._view = make_plot_widget("probabilityBarsPlot", "Class probability bars", self)
        make_static(self._view)
        plot = self._view.getPlotItem()
        plot.invertY(True)  # first class at the top, in the order given
        plot.setLabel("bottom", "probability (%)")
        plot.setXRange(0, 100, padding=0)
        plot.showGrid(x=True, alpha=0.2)
        self._bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7, pen=pg.mkPen(None))
        plot.addItem(self._bars)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._top_label)
        layout.addWidget(self._view, 1)
        self.clear()

    # ----------------------------------------------------------------------------------- public
    def threshold(self) -> float:
        """Top probability below which the headline says "not sure"."""
        return self._threshold

    def set_threshold(self, value: float) -> None:
        """Change the "not sure" threshold (0..1) and refresh the headline."""
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"Expected a threshold between 0 and 1. Received: {value}.")
        self._threshold = value
        self._render()

    def set_probabilities(
        self, class_names: Sequence[str], probs: Sequence[float] | np.ndarray
    ) -> None:
        """Show one prediction: ``probs[i]`` (0..1) is the probability of ``class_names[i]``."""
        values = np.nan_to_num(np.asarray(probs, dtype=np.float64).reshape(-1), nan=0.0)
        if values.size != len(class_names) or values.size == 0:
            raise ValueError(
                "Expected one probability per class name (at least one). "
                f"Received: {len(class_names)} names and {values.size} probabilities."
            )
        if list(class_names) != self._names:
            self._names = list(class_names)
            self._rebuild_axis()
        self._probs = np.clip(values, 0.0, 1.0)
        self._render()

    def clear(self) -> None:
        """Forget the prediction and show an empty chart."""
        self._names, self._probs = [], np.zeros(0)
        self._rebuild_axis()
        self._render()

    def top_label_text(self) -> str:
        """The headline as shown, e.g. "7 · 93%" or "not sure (7? 45%)"."""
        return self._top_label.text()

    # --------------------------------------------------------------------------------- private
    def _rebuild_axis(self) -> None:
        plot = self._view.getPlotItem()
        for text in self._texts:
            plot.removeItem(text)
        _background, foreground = palette_colors()
        self._texts = []
        for i in range(len(self._names)):
            text = pg.TextItem("", color=foreground, anchor=(0.0, 0.5))
            plot.addItem(text)
            self._texts.append(text)
        plot.getAxis("left").setTicks([[(i, name) for i, name in enumerate(self._names)]])
        plot.setYRange(-0.6, max(len(self._names), 1) - 0.4, padding=0)

    def _render(self) -> None:
        k = len(self._names)
        if k == 0:
            self._bars.setOpts(x0=np.zeros(0), y=np.zeros(0), width=np.zeros(0), brushes=[])
            self._top_label.setText("–")
            return
        top = int(np.argmax(self._probs))
        sure = self._probs[top] >= self._threshold
        brushes = [pg.mkBrush(GREY) for _ in range(k)]
        brushes[top] = pg.mkBrush(BLUE if sure else WARNING)
        percent = self._probs * 100.0
        self._bars.setOpts(x0=np.zeros(k), y=np.arange(k, dtype=float), width=percent, brushes=brushes)
        _background, foreground = palette_colors()
        for i, text in enumerate(self._texts):
            # Past ~85% the number would run off the chart, so it moves inside the bar, in white.
            inside = percent[i] > 85
            text.setText(f"{percent[i]:.0f}%")
            text.setColor("w" if inside else foreground)
            text.setAnchor((1.0, 0.5) if inside else (0.0, 0.5))
            text.setPos(percent[i], i)
        name, confidence = self._names[top], f"{percent[top]:.0f}%"
        self._top_label.setText(
            f"{name} · {confidence}" if sure else f"{NOT_SURE} ({name}? {confidence})")
        self._top_label.setAccessibleDescription(
            f"Prediction {name} with {confidence} confidence" if sure
            else f"Not sure; best guess {name} with {confidence}"
        )

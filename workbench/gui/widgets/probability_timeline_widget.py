"""ProbabilityTimelineWidget: each class's probability over the last seconds, one line per class.

pyqtgraph's ``scrollingPlots`` pattern: one persistent curve per class, fixed numpy buffers, and a
redraw paced by a QTimer. :meth:`append` only writes into the buffers and marks them dirty (it may
be called 30 times a second); the timer redraws at most :data:`REDRAW_INTERVAL_MS` apart. The
buffers have a fixed capacity: when full, the points off the chart (older than the window) are
dropped, so memory stays flat however long the camera runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from workbench.gui.widgets._plot_items import add_legend_above
from workbench.gui.widgets._style import SERIES_COLORS, make_plot_widget, make_static

REDRAW_INTERVAL_MS = 100
DEFAULT_WINDOW_S = 20.0
DEFAULT_CAPACITY = 4096  # a 20 s window at up to ~150 answers a second
MAX_LEGEND_CLASSES = 20


def class_color(index: int, count: int):
    """The colour-blind-safe set for up to six classes, evenly spaced hues beyond."""
    return SERIES_COLORS[index] if count <= len(SERIES_COLORS) else pg.intColor(index, hues=count, sat=200)


class ProbabilityTimelineWidget(QWidget):
    """Probabilities (0..1) of every class against time, newest at the right edge (0 s)."""

    def __init__(self, parent: QWidget | None = None, window_s: float = DEFAULT_WINDOW_S,
                 capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityTimelineWidget")
        self.setAccessibleName("Class probabilities over time")
        self._window_s = float(window_s)
        self._capacity = max(16, int(capacity))
        self._names: list[str] = []
        self._t = np.empty(self._capacity)
        self._p = np.empty((self._capacity, 0))
        self._size = 0
        self._dirty = False
        self._curves: list[pg.PlotDataItem] = []
        self._view = make_plot_widget("probabilityTimelinePlot", "Class probabilities over time", self)
        make_static(self._view)
        plot = self._view.getPlotItem()
        plot.setLabel("bottom", "seconds ago")
        plot.setLabel("left", "probability")
        plot.setXRange(-self._window_s, 0, padding=0)
        plot.setYRange(0, 1, padding=0.02)
        plot.setClipToView(True)
        self._legend = add_legend_above(plot, columns=10)  # above the plot: over it, it hid the curves
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._view)
        self._timer = QTimer(self)
        self._timer.setObjectName("probabilityTimelineRedrawTimer")
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self._on_redraw_timeout)

    # ----------------------------------------------------------------------------------- public
    def set_class_names(self, names: Sequence[str]) -> None:
        """One curve per class (rebuilt, and the history cleared, only when the names change)."""
        names = [str(n) for n in names]
        if names == self._names:
            return
        plot = self._view.getPlotItem()
        for curve in self._curves:
            plot.removeItem(curve)
        self._legend.clear()
        self._names = names
        self._p = np.empty((self._capacity, len(names)))
        self._size = 0
        self._legend.setColumnCount(max(1, min(len(names), 10)))
        self._curves = []
        for i, name in enumerate(names):
            curve = plot.plot([], [], pen=pg.mkPen(class_color(i, len(names)), width=2),
                              name=name if len(names) <= MAX_LEGEND_CLASSES else None)
            self._curves.append(curve)
        self._legend.setVisible(0 < len(names) <= MAX_LEGEND_CLASSES)

    def class_names(self) -> list[str]:
        return list(self._names)

    def append(self, timestamp: float, probabilities: Sequence[float] | np.ndarray) -> None:
        """Add one answer at ``timestamp`` (seconds, e.g. ``time.perf_counter()``)."""
        values = np.asarray(probabilities, np.float64).reshape(-1)
        if values.size != len(self._names):
            raise ValueError(f"Expected {len(self._names)} probabilities, one per class. "
                             f"Received: {values.size}")
        if self._size == self._capacity:
            # Full: drop what is off the chart, and at least a quarter (answers faster than the
            # capacity holds in a window), so appending stays amortised O(1) in fixed memory.
            start = int(np.searchsorted(self._t[:self._size], timestamp - self._window_s))
            keep = min(self._size - start, self._capacity * 3 // 4)
            self._t[:keep] = self._t[self._size - keep:self._size]
            self._p[:keep] = self._p[self._size - keep:self._size]
            self._size = keep
        self._t[self._size] = timestamp
        self._p[self._size] = values
        self._size += 1
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def clear(self) -> None:
        """Forget every point (the curves stay)."""
        self._size = 0
        self._dirty = True
        self._redraw()

    def point_count(self) -> int:
        """Points held (at most the capacity)."""
        return self._size

    def capacity(self) -> int:
        return self._capacity

    def curve_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(seconds ago, probability) of class ``index`` as last drawn (for tests)."""
        x, y = self._curves[index].getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)

    def redraw_now(self) -> None:
        self._redraw()

    # ---------------------------------------------------------------------------------- private
    def _redraw(self) -> None:
        self._dirty = False
        if self._size == 0:
            for curve in self._curves:
                curve.setData([], [])
            return
        t = self._t[:self._size]
        start = int(np.searchsorted(t, t[-1] - self._window_s))  # older points are off the chart
        x = t[start:] - t[-1]
        for i, curve in enumerate(self._curves):
            curve.setData(x, self._p[start:self._size, i])

    @Slot()
    def _on_redraw_timeout(self) -> None:
        if self._dirty:
            self._redraw()
        else:
            self._timer.stop()  # nothing new: idle until the next append

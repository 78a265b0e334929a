"""VideoTimelineWidget: what a model read along a video, window by window.

A pyqtgraph plot of class probability (%) against time: one curve per class the model ever rated
highly (a point at each window's middle; a single window is drawn across its span), the selected
window shaded, and a few of the clip's frames along the top at their times. Plain data in, nothing
computed here but which classes are worth a curve.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.gui.widgets._style import SERIES_COLORS, make_plot_widget, make_static, shorten
from workbench.gui.widgets.thumbnail_strip_widget import array_to_qimage

#: A class gets a curve when some window gives it this much (the top class of every window always does).
CURVE_THRESHOLD = 0.1
MAX_CURVES = len(SERIES_COLORS)
Y_RANGE = (-8.0, 110.0)  # percent: room for the 0 and 100 labels, which pyqtgraph hides near an edge
AXIS_WIDTH = 48  # the left axis, fixed so the frames above line up with the plot's time axis


def classes_to_draw(probabilities: np.ndarray, limit: int = MAX_CURVES) -> list[int]:
    """The classes worth a curve for (windows, classes) ``probabilities``: each window's top class,
    then any class reaching :data:`CURVE_THRESHOLD`, by their highest probability, at most ``limit``."""
    if probabilities.size == 0:
        return []
    peak = probabilities.max(axis=0)
    tops = set(np.argmax(probabilities, axis=1).tolist())
    chosen = [int(i) for i in np.argsort(-peak, kind="stable") if int(i) in tops or peak[i] >= CURVE_THRESHOLD]
    return chosen[:limit]


class VideoTimelineWidget(QWidget):
    """Class probability against time over a clip's windows, with frames along the top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoTimelineWidget")
        self.setAccessibleName("Class probability along the video")
        self._frames_row = QHBoxLayout()
        self._frames_row.setSpacing(4)
        self._frame_labels: list[QWidget] = []
        self._plot = make_plot_widget("videoTimelinePlot", "Class probability against time", self)
        make_static(self._plot)
        item = self._plot.getPlotItem()
        item.setLabel("bottom", "seconds")
        item.setLabel("left", "probability (%)")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.getAxis("left").setWidth(AXIS_WIDTH)
        self._frames_row.setContentsMargins(AXIS_WIDTH, 0, 0, 0)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setYRange(*Y_RANGE, padding=0)
        item.getAxis("left").setTicks([[(v, str(v)) for v in (0, 25, 50, 75, 100)]])
        # The legend is a line of text above the plot: inside it, it would cover the top class's curve.
        self._legend = QLabel(self)
        self._legend.setObjectName("videoTimelineLegend")
        self._legend.setAccessibleName("Curves drawn")
        self._legend.setTextFormat(Qt.TextFormat.RichText)
        background = QColor(SERIES_COLORS[0])
        background.setAlpha(45)
        self._marker = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(background),
                                           pen=pg.mkPen(QColor(SERIES_COLORS[0]), width=1))
        self._marker.setZValue(-10)
        self._marker.hide()
        item.addItem(self._marker)
        self._curves: list[pg.PlotDataItem] = []
        self._spans: list[tuple[float, float]] = []
        self._classes: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._frames_row)
        layout.addWidget(self._legend, 0, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self._plot, 1)

    # ----------------------------------------------------------------------------------- public
    def set_timeline(self, class_names: Sequence[str], windows: Sequence[tuple[float, float, Sequence[float]]],
                     duration_s: float, frames: Sequence[tuple[float, np.ndarray]] = ()) -> None:
        """Show a clip: ``windows`` are (start s, end s, one probability per class) in time order;
        ``frames`` (time s, RGB array) are shown along the top."""
        self._clear_plot()
        self._spans = [(float(s), float(e)) for s, e, _p in windows]
        probabilities = np.array([list(p) for _s, _e, p in windows], np.float64).reshape(len(windows), -1)
        chosen = classes_to_draw(probabilities)
        self._classes = [class_names[i] for i in chosen]
        if len(windows) == 1:  # one answer for the whole span: a level line across it
            start, end = self._spans[0]
            x = np.array([start, end])
            ys = {i: np.repeat(probabilities[0, i] * 100.0, 2) for i in chosen}
            symbol = None
        else:
            x = np.array([(s + e) / 2 for s, e in self._spans])
            ys = {i: probabilities[:, i] * 100.0 for i in chosen}
            symbol = "o"
        item = self._plot.getPlotItem()
        for n, i in enumerate(chosen):
            color = SERIES_COLORS[n % len(SERIES_COLORS)]
            curve = item.plot(x, ys[i], pen=pg.mkPen(color, width=2), symbol=symbol, symbolSize=6,
                              symbolBrush=pg.mkBrush(color), symbolPen=pg.mkPen(color))
            curve.setToolTip(class_names[i])
            self._curves.append(curve)
        self._legend.setText("&nbsp;&nbsp;".join(
            f'<span style="color:{SERIES_COLORS[n % len(SERIES_COLORS)].name()}">━</span>&nbsp;'
            f"{html.escape(shorten(class_names[i], 20))}" for n, i in enumerate(chosen)))
        end = max([float(duration_s)] + [e for _s, e in self._spans]) or 1.0
        item.disableAutoRange()  # adding curves turns it on again; the axes are the clip and 0–100 %
        item.setXRange(0, end, padding=0.01)
        item.setYRange(*Y_RANGE, padding=0)
        self._set_frames(frames)

    def select_window(self, index: int | None) -> None:
        """Shade window ``index`` (None: no window, the whole clip is meant)."""
        if index is None or not 0 <= index < len(self._spans):
            self._marker.hide()
            return
        self._marker.setRegion(self._spans[index])
        self._marker.show()

    def clear(self) -> None:
        self._clear_plot()
        self._spans = []
        self._set_frames(())

    # ------------------------------------------------------------------------------ for tests
    def curve_names(self) -> list[str]:
        """The classes drawn, in legend order."""
        return list(self._classes)

    def curve_data(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, probability %) of curve ``index``."""
        return self._curves[index].getData()

    def selected_span(self) -> tuple[float, float] | None:
        return tuple(self._marker.getRegion()) if self._marker.isVisible() else None

    def frame_count(self) -> int:
        return len(self._frame_labels)

    # --------------------------------------------------------------------------------- private
    def _clear_plot(self) -> None:
        item = self._plot.getPlotItem()
        for curve in self._curves:
            item.removeItem(curve)
        self._curves = []
        self._classes = []
        self._legend.setText("")
        self._marker.hide()

    def _set_frames(self, frames: Sequence[tuple[float, np.ndarray]]) -> None:
        for label in self._frame_labels:
            self._frames_row.removeWidget(label)
            label.deleteLater()
        self._frame_labels = []
        for seconds, frame in frames:
            cell = QLabel(self)
            cell.setObjectName(f"videoTimelineFrame{len(self._frame_labels)}")
            cell.setPixmap(QPixmap.fromImage(array_to_qimage(frame)))
            cell.setToolTip(f"The frame at {seconds:.2f} s")
            cell.setAccessibleName(f"Frame at {seconds:.2f} seconds")
            caption = QLabel(f"{seconds:.1f} s", self)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            holder = QWidget(self)
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(0)
            column.addWidget(cell, 0, Qt.AlignmentFlag.AlignHCenter)
            column.addWidget(caption)
            self._frames_row.addWidget(holder, 1)  # spread evenly over the clip, as the frames are
            self._frame_labels.append(holder)

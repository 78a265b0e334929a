"""SpectrogramViewWidget: a log-mel spectrogram as a pyqtgraph image, scrolling or static.

Scrolling mode keeps a fixed (columns, n_mels) numpy buffer; :meth:`append` shifts it left by the
new columns and uploads it once, so a 25 Hz timer costs one ``setImage`` per tick whatever the
number of columns. Static mode (:meth:`set_spectrogram`) shows one clip with a seconds axis, and
:meth:`set_spans` can mark labelled stretches of it (the words of a recording).
Levels are fixed for the live view (a quiet room stays dark instead of being stretched to full
contrast) and follow the clip's loudest bin for a static clip.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from workbench.gui.widgets._style import make_plot_widget, make_static

LIVE_LEVELS = (-95.0, -25.0)
CLIP_RANGE_DB = 70.0


class SpectrogramViewWidget(QWidget):
    """Time runs left to right (seconds), mel bands bottom to top."""

    def __init__(self, object_name: str, accessible_name: str, parent: QWidget | None = None, *,
                 n_mels: int = 64, seconds: float = 5.0, columns_per_second: float = 100.0,
                 compact: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(accessible_name)
        self._plot = make_plot_widget(f"{object_name}Plot", accessible_name, self)
        make_static(self._plot)
        item = self._plot.getPlotItem()
        item.setLabel("bottom", "seconds")
        item.setLabel("left", "mel band")
        item.getAxis("bottom").enableAutoSIPrefix(False)  # "seconds", never "seconds (x0.001)"
        item.getAxis("left").setWidth(42)
        if compact:  # a thumbnail in a grid: the picture only, the caption says what it is
            item.hideAxis("left")
            item.hideAxis("bottom")
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setColorMap(pg.colormap.get("viridis"))
        item.addItem(self._image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)
        self._n_mels = n_mels
        self._seconds = seconds
        self._rate = columns_per_second
        self._buffer = np.full((n_mels, max(1, int(seconds * columns_per_second))), LIVE_LEVELS[0], np.float32)
        self._columns_added = 0
        self._span_items: list = []
        self.reset(n_mels, columns_per_second)

    # --------------------------------------------------------------------------------- scrolling
    def reset(self, n_mels: int | None = None, columns_per_second: float | None = None) -> None:
        """Empty the scrolling view (e.g. a new device with another rate)."""
        self._n_mels = int(n_mels or self._n_mels)
        self._rate = float(columns_per_second or self._rate)
        self._buffer = np.full((self._n_mels, max(1, int(self._seconds * self._rate))), LIVE_LEVELS[0], np.float32)
        self._columns_added = 0
        self._image.setImage(self._buffer, autoLevels=False, levels=LIVE_LEVELS)
        self._image.setRect(QRectF(-self._seconds, 0, self._seconds, self._n_mels))
        self._plot.getPlotItem().setRange(xRange=(-self._seconds, 0), yRange=(0, self._n_mels), padding=0)

    def append(self, columns: np.ndarray) -> None:
        """Add (frames, n_mels) columns at the right edge, scrolling the rest left."""
        count = int(columns.shape[0])
        if count == 0:
            return
        width = self._buffer.shape[1]
        if count >= width:
            self._buffer[:] = columns[-width:].T
        else:
            self._buffer[:, :-count] = self._buffer[:, count:]
            self._buffer[:, -count:] = columns.T
        self._columns_added += count
        self._image.setImage(self._buffer, autoLevels=False, levels=LIVE_LEVELS)

    def columns_added(self) -> int:
        """Columns appended since the last reset (for tests: the view is being fed)."""
        return self._columns_added

    # ------------------------------------------------------------------------------------ static
    def set_spectrogram(self, spectrogram: np.ndarray, columns_per_second: float,
                        levels: tuple[float, float] | None = None) -> None:
        """Show one clip's (frames, n_mels) spectrogram, 0…duration seconds.

        ``levels`` (black, white) default to the clip's loudest bin and ``CLIP_RANGE_DB`` below it,
        for dB values; features on another scale (the model's standardised log-mel) pass theirs.
        """
        frames, n_mels = spectrogram.shape
        duration = max(frames, 1) / columns_per_second
        if levels is None:
            top = float(spectrogram.max()) if spectrogram.size else LIVE_LEVELS[1]
            levels = (top - CLIP_RANGE_DB, top)
        self._clear_spans()
        self._image.setImage(np.ascontiguousarray(spectrogram.T), autoLevels=False, levels=levels)
        self._image.setRect(QRectF(0, 0, duration, n_mels))
        self._plot.getPlotItem().setRange(xRange=(0, duration), yRange=(0, n_mels), padding=0)
        self._columns_added = frames

    def set_spans(self, spans) -> None:
        """Mark (start s, end s, label) stretches of the static spectrogram: a framed band each, its
        label above it."""
        self._clear_spans()
        plot = self._plot.getPlotItem()
        top = self._image.height() if self._image.image is not None else self._n_mels
        for start, end, label in spans:
            region = pg.LinearRegionItem((start, end), movable=False, brush=pg.mkBrush(255, 255, 255, 28),
                                         pen=pg.mkPen(255, 255, 255, 200, width=1.5))
            text = pg.TextItem(str(label), color=(255, 255, 255), anchor=(0.5, 0.0))
            text.setPos((start + end) / 2.0, top)
            for item in (region, text):
                plot.addItem(item)
                self._span_items.append(item)

    def spans_shown(self) -> int:
        """How many stretches are marked (for tests)."""
        return sum(isinstance(item, pg.LinearRegionItem) for item in self._span_items)

    def clear(self) -> None:
        self._clear_spans()
        self._image.clear()
        self._columns_added = 0

    def _clear_spans(self) -> None:
        plot = self._plot.getPlotItem()
        for item in self._span_items:
            plot.removeItem(item)
        self._span_items = []

    def image(self) -> np.ndarray | None:
        """The array shown (n_mels, frames), or None."""
        return self._image.image

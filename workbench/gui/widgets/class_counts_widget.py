"""Bar chart of how many samples each class has, with too-small or imbalancing classes flagged.

Colour is not the only cue: the caption names the flagged classes and why, so the warning also
reaches people who cannot tell the colours apart and screen-reader users.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workbench.gui.widgets._style import (
    BLUE, WARNING, fit_category_labels, make_plot_widget, make_static, palette_colors, slot_pixels,
)
from workbench.gui.widgets.empty_state_widget import EmptyStateWidget

EMPTY_MESSAGE = ("No dataset yet.\n\nChoose a folder with one sub-folder of examples per class, or an .npz "
                 "file: the samples of each class are counted here.")
MIN_COUNT = 5  # fewer samples than this cannot even fill a train/validation split sensibly
IMBALANCE_RATIO = 5.0  # a class with under 1/5 of the largest class's samples skews training


class ClassCountsWidget(QWidget):
    """Counts per class as bars; flagged classes in the warning colour."""

    def __init__(
        self,
        parent: QWidget | None = None,
        min_count: int = MIN_COUNT,
        imbalance_ratio: float = IMBALANCE_RATIO,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("classCountsWidget")
        self.setAccessibleName("Samples per class")
        self._min_count = min_count
        self._imbalance_ratio = imbalance_ratio
        self._names: list[str] = []
        self._counts = np.zeros(0, dtype=np.int64)
        self._highlight: set[str] = set()
        self._texts: list[pg.TextItem] = []

        self._caption = QLabel(self)
        self._caption.setObjectName("classCountsCaption")
        self._caption.setAccessibleName("Samples per class summary")
        self._caption.setWordWrap(True)
        self._view = make_plot_widget("classCountsPlot", "Samples per class chart", self)
        make_static(self._view)
        plot = self._view.getPlotItem()
        plot.setLabel("left", "samples")
        plot.showGrid(y=True, alpha=0.2)
        self._bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        plot.addItem(self._bars)
        plot.getViewBox().sigResized.connect(self._on_view_resized)
        self._empty_state = EmptyStateWidget(self._view, EMPTY_MESSAGE, self, object_name="classCountsEmptyState")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._caption)
        layout.addWidget(self._empty_state, 1)
        self.clear()

    # ----------------------------------------------------------------------------------- public
    def set_counts(
        self,
        class_names: Sequence[str],
        counts: Sequence[int] | np.ndarray,
        highlight: set[str] | None = None,
    ) -> None:
        """Show one bar per class.

        Args:
            class_names: names in display order.
            counts: samples per class, same length as ``class_names``.
            highlight: classes to draw in the warning colour; None flags those with fewer than
                ``min_count`` samples or fewer than 1/``imbalance_ratio`` of the largest class.
        """
        values = np.asarray(counts, dtype=np.int64).reshape(-1)
        if len(class_names) != values.size:
            raise ValueError(
                "Expected one count per class name. "
                f"Received: {len(class_names)} names and {values.size} counts."
            )
        self._names = list(class_names)
        self._counts = values
        self._highlight = set(highlight) if highlight is not None else self._auto_highlight()
        self._render()

    def clear(self) -> None:
        """Remove all bars and show the empty-state caption."""
        self._names, self._counts, self._highlight = [], np.zeros(0, dtype=np.int64), set()
        self._render()

    @property
    def empty_state(self) -> EmptyStateWidget:
        """The chart, or what to do while there are no classes to count."""
        return self._empty_state

    def highlighted(self) -> set[str]:
        """Names of the classes drawn in the warning colour."""
        return set(self._highlight)

    def bar_colors(self) -> list[str]:
        """Bar fill colours as '#rrggbb', in class order (for tests)."""
        return [pg.mkBrush(b).color().name() for b in self._bars.opts.get("brushes") or []]

    # --------------------------------------------------------------------------------- private
    def _auto_highlight(self) -> set[str]:
        if self._counts.size == 0:
            return set()
        largest = int(self._counts.max())
        return {
            name
            for name, count in zip(self._names, self._counts.tolist())
            if count < self._min_count or count * self._imbalance_ratio < largest
        }

    def _render(self) -> None:
        plot = self._view.getPlotItem()
        for text in self._texts:
            plot.removeItem(text)
        self._texts = []
        k = len(self._names)
        x = np.arange(k, dtype=float)
        flagged = [name in self._highlight for name in self._names]
        self._bars.setOpts(
            x=x, height=self._counts.astype(float), width=0.7,
            brushes=[pg.mkBrush(WARNING if f else BLUE) for f in flagged],
            pen=pg.mkPen(None),  # one shared pen: pyqtgraph 0.14 fails on an empty pens list
        )
        top = float(self._counts.max()) if k else 1.0
        plot.setRange(xRange=(-0.6, max(k, 1) - 0.4), yRange=(0, max(top, 1.0) * 1.12), padding=0)
        _background, foreground = palette_colors()
        for i, count in enumerate(self._counts.tolist()):
            text = pg.TextItem(str(count), color=WARNING if flagged[i] else foreground,
                               anchor=(0.5, 1.0))
            text.setPos(i, count)
            plot.addItem(text)
            self._texts.append(text)
        self._fit_labels()
        self._caption.setText(self._summary())
        self._caption.setVisible(bool(self._names))  # the empty state says it in the chart's place
        if self._names:
            self._empty_state.show_content()
        else:
            self._empty_state.show_message(EMPTY_MESSAGE)

    def _fit_labels(self) -> None:
        """Elide or thin the class names, and hide the counts, so that nothing overlaps."""
        metrics = QFontMetrics(self._view.font())
        room = slot_pixels(self._view)
        labels = fit_category_labels(self._names, room, metrics)
        self._view.getPlotItem().getAxis("bottom").setTicks([labels])
        widest = max((metrics.horizontalAdvance(str(c)) for c in self._counts.tolist()), default=0)
        for text in self._texts:
            text.setVisible(widest + 4 <= room)

    @Slot(object)
    def _on_view_resized(self, _view_box) -> None:
        self._fit_labels()

    def _summary(self) -> str:
        if not self._names:
            return "No data yet: choose a folder with one sub-folder per class."
        total = int(self._counts.sum())
        text = f"{len(self._names)} classes, {total} samples."
        flagged = [(n, c) for n, c in zip(self._names, self._counts.tolist()) if n in self._highlight]
        if flagged:
            listed = ", ".join(f"{n} ({c})" for n, c in flagged)
            text += (f" Needs more samples: {listed}. Aim for at least {self._min_count} per class "
                     "and roughly balanced counts.")
        return text

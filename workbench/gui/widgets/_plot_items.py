"""Plot parts pyqtgraph lacks: a category axis that writes long names upwards instead of dropping them,
and a legend in a row above its plot instead of over the data."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics

from workbench.gui.widgets._style import palette_colors


class CategoryAxis(pg.AxisItem):
    """A bottom axis naming one category per slot (slot ``i`` spans ``i``..``i + 1``).

    Names are written side by side when every whole name fits; otherwise they are written upwards,
    one per slot, elided in the middle to :attr:`MAX_TEXT_PX` (the full names belong in tooltips), so
    long names never leave categories unnamed. Only when the slots are narrower than a line of text
    (dozens of categories) is every n-th one named. pyqtgraph cannot rotate tick labels (and drops
    those reaching past the axis' ends), so the upward labels are laid out and painted here.
    """

    MAX_TEXT_PX = 110

    def __init__(self, **kwargs) -> None:
        super().__init__("bottom", **kwargs)
        self._names: list[str] = []
        self._labels: list[tuple[int, str]] = []
        self._vertical = False

    def set_categories(self, names: Sequence[str], slot_px: float) -> None:
        """Name ``names`` along the axis, ``slot_px`` screen pixels apart."""
        self._names = list(names)
        self.refit(slot_px)

    def labels(self) -> list[tuple[int, str]]:
        """(index, text) of the categories named, in order."""
        return list(self._labels)

    def is_vertical(self) -> bool:
        """Whether the names are written upwards."""
        return self._vertical

    def _metrics(self) -> QFontMetrics:
        return QFontMetrics(self.style["tickFont"] or self.font())

    def refit(self, slot_px: float) -> None:
        names, metrics = self._names, self._metrics()
        gap = metrics.horizontalAdvance("  ")
        widths = [metrics.horizontalAdvance(name) for name in names]
        side_by_side = slot_px > 0 and all((a + b) / 2 + gap <= slot_px for a, b in zip(widths, widths[1:]))
        if side_by_side or not names:
            labels, vertical = list(enumerate(names)), False
        else:
            line = metrics.height()
            stride = 1 if slot_px >= 0.8 * line else max(1, math.ceil(0.8 * line / max(slot_px, 1e-6)))
            labels = [(i, metrics.elidedText(names[i], Qt.TextElideMode.ElideMiddle, self.MAX_TEXT_PX))
                      for i in range(0, len(names), stride)]
            vertical = True
        if (labels, vertical) == (self._labels, self._vertical):
            return
        self._labels, self._vertical = labels, vertical
        if vertical:
            longest = max(metrics.horizontalAdvance(text) for _i, text in labels)
            label_height = self.label.boundingRect().height() if self.label.isVisible() else 0
            self.setHeight(int(longest + 10 + label_height))
        else:
            self.setHeight(None)
        self.setTicks([[(i + 0.5, text) for i, text in labels]])

    def generateDrawSpecs(self, p):  # noqa: N802 (pyqtgraph API)
        specs = super().generateDrawSpecs(p)
        if not self._vertical or specs is None:
            return specs
        axis_spec, tick_specs, _text_specs = specs
        bounds = self.mapRectFromParent(self.geometry())
        low, high = self.range
        if high == low:
            return axis_spec, tick_specs, []
        scale = bounds.width() / (high - low)
        texts = []
        for index, text in self._labels:
            x = (index + 0.5 - low) * scale + bounds.left()
            if bounds.left() <= x <= bounds.right():
                texts.append((x, bounds.top() + 5, text))
        return axis_spec, tick_specs, texts

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs):  # noqa: N802 (pyqtgraph API)
        if not self._vertical:
            super().drawPicture(p, axisSpec, tickSpecs, textSpecs)
            return
        super().drawPicture(p, axisSpec, tickSpecs, [])
        metrics = self._metrics()
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        line = metrics.height()
        for x, top, text in textSpecs:
            p.save()
            p.translate(x, top)
            p.rotate(-90)  # reading upwards, the name ending at the axis
            p.drawText(QRectF(-self.MAX_TEXT_PX - 4, -line / 2, self.MAX_TEXT_PX + 4, line),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
            p.restore()


class RowLegend(pg.LegendItem):
    """A legend in a row of its own above a plot (:func:`add_legend_above`), laid out by the plot's layout.

    pyqtgraph's legend floats over the data, where it hid the newest points. Its width is left to the
    plot's column (a width of its own would widen that column and misalign plots whose x axes are
    linked); when hidden it takes no room.
    """

    def updateSize(self) -> None:  # noqa: N802 (pyqtgraph API)
        self.layout.activate()
        self.updateGeometry()  # the plot's layout asks again for the (changed) size hint

    def sizeHint(self, which, constraint=None):  # noqa: N802 (Qt API)
        hint = self.layout.sizeHint(which, constraint) if constraint is not None else self.layout.sizeHint(which)
        hint.setWidth(0)
        if not self.isVisible():
            hint.setHeight(0)
        return hint

    def setVisible(self, visible: bool) -> None:  # noqa: N802 (Qt API)
        super().setVisible(visible)
        self.updateGeometry()

    def paint(self, p, *args) -> None:
        pass  # no frame: a row of entries above the plot


def add_legend_above(plot: pg.PlotItem, columns: int = 4) -> RowLegend:
    """A :class:`RowLegend` in ``plot``'s title row (these plots have no title), ``columns`` entries a
    line; ``plot.addItem(…, name=…)`` and ``removeItem`` keep it up to date, as with ``addLegend``."""
    _background, foreground = palette_colors()
    legend = RowLegend(labelTextSize="8pt", labelTextColor=foreground, colCount=columns, verSpacing=-6)
    plot.layout.removeItem(plot.titleLabel)
    plot.titleLabel.hide()
    plot.layout.addItem(legend, 0, 1)
    plot.legend = legend
    return legend

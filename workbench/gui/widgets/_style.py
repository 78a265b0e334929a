"""Shared look for the pyqtgraph-based widgets: palette-aware plots and a colour-blind-safe set.

pyqtgraph defaults to a black background with grey axes, which clashes with ordinary Qt widgets
around it; these helpers follow the application palette instead, so a dark desktop theme works too.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication, QWidget

# Okabe-Ito colours: distinguishable with the common forms of colour blindness.
BLUE = QColor(0, 114, 178)
ORANGE = QColor(230, 159, 0)
VERMILLION = QColor(213, 94, 0)
GREEN = QColor(0, 158, 115)
SKY = QColor(86, 180, 233)
PURPLE = QColor(204, 121, 167)
GREY = QColor(120, 130, 145)
SERIES_COLORS = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY)
WARNING = VERMILLION


#: Message colours for a light window and for a dark one: each reads at 4.5:1 or more on its background
#: (the dark red and amber of a light theme are too dark to read on a dark one).
MESSAGE_COLORS = {
    "error": (QColor("#c62828"), QColor("#ff8a80")),
    "warning": (QColor("#9c4a06"), QColor("#ffb74d")),
}


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette (the application's by default) draws light text on a dark window."""
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < palette.color(QPalette.ColorRole.WindowText).lightness()


def message_color(kind: str, palette: QPalette | None = None) -> QColor | None:
    """The text colour of an "error" or "warning" line in the current palette (None: the palette's own)."""
    pair = MESSAGE_COLORS.get(kind)
    return None if pair is None else QColor(pair[1] if is_dark(palette) else pair[0])


def message_style(kind: str, bold: bool = False) -> str:
    """A QLabel style sheet for a message of ``kind`` ("" for plain text in the palette's colours)."""
    color = message_color(kind)
    rules = ([f"color: {color.name()};"] if color is not None else []) + (["font-weight: bold;"] if bold else [])
    return f"QLabel {{ {' '.join(rules)} }}" if rules else ""


def contrast_ratio(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21; 4.5 reads as body text)."""
    def luminance(color: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def palette_colors() -> tuple[QColor, QColor]:
    """Return (background, foreground) from the application palette."""
    palette = QApplication.palette()
    return palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)


def make_plot_widget(
    object_name: str, accessible_name: str, parent: QWidget | None = None, axis_items: dict | None = None
) -> pg.PlotWidget:
    """A PlotWidget coloured like the surrounding widgets, with a stable name for tests and a11y."""
    background, foreground = palette_colors()
    widget = pg.PlotWidget(parent=parent, background=background, axisItems=axis_items)
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible_name)
    plot = widget.getPlotItem()
    for side in ("left", "bottom", "top", "right"):
        axis = plot.getAxis(side)
        axis.setPen(foreground)
        axis.setTextPen(foreground)
    return widget


def make_static(widget: pg.PlotWidget) -> None:
    """Turn off pan/zoom, the auto-range button and the context menu for charts that are read-only."""
    plot = widget.getPlotItem()
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.setMenuEnabled(False)


def shorten(name: str, limit: int = 12) -> str:
    """Shorten a class name for an axis label, keeping both ends ("class_…_12": numbered names
    differ at the end); the full name goes in tooltips and captions."""
    if len(name) <= limit:
        return name
    head = limit // 2
    return name[:head] + "…" + name[len(name) - (limit - 1 - head):]


def slot_pixels(widget: pg.PlotWidget) -> float:
    """Screen pixels per x unit of a plot: the room one category (bar, matrix column) has."""
    view_box = widget.getPlotItem().getViewBox()
    x_min, x_max = view_box.viewRange()[0]
    return view_box.width() / (x_max - x_min) if x_max > x_min else 0.0


def fit_category_labels(
    names: Sequence[str], slot_px: float, metrics: QFontMetrics, min_chars: int = 3
) -> list[tuple[int, str]]:
    """(index, label) pairs for categories one slot apart along a horizontal axis.

    pyqtgraph cannot rotate tick labels and draws them all even when they overlap, so names are
    elided in the middle to the room they have (numbered names differ at the end), and when not
    even ``min_chars`` characters fit, only every n-th category is named. The full names belong
    in captions, tooltips or a vertical axis.
    """
    gap = metrics.horizontalAdvance("  ")
    for stride in range(1, len(names) + 1):
        span = slot_px * stride
        whole = [(i, names[i]) for i in range(0, len(names), stride)]
        widths = [metrics.horizontalAdvance(text) for _i, text in whole]
        # Whole names fit when each pair of neighbours shares its span: long names borrow room
        # from short ones.
        if all((a + b) / 2 + gap <= span for a, b in zip(widths, widths[1:])):
            return whole
        room = max(0, int(span - gap))
        picked = [
            (i, metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, room)) for i, text in whole
        ]
        if all(text == names[i] or len(text) > min_chars for i, text in picked):
            return picked
    return []


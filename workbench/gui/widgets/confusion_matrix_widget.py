"""Confusion matrix heat map: rows are true classes (top to bottom), columns predicted classes.

Clicking a cell (or moving there with the arrow keys and pressing Enter) selects it and emits
``cell_clicked(true, predicted)``, which the results panel uses to show those samples.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QCheckBox, QGraphicsRectItem, QLabel, QVBoxLayout, QWidget

from workbench.gui.widgets._plot_items import CategoryAxis
from workbench.gui.widgets._style import WARNING, make_plot_widget, make_static, slot_pixels
from workbench.gui.widgets.empty_state_widget import EmptyStateWidget

# Sequential blues (as matplotlib's "Blues"): light for few, dark for many.
_BLUES = pg.ColorMap(
    pos=[0.0, 0.25, 0.5, 0.75, 1.0],
    color=[(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)],
)
_LUT = _BLUES.getLookupTable(0.0, 1.0, 256)
EMPTY_MESSAGE = "No confusion matrix yet: train a model or open a saved one, and evaluate it to see one."
ROW_LABEL_PX = 140  # the widest true-class name on the left axis before it is elided
MAX_LABELLED_CLASSES = 30  # beyond this the cells are too small to hold readable numbers


class _CellLabels(pg.GraphicsObject):
    """All the in-cell numbers as one item that paints them in one pass.

    A ``pg.TextItem`` per cell costs about 1 ms of GUI-thread time each to create (a hundred
    for ten classes were felt as a stall when a run finished). Here the labels are plain
    strings, drawn at the cell centres in device coordinates so they keep their size and are
    not stretched by the view's scaling.
    """

    def __init__(self) -> None:
        super().__init__()
        self._k = 0
        self._labels: list[tuple[str, QColor]] = []
        self._font = QFont()

    def set_cells(self, k: int, labels: list[tuple[str, QColor]], font: QFont) -> None:
        self.prepareGeometryChange()
        self._k, self._labels, self._font = k, labels, font
        self.update()

    def label(self, index: int) -> tuple[str, QColor]:
        return self._labels[index]

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        return QRectF(0, 0, self._k, self._k)

    def paint(self, painter: QPainter, *_args) -> None:
        if not self._labels:
            return
        to_device = painter.transform()
        cell = to_device.mapRect(QRectF(0, 0, 1, 1))  # a cell's size on screen
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        for index, (text, color) in enumerate(self._labels):
            row, col = divmod(index, self._k)
            centre = to_device.map(QPointF(col + 0.5, row + 0.5))
            box = QRectF(centre.x() - cell.width() / 2, centre.y() - abs(cell.height()) / 2,
                         cell.width(), abs(cell.height()))
            painter.setPen(color)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class ConfusionMatrixWidget(QWidget):
    """Heat map of a KxK count matrix with class-name ticks, in-cell counts and a selectable cell."""

    cell_clicked = Signal(int, int)  # (true class index, predicted class index)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrixWidget")
        self.setAccessibleName("Confusion matrix")
        self._matrix = np.zeros((0, 0), dtype=np.int64)
        self._class_names: list[str] = []
        self._selected: tuple[int, int] | None = None
        self._left_labels: list[tuple[int, str]] = []

        self._caption = QLabel(self)
        self._caption.setObjectName("confusionMatrixCaption")
        self._caption.setAccessibleName("Confusion matrix summary")
        self._caption.setWordWrap(True)
        self._normalize_box = QCheckBox("Colour by share of each true class", self)
        self._normalize_box.setObjectName("confusionMatrixNormalizeCheck")
        self._normalize_box.setAccessibleName("Normalise rows")
        self._normalize_box.setToolTip("Colour each row by its share, so small classes stand out")
        self._normalize_box.toggled.connect(self._on_normalize_toggled)

        # Every column is named: side by side when the names fit, else written upwards (elided, full in tooltips).
        self._bottom_axis = CategoryAxis()
        self._view = make_plot_widget("confusionMatrixView", "Confusion matrix cells", self,
                                      axis_items={"bottom": self._bottom_axis})
        self._view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._view.installEventFilter(self)
        make_static(self._view)
        plot = self._view.getPlotItem()
        plot.invertY(True)  # row 0 at the top, as a matrix is read
        plot.setAspectLocked(True)
        plot.setLabel("left", "true class")
        plot.setLabel("bottom", "predicted class")
        self._image = pg.ImageItem(axisOrder="row-major")  # matrix[row, col] -> (x=col, y=row)
        plot.addItem(self._image)
        self._cell_labels = _CellLabels()
        self._cell_labels.setZValue(5)  # over the colours, under the selection frame
        plot.addItem(self._cell_labels)
        self._highlight = QGraphicsRectItem()
        pen = pg.mkPen(WARNING, width=3)
        pen.setCosmetic(True)
        self._highlight.setPen(pen)
        self._highlight.setZValue(10)
        self._highlight.hide()
        plot.addItem(self._highlight)
        self._view.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        plot.getViewBox().sigResized.connect(self._on_view_resized)
        self._empty_message = EMPTY_MESSAGE
        self._empty_state = EmptyStateWidget(self._view, EMPTY_MESSAGE, self, object_name="confusionMatrixEmptyState")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._caption)
        layout.addWidget(self._normalize_box)
        layout.addWidget(self._empty_state, 1)
        self._render()

    # ----------------------------------------------------------------------------------- public
    @property
    def view(self) -> pg.PlotWidget:
        """The graphics view holding the cells (for tests: click at ``cell_center``)."""
        return self._view

    def set_matrix(self, matrix: np.ndarray, class_names: list[str]) -> None:
        """Show ``matrix[true, predicted]`` counts for ``class_names`` (K names for a KxK matrix)."""
        m = np.asarray(matrix)
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(class_names):
            raise ValueError(
                "Expected a KxK matrix with one class name per row. "
                f"Received: matrix shape {m.shape} and {len(class_names)} class names."
            )
        self._matrix = np.rint(np.nan_to_num(m)).astype(np.int64)
        self._class_names = list(class_names)
        if self._selected is not None and max(self._selected) >= len(class_names):
            self._selected = None
        self._render()

    @property
    def empty_state(self) -> EmptyStateWidget:
        """The cells, or what to do while there is no matrix."""
        return self._empty_state

    def set_empty_message(self, text: str) -> None:
        """What to say in the matrix's place while there is none (the owner knows what comes next)."""
        self._empty_message = text
        if not self._class_names:
            self._empty_state.show_message(text)

    def set_normalize_rows(self, on: bool) -> None:
        """Colour (and label) cells by their share of the row instead of by raw count."""
        self._normalize_box.setChecked(on)

    def select_cell(self, true_index: int, predicted_index: int) -> None:
        """Highlight a cell without emitting ``cell_clicked``."""
        k = len(self._class_names)
        if not (0 <= true_index < k and 0 <= predicted_index < k):
            raise IndexError(
                f"Expected indices below {k}. Received: ({true_index}, {predicted_index}).")
        self._selected = (true_index, predicted_index)
        self._highlight.setRect(QRectF(predicted_index, true_index, 1, 1))
        self._highlight.show()

    def clear_selection(self) -> None:
        """Highlight no cell (another model's matrix: its selection meant another thing)."""
        self._selected = None
        self._highlight.hide()

    def selected_cell(self) -> tuple[int, int] | None:
        """(true, predicted) of the highlighted cell, or None."""
        return self._selected

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(true, predicted) under viewport pixel (x, y) of ``view``, or None outside the cells."""
        scene = self._view.mapToScene(QPoint(int(x), int(y)))
        return self._cell_at_item_pos(self._image.mapFromScene(scene))

    def cell_center(self, true_index: int, predicted_index: int) -> QPoint:
        """Viewport pixel of a cell's centre, the inverse of ``cell_at``."""
        scene = self._image.mapToScene(QPointF(predicted_index + 0.5, true_index + 0.5))
        return self._view.mapFromScene(scene)

    def cell_label(self, true_index: int, predicted_index: int) -> tuple[str, QColor]:
        """The text drawn in a cell and its colour (none beyond MAX_LABELLED_CLASSES classes:
        IndexError)."""
        return self._cell_labels.label(true_index * len(self._class_names) + predicted_index)

    # --------------------------------------------------------------------------------- private
    def _cell_at_item_pos(self, pos: QPointF) -> tuple[int, int] | None:
        col, row = math.floor(pos.x()), math.floor(pos.y())
        k = len(self._class_names)
        return (row, col) if 0 <= row < k and 0 <= col < k else None

    def _colour_values(self) -> np.ndarray:
        m = self._matrix.astype(float)
        if self._normalize_box.isChecked():
            rows = m.sum(axis=1, keepdims=True)
            return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
        return m / max(m.max(), 1.0)

    def _render(self) -> None:
        plot = self._view.getPlotItem()
        k = len(self._class_names)
        self._cell_labels.set_cells(0, [], QFont())
        self._caption.setVisible(k > 0)  # without a matrix, the empty state says what to do
        self._normalize_box.setVisible(k > 0)
        if k == 0:
            self._image.clear()
            self._highlight.hide()
            self._caption.setText("")
            self._empty_state.show_message(self._empty_message)
            return
        self._empty_state.show_content()
        values = self._colour_values()
        self._image.setImage(values, levels=(0.0, 1.0), lut=_LUT)
        self._image.setRect(QRectF(0, 0, k, k))
        plot.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)
        self._fit_ticks()
        if k <= MAX_LABELLED_CLASSES:
            self._add_cell_texts(values)
        total, correct = int(self._matrix.sum()), int(np.trace(self._matrix))
        accuracy = f" ({correct / total:.1%})" if total else ""
        self._caption.setText(
            f"{correct} of {total} samples predicted correctly{accuracy}, on the diagonal. "
            "Rows: true class; columns: predicted class. Click a cell to see its samples."
        )
        if self._selected is not None:
            self.select_cell(*self._selected)
        else:
            self._highlight.hide()

    def axis_labels(self) -> dict[str, list[tuple[int, str]]]:
        """(class index, text) of the classes named on the "left" (true) and "bottom" (predicted) axes."""
        return {"left": list(self._left_labels), "bottom": self._bottom_axis.labels()}

    def _fit_ticks(self) -> None:
        slot = slot_pixels(self._view)  # the cells are square: a row is as tall as a column is wide
        self._bottom_axis.set_categories(self._class_names, slot)
        # Rows are named whole up to ROW_LABEL_PX (elided in the middle beyond: both ends kept); only rows
        # thinner than a line of text (dozens of classes) name every n-th class.
        metrics = QFontMetrics(self._view.font())
        line = metrics.height()
        stride = 1 if slot <= 0 or slot >= 0.8 * line else math.ceil(0.8 * line / slot)
        self._left_labels = [(i, metrics.elidedText(self._class_names[i], Qt.TextElideMode.ElideMiddle, ROW_LABEL_PX))
                             for i in range(0, len(self._class_names), stride)]
        self._view.getPlotItem().getAxis("left").setTicks([[(i + 0.5, text) for i, text in self._left_labels]])

    def _add_cell_texts(self, values: np.ndarray) -> None:
        k = len(self._class_names)
        font = QFont()
        font.setPointSize(11 if k <= 8 else 9 if k <= 15 else 7)
        normalized = self._normalize_box.isChecked()
        light, dark = QColor(255, 255, 255), QColor(20, 20, 20)
        labels = []
        for row in range(k):
            for col in range(k):
                r, g, b = _LUT[int(round(values[row, col] * 255))][:3]
                # Relative luminance decides between dark and light text on this cell's colour.
                dark_cell = 0.2126 * r + 0.7152 * g + 0.0722 * b < 140
                label = f"{values[row, col]:.0%}" if normalized else str(self._matrix[row, col])
                labels.append((label, light if dark_cell else dark))
        self._cell_labels.set_cells(k, labels, font)

    def _activate(self, cell: tuple[int, int]) -> None:
        self.select_cell(*cell)
        self.cell_clicked.emit(*cell)

    @Slot(object)
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        # Axis names may be elided or thinned out; the tooltip always has the full story.
        pos = self._image.mapFromScene(scene_pos)
        cell = self._cell_at_item_pos(pos)
        if cell is None:
            self._view.setToolTip(self._axis_tooltip(pos))
            return
        row, col = cell
        names, count = self._class_names, int(self._matrix[row, col])
        self._view.setToolTip(f"true {names[row]} → predicted {names[col]}: {count}")

    def _axis_tooltip(self, pos: QPointF) -> str:
        """The full class name under an axis label (names there may be elided), else ""."""
        k = len(self._class_names)
        col, row = math.floor(pos.x()), math.floor(pos.y())
        if pos.y() >= k and 0 <= col < k:
            return f"predicted class: {self._class_names[col]}"
        if pos.x() < 0 and 0 <= row < k:
            return f"true class: {self._class_names[row]}"
        return ""

    @Slot(object)
    def _on_view_resized(self, _view_box) -> None:
        if self._class_names:
            self._fit_ticks()

    @Slot(bool)
    def _on_normalize_toggled(self, _checked: bool) -> None:
        self._render()

    @Slot(object)
    def _on_scene_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self._cell_at_item_pos(self._image.mapFromScene(event.scenePos()))
        if cell is not None:
            self._activate(cell)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Arrow keys move the selection on the view; Enter or Space activates it, like a click."""
        if watched is self._view and event.type() == QEvent.Type.KeyPress and self._class_names:
            key = event.key()  # PySide6 hands a KeyPress over as a QKeyEvent
            row, col = self._selected or (0, 0)
            moves = {Qt.Key.Key_Up: (-1, 0), Qt.Key.Key_Down: (1, 0),
                     Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1)}
            k = len(self._class_names)
            if key in moves:
                dr, dc = moves[key] if self._selected else (0, 0)
                self.select_cell(min(max(row + dr, 0), k - 1), min(max(col + dc, 0), k - 1))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
                self._activate((row, col))
                return True
        return super().eventFilter(watched, event)

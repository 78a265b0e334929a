"""A square canvas to draw one digit on with a mouse, a tablet pen or a finger.

Strokes are kept as point lists in coordinates normalised to the drawing square (0..1 on both axes),
not as pixels: resizing the window rescales the drawing instead of cropping or blurring it, tests can
replay a drawing exactly, and :meth:`DrawCanvasWidget.render_image` can render it at any size for the
model. Pointer input only appends points. The screen and :meth:`DrawCanvasWidget.render_image` are both
drawn by :func:`workbench.core.image.strokes.render_strokes` (smooth paths through the points, a round
pen, anti-aliased by coverage): the pen-digit training data is rendered by the same function, so what
the user sees, what the model is given and what it learnt from are one drawing.

The drawing area is the largest centred square: MNIST digits are square, and a square that scales
uniformly never distorts a digit when the window changes shape. The rest of the widget shows the
window colour so the user sees where the paper ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QTabletEvent,
    QTouchEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.core.image.strokes import PEN_WIDTH_RATIO, render_strokes

__all__ = ["PEN_WIDTH_RATIO", "DrawCanvasWidget"]

Point = tuple[float, float]

#: Pointer moves shorter than this many screen pixels add no point: they carry no shape, only bulk.
MIN_POINT_DISTANCE_PX = 1.0


def _ink_table(background: QColor, ink: QColor) -> list[int]:
    """256 ARGB values from the background (grey 0) to the ink (grey 255): coverage as colour."""
    ends = [np.array(c.getRgb(), dtype=np.float64) for c in (background, ink)]
    table = []
    for level in range(256):
        r, g, b, a = np.rint(ends[0] + (ends[1] - ends[0]) * level / 255).astype(int)
        table.append(QColor(r, g, b, a).rgba())
    return table


class DrawCanvasWidget(QWidget):
    """Draw a digit; read it back as strokes or as a white-on-black grey image.

    Left button, pen or finger draws; right-click or Esc clears; Ctrl+Z undoes the last stroke.

    Signals:
        drawing_changed: the drawing changed (every added point while drawing, a new stroke, clear,
            undo, set_strokes). Emitted often while drawing: throttling is the consumer's job.
        stroke_finished: a stroke ended (button, pen or finger lifted).
    """

    drawing_changed = Signal()
    stroke_finished = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        background: QColor | str = "black",
        ink: QColor | str = "white",
        pen_width_ratio: float = PEN_WIDTH_RATIO,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("drawCanvas")
        self.setAccessibleName("Digit drawing canvas")
        self.setAccessibleDescription(
            "Draw one digit with the mouse, a pen or a finger. Escape or right-click clears, "
            "Ctrl+Z undoes the last stroke."
        )
        self.setToolTip("Draw a digit. Right-click or Esc clears, Ctrl+Z undoes the last stroke.")
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._background = QColor(background)
        self._ink = QColor(ink)
        self._ink_table = _ink_table(self._background, self._ink)
        self._pen_width_ratio = float(pen_width_ratio)
        self._strokes: list[list[Point]] = []
        self._drawing = False  # a stroke is open: button, pen or finger still down
        self._touch_id: int | None = None

    # Public API ----------------------------------------------------------------------------------

    def strokes(self) -> list[list[Point]]:
        """A copy of the strokes, each a list of (x, y) in 0..1 of the drawing square."""
        return [list(stroke) for stroke in self._strokes]

    def set_strokes(self, strokes: Iterable[Iterable[Sequence[float]]]) -> None:
        """Replace the drawing (points outside 0..1 are clamped to the square); empty strokes drop."""
        self._end_stroke(notify=False)
        self._strokes = [
            [(_clamp01(float(point[0])), _clamp01(float(point[1]))) for point in stroke]
            for stroke in strokes
        ]
        self._strokes = [stroke for stroke in self._strokes if stroke]
        self.update()
        self.drawing_changed.emit()

    def is_empty(self) -> bool:
        return not self._strokes

    def clear(self) -> None:
        """Remove every stroke; emits ``drawing_changed`` only if there was something to remove."""
        self._drawing = False
        self._touch_id = None
        if self._strokes:
            self._strokes.clear()
            self.update()
            self.drawing_changed.emit()

    def undo(self) -> None:
        """Remove the last stroke (the one being drawn, if any)."""
        self._drawing = False
        self._touch_id = None
        if self._strokes:
            self._strokes.pop()
            self.update()
            self.drawing_changed.emit()

    def pen_width_ratio(self) -> float:
        return self._pen_width_ratio

    def set_pen_width_ratio(self, ratio: float) -> None:
        if not 0.0 < ratio < 1.0:
            raise ValueError(f"Expected a pen width ratio between 0 and 1. Received: {ratio!r}")
        self._pen_width_ratio = float(ratio)
        self.update()

    def set_colors(self, background: QColor | str, ink: QColor | str) -> None:
        """Screen colours only: :meth:`render_image` is always white ink on black, as MNIST."""
        self._background, self._ink = QColor(background), QColor(ink)
        self._ink_table = _ink_table(self._background, self._ink)
        self.update()

    def paper_rect(self) -> QRectF:
        """The drawing square in widget coordinates: the largest square centred in the widget."""
        side = float(min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def render_image(self, size: int | None = None) -> np.ndarray:
        """Render the drawing as a grey uint8 (size, size) array, white ink on black.

        Args:
            size: side in pixels; None renders at the drawing square's size on screen. The pen scales
                with the side, so every size shows the same digit.
        """
        side = int(size) if size is not None else int(min(self.width(), self.height()))
        if side < 1:
            raise ValueError(f"Expected a render size of at least 1 pixel. Received: {side}")
        return render_strokes(self._strokes, side, self._pen_width_ratio)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(280, 280)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(112, 112)

    # Stroke building, shared by mouse, tablet and touch ------------------------------------------

    def _normalised(self, position: QPointF) -> Point:
        square = self.paper_rect()
        side = max(square.width(), 1.0)
        return (
            _clamp01((position.x() - square.left()) / side),
            _clamp01((position.y() - square.top()) / side),
        )

    def _begin_stroke(self, position: QPointF) -> None:
        self._drawing = True
        self._strokes.append([self._normalised(position)])
        self.update()
        self.drawing_changed.emit()

    def _extend_stroke(self, position: QPointF) -> None:
        if not self._drawing or not self._strokes:
            return
        point = self._normalised(position)
        last = self._strokes[-1][-1]
        side = max(self.paper_rect().width(), 1.0)
        if math.dist(point, last) * side < MIN_POINT_DISTANCE_PX:
            return
        self._strokes[-1].append(point)
        self.update()
        self.drawing_changed.emit()

    def _end_stroke(self, *, notify: bool = True) -> None:
        if not self._drawing:
            return
        self._drawing = False
        self._touch_id = None
        if notify:
            self.stroke_finished.emit()

    # Qt event handlers ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window))
            square = self.paper_rect()
            # The model's own render, at the screen's physical pixels, coloured ink on background.
            ratio = self.devicePixelRatioF()
            side = max(1, round(square.width() * ratio))
            grey = render_strokes(self._strokes, side, self._pen_width_ratio)
            image = QImage(grey.data, side, side, grey.strides[0], QImage.Format.Format_Indexed8)
            image.setColorTable(self._ink_table)
            image.setDevicePixelRatio(ratio)
            painter.drawImage(square.topLeft(), image)  # drawn before ``grey`` goes out of scope
        finally:
            painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.RightButton:
            self.clear()
        elif event.button() == Qt.MouseButton.LeftButton:
            self._begin_stroke(event.position())
        else:
            super().mousePressEvent(event)
            return
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        # Qt sends press, release, press, double-click for a quick second click: the second press has
        # already started a stroke, so the double-click must not start (or clear) another one.
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._extend_stroke(event.position())
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton:
            self._extend_stroke(event.position())
            self._end_stroke()
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802 (Qt API)
        # Pressure is ignored on purpose: MNIST strokes have a uniform width, and a model trained on
        # them reads a varying one as a different shape. Accepting stops Qt synthesising mouse events.
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            if event.button() == Qt.MouseButton.RightButton:
                self.clear()
            else:
                self._begin_stroke(event.position())
        elif kind == QEvent.Type.TabletMove:
            self._extend_stroke(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self._extend_stroke(event.position())
            self._end_stroke()
        event.accept()

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            self._on_touch(event)
            return True
        if kind == QEvent.Type.TouchCancel:
            # The system took the gesture over: the half-drawn stroke was not meant.
            if self._drawing:
                self.undo()
            return True
        if kind == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
            event.accept()  # Esc on the canvas clears it, even while Esc also stops a training run elsewhere
            return True
        return super().event(event)

    def _on_touch(self, event: QTouchEvent) -> None:
        """One finger draws; other fingers are ignored, so a resting palm cannot scribble."""
        event.accept()
        for point in event.points():
            if self._touch_id is None and point.state() == point.State.Pressed:
                self._touch_id = point.id()
                self._begin_stroke(point.position())
            elif point.id() == self._touch_id:
                self._extend_stroke(point.position())
                if point.state() == point.State.Released:
                    self._end_stroke()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
        elif event.matches(QKeySequence.StandardKey.Undo) or (
            event.key() == Qt.Key.Key_Z and event.modifiers() == Qt.KeyboardModifier.ControlModifier
        ):
            self.undo()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


def _clamp01(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


"""Replay recorded strokes on a DrawCanvasWidget through real Qt mouse events.

Strokes are lists of (x, y) in 0..1 of the canvas's drawing square, as in
``tests/data/strokes/digits_replay.json`` and ``DrawCanvasWidget.strokes()``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

REPLAY_FILE = Path(__file__).resolve().parents[1] / "data" / "strokes" / "digits_replay.json"


def load_replay_digits() -> list[dict]:
    """The hand-drawn digits: ``[{"label": int, "strokes": [[[x, y], ...], ...], "note": str}]``."""
    return json.loads(REPLAY_FILE.read_text(encoding="utf-8"))


def to_widget(canvas, point: Sequence[float]) -> QPointF:
    """Where a normalised point lies in the canvas's widget coordinates."""
    square = canvas.paper_rect()
    return QPointF(square.left() + point[0] * square.width(), square.top() + point[1] * square.height())


def send_left_drag_move(widget: QWidget, position: QPointF) -> None:
    """A mouse move with the left button held.

    ``QTest.mouseMove`` carries no buttons (the widget would see a hover), so the move is built by
    hand and delivered like Qt delivers a real one.
    """
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        position,
        widget.mapToGlobal(position),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def replay_strokes(qtbot, canvas, strokes: Sequence[Sequence[Sequence[float]]]) -> None:
    """Draw ``strokes`` on ``canvas``: left press at the first point, held moves, release at the last."""
    for stroke in strokes:
        points = [to_widget(canvas, p) for p in stroke]
        left, no_modifier = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        qtbot.mousePress(canvas, left, no_modifier, points[0].toPoint())
        for position in points[1:]:
            send_left_drag_move(canvas, position)
        qtbot.mouseRelease(canvas, left, no_modifier, points[-1].toPoint())

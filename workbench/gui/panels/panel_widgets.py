"""Small helpers the panels share: named widgets, and one look for status, warning and error lines.

Colour is not the only cue: warnings and errors also start with a symbol, and the kind is kept in
the label's ``messageKind`` property so tests and style sheets can read it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QWidget

from workbench.gui.widgets._style import message_style
PREFIX = {"info": "", "warning": "⚠ ", "error": "✖ "}


def set_progress_deferred(bar: QProgressBar, value: int) -> None:
    """``bar.setValue(value)``, repainted with the next paint cycle instead of at once.

    ``QProgressBar.setValue`` repaints synchronously whenever its text changes, which pushes a
    separate image to the display server for every call. While training updated it ten times a
    second, that was the largest cost on the GUI thread (the plots included) under Xvfb. With
    updates briefly off the bar only records the value; turning them back on schedules an ordinary
    ``update()``, merged with the rest of the window's repaint.
    """
    if bar.value() == value:
        return
    bar.setUpdatesEnabled(False)
    try:
        bar.setValue(value)
    finally:
        bar.setUpdatesEnabled(True)


def set_message(label: QLabel, text: str, kind: str = "info") -> None:
    """Show ``text`` in ``label`` as ``kind`` ("info", "warning" or "error"); hide it when empty."""
    label.setStyleSheet(message_style(kind))  # readable on the palette's window, light or dark
    label.setProperty("messageKind", kind)
    prefix = PREFIX.get(kind, "")
    label.setText("\n".join(prefix + line for line in text.splitlines()) if text else "")
    label.setVisible(bool(text))


def named(widget: QWidget, object_name: str, accessible_name: str, tooltip: str = "") -> QWidget:
    """Give ``widget`` the stable object name tests use and the name screen readers announce."""
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible_name)
    if tooltip:
        widget.setToolTip(tooltip)
    return widget


def message_label(object_name: str, accessible_name: str) -> QLabel:
    """A word-wrapping label for :func:`set_message`."""
    label = named(QLabel(), object_name, accessible_name)
    label.setWordWrap(True)
    return label

"""EmptyStateWidget: a plot (or any content) that, while it has nothing to show, gives its place to a
sentence saying what to do next — instead of an empty chart with made-up axes ("samples 0.1–1.1").
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QWidget

MESSAGE_WIDTH = 560  # lines a reader's eye can follow, however wide the plot's place


class EmptyStateWidget(QStackedWidget):
    """Shows either ``content`` or a centred message; the owner decides which with
    :meth:`show_content` and :meth:`show_message`."""

    def __init__(self, content: QWidget | None = None, message: str = "", parent: QWidget | None = None,
                 object_name: str = "emptyStateWidget") -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName("Empty state" if content is None else content.accessibleName() or "Empty state")
        # The plot's own background, so the message sits where the chart will be; softer text.
        self._page = QWidget(self)
        self._page.setAutoFillBackground(True)
        palette = self._page.palette()
        palette.setColor(QPalette.ColorRole.Window, palette.color(QPalette.ColorRole.Base))
        palette.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText))
        self._page.setPalette(palette)
        self._label = QLabel(self._page)
        self._label.setObjectName(f"{object_name}Message")
        self._label.setAccessibleName("What to do next")
        self._label.setWordWrap(True)
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._label.setMargin(16)
        self._label.setMaximumWidth(MESSAGE_WIDTH)
        font = self._label.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self._label.setFont(font)
        row = QHBoxLayout(self._page)
        row.addStretch(1)
        row.addWidget(self._label, 20)  # as wide as MESSAGE_WIDTH allows; the margins take the rest
        row.addStretch(1)
        self.addWidget(self._page)
        self._content = content
        if content is not None:
            self.addWidget(content)
        self.show_message(message)

    @property
    def content(self) -> QWidget | None:
        return self._content

    def show_message(self, text: str) -> None:
        """Hide the content and say ``text`` in its place."""
        self._label.setText(text)
        self.setCurrentWidget(self._page)

    def show_content(self) -> None:
        """Show the content (a no-op without one)."""
        if self._content is not None:
            self.setCurrentWidget(self._content)

    def is_empty(self) -> bool:
        """True while the message is shown instead of the content."""
        return self.currentWidget() is self._page

    def message(self) -> str:
        """The message shown (or last shown) in place of the content."""
        return self._label.text()

"""A few example images per class: one row per class, the class name on the left.

Rows can hold different numbers of images (a class with 3 files shows 3), which a single
ThumbnailStripWidget grid cannot do: its cells are filled in reading order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from workbench.gui.widgets.thumbnail_strip_widget import array_to_qimage


class ClassThumbnailsWidget(QWidget):
    """Rows of small images, one row per class, in a vertically scrolling area."""

    def __init__(self, parent: QWidget | None = None, thumb_size: int = 44, columns: int = 6,
                 placeholder: str = "No images yet.") -> None:
        """``columns``: images per row to leave room for, so rows show whole without scrolling sideways."""
        super().__init__(parent)
        self.setObjectName("classThumbnailsWidget")
        self.setAccessibleName("Example images per class")
        self._thumb_size = thumb_size
        self._rows: dict[str, list[QLabel]] = {}

        self._scroll = QScrollArea(self)
        self._scroll.setObjectName("classThumbnailsScroll")
        self._scroll.setAccessibleName("Example images, one row per class")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._content = QWidget()
        self._grid = QGridLayout(self._content)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(4)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._placeholder = QLabel(placeholder)
        self._placeholder.setObjectName("classThumbnailsPlaceholder")
        self._placeholder.setWordWrap(True)
        self._scroll.setWidget(self._content)
        self._min_width = columns * (thumb_size + 4) + 64 + self._scroll.verticalScrollBar().sizeHint().width()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._scroll)
        self.clear()

    # ----------------------------------------------------------------------------------- public
    def set_thumbnails(self, images: Mapping[str, Sequence[np.ndarray]],
                       names: Mapping[str, Sequence[str]] | None = None) -> None:
        """Show ``images[class]`` in one row per class; ``names`` (optional) become tooltips."""
        pixmaps = {cls: [self._pixmap(a) for a in arrays] for cls, arrays in images.items()}
        self._clear_grid()
        for row, (cls, row_pixmaps) in enumerate(pixmaps.items()):
            title = QLabel(cls, self._content)
            title.setObjectName(f"classThumbnailsName_{row}")
            title.setToolTip(cls)
            title.setMaximumWidth(120)
            self._grid.addWidget(title, row, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            labels = []
            tips = list((names or {}).get(cls, []))
            for col, pixmap in enumerate(row_pixmaps):
                label = QLabel(self._content)
                label.setPixmap(pixmap)
                label.setFixedSize(self._thumb_size, self._thumb_size)
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                label.setAccessibleName(f"{cls} example {col + 1}")
                label.setToolTip(f"{cls}: {tips[col]}" if col < len(tips) else cls)
                self._grid.addWidget(label, row, col + 1)
                labels.append(label)
            self._rows[cls] = labels
        if not self._rows:
            self.clear()
            return
        # Rows are short (a handful of images): show them whole and scroll only vertically.
        bar = self._scroll.verticalScrollBar().sizeHint().width()
        self._scroll.setMinimumWidth(max(self._min_width, self._content.sizeHint().width() + bar + 4))

    def clear(self, message: str | None = None) -> None:
        """Remove all rows and show ``message`` (or the placeholder given at construction)."""
        self._clear_grid()
        self._scroll.setMinimumWidth(self._min_width)
        if message is not None:
            self._placeholder.setText(message)
        self._grid.addWidget(self._placeholder, 0, 0, 1, -1)
        self._placeholder.show()

    def row_counts(self) -> dict[str, int]:
        """Images shown per class (for tests)."""
        return {cls: len(labels) for cls, labels in self._rows.items()}

    # --------------------------------------------------------------------------------- private
    def _clear_grid(self) -> None:
        self._grid.removeWidget(self._placeholder)
        self._placeholder.hide()
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._rows = {}

    def _pixmap(self, image: np.ndarray) -> QPixmap:
        qimage = array_to_qimage(image)
        # Digits (28 px) are enlarged without smoothing so their pixels stay crisp.
        enlarging = max(qimage.width(), qimage.height()) < self._thumb_size
        mode = Qt.TransformationMode.FastTransformation if enlarging else Qt.TransformationMode.SmoothTransformation
        return QPixmap.fromImage(qimage.scaled(self._thumb_size, self._thumb_size,
                                               Qt.AspectRatioMode.KeepAspectRatio, mode))

"""Small images with captions, in a horizontally scrolling strip or a grid of N columns.

Used for per-class thumbnails, the augmentation preview grid and misclassified samples (captions
such as "7 → 1 (83%)"). Each thumbnail is a flat QToolButton, so it is focusable, keyboard
clickable and has an accessible name without extra work.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QFontMetrics, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup, QFrame, QGridLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget,
)


def array_to_qimage(image: np.ndarray) -> QImage:
    """Convert an HxW, HxWx1, HxWx3 or HxWx4 array (uint8, or float in 0..255) to a QImage.

    The returned QImage owns its pixels: a QImage built on a numpy buffer only borrows it and shows
    garbage (or crashes) once the array is freed, so the borrowed image is copied before returning.
    """
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"Expected an HxW, HxWx1, HxWx3 or HxWx4 image. Received: shape {a.shape}.")
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a.astype(np.float64)), 0, 255).round().astype(np.uint8)
    a = np.ascontiguousarray(a)
    height, width = a.shape[:2]
    if a.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
    elif a.shape[2] == 3:
        fmt = QImage.Format.Format_RGB888
    else:
        fmt = QImage.Format.Format_RGBA8888
    borrowed = QImage(a.data, width, height, a.strides[0], fmt)
    return borrowed.copy()


FIT_WIDTH = -1  # ``columns``: a grid with as many columns as its width holds, re-flowed when resized
MIN_CAPTION_PX = 92  # "longsleeve 97%" on one line under a 64 px thumbnail
_BREAKS = "→ _-/"


def wrap_caption(line: str, metrics: QFontMetrics, width: int, max_lines: int = 2) -> list[str]:
    """``line`` in at most ``max_lines`` lines of ``width`` pixels: a "true→predicted 97%" caption that does
    not fit is broken after its "→" ("dress→" / "t-shirt 97%"), others after the last space, "_", "-" or
    "/" that fits; a line still too long is elided in the middle (both ends of a class name kept)."""
    if max_lines >= 2 and "→" in line and metrics.horizontalAdvance(line) > width:
        head, tail = line.split("→", 1)
        return [metrics.elidedText(head + "→", Qt.TextElideMode.ElideMiddle, width),
                *wrap_caption(tail, metrics, width, max_lines - 1)]
    lines = []
    rest = line
    while rest and len(lines) < max_lines - 1 and metrics.horizontalAdvance(rest) > width:
        cut = max((i + 1 for i, ch in enumerate(rest[:-1]) if ch in _BREAKS
                   and metrics.horizontalAdvance(rest[:i + 1].rstrip()) <= width), default=0)
        if cut == 0:
            break
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    lines.append(metrics.elidedText(rest, Qt.TextElideMode.ElideMiddle, width))
    return lines


class ThumbnailStripWidget(QWidget):
    """A strip (``columns=0``), a grid (``columns=N``) or a grid as wide as the widget (``columns=FIT_WIDTH``)
    of captioned thumbnails."""

    image_clicked = Signal(int)  # index into the list given to set_images

    def __init__(
        self,
        parent: QWidget | None = None,
        columns: int = 0,
        thumb_size: int = 72,
        placeholder: str = "No images yet.",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnailStripWidget")
        self.setAccessibleName("Thumbnails")
        self._columns = columns if columns == FIT_WIDTH else max(0, columns)
        self._placed_columns = 0
        self._thumb_size = thumb_size
        self._buttons: list[QToolButton] = []
        self._group = QButtonGroup(self)
        self._group.setExclusive(False)
        self._group.idClicked.connect(self._on_thumbnail_clicked)

        self._scroll = QScrollArea(self)
        self._scroll.setObjectName("thumbnailStripScroll")
        self._scroll.setAccessibleName("Thumbnail list")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._content = QWidget()
        self._content.setObjectName("thumbnailStripContent")
        self._grid = QGridLayout(self._content)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setSpacing(4)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._placeholder = QLabel(placeholder, self._content)
        self._placeholder.setObjectName("thumbnailStripPlaceholder")
        self._placeholder.setAccessibleName("No thumbnails")
        self._placeholder.setEnabled(False)  # drawn in the palette's dimmed text colour
        self._grid.addWidget(self._placeholder, 0, 0)
        self._scroll.setWidget(self._content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._scroll)
        self._apply_scrolling()

    # ----------------------------------------------------------------------------------- public
    def set_images(self, images: Sequence[np.ndarray], captions: Sequence[str] | None = None) -> None:
        """Replace the thumbnails; ``captions`` (optional) must match ``images`` in length."""
        captions = list(captions) if captions is not None else [""] * len(images)
        if len(captions) != len(images):
            raise ValueError(
                "Expected one caption per image. "
                f"Received: {len(images)} images and {len(captions)} captions."
            )
        pixmaps = [self._thumbnail(array_to_qimage(image)) for image in images]  # fail before clearing
        self.clear()
        metrics = QFontMetrics(self.font())
        for index, (pixmap, caption) in enumerate(zip(pixmaps, captions)):
            button = QToolButton(self._content)
            button.setObjectName(f"thumbnail_{index}")
            button.setAccessibleName(caption or f"Image {index + 1}")
            button.setToolTip(caption)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setIcon(QIcon(pixmap))
            button.setIconSize(QSize(self._thumb_size, self._thumb_size))
            # Every cell keeps the same width: a long caption line wraps once (after "→", a space, "_",
            # "-" or "/") and only then is elided; the tooltip and accessible name carry the whole text.
            width = max(self._thumb_size + 8, MIN_CAPTION_PX)
            button.setText("\n".join(
                wrapped for line in caption.splitlines() for wrapped in wrap_caption(line, metrics, width)
            ))
            button.setFixedWidth(width + 8)
            self._group.addButton(button, index)
            self._buttons.append(button)
        self._place_buttons()
        self._placeholder.setVisible(not self._buttons)
        self._apply_scrolling()

    def _columns_now(self) -> int:
        """Columns of the grid: the set number, as many as the width holds (``FIT_WIDTH``), 0 for a strip."""
        if self._columns != FIT_WIDTH:
            return self._columns
        cell = (self._buttons[0].maximumWidth() if self._buttons else self._thumb_size + 16) + self._grid.spacing()
        return max(1, (self._scroll.viewport().width() - 4) // max(cell, 1))

    def _place_buttons(self) -> None:
        columns = self._columns_now()
        for button in self._buttons:
            self._grid.removeWidget(button)
        for index, button in enumerate(self._buttons):
            row, col = divmod(index, columns) if columns else (0, index)
            self._grid.addWidget(button, row, col)
        self._placed_columns = columns

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self._columns == FIT_WIDTH and self._buttons and self._columns_now() != self._placed_columns:
            self._place_buttons()

    def clear(self) -> None:
        """Remove all thumbnails and show the placeholder."""
        for button in self._buttons:
            self._group.removeButton(button)
            self._grid.removeWidget(button)
            button.deleteLater()
        self._buttons = []
        self._placeholder.setVisible(True)

    def set_columns(self, columns: int) -> None:
        """0 for a single scrolling row, N for a grid of N columns, ``FIT_WIDTH`` for as many columns as
        the width holds (takes effect on set_images)."""
        self._columns = columns if columns == FIT_WIDTH else max(0, columns)

    def count(self) -> int:
        """Number of thumbnails shown."""
        return len(self._buttons)

    def button(self, index: int) -> QToolButton:
        """The button of thumbnail ``index`` (for tests and keyboard focus)."""
        return self._buttons[index]

    # --------------------------------------------------------------------------------- private
    def _thumbnail(self, image: QImage) -> QPixmap:
        # Small images (28x28 digits) are enlarged without smoothing so their pixels stay crisp.
        enlarging = max(image.width(), image.height()) < self._thumb_size
        mode = Qt.TransformationMode.FastTransformation if enlarging else \
            Qt.TransformationMode.SmoothTransformation
        return QPixmap.fromImage(image.scaled(
            self._thumb_size, self._thumb_size, Qt.AspectRatioMode.KeepAspectRatio, mode
        ))

    def _apply_scrolling(self) -> None:
        strip = self._columns == 0
        self._scroll.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAsNeeded if strip else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if strip else Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        if strip:  # a strip is exactly one row tall, plus room for its scroll bar
            row_height = max((b.sizeHint().height() for b in self._buttons), default=40)
            bar = self._scroll.horizontalScrollBar().sizeHint().height()
            self._scroll.setFixedHeight(row_height + bar + 8)
        else:
            self._scroll.setMinimumHeight(0)
            self._scroll.setMaximumHeight(16777215)

    @Slot(int)
    def _on_thumbnail_clicked(self, index: int) -> None:
        self.image_clicked.emit(index)

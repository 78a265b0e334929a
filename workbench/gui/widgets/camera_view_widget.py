"""CameraViewWidget: the camera feed, drawn from the newest RGB frame, scaled to fit, aspect kept.

The owner's timer hands it frames (:meth:`set_frame`); the widget wraps the array in a QImage
without copying (the array is kept alive alongside it and never written by the camera again) and
asks for a repaint. Frames that arrive faster than the screen repaints are simply replaced: a
repaint always draws the newest. :meth:`frames_drawn` counts the frames actually painted, which is
the feed rate the user sees.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor(24, 24, 28)
PLACEHOLDER = "No camera"


class CameraViewWidget(QWidget):
    """Paints the newest frame; shows a placeholder text when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraViewWidget")
        self.setAccessibleName("Camera feed")
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # every pixel is painted: no erase first
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self._placeholder = PLACEHOLDER
        self._painted_new = False
        self._drawn = 0

    def set_frame(self, rgb: np.ndarray) -> None:
        """Show ``rgb`` ((H, W, 3) uint8) from the next repaint on."""
        array = np.ascontiguousarray(rgb)
        height, width = array.shape[:2]
        self._array = array  # the QImage reads this memory: keep it alive as long as the image
        self._image = QImage(array.data, width, height, array.strides[0], QImage.Format.Format_RGB888)
        self._painted_new = False
        self.update()

    def clear(self, placeholder: str = PLACEHOLDER) -> None:
        """Forget the frame and show ``placeholder`` instead."""
        self._array = self._image = None
        self._placeholder = placeholder
        self.update()

    def frame(self) -> np.ndarray | None:
        """The frame shown (RGB), or None."""
        return self._array

    def frames_drawn(self) -> int:
        """How many different frames were painted so far."""
        return self._drawn

    def image_rect(self) -> QRect:
        """Where the frame is drawn: the largest rectangle of its aspect that fits, centred."""
        if self._image is None:
            return QRect()
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                     size.width(), size.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
        else:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self.image_rect(), self._image)
            if not self._painted_new:
                self._painted_new = True
                self._drawn += 1
        painter.end()

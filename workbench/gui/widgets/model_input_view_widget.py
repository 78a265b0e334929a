"""ModelInputViewWidget: what the model was given (e.g. the 28×28 MNIST-style digit), enlarged.

Nearest-neighbour scaling keeps every model pixel a crisp square, as the model sees it. Inputs are
0..255 values of shape (H, W, 1) or (H, W, 3); anything else shows an empty (black) square.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

DEFAULT_SIDE = 112


class ModelInputViewWidget(QWidget):
    """A caption and the model's input, scaled to a square of ``side`` pixels."""

    def __init__(self, caption: str = "What the model sees", side: int = DEFAULT_SIDE,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelInputViewWidget")
        self.setAccessibleName(caption)
        self._side = int(side)
        self._caption = QLabel(caption, self)
        self._image = QLabel(self)
        self._image.setObjectName("modelInputImage")
        self._image.setAccessibleName(f"{caption}, enlarged")
        self._image.setFixedSize(self._side + 2, self._side + 2)
        self._image.setFrameShape(QFrame.Shape.Box)
        self._image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._caption, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self._image, 0, Qt.AlignmentFlag.AlignHCenter)
        self.set_input(None)

    def set_input(self, model_input: np.ndarray | None) -> None:
        """Show ``model_input`` ((H, W, 1) or (H, W, 3), values 0..255), or an empty square for None."""
        if model_input is None or model_input.ndim != 3 or model_input.shape[-1] not in (1, 3):
            pixels, fmt = np.zeros((28, 28), np.uint8), QImage.Format.Format_Grayscale8
        else:
            pixels = np.ascontiguousarray(np.clip(np.rint(model_input), 0, 255).astype(np.uint8))
            if pixels.shape[-1] == 1:
                pixels, fmt = np.ascontiguousarray(pixels[..., 0]), QImage.Format.Format_Grayscale8
            else:
                fmt = QImage.Format.Format_RGB888
        image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], fmt).copy()
        self._image.setPixmap(QPixmap.fromImage(image.scaled(
            self._side, self._side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)))

    def pixmap(self) -> QPixmap:
        return self._image.pixmap()

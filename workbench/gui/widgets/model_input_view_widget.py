"""ModelInputViewWidget: what the model was given (e.g. the 28×28 MNIST-style digit), enlarged.

Nearest-neighbour scaling keeps every model pixel a crisp square, as the model sees it. Inputs are
0..255 values of shape (H, W, 1) or (H, W, 3); anything else shows an empty (black) square.

The caption gives the input's size, and when the picture it was made from had another shape (a 4:3
camera frame for a square input), that it was stretched to fit, as training stretched the photos: the
preview is what the model sees, not a letterboxed copy that would hide the distortion.
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
        self._caption_text = caption
        self._caption = QLabel(caption, self)
        self._caption.setObjectName("modelInputCaption")
        self._caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
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

    def caption(self) -> str:
        return self._caption.text()

    def set_input(self, model_input: np.ndarray | None, source_size: tuple[int, int] | None = None) -> None:
        """Show ``model_input`` ((H, W, 1) or (H, W, 3), values 0..255), or an empty square for None.
        ``source_size``: (height, width) of the picture it was resized from, when resizing ignored its
        aspect ratio (the caption then says it was stretched)."""
        if model_input is None or model_input.ndim != 3 or model_input.shape[-1] not in (1, 3):
            self._caption.setText(self._caption_text)
            pixels, fmt = np.zeros((28, 28), np.uint8), QImage.Format.Format_Grayscale8
        else:
            self._caption.setText(input_caption(self._caption_text, model_input.shape[:2], source_size))
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


def input_caption(caption: str, input_size: tuple[int, int], source_size: tuple[int, int] | None = None) -> str:
    """``caption`` and, under it, the input's width×height, and "stretched from W×H" when ``source_size``
    (height, width) has another aspect ratio (by more than 3%)."""
    height, width = (int(v) for v in input_size)
    text = f"{caption}\n{width}×{height}"
    if source_size:
        source_h, source_w = (int(v) for v in source_size)
        if source_h > 0 and height > 0 and abs((source_w / source_h) / (width / height) - 1) > 0.03:
            text += f", stretched from\n{source_w}×{source_h} as in training"
    return text

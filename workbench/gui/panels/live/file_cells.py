"""The first cell of a Files-tab row: a thumbnail for an image, duration and rate for a sound.

Which one a row gets is the model's modality's choice (see
:data:`~workbench.gui.modality_widgets.MODALITY_WIDGETS`); these run in the GUI thread on small files.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QTableWidgetItem

THUMBNAIL = 56
THUMBNAIL_ROW = THUMBNAIL + 6  # image rows hold a thumbnail
TEXT_ROW = 28  # sound rows are one line of text (a long recording adds a row per word)


def _thumbnail(path: str) -> QPixmap | None:
    try:
        from workbench.core.image.io import read_image

        image = read_image(path)
    except Exception:
        return None
    gray = image if image.ndim == 2 else image.mean(axis=2).astype(np.uint8)
    gray = np.ascontiguousarray(gray)
    qimage = QImage(gray.data, gray.shape[1], gray.shape[0], gray.strides[0], QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(qimage.copy()).scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation)


def _sound_summary(path: str) -> str:
    """"0.64 s · 8 kHz" for a sound file (read from its header), "" when unreadable."""
    try:
        import soundfile

        info = soundfile.info(path)
    except Exception:
        return ""
    return f"{info.duration:.2f} s · {info.samplerate / 1000:g} kHz"


def image_cell(path: str) -> QTableWidgetItem:
    """The image's thumbnail (empty when it cannot be read)."""
    item = QTableWidgetItem()
    if (pixmap := _thumbnail(path)) is not None:
        item.setData(Qt.ItemDataRole.DecorationRole, pixmap)
    return item


def sound_cell(path: str) -> QTableWidgetItem:
    """The sound's duration and sample rate."""
    return QTableWidgetItem(_sound_summary(path))


def empty_cell(_path: str) -> QTableWidgetItem:
    return QTableWidgetItem()

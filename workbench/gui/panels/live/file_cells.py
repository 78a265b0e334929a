"""The first cell of a Files-tab row: a thumbnail for an image, duration and rate for a sound, both
for a video.

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


def _video_summary(path: str) -> tuple[str, QPixmap | None]:
    """("6.24 s · 25 fps", its middle frame as a thumbnail) from the file's header and one frame;
    ("", None) when unreadable."""
    try:
        import cv2

        capture = cv2.VideoCapture(path)
    except Exception:
        return "", None
    try:
        if not capture.isOpened():
            return "", None
        frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if frames > 2:
            capture.set(cv2.CAP_PROP_POS_FRAMES, frames // 2)
        ok, frame = capture.read()
    finally:
        capture.release()
    text = f"{frames / fps:.2f} s · {fps:g} fps" if fps > 0 and frames > 0 else ""
    if not ok or frame is None:
        return text, None
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    qimage = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888)
    return text, QPixmap.fromImage(qimage.copy()).scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                                                         Qt.TransformationMode.SmoothTransformation)


def image_cell(path: str) -> QTableWidgetItem:
    """The image's thumbnail (empty when it cannot be read)."""
    item = QTableWidgetItem()
    if (pixmap := _thumbnail(path)) is not None:
        item.setData(Qt.ItemDataRole.DecorationRole, pixmap)
    return item


def sound_cell(path: str) -> QTableWidgetItem:
    """The sound's duration and sample rate."""
    return QTableWidgetItem(_sound_summary(path))


def video_cell(path: str) -> QTableWidgetItem:
    """The video's middle frame, its duration and frame rate."""
    text, pixmap = _video_summary(path)
    item = QTableWidgetItem(text)
    if pixmap is not None:
        item.setData(Qt.ItemDataRole.DecorationRole, pixmap)
    return item


def empty_cell(_path: str) -> QTableWidgetItem:
    return QTableWidgetItem()

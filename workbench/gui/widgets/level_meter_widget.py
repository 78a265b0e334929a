"""LevelMeterWidget: a horizontal input-level bar in dBFS, with the trigger threshold marked.

The bar is the RMS level of the last audio block, the thin tick the peak; a vermillion line marks
the level that triggers recording (noise floor + threshold) and a grey line the noise floor, so a
user can see why a word did or did not trigger. Painted by hand: a QProgressBar has no markers.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.gui.widgets._style import GREEN, GREY, ORANGE, VERMILLION

MIN_DB = -70.0
MAX_DB = 0.0
SILENT_DB = -100.0  # digital silence (a muted or virtual input) reads -120 dBFS


class LevelMeterWidget(QWidget):
    """RMS bar, peak tick, threshold and noise-floor markers on a -70…0 dBFS scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelMeterWidget")
        self.setAccessibleName("Input level")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._rms = self._peak = MIN_DB
        self._floor: float | None = None
        self._threshold: float | None = None

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(240, max(22, self.fontMetrics().height() + 8))

    def levels(self) -> tuple[float, float]:
        """(RMS, peak) dBFS shown."""
        return self._rms, self._peak

    def set_levels(self, rms_dbfs: float, peak_dbfs: float) -> None:
        self._rms, self._peak = float(rms_dbfs), float(peak_dbfs)
        self.setToolTip(f"Level {self._rms:.0f} dBFS (peak {self._peak:.0f} dBFS)")
        self.update()

    def set_markers(self, floor_dbfs: float | None, threshold_dbfs: float | None) -> None:
        self._floor, self._threshold = floor_dbfs, threshold_dbfs
        self.update()

    def _x(self, db: float, width: float) -> float:
        fraction = (min(MAX_DB, max(MIN_DB, db)) - MIN_DB) / (MAX_DB - MIN_DB)
        return fraction * width

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(rect, palette.color(QPalette.ColorRole.Base))
        width = rect.width()
        color = GREEN if self._rms < -20 else ORANGE if self._rms < -6 else VERMILLION
        painter.fillRect(QRectF(rect.left(), rect.top() + 3, self._x(self._rms, width), rect.height() - 6), color)
        text_color = palette.color(QPalette.ColorRole.Text)
        painter.setPen(QPen(text_color, 2))
        peak_x = rect.left() + self._x(self._peak, width)
        painter.drawLine(int(peak_x), int(rect.top() + 2), int(peak_x), int(rect.bottom() - 2))
        for value, marker in ((self._floor, GREY), (self._threshold, VERMILLION)):
            if value is not None:
                x = rect.left() + self._x(value, width)
                painter.setPen(QPen(QColor(marker), 2, Qt.PenStyle.DashLine if marker == GREY else Qt.PenStyle.SolidLine))
                painter.drawLine(int(x), int(rect.top()), int(x), int(rect.bottom()))
        painter.setPen(text_color)
        text = "silence" if self._rms <= SILENT_DB else f"{self._rms:.0f} dBFS"
        painter.drawText(rect.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(rect)
        painter.end()

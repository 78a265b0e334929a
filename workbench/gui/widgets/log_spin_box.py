"""A spin box for values that span decades (learning rates): scientific text, 1-2-5 steps.

A plain QDoubleSpinBox rounds to a fixed number of decimals and steps linearly, so 1e-5 shows as
0.00 and the arrows jump from 0.001 to 0.101. Here the value keeps full precision, the text is
``1e-05``/``0.001``, typing accepts any float (``3e-4``), and the arrows walk 1, 2, 5, 10, 20, ...
"""

from __future__ import annotations

import math

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

_LADDER = (1.0, 2.0, 5.0)


def _ladder_values(minimum: float, maximum: float) -> list[float]:
    low = math.floor(math.log10(minimum)) - 1
    high = math.ceil(math.log10(maximum)) + 1
    values = [m * 10.0**e for e in range(low, high + 1) for m in _LADDER]
    return [float(f"{v:.6g}") for v in values if minimum <= v <= maximum]


class LogSpinBox(QDoubleSpinBox):
    """A positive float spin box with log steps and ``%g`` display."""

    def __init__(self, minimum: float = 1e-6, maximum: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if minimum <= 0 or maximum <= minimum:
            raise ValueError(f"Expected 0 < minimum < maximum. Received: {minimum}, {maximum}")
        self.setDecimals(15)  # QDoubleSpinBox rounds the value itself to this many decimals
        self.setRange(minimum, maximum)
        self._ladder = _ladder_values(minimum, maximum)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            # "1e-" and "" are on the way to a number while typing.
            ok = all(c in "0123456789.eE+-" for c in stripped)
            state = QValidator.State.Intermediate if ok else QValidator.State.Invalid
            return state, text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt override)
        value = self.value()
        for _ in range(abs(steps)):
            if steps > 0:
                value = next((v for v in self._ladder if v > value * (1 + 1e-9)), self.maximum())
            else:
                value = next((v for v in reversed(self._ladder) if v < value * (1 - 1e-9)), self.minimum())
        self.setValue(value)

"""Per-class precision, recall, F1 and support of an evaluation, one row per class.

Numbers are right-aligned with three decimals so the columns compare at a glance; the rows follow
the evaluation's class order (the confusion matrix's order), not a sort, so row k is class k there.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

COLUMNS = ("Class", "Precision", "Recall", "F1", "Support")


class PerClassTableWidget(QTableWidget):
    """A read-only table fed with ``evaluation_report(...)["per_class"]``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("perClassTableWidget")
        self.setAccessibleName("Per-class precision, recall, F1 and support")
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # Headers and the corner button are widgets of their own; name them for tests and screen readers.
        for part, name, accessible in ((self.horizontalHeader(), "perClassTableHeader", "Column headers"),
                                       (self.verticalHeader(), "perClassTableRowHeader", "Row headers")):
            part.setObjectName(name)
            part.setAccessibleName(accessible)
        corner = self.findChild(QAbstractButton)
        if corner is not None:
            corner.setObjectName("perClassTableCorner")
            corner.setAccessibleName("Select all rows")

    def set_rows(self, per_class: list[dict[str, Any]]) -> None:
        """One row per ``{"class", "precision", "recall", "f1", "support"}`` dict."""
        self.setRowCount(len(per_class))
        for row, figures in enumerate(per_class):
            cells = (str(figures["class"]), f"{figures['precision']:.3f}", f"{figures['recall']:.3f}",
                     f"{figures['f1']:.3f}", str(figures["support"]))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, col, item)

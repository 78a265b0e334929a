"""RunsPanel: the project's training runs; select one to inspect it, several to overlay curves."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.project import run_summary
from workbench.core.training.runfolder import run_status

COLUMNS = ("Template", "Epochs", "LR", "Batch", "Dropout", "Best val acc", "Status", "Date")


class RunsPanel(QWidget):
    """Lists runs; emits the selection as plain data."""

    run_selected = Signal(str)  # run folder of a single selected run
    overlays_selected = Signal(list)  # [(label, history dict), ...] for two or more selected runs

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self._summaries: list[dict] = []
        self._hint = QLabel("Runs of this project. Select one to inspect it; select several to compare curves.")
        self._hint.setWordWrap(True)
        self._table = QTableWidget(0, len(COLUMNS), self)
        self._table.setObjectName("runsTable")
        self._table.setAccessibleName("Training runs")
        self._table.setHorizontalHeaderLabels(COLUMNS)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.verticalHeader().setVisible(False)
        self._table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self._table.itemSelectionChanged.connect(self._on_selection_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self._hint)
        layout.addWidget(self._table)

    def set_runs(self, run_dirs: list[str]) -> None:
        self._summaries = [s for s in map(run_summary, run_dirs) if s is not None]
        self._table.setRowCount(len(self._summaries))
        for row, s in enumerate(self._summaries):
            acc = s["val_accuracy"]
            created = s["created"]
            try:
                created = datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M")
            except (TypeError, ValueError):
                pass
            values = (s["template"], s["epochs"], f"{s['learning_rate']:g}" if s["learning_rate"] else "",
                      s["batch_size"], s["dropout"], f"{acc:.2%}" if acc is not None else "–", _status(s), created)
            for col, value in enumerate(values):
                item = QTableWidgetItem("" if value is None else str(value))
                item.setToolTip(s["run_dir"])
                if col in (1, 2, 3, 4, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self._table.setItem(row, col, item)

    def status_of(self, row: int) -> str:
        """The Status cell of ``row``."""
        item = self._table.item(row, COLUMNS.index("Status"))
        return item.text() if item else ""

    def run_count(self) -> int:
        return len(self._summaries)

    def select_rows(self, rows: list[int]) -> None:
        self._table.clearSelection()
        mode = self._table.selectionMode()
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in rows:
            self._table.selectRow(row)
        self._table.setSelectionMode(mode)

    @Slot()
    def _on_selection_changed(self) -> None:
        rows = sorted({index.row() for index in self._table.selectionModel().selectedRows()})
        if len(rows) == 1:
            self.run_selected.emit(self._summaries[rows[0]]["run_dir"])
        overlays = []
        if len(rows) >= 2:
            for row in rows:
                s = self._summaries[row]
                label = f"{s['template']} #{row + 1}"
                overlays.append((label, s["history"]))
        self.overlays_selected.emit(overlays)


def _status(summary: dict) -> str:
    """The sidecar's status, except that a "running" run no live process holds reads "interrupted",
    with the epochs it finished."""
    if summary["status"] != "running":
        return summary["status"]
    try:
        state = run_status(summary["run_dir"])
    except (WorkbenchError, OSError):
        return summary["status"]
    return f"{state.status} (epoch {state.epochs_run})" if state.status == "interrupted" else state.status

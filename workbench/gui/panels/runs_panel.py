"""RunsPanel: the project's training runs; select one to inspect it, several to overlay curves.

:class:`RunsDock` holds it at the bottom of the main window: compact (one line of title, rows as tall as
the text), resizable by its splitter, and collapsible to its title bar (the ▾ button, View ▸ Collapse runs
list or Ctrl+Shift+R) so it does not take room from every tab; collapsed or not, and its height, are
remembered between launches.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QDockWidget, QHBoxLayout, QHeaderView, QLabel, QMainWindow,
                               QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.project import run_summary
from workbench.core.training.runfolder import run_status

COLUMNS = ("Template", "Epochs", "LR", "Batch", "Dropout", "Best val acc", "Status", "Date")
HINT = "Select a run to inspect it in Results; select two or more to compare their curves in Training."
DEFAULT_ROWS = 4  # rows the dock shows at first (it can be dragged taller, or collapsed)


class RunsPanel(QWidget):
    """Lists runs; emits the selection as plain data."""

    run_selected = Signal(str)  # run folder of a single selected run
    overlays_selected = Signal(list)  # [(label, history dict), ...] for two or more selected runs
    runs_listed = Signal(int)  # how many runs the table lists now

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self._summaries: list[dict] = []
        self._table = QTableWidget(0, len(COLUMNS), self)
        self._table.setObjectName("runsTable")
        self._table.setAccessibleName("Training runs")
        self._table.setToolTip(HINT)
        self._table.setHorizontalHeaderLabels(COLUMNS)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.verticalHeader().setVisible(False)
        self._table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self._table.horizontalHeader().setStretchLastSection(True)
        # Rows as tall as their text: more runs in less room.
        self._table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self._table.setMinimumHeight(self.row_height() * 3)
        self._table.itemSelectionChanged.connect(self._on_selection_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._table)

    def row_height(self) -> int:
        """The height of one row (and of the header) in pixels."""
        return self._table.verticalHeader().defaultSectionSize()

    def summary_text(self) -> str:
        """One line for the dock's title: how many runs, and what selecting does."""
        count = len(self._summaries)
        if not count:
            return "none yet: each training run of this project is listed here"
        return f"{count} run{'s' * (count != 1)} · select one to inspect it, two or more to compare curves"

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
            replicas = s["replicas"]
            batch = s["batch_size"] if replicas == 1 or s["batch_size"] is None else f"{s['batch_size']} ({replicas} replicas)"
            values = (s["template"], s["epochs"], f"{s['learning_rate']:g}" if s["learning_rate"] else "",
                      batch, s["dropout"], f"{acc:.2%}" if acc is not None else "–", _status(s), created)
            for col, value in enumerate(values):
                item = QTableWidgetItem("" if value is None else str(value))
                item.setToolTip(s["run_dir"] if replicas == 1 else
                                f"{s['run_dir']}\nTrained over {replicas} replicas: the global batch and the "
                                "learning rate scaled with the replicas")
                if col in (1, 2, 3, 4, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self._table.setItem(row, col, item)
        self.runs_listed.emit(len(self._summaries))

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


class RunsDock(QDockWidget):
    """The Runs dock: a one-line title with a collapse button over a compact :class:`RunsPanel`."""

    def __init__(self, panel: RunsPanel, parent: QMainWindow) -> None:
        super().__init__("Runs", parent)
        self.setObjectName("runsDock")
        self.setAccessibleName("Runs")
        self._panel = panel
        self._expanded_height = 0
        self.setWidget(panel)
        self.collapse_action = QAction("&Collapse runs list", self)
        self.collapse_action.setObjectName("actionCollapseRuns")
        self.collapse_action.setCheckable(True)
        self.collapse_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.collapse_action.toggled.connect(self._on_collapse_toggled)
        self._button = QToolButton()
        self._button.setObjectName("runsCollapseButton")
        self._button.setAccessibleName("Collapse or expand the runs list")
        self._button.setAutoRaise(True)
        self._button.setDefaultAction(self.collapse_action)
        self._button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._title = QLabel("<b>Runs</b>")
        self._title.setObjectName("runsDockTitle")
        self._summary = QLabel()
        self._summary.setObjectName("runsDockSummary")
        self._summary.setAccessibleName("Runs summary")
        self._summary.setEnabled(False)  # the palette's dimmed text: a hint, not a heading
        bar = QWidget()
        bar.setObjectName("runsDockTitleBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(4, 1, 4, 1)
        row.addWidget(self._button)
        row.addWidget(self._title)
        row.addWidget(self._summary, 1)
        self.setTitleBarWidget(bar)
        panel.runs_listed.connect(self._on_runs_listed)
        self._on_runs_listed(panel.run_count())
        self._sync_button()

    def default_height(self) -> int:
        """Title, header and :data:`DEFAULT_ROWS` rows."""
        rows = self._panel.row_height() * (DEFAULT_ROWS + 1) + 6
        return self.titleBarWidget().sizeHint().height() + rows

    def is_collapsed(self) -> bool:
        return self.collapse_action.isChecked()

    def set_collapsed(self, collapsed: bool) -> None:
        self.collapse_action.setChecked(collapsed)

    def save_collapsed(self, settings: QSettings) -> None:
        from workbench.gui import settings_keys

        settings.setValue(settings_keys.RUNS_COLLAPSED, "true" if self.is_collapsed() else "false")
        settings.setValue(settings_keys.RUNS_HEIGHT, int(self._expanded_height or self.height()))

    def restore_collapsed(self, settings: QSettings) -> None:
        from workbench.gui import settings_keys

        height = settings.value(settings_keys.RUNS_HEIGHT)
        try:
            self._expanded_height = max(int(height), 0) if height is not None else 0
        except (TypeError, ValueError):
            self._expanded_height = 0
        self.set_collapsed(str(settings.value(settings_keys.RUNS_COLLAPSED, "false")).lower() == "true")

    @Slot(int)
    def _on_runs_listed(self, _count: int) -> None:
        self._summary.setText(self._panel.summary_text())

    @Slot(bool)
    def _on_collapse_toggled(self, collapsed: bool) -> None:
        window = self.parentWidget()
        if collapsed:
            if self._panel.isVisible():
                self._expanded_height = self.height()
            self._panel.hide()
            self.setMaximumHeight(self.titleBarWidget().sizeHint().height() + 2)
        else:
            self.setMaximumHeight(16777215)
            self._panel.show()
            if isinstance(window, QMainWindow):
                height = self._expanded_height if self._expanded_height > self.default_height() // 2 else \
                    self.default_height()
                window.resizeDocks([self], [height], Qt.Orientation.Vertical)
        self._sync_button()

    def _sync_button(self) -> None:
        collapsed = self.is_collapsed()
        self._button.setArrowType(Qt.ArrowType.RightArrow if collapsed else Qt.ArrowType.DownArrow)
        shortcut = self.collapse_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self._button.setToolTip(f"{'Show' if collapsed else 'Collapse'} the runs list ({shortcut})")

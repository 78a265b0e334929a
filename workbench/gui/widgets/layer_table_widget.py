"""LayerTableWidget: a model's layers as a tree table, and what trains in each phase of its run.

It shows the plain dict of ``core.templates.summary`` (``summarize_template`` or
``summarize_model_file``), the same data ``workbench layers`` prints: one row per layer, the layers
of a nested model (a pretrained backbone) as its children, with type, output shape and parameters.
A run in one phase gets a "Trainable" column; a run in several phases (transfer learning) one column
per phase, "trains" tinted, so the layers that only phase 2 unfreezes stand out. Below the tree, the
total parameters and, per phase, how many train and how many stay frozen.

For a template whose phase 2 unfreezes the top ``fine_tune_blocks`` blocks of its backbone, each
backbone row knows its block (the summary's ``block``): double-clicking it, or "Fine-tune from here"
in its context menu, emits :attr:`LayerTableWidget.fine_tune_requested` with the count that makes
phase 2 train that block and every block above it (the panel sets the hyperparameter). The first
row of the lowest block phase 2 trains carries a marker (▲ in the phase-2 column), and a hint line
says what to do.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView, QHeaderView, QLabel, QMenu, QStyle, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from workbench.gui.widgets._style import GREEN, ORANGE

BASE_COLUMNS = ("Layer", "Type", "Output shape", "Parameters")
PARAMS_COLUMN = 3
NO_WEIGHTS = "—"
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's fine_tune_blocks value (None: not in a block)
FINE_TUNE_ACTION = "Fine-tune from here in phase 2"


def _tint(color: QColor, alpha: int) -> QBrush:
    tinted = QColor(color)
    tinted.setAlpha(alpha)
    return QBrush(tinted)


def phase_title(index: int, phase: dict[str, Any]) -> str:
    return f"Phase {index + 1}: {phase.get('name', '')}"


def phase_column_title(index: int, phase: dict[str, Any]) -> str:
    """A phase column's header, short: the table is often narrow."""
    return f"{index + 1}: {phase.get('name', '')}"


def trains_text(trained: int, capable: int, params: int) -> str:
    """A cell of a phase column: "trains", "frozen", "partly (N)" (a nested model), or "—" (no weights);
    ``capable`` counts the parameters that can train at all (not BatchNormalization's statistics)."""
    if not params:
        return NO_WEIGHTS
    if trained == 0:
        return "frozen"
    return "trains" if trained >= capable else f"partly ({trained:,})"


class LayerTableWidget(QWidget):
    """Tree of layers (nested models expanded) with per-phase trainable columns, and parameter totals."""

    #: A backbone row was double-clicked (or "Fine-tune from here" chosen): the ``fine_tune_blocks``
    #: value that makes phase 2 train its block and every block above it.
    fine_tune_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerTableWidget")
        self.setAccessibleName("Model layers")
        self._summary: dict[str, Any] | None = None
        self._tree = QTreeWidget(self)
        self._tree.setObjectName("layerTableTree")
        self._tree.setAccessibleName("Layers: name, type, output shape, parameters and what trains")
        self._tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._tree.setUniformRowHeights(True)  # tens of rows for a backbone; cheap to lay out
        self._tree.setAlternatingRowColors(True)
        self._tree.setIndentation(12)  # a backbone's layers one step in, without pushing the columns out
        self._tree.header().setObjectName("layerTableHeader")
        self._tree.header().setAccessibleName("Layer table columns")
        self._tree.itemDoubleClicked.connect(self._on_item_double_clicked)
        self._tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._tree.customContextMenuRequested.connect(self._on_context_menu_requested)
        self._hint = QLabel(self)
        self._hint.setObjectName("layerTableFineTuneHint")
        self._hint.setAccessibleName("How to choose where phase 2 starts")
        self._hint.setWordWrap(True)
        self._hint.hide()
        self._totals = QLabel(self)
        self._totals.setObjectName("layerTableTotals")
        self._totals.setAccessibleName("Parameter totals")
        self._totals.setWordWrap(True)
        self._totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._tree, 1)
        layout.addWidget(self._hint)
        layout.addWidget(self._totals)
        self._set_columns([])

    # ----------------------------------------------------------------------------------- public
    @property
    def tree(self) -> QTreeWidget:
        return self._tree

    @property
    def summary(self) -> dict[str, Any] | None:
        return self._summary

    def totals_text(self) -> str:
        return self._totals.text()

    def hint_text(self) -> str:
        """The fine-tuning hint under the table ("" when the model has no blocks to choose)."""
        return self._hint.text() if not self._hint.isHidden() else ""

    def item_for_path(self, path: str) -> QTreeWidgetItem | None:
        """The row of the layer at ``path`` ("squeezenet_v1_1/fire8_squeeze1x1"), or None."""
        for item in self._items():
            if item.data(0, Qt.ItemDataRole.UserRole) == path:
                return item
        return None

    def block_of(self, item: QTreeWidgetItem) -> int | None:
        """The ``fine_tune_blocks`` value from which phase 2 trains ``item``'s block (None: no block)."""
        block = item.data(0, BLOCK_ROLE)
        return int(block) if block else None

    def request_fine_tune_from(self, item: QTreeWidgetItem) -> bool:
        """Emit :attr:`fine_tune_requested` for ``item``'s block; False (nothing emitted) outside a block."""
        block = self.block_of(item)
        if block is None:
            return False
        self.fine_tune_requested.emit(block)
        return True

    def column_titles(self) -> list[str]:
        header = self._tree.headerItem()
        return [header.text(col) for col in range(self._tree.columnCount())]

    def rows(self) -> list[dict[str, str]]:
        """The rows as shown, depth first: ``{"path", "depth", <column title>: text, ...}``."""
        titles = self.column_titles()
        found: list[dict[str, str]] = []

        def walk(item: QTreeWidgetItem, depth: int) -> None:
            found.append({"path": item.data(0, Qt.ItemDataRole.UserRole), "depth": depth,
                          **{title: item.text(col) for col, title in enumerate(titles)}})
            for index in range(item.childCount()):
                walk(item.child(index), depth + 1)

        for index in range(self._tree.topLevelItemCount()):
            walk(self._tree.topLevelItem(index), 0)
        return found

    def clear(self) -> None:
        self._summary = None
        self._tree.clear()
        self._totals.clear()
        self._hint.clear()
        self._hint.hide()

    def set_summary(self, summary: dict[str, Any]) -> None:
        """Show a summary of ``core.templates.summary``."""
        self._summary = summary
        phases = summary.get("phases") or []
        multi = len(phases) > 1
        self._set_columns(phases if multi else [])
        self._tree.setUpdatesEnabled(False)  # one layout for all rows
        try:
            self._tree.clear()
            parents: list[QTreeWidgetItem] = []
            for layer in summary.get("layers", []):
                depth = int(layer.get("depth", 0))
                del parents[depth:]
                item = self._make_item(layer, phases if multi else [])
                if parents:
                    parents[-1].addChild(item)
                else:
                    self._tree.addTopLevelItem(item)
                if layer.get("nested"):
                    parents.append(item)
            self._tree.expandAll()
        finally:
            self._tree.setUpdatesEnabled(True)
        header = self._tree.header()
        for col in range(self._tree.columnCount()):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self._totals.setText(self._totals_for(summary, phases))
        fine_tune = summary.get("fine_tune")
        self._hint.setText(self._hint_for(fine_tune) if fine_tune else "")
        self._hint.setVisible(bool(fine_tune))
        if fine_tune and fine_tune.get("enabled"):
            self._mark_phase_two_start(int(fine_tune.get("value") or 0))

    # --------------------------------------------------------------------------------- private
    def _set_columns(self, phases: list[dict[str, Any]]) -> None:
        titles = list(BASE_COLUMNS) + ([phase_column_title(i, p) for i, p in enumerate(phases)] or ["Trainable"])
        self._tree.setColumnCount(len(titles))
        self._tree.setHeaderLabels(titles)
        header = self._tree.headerItem()
        for i, phase in enumerate(phases):
            header.setToolTip(len(BASE_COLUMNS) + i, f"{phase_title(i, phase)}, {phase.get('epochs')} epochs at "
                                                     f"learning rate {phase.get('learning_rate', 0):.2g}")

    def _make_item(self, layer: dict[str, Any], phases: list[dict[str, Any]]) -> QTreeWidgetItem:
        params = int(layer.get("params") or 0)
        if phases:
            trained = list(layer.get("phase_params") or [0] * len(phases))
            capable = int(layer.get("trainable_capable", params))
            marks = [trains_text(int(n), capable, params) for n in trained]
        else:
            marks = [NO_WEIGHTS if not params else ("trains" if layer.get("trainable") else "frozen")]
        cells = [layer.get("name", ""), layer.get("type", ""), layer.get("output_shape", ""), f"{params:,}", *marks]
        item = QTreeWidgetItem(cells)
        item.setData(0, Qt.ItemDataRole.UserRole, layer.get("path", layer.get("name", "")))
        item.setToolTip(0, layer.get("path", ""))
        block = layer.get("block")
        if block:
            item.setData(0, BLOCK_ROLE, int(block))
            item.setToolTip(0, f"{layer.get('path', '')}\nBlock {block} from the top of the backbone: double-click "
                               f"to fine-tune from here in phase 2 (fine_tune_blocks = {block})")
        item.setTextAlignment(PARAMS_COLUMN, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        muted = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        first_trains = marks[0] == "trains"
        for offset, mark in enumerate(marks):
            col = len(BASE_COLUMNS) + offset
            item.setTextAlignment(col, Qt.AlignmentFlag.AlignCenter)
            if mark == "frozen" or mark == NO_WEIGHTS:
                item.setForeground(col, QBrush(muted))
            elif mark == "trains":
                # What a later phase unfreezes stands out from what trains all along.
                later = offset > 0 and not first_trains
                item.setBackground(col, _tint(ORANGE if later else GREEN, 90 if later else 60))
                item.setToolTip(col, f"Trains from {phase_title(offset, phases[offset])}" if later and phases
                                else "These weights train")
            else:
                item.setBackground(col, _tint(ORANGE, 45))
        if params and all(mark == "frozen" for mark in marks):
            item.setForeground(PARAMS_COLUMN, QBrush(muted))
            item.setToolTip(PARAMS_COLUMN, "Frozen: these weights are not trained")
        return item

    def _items(self):
        stack = [self._tree.topLevelItem(i) for i in reversed(range(self._tree.topLevelItemCount()))]
        while stack:
            item = stack.pop()
            yield item
            stack.extend(item.child(i) for i in reversed(range(item.childCount())))

    def _mark_phase_two_start(self, value: int) -> None:
        """An arrow in the phase-2 column of the first row of the lowest block phase 2 trains: from
        here up, it fine-tunes."""
        if value <= 0:
            return
        column = self._tree.columnCount() - 1  # the last phase's: where it starts, in its own column
        for item in self._items():
            if self.block_of(item) == value:
                item.setIcon(column, self.style().standardIcon(QStyle.StandardPixmap.SP_ArrowUp))
                item.setToolTip(column, f"Phase 2 fine-tunes from here up: the top {value} "
                                        f"block{'s' if value != 1 else ''} of the backbone")
                return

    @staticmethod
    def _hint_for(fine_tune: dict[str, Any]) -> str:
        count, value = int(fine_tune.get("blocks") or 0), int(fine_tune.get("value") or 0)
        now = (f"Phase 2 fine-tunes the top {value} of the backbone's {count} blocks (from the ▲ row up)."
               if fine_tune.get("enabled") else
               f"Phase 2 is off (fine_tune_epochs or fine_tune_blocks is 0); the backbone has {count} blocks.")
        return f"{now} Double-click a backbone layer to fine-tune from it in phase 2."

    @Slot(QTreeWidgetItem, int)
    def _on_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        self.request_fine_tune_from(item)

    @Slot(QPoint)
    def _on_context_menu_requested(self, pos: QPoint) -> None:
        item = self._tree.itemAt(pos)
        block = self.block_of(item) if item is not None else None
        if block is None:
            return
        menu = QMenu(self)
        menu.setObjectName("layerTableContextMenu")
        action = menu.addAction(f"{FINE_TUNE_ACTION} (fine_tune_blocks = {block})")
        action.setToolTip("Phase 2 trains this layer's block and every block above it")
        action.triggered.connect(lambda: self.fine_tune_requested.emit(block))
        menu.exec(self._tree.viewport().mapToGlobal(pos))

    @staticmethod
    def _totals_for(summary: dict[str, Any], phases: list[dict[str, Any]]) -> str:
        total = int(summary.get("total_params") or 0)
        text = f"Total parameters: {total:,}"
        if len(phases) > 1:
            parts = [f"{phase_title(i, p)} ({p['epochs']} epochs at learning rate {p['learning_rate']:.2g}): "
                     f"{p['trainable_params']:,} trainable in {p['trainable_layers']} of {p['weighted_layers']} "
                     f"layers with weights, {p['frozen_params']:,} frozen" for i, p in enumerate(phases)]
            return text + ".\n" + ".\n".join(parts) + "."
        frozen = int(summary.get("non_trainable_params") or 0)
        trainable = int(summary.get("trainable_params") or 0)
        return text + (f" ({trainable:,} trainable, {frozen:,} frozen)" if frozen else " (all trainable)")

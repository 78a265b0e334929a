"""A form with one editor per hyperparameter of a template, built from its HyperParameter specs.

int → QSpinBox, float → QDoubleSpinBox (LogSpinBox for log-scale values such as the learning
rate), choice → QComboBox, bool → QCheckBox, path → QLineEdit (a file name; empty = none); each
carries the help text as its tooltip. Editors are named ``<prefix><name>`` so tests and
accessibility tools find them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget,
)

from workbench.gui.widgets.log_spin_box import LogSpinBox

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int


def pretty_name(name: str) -> str:
    """``learning_rate`` → ``Learning rate``; ``top_db`` → ``Top dB``."""
    words = name.replace("_", " ").capitalize().split(" ")
    return " ".join("dB" if word == "db" else word for word in words)


class HyperParameterFormWidget(QWidget):
    """Editors for a tuple of ``HyperParameter``; ``values_changed`` fires on user edits only."""

    values_changed = Signal(dict)  # every value of the form, typed as the specs say

    def __init__(self, parent: QWidget | None = None, object_prefix: str = "hparam_") -> None:
        super().__init__(parent)
        self.setObjectName("hyperparameterFormWidget")
        self.setAccessibleName("Hyperparameters")
        self._prefix = object_prefix
        self._specs: tuple = ()
        self._editors: dict[str, QWidget] = {}
        self._layout = QFormLayout(self)
        self._layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

    # ----------------------------------------------------------------------------------- public
    def set_specs(self, specs, values: dict[str, Any] | None = None) -> None:
        """Rebuild the form for ``specs`` (HyperParameter tuple), showing ``values`` or the defaults."""
        while self._layout.rowCount():
            self._layout.removeRow(0)  # deletes the label and editor widgets too
        self._specs = tuple(specs)
        self._editors = {}
        for spec in self._specs:
            editor = self._make_editor(spec)
            editor.setObjectName(f"{self._prefix}{spec.name}")
            editor.setAccessibleName(pretty_name(spec.name))
            if isinstance(editor, QComboBox):  # its drop-down list is a widget of its own
                editor.view().setObjectName(f"{self._prefix}{spec.name}_choices")
                editor.view().setAccessibleName(f"{pretty_name(spec.name)} choices")
            editor.setAccessibleDescription(spec.help)
            editor.setToolTip(spec.help)
            label = QLabel(pretty_name(spec.name), self)
            label.setToolTip(spec.help)
            label.setBuddy(editor)
            self._layout.addRow(label, editor)
            self._editors[spec.name] = editor
        self.set_values(values or {})

    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def names(self) -> list[str]:
        return [spec.name for spec in self._specs]

    def values(self) -> dict[str, Any]:
        return {spec.name: self._read(spec, self._editors[spec.name]) for spec in self._specs}

    def defaults(self) -> dict[str, Any]:
        return {spec.name: spec.default for spec in self._specs}

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values`` (missing names get their default) without emitting ``values_changed``."""
        for spec in self._specs:
            editor = self._editors[spec.name]
            editor.blockSignals(True)  # a programmatic update is not a user edit: no feedback loop
            try:
                self._write(spec, editor, values.get(spec.name, spec.default))
            finally:
                editor.blockSignals(False)

    # --------------------------------------------------------------------------------- private
    def _make_editor(self, spec) -> QWidget:
        if spec.kind == "int":
            box = QSpinBox(self)
            low = -INT_LIMIT if spec.minimum is None else int(spec.minimum)
            high = INT_LIMIT if spec.maximum is None else int(min(spec.maximum, INT_LIMIT))
            box.setRange(low, high)
            box.setKeyboardTracking(False)  # typing "100" is one change, not 1, 10, 100
            box.valueChanged.connect(self._on_editor_changed)
            return box
        if spec.kind == "float":
            if spec.log_scale:
                box = LogSpinBox(spec.minimum or 1e-8, spec.maximum or 1e3, self)
            else:
                box = QDoubleSpinBox(self)
                low = -1e9 if spec.minimum is None else float(spec.minimum)
                high = 1e9 if spec.maximum is None else float(spec.maximum)
                box.setDecimals(3)
                box.setRange(low, high)
                box.setSingleStep(0.05 if high - low <= 1.0 else 0.1)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._on_editor_changed)
            return box
        if spec.kind == "choice":
            combo = QComboBox(self)
            combo.addItems(list(spec.choices))
            combo.currentIndexChanged.connect(self._on_editor_changed)
            return combo
        if spec.kind == "path":
            line = QLineEdit(self)
            line.setPlaceholderText("(none)")
            line.setClearButtonEnabled(True)
            line.editingFinished.connect(self._on_editor_changed)  # one change per edit, not per key
            return line
        check = QCheckBox(self)
        check.toggled.connect(self._on_editor_changed)
        return check

    @staticmethod
    def _read(spec, editor: QWidget) -> Any:
        if spec.kind == "int":
            return int(editor.value())
        if spec.kind == "float":
            # The display rounds; the value handed on is rounded the same way, so 0.1 stays 0.1.
            return float(f"{editor.value():.6g}")
        if spec.kind == "choice":
            return editor.currentText()
        if spec.kind == "path":
            return editor.text().strip()
        return bool(editor.isChecked())

    @staticmethod
    def _write(spec, editor: QWidget, value: Any) -> None:
        if spec.kind in ("int", "float"):
            editor.setValue(value)
        elif spec.kind == "choice":
            index = editor.findText(str(value), Qt.MatchFlag.MatchExactly)
            editor.setCurrentIndex(index if index >= 0 else editor.findText(str(spec.default)))
        elif spec.kind == "path":
            editor.setText(str(value or ""))
        else:
            editor.setChecked(bool(value))

    @Slot()
    def _on_editor_changed(self) -> None:
        self.values_changed.emit(self.values())

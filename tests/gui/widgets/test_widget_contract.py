"""Contract checks for the widget modules listed below (add a module here when adding a widget)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QWidget

pytestmark = pytest.mark.gui

MODULES = [
    "training_curves_widget",
    "confusion_matrix_widget",
    "class_counts_widget",
    "thumbnail_strip_widget",
    "probability_bars_widget",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_demo_builds_and_interactive_parts_are_named(qtbot, module_name):
    module = importlib.import_module(f"workbench.gui.widgets.{module_name}")
    widget = module._demo_widget()
    qtbot.addWidget(widget)
    widget.show()
    candidates = [widget, *widget.findChildren(QWidget)]
    interactive = [
        w for w in candidates
        if isinstance(w, (QAbstractButton, QAbstractScrollArea, pg.PlotWidget))
        or type(w).__module__.startswith("workbench.")
    ]
    # Scroll bars and viewports belong to their scroll area; the area itself carries the name.
    assert interactive
    unnamed = [repr(w) for w in interactive if not (w.objectName() and w.accessibleName())]
    assert unnamed == []


def test_widgets_import_neither_tensorflow_nor_training_internals():
    code = (
        "import sys\n"
        + "".join(f"import workbench.gui.widgets.{m}\n" for m in MODULES)
        + "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')"
        " or m.startswith('workbench.core.training')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

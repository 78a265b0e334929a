"""The contract every reusable widget keeps, checked on every widget class found in
:mod:`workbench.gui.widgets` (nothing to register: a new widget module is picked up by itself).

A widget is built by the contract's factory: its demo in ``demos.widgets.DEMOS`` (each widget runs
alone with demo data), or ``cls()`` for a widget that needs no arguments. A widget that neither has
a demo nor builds without arguments fails here with what to add.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QWidget

import workbench.gui.widgets

pytestmark = pytest.mark.gui


def widget_modules() -> list[str]:
    """Every module of the widgets package (private helpers such as ``_style`` included)."""
    return sorted(f"workbench.gui.widgets.{info.name}" for info in pkgutil.iter_modules(workbench.gui.widgets.__path__))


def widget_classes() -> list[type[QWidget]]:
    """Every QWidget subclass defined in a widgets module."""
    found = []
    for name in widget_modules():
        module = importlib.import_module(name)
        found += [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, QWidget) and cls.__module__ == name]
    return sorted(found, key=lambda cls: cls.__name__)


def build(cls: type[QWidget]) -> QWidget:
    """The contract's factory: the widget's demo, else ``cls()``; fails loudly when neither works."""
    from demos.widgets import DEMOS

    if cls in DEMOS:
        return DEMOS[cls].build()
    try:
        return cls()
    except TypeError as exc:
        pytest.fail(f"Expected a demo for {cls.__module__}.{cls.__name__} in demos/widgets.py (DEMOS), or a "
                    f"constructor without required arguments. Received: {exc}", pytrace=False)


def test_widgets_are_found():
    names = {cls.__name__ for cls in widget_classes()}
    assert {"TrainingCurvesWidget", "ConfusionMatrixWidget", "DrawCanvasWidget", "LogSpinBox"} <= names
    assert len(names) >= 12


@pytest.mark.parametrize("cls", widget_classes(), ids=lambda cls: cls.__name__)
def test_widget_builds_and_interactive_parts_are_named(qtbot, cls):
    widget = build(cls)
    qtbot.addWidget(widget)
    widget.show()
    candidates = [widget, *widget.findChildren(QWidget)]
    assert any(isinstance(w, cls) for w in candidates), f"the demo of {cls.__name__} does not show one"
    interactive = [
        w for w in candidates
        if isinstance(w, (QAbstractButton, QAbstractScrollArea, pg.PlotWidget))
        or type(w).__module__.startswith("workbench.")
    ]
    # Scroll bars and viewports belong to their scroll area; the area itself carries the name.
    unnamed = [repr(w) for w in interactive if not (w.objectName() and w.accessibleName())]
    assert unnamed == []


def test_widgets_import_neither_tensorflow_nor_training_internals():
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in widget_modules())
        + "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')"
        " or m.startswith('workbench.core.training')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_model_input_caption_says_its_size_and_when_the_picture_was_stretched():
    from workbench.gui.widgets.model_input_view_widget import input_caption

    assert input_caption("What the model sees", (28, 28)) == "What the model sees\n28×28"
    stretched = input_caption("What the model sees", (150, 150), (480, 640))
    assert "150×150" in stretched and "stretched from\n640×480" in stretched
    assert "stretched" not in input_caption("What the model sees", (150, 150), (300, 300))

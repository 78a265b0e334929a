"""The Test panel's Draw tab alone: ``python -m demos.draw_test_widget [--screenshot PATH]``, with the
shipped digits model (or ``WORKBENCH_DIGITS_MODEL``)."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QApplication, QWidget

from demos.runner import run_demo
from workbench.core.resources import resource_path
from workbench.gui.panels.live.draw_test_widget import DrawTestWidget
from workbench.gui.workers.predictor_cache import PredictorCache


def demo_widget() -> QWidget:
    widget = DrawTestWidget(PredictorCache())
    QApplication.instance().aboutToQuit.connect(widget.shutdown)
    widget.set_model(os.environ.get("WORKBENCH_DIGITS_MODEL") or str(resource_path("models", "digits.keras")))
    return widget


if __name__ == "__main__":
    raise SystemExit(run_demo(demo_widget, title="Draw test", size=(900, 640)))

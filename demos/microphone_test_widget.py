"""The Test panel's Microphone tab alone: ``python -m demos.microphone_test_widget [--screenshot PATH]``,
with the shipped spoken-digit model (or ``WORKBENCH_AUDIO_MODEL``)."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QApplication, QWidget

from demos.runner import run_demo
from workbench.gui.panels.live.microphone_test_widget import SHIPPED_MODEL, MicrophoneTestWidget
from workbench.gui.workers.predictor_cache import PredictorCache


def demo_widget() -> QWidget:
    widget = MicrophoneTestWidget(PredictorCache())
    QApplication.instance().aboutToQuit.connect(widget.shutdown)
    widget.set_model(os.environ.get("WORKBENCH_AUDIO_MODEL") or str(SHIPPED_MODEL))
    return widget


if __name__ == "__main__":
    raise SystemExit(run_demo(demo_widget, title="Microphone test", size=(1100, 720), settle_ms=3000))

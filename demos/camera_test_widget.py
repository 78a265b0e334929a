"""The Test panel's Camera tab alone: ``python -m demos.camera_test_widget [--screenshot PATH]``.

Uses the shipped digits model (or ``WORKBENCH_CAMERA_MODEL``) and the first camera found; without a
camera (or with ``WORKBENCH_CAMERA_SOURCE=digit``) a handwritten MNIST "3" held up on paper plays
as the camera (``tests/gui/camera_videos.py``, needs the shared data); any other value of
``WORKBENCH_CAMERA_SOURCE`` is a camera index, video file or stream URL.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from demos.runner import run_demo
from workbench.core.resources import resource_path
from workbench.core.sources.camera import list_cameras
from workbench.gui.panels.live.camera_test_widget import CameraTestWidget
from workbench.gui.workers.predictor_cache import PredictorCache


def demo_source() -> str | None:
    wanted = os.environ.get("WORKBENCH_CAMERA_SOURCE", "")
    if wanted and wanted != "digit":
        return wanted
    if not wanted and list_cameras():
        return None  # the tab opens the first camera itself
    from tests.gui.camera_videos import write_digit_video

    return write_digit_video(Path(tempfile.mkdtemp(prefix="camera-demo-")) / "digit3.avi", 3, frames=90)


def demo_widget() -> QWidget:
    widget = CameraTestWidget(PredictorCache())
    QApplication.instance().aboutToQuit.connect(widget.shutdown)
    widget.set_model(os.environ.get("WORKBENCH_CAMERA_MODEL") or str(resource_path("models", "digits.keras")))
    source = demo_source()
    if source is not None:
        widget.open_source(source)
    return widget


if __name__ == "__main__":
    raise SystemExit(run_demo(demo_widget, title="Camera test", size=(1100, 780), settle_ms=12000))

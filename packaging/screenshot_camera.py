"""Screenshot of the Camera tab in the real window: a handwritten digit on paper "held up to the camera".

    xvfb-run -a .venv/bin/python packaging/screenshot_camera.py [--out docs/screenshots/test_camera.png]
    xvfb-run -a .venv/bin/python packaging/screenshot_camera.py --gradcam --out docs/screenshots/test_camera_gradcam.png

No webcam is needed: a video of a real MNIST "3" written on paper, drifting as if held by hand
(``tests/gui/camera_videos.py``), is chosen as the source the way "Video file…" would. Uses the
shipped digits model (``WORKBENCH_DIGITS_MODEL`` overrides it). ``--gradcam`` turns on the tab's
Grad-CAM toggle first: for the digits model the heat map is shown beside the feed, over the model's
28×28 input.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _wait_until(app, condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout_s:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.005)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shots/test_camera.png"))
    parser.add_argument("--size", default="1280x900", help="window size WxH")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long the camera runs before the grab")
    parser.add_argument("--gradcam", action="store_true", help="turn Grad-CAM on (where the model looked)")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from tests.gui.camera_videos import write_digit_video
    from workbench.gui.app import create_application
    from workbench.gui.main_window import MainWindow

    video = write_digit_video(Path(tempfile.mkdtemp(prefix="camera-shot-")) / "digit3_on_paper.avi", 3, frames=90)
    app = QApplication.instance() or create_application([sys.argv[0]])
    window = MainWindow()
    panel = window.test_panel
    window.tabs.setCurrentWidget(panel)
    if os.environ.get("WORKBENCH_DIGITS_MODEL"):
        panel.select_model(os.environ["WORKBENCH_DIGITS_MODEL"])
    camera = panel.inputs["camera"]
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    if hasattr(window, "start_background_loading"):
        window.start_background_loading()
    panel.tabs.setCurrentWidget(camera)
    camera.open_source(video)
    try:
        _wait_until(app, camera.is_ready, 180, f"the model to load ({camera.message_text()})")
        _wait_until(app, lambda: camera.prediction_text() != "", 30, "a prediction")
        if args.gradcam:
            camera.gradcam.toggle.setChecked(True)
            _wait_until(app, lambda: camera.gradcam.picture() is not None, 60,
                        f"a Grad-CAM heat map ({camera.gradcam.note_text()})")
        deadline = time.monotonic() + args.seconds  # the timeline and the figures fill up
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(args.out)):
            print(f"could not write {args.out}", file=sys.stderr)
            return 1
        print(f"{args.out}: prediction {camera.prediction_text()!r} · {camera.stats_text()}")
        if args.gradcam:
            print(f"Grad-CAM: {camera.gradcam.note_text()}")
    finally:
        panel.shutdown()
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

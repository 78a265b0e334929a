"""Screenshot of the Draw tab in the real window: a "3" drawn with mouse events, prediction shown.

    xvfb-run -a .venv/bin/python packaging/screenshot_draw.py [--out /tmp/shots/draw_tab.png]

Uses the shipped digits model (``WORKBENCH_DIGITS_MODEL`` overrides it). Opens MainWindow and its
Test panel; if MainWindow cannot be imported or built, the LiveTestPanel alone is shot instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
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


def _build_window(state_model: str):
    """(top-level widget, LiveTestPanel); MainWindow when it works, else a bare LiveTestPanel."""
    try:
        from workbench.gui.main_window import MainWindow

        window = MainWindow()
        window.tabs.setCurrentWidget(window.test_panel)
        panel = window.test_panel
    except Exception:
        traceback.print_exc()
        print("MainWindow unavailable; shooting the LiveTestPanel alone", file=sys.stderr)
        from workbench.gui.panels.live_test_panel import LiveTestPanel
        from workbench.gui.state import AppState

        panel = LiveTestPanel(AppState())
        window = panel
    if state_model:
        panel._add_model(state_model)  # a model under development: pick it like "Open model…" would
    panel.tabs.setCurrentWidget(panel.draw)
    return window, panel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shots/draw_tab.png"))
    parser.add_argument("--size", default="1280x860", help="window size WxH")
    parser.add_argument("--collect", action="store_true", help="open the \"Collect drawings\" section too")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from tests.gui.strokes import REPLAY_FILE, replay_strokes
    from workbench.gui.app import create_application

    class MouseBot:  # the two qtbot calls replay_strokes needs
        @staticmethod
        def mousePress(widget, button, modifier, position):  # noqa: N802
            from PySide6.QtTest import QTest

            QTest.mousePress(widget, button, modifier, position)

        @staticmethod
        def mouseRelease(widget, button, modifier, position):  # noqa: N802
            from PySide6.QtTest import QTest

            QTest.mouseRelease(widget, button, modifier, position)

    app = QApplication.instance() or create_application([sys.argv[0]])
    window, panel = _build_window(os.environ.get("WORKBENCH_DIGITS_MODEL", ""))
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    if hasattr(window, "start_background_loading"):
        window.start_background_loading()
    draw = panel.draw
    draw.collect.setChecked(args.collect)
    try:
        _wait_until(app, draw.is_ready, 180, f"the model to load ({draw.message_text()})")
        three = next(e for e in json.loads(REPLAY_FILE.read_text()) if e["label"] == 3)
        replay_strokes(MouseBot, draw.canvas, three["strokes"])
        _wait_until(app, lambda: draw.is_settled() and draw.prediction_text() != "", 30, "the prediction")
        deadline = time.monotonic() + 0.5  # let paced repaints (pyqtgraph, labels) land
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(args.out)):
            print(f"could not write {args.out}", file=sys.stderr)
            return 1
        print(f"{args.out}: prediction {draw.prediction_text()!r}, {draw.latency_text()}")
    finally:
        panel.shutdown()
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

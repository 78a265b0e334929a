"""Runs a widget alone with demo data: ``python -m workbench.gui.widgets.<module> [--screenshot P]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget


def run_demo(
    build: Callable[[], QWidget], *, title: str, size: tuple[int, int], settle_ms: int = 600
) -> int:
    """Show ``build()`` in its own window; with ``--screenshot PATH`` grab it once shown and exit.

    Args:
        build: makes the widget, already filled with demo data (called after QApplication exists).
        title: window title.
        size: initial window size in pixels.
        settle_ms: delay before the grab, so paced redraws (QTimer) and layouts have run.
    """
    parser = argparse.ArgumentParser(description=f"Demo of the {title} widget.")
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the widget and exit")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    widget = build()
    widget.setWindowTitle(title)
    widget.resize(*size)
    widget.show()
    if args.screenshot is not None:

        def grab_and_quit() -> None:
            if not widget.grab().save(str(args.screenshot)):
                print(f"could not write {args.screenshot}", file=sys.stderr)
                app.exit(1)
                return
            print(args.screenshot)
            app.quit()

        QTimer.singleShot(settle_ms, grab_and_quit)
    return app.exec()

"""Runs a panel or a widget alone in its own window, optionally grabbing a screenshot.

``run_panel_demo`` is for panels (``python -m demos.<panel> [--screenshot PATH] [panel options]``):
they do background work (TensorFlow import, model builds, training), so a screenshot is taken once
the panel says it is ready, not after a fixed delay; a timeout still grabs what is there.
``run_demo`` is for widgets filled with demo data (``python -m demos.widgets NAME``): it grabs after
a short settling delay.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QWidget

POLL_MS = 100
SETTLE_MS = 400  # lets paced redraws (curves, thumbnails) land before the grab


class _ScreenshotTaker(QObject):
    """Polls ``ready()``; once true (or timed out) waits a moment, grabs the panel and quits."""

    def __init__(self, panel: QWidget, path: Path, ready: Callable[[], bool] | None, timeout_s: float) -> None:
        super().__init__(panel)
        self._panel, self._path, self._ready = panel, path, ready
        self._deadline = time.monotonic() + timeout_s
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_poll_timeout)
        self._timer.start()

    @Slot()
    def _on_poll_timeout(self) -> None:
        timed_out = time.monotonic() > self._deadline
        if (self._ready is None or self._ready() or timed_out) and self._timer.isActive():
            self._timer.stop()
            if timed_out:
                print("screenshot: panel not ready before the timeout; grabbing anyway", file=sys.stderr)
            QTimer.singleShot(SETTLE_MS, self._on_settled)

    @Slot()
    def _on_settled(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        ok = self._panel.grab().save(str(self._path))
        print(self._path if ok else f"could not write {self._path}", file=sys.stdout if ok else sys.stderr)
        QApplication.instance().exit(0 if ok else 1)


def run_panel_demo(
    build: Callable[[argparse.Namespace], QWidget],
    *,
    title: str,
    size: tuple[int, int],
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    ready: Callable[[QWidget, argparse.Namespace], bool] | None = None,
    timeout_s: float = 120.0,
) -> int:
    """Show ``build(args)`` in a window; with ``--screenshot PATH`` grab it once ``ready(panel, args)``.

    The panel's ``shutdown()`` runs after the event loop ends, as the main window would call it.
    """
    parser = argparse.ArgumentParser(description=f"Run the {title} panel alone.")
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the panel once it is ready, then exit")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()

    # The app's names, so QSettings and QStandardPaths (the runs folder) are the app's own.
    QCoreApplication.setOrganizationName("CNN Workbench")
    QCoreApplication.setApplicationName("CNN Workbench")
    app = QApplication.instance() or QApplication(sys.argv)
    panel = build(args)
    panel.setWindowTitle(title)
    panel.resize(*size)
    panel.show()
    if args.screenshot is not None:
        _ScreenshotTaker(panel, args.screenshot, (lambda: ready(panel, args)) if ready else None, timeout_s)
    code = app.exec()
    panel.shutdown()
    return code


def run_demo(
    build: Callable[[], QWidget], *, title: str, size: tuple[int, int], settle_ms: int = 600,
    argv: list[str] | None = None,
) -> int:
    """Show ``build()`` in its own window; with ``--screenshot PATH`` grab it once shown and exit.

    Args:
        build: makes the widget, already filled with demo data (called after QApplication exists).
        title: window title.
        size: initial window size in pixels.
        settle_ms: delay before the grab, so paced redraws (QTimer) and layouts have run.
        argv: the command-line options (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=f"Demo of the {title} widget.")
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the widget and exit")
    args = parser.parse_args(argv)

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

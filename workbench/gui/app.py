"""QApplication set-up and the app's entry point (``workbench`` with no sub-command;
``workbench --safe-start`` opens it without restoring the last session)."""

from __future__ import annotations

import logging
import sys
import traceback

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

ORGANIZATION = "CNN Workbench"
APPLICATION = "CNN Workbench"
_log = logging.getLogger(__name__)
SAFE_START = "--safe-start"
_open_error_boxes: list[QMessageBox] = []  # shown without blocking; kept alive until closed


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the names QSettings and QStandardPaths use."""
    # Hand the GIL over more often than the default 5 ms, so the event loop is never kept waiting
    # behind Python code in the training or inference threads.
    sys.setswitchinterval(0.002)
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationDisplayName(APPLICATION)
    from workbench.core.resources import resource_path

    icon = resource_path("icons", "cnn-workbench.svg")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def _excepthook(exc_type, exc, tb) -> None:
    """Show unexpected errors instead of dying silently; the app keeps running.

    The message box does not block (a nested event loop at start-up, before any window, would hang
    with nothing to close); outside a running event loop the error is only logged."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    _log.error("Unhandled exception:\n%s", text)
    app = QApplication.instance()
    if app is None or app.closingDown() or not _event_loop_running():
        return
    box = QMessageBox(QMessageBox.Icon.Critical, APPLICATION, f"Unexpected error: {exc}")
    box.setDetailedText(text)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _result, b=box: _open_error_boxes.remove(b) if b in _open_error_boxes else None)
    _open_error_boxes.append(box)
    box.show()


_loop_running = False


def _event_loop_running() -> bool:
    return _loop_running


def build_window(safe_start: bool = False, build_panels: bool = True):
    """The main window; if restoring the last session breaks it in a way the window itself could not
    catch, the session's settings are cleared and a window without them is built instead.
    ``build_panels=False``: only the start page, the panels follow (``finish_startup_when_shown``)."""
    from PySide6.QtCore import QSettings

    from workbench.gui import settings_keys
    from workbench.gui.main_window import MainWindow

    if safe_start:
        return MainWindow(restore_session=False, build_panels=build_panels)
    try:
        return MainWindow(build_panels=build_panels)
    except Exception as exc:  # noqa: BLE001 - the app must start; the traceback goes to the log
        _log.exception("The window could not be built with the last session; starting without it")
        settings = QSettings()
        for key in settings_keys.SESSION_KEYS:
            settings.remove(key)
        window = MainWindow(restore_session=False, build_panels=build_panels)
        window.startup_messages.append(f"The last session could not be restored ({type(exc).__name__}: {exc})")
        window.statusBar().showMessage(" · ".join(window.startup_messages), 30_000)
        return window


def run_app(argv: list[str] | None = None, safe_start: bool = False) -> int:
    global _loop_running
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv if argv is None else argv)
    safe_start = safe_start or SAFE_START in argv
    app = create_application([a for a in argv if a != SAFE_START])
    sys.excepthook = _excepthook
    # The start page first, on screen within a second; the panels are built right after it is painted.
    window = build_window(safe_start, build_panels=False)
    window.finish_startup_when_shown()
    window.show()
    _loop_running = True
    try:
        return app.exec()
    finally:
        _loop_running = False

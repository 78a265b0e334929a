"""QApplication set-up and the app's entry point (``workbench`` with no sub-command)."""

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
    """Show unexpected errors instead of dying silently; the app keeps running."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    _log.error("Unhandled exception:\n%s", text)
    sys.__stderr__.write(text)
    app = QApplication.instance()
    if app is not None and not app.closingDown():
        box = QMessageBox(QMessageBox.Icon.Critical, APPLICATION, f"Unexpected error: {exc}")
        box.setDetailedText(text)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.exec()


def run_app(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_application(argv)
    sys.excepthook = _excepthook
    from workbench.gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    window.start_background_loading()
    return app.exec()

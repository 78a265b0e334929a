"""MainWindow: composes the panels, menus and status bar. No logic of its own beyond wiring.

Starting never depends on what the last launch left behind: stored settings of the wrong kind are
removed before any panel reads them, and a last project or session that cannot be restored is
reported in the status bar and the log (no dialog) and ignored. ``MainWindow(restore_session=False)``
(``workbench --safe-start``) restores nothing of the last session.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget

from workbench.core.errors import WorkbenchError
from workbench.core.project import PROJECT_SUFFIX
from workbench.gui import settings_keys
from workbench.gui.panels.augmentation.augmentation_stack import AugmentationStack
from workbench.gui.panels.data_panel import DataPanel
from workbench.gui.panels.live_test_panel import LiveTestPanel
from workbench.gui.panels.model_panel import ModelPanel
from workbench.gui.panels.results_panel import ResultsPanel
from workbench.gui.panels.runs_panel import RunsPanel
from workbench.gui.panels.training_panel import TrainingPanel
from workbench.gui.project_controller import ProjectController
from workbench.gui.state import AppState
from workbench.gui.tf_loader import TensorFlowLoader
from workbench.gui.workers.training_controller import TrainingController

PROJECT_FILTER = f"Workbench projects (*{PROJECT_SUFFIX})"
_log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, restore_session: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("CNN Workbench")
        #: What could not be restored at start-up (shown in the status bar, logged).
        self.startup_messages: list[str] = settings_keys.discard_invalid(QSettings())  # before any panel reads one
        self.state = AppState(self)
        self.controller = TrainingController(self)
        self.projects = ProjectController(self.state, self)
        self.data_panel = DataPanel(self.state)
        self.model_panel = ModelPanel(self.state)
        self.augmentation_stack = AugmentationStack(self.state)
        self.augmentation_panel = self.augmentation_stack.panel("image")
        self.audio_augmentation_panel = self.augmentation_stack.panel("audio")
        self.video_augmentation_panel = self.augmentation_stack.panel("video")
        self.training_panel = TrainingPanel(self.state, self.controller)
        self.results_panel = ResultsPanel(self.state)
        self.test_panel = LiveTestPanel(self.state)
        self.runs_panel = RunsPanel()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        for panel, title in ((self.data_panel, "1  Data"), (self.model_panel, "2  Model"),
                             (self.augmentation_stack, "3  Augmentation"), (self.training_panel, "4  Training"),
                             (self.results_panel, "5  Results"), (self.test_panel, "6  Test")):
            self.tabs.addTab(panel, title)
        self.setCentralWidget(self.tabs)
        self.runs_dock = QDockWidget("Runs", self)
        self.runs_dock.setObjectName("runsDock")
        self.runs_dock.setWidget(self.runs_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.runs_dock)
        self._tf_status = QLabel("Loading TensorFlow…")
        self._tf_status.setObjectName("tensorflowStatusLabel")
        self.statusBar().addPermanentWidget(self._tf_status)
        self._tf_loader = TensorFlowLoader(self)
        self._tf_loader.loaded.connect(self._on_tensorflow_loaded)
        self._tf_loader.failed.connect(self._on_tensorflow_loaded)
        self._build_menus()
        self._wire()
        self.training_panel.runs_root = self.projects.runs_root()
        if restore_session:
            self._restore_settings()
        else:
            self._default_layout()
            self.startup_messages.append("Safe start: the last session was not restored")
        self._report_startup()

    # --- composition -------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._add_action(file_menu, "&New project", "actionNewProject", self._on_new_project, QKeySequence.StandardKey.New)
        self._add_action(file_menu, "&Open project…", "actionOpenProject", self._on_open_project,
                         QKeySequence.StandardKey.Open)
        self._recent_menu = file_menu.addMenu("Open &recent")
        self._recent_menu.setObjectName("menuRecentProjects")
        self._recent_menu.aboutToShow.connect(self._on_recent_menu_shown)
        self._add_action(file_menu, "&Save project", "actionSaveProject", self._on_save_project,
                         QKeySequence.StandardKey.Save)
        self._add_action(file_menu, "Save project &as…", "actionSaveProjectAs", self._on_save_project_as,
                         QKeySequence.StandardKey.SaveAs)
        file_menu.addSeparator()
        self._add_action(file_menu, "&Quit", "actionQuit", self.close, QKeySequence.StandardKey.Quit)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.runs_dock.toggleViewAction())

    def _add_action(self, menu, text, name, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _wire(self) -> None:
        self.projects.runs_changed.connect(self.runs_panel.set_runs)
        self.projects.path_changed.connect(self._on_project_path_changed)
        self.runs_panel.run_selected.connect(self._on_run_selected)
        self.runs_panel.overlays_selected.connect(self.training_panel.curves.set_overlays)
        self.controller.run_started.connect(self._on_training_started)

    def start_background_loading(self) -> None:
        self._tf_loader.start()

    # --- slots -------------------------------------------------------------------------------
    @Slot(str)
    def _on_tensorflow_loaded(self, message: str) -> None:
        self._tf_status.setText(message)

    @Slot(dict)
    def _on_training_started(self, _payload: dict) -> None:
        self.tabs.setCurrentWidget(self.training_panel)

    @Slot(str)
    def _on_run_selected(self, run_dir: str) -> None:
        self.results_panel.show_run(run_dir)

    @Slot(str)
    def _on_project_path_changed(self, path: str) -> None:
        self.setWindowTitle(f"{Path(path).stem} — CNN Workbench" if path else "CNN Workbench")
        self.training_panel.runs_root = self.projects.runs_root()

    @Slot()
    def _on_new_project(self) -> None:
        self.projects.new()

    @Slot()
    def _on_open_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_project(path)

    def open_project(self, path: str, interactive: bool = True) -> bool:
        """Open the project file ``path``; False when it cannot be opened (the open project stays).
        ``interactive``: say why in a message box, else in the status bar and the log (at start-up)."""
        try:
            project = self.projects.open(path)
        except WorkbenchError as exc:
            if interactive:
                QMessageBox.warning(self, "Open project", str(exc))
            else:
                self._startup_problem(f"The last project could not be opened: {exc}")
            return False
        self.projects.apply_to_state()
        if project.dataset and _usable_path(project.dataset):
            self.data_panel.load_path(project.dataset)
        return True

    @Slot()
    def _on_save_project(self) -> None:
        if not self.projects.path:
            self._on_save_project_as()
            return
        self.save_project()

    @Slot()
    def _on_save_project_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", "", PROJECT_FILTER)
        if path:
            self.save_project(path)

    def save_project(self, path: str | None = None) -> bool:
        """Save the project (to ``path``, else where it was); a path that cannot be written is said
        in a message box and the project stays unsaved there."""
        try:
            self.projects.save(path)
        except (OSError, WorkbenchError) as exc:
            reason = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.strerror else str(exc)
            QMessageBox.warning(self, "Save project", f"Expected a project file that can be written. Received: {reason}")
            return False
        self.statusBar().showMessage(f"Saved {self.projects.path}", 4000)
        return True

    @Slot()
    def _on_recent_menu_shown(self) -> None:
        self._recent_menu.clear()
        for path in self.projects.recent():
            action = self._recent_menu.addAction(path)
            action.setData(path)
            action.triggered.connect(self._on_recent_project_triggered)
        if self._recent_menu.isEmpty():
            self._recent_menu.addAction("(none)").setEnabled(False)

    @Slot()
    def _on_recent_project_triggered(self) -> None:
        self.open_project(self.sender().data())

    # --- lifecycle ---------------------------------------------------------------------------
    def ask_stop_training(self) -> bool:
        """Ask whether to stop a running training to close; tests replace this."""
        answer = QMessageBox.question(
            self, "Training is running",
            "A training run is in progress. Stop it and close? The best checkpoint so far is kept.")
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event) -> None:
        if self.controller.running:
            if not self.ask_stop_training():
                event.ignore()
                return
            self.statusBar().showMessage("Stopping training…")
            self.controller.stop_and_wait()
        for panel in (self.data_panel, self.model_panel, self.augmentation_stack, self.training_panel,
                      self.results_panel, self.test_panel):
            panel.shutdown()
        self._tf_loader.wait()
        settings = QSettings()
        settings.setValue(settings_keys.WINDOW_GEOMETRY, self.saveGeometry())
        settings.setValue(settings_keys.WINDOW_STATE, self.saveState())
        settings.setValue(settings_keys.WINDOW_TAB, self.tabs.currentIndex())
        settings.setValue(settings_keys.LAST_PROJECT, self.projects.path)
        if not self.projects.path:
            self.projects.save_session()
        super().closeEvent(event)

    def _restore_settings(self) -> None:
        """Bring back the last launch's window, project or unsaved session. Whatever fails is reported,
        removed from the settings and skipped: the app always starts."""
        settings = QSettings()
        try:
            self._restore_layout(settings)
            last = settings.value(settings_keys.LAST_PROJECT, "") or ""
            if last and _is_file(last):
                if self.open_project(last, interactive=False):
                    return
                settings.remove(settings_keys.LAST_PROJECT)
                return
            try:
                session = self.projects.restore_session()
            except WorkbenchError as exc:
                self._startup_problem(f"The last session could not be restored: {exc}")
                return
            if session is not None and session.dataset and _exists(session.dataset):
                self.data_panel.load_path(session.dataset)
        except Exception as exc:  # noqa: BLE001 - last resort: never a window that cannot start
            _log.exception("Restoring the last session failed")
            for key in settings_keys.SESSION_KEYS:
                settings.remove(key)
            self.projects.new()
            self.projects.apply_to_state()  # back to a new project's choices
            self._startup_problem(f"The last session could not be restored ({type(exc).__name__}: {exc}); "
                                  "started without it")

    def _restore_layout(self, settings: QSettings) -> None:
        geometry = settings.value(settings_keys.WINDOW_GEOMETRY)
        if not (_is_bytes(geometry) and self.restoreGeometry(QByteArray(geometry))):
            self.resize(1280, 860)
        state = settings.value(settings_keys.WINDOW_STATE)
        if not (_is_bytes(state) and self.restoreState(QByteArray(state))):
            self.resizeDocks([self.runs_dock], [170], Qt.Orientation.Vertical)
        tab = int(settings.value(settings_keys.WINDOW_TAB, 0) or 0)  # an int (discard_invalid checked it)
        if 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)

    def _default_layout(self) -> None:
        self.resize(1280, 860)
        self.resizeDocks([self.runs_dock], [170], Qt.Orientation.Vertical)

    def _startup_problem(self, message: str) -> None:
        self.startup_messages.append(message)

    def _report_startup(self) -> None:
        for message in self.startup_messages:
            _log.warning("%s", message)
        if self.startup_messages:
            self.statusBar().showMessage(" · ".join(self.startup_messages), 30_000)


def _is_bytes(value) -> bool:
    return isinstance(value, (QByteArray, bytes, bytearray)) and len(value) > 0


def _usable_path(path: str) -> bool:
    """Whether the system can look ``path`` up at all (no NUL, not too long for it)."""
    try:
        Path(path).exists()
    except (OSError, ValueError):
        return False
    return True


def _exists(path: str) -> bool:
    return _usable_path(path) and Path(path).exists()


def _is_file(path) -> bool:
    return isinstance(path, str) and _usable_path(path) and Path(path).is_file()

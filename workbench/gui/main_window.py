"""MainWindow: composes the panels, menus and status bar. No logic of its own beyond wiring.

It opens on the start page (:class:`StartPage`). ``run_app`` shows the window with only that page and
builds the other panels once it is on screen (``MainWindow(build_panels=False)``, then
:meth:`finish_startup_when_shown`), so the window is up within a second: the panels' modules
(pyqtgraph, numpy, the core) are imported in :meth:`build_panels`, TensorFlow later, in the background.

Starting never depends on what the last launch left behind: stored settings of the wrong kind are
removed before any panel reads them, and a last project or session that cannot be restored is
reported in the status bar and the log (no dialog) and ignored. ``MainWindow(restore_session=False)``
(``workbench --safe-start``) restores nothing of the last session.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox

from workbench.core.errors import WorkbenchError
from workbench.core.project import PROJECT_SUFFIX
from workbench.gui import settings_keys
from workbench.gui.panels.start_page import StartPage
from workbench.gui.widgets.panel_tabs import PanelTabs

PROJECT_FILTER = f"Workbench projects (*{PROJECT_SUFFIX})"
DEFAULT_SIZE = (1280, 860)
COMPACT_HEIGHT = 800  # shorter windows start with the Runs dock collapsed
_log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, restore_session: bool = True, build_panels: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("CNN Workbench")
        #: What could not be restored at start-up (shown in the status bar, logged).
        self.startup_messages: list[str] = settings_keys.discard_invalid(QSettings())  # before any panel reads one
        self._restore_session = restore_session
        self._build_when_painted = False
        self.panels_built = False
        self.start_page = StartPage()
        self.tabs = PanelTabs()  # each panel scrolls when the window is smaller than it: 1280×720 fits
        self.tabs.setObjectName("mainTabs")
        self.tabs.setAccessibleName("Workbench steps")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.start_page, "Start")
        self.setCentralWidget(self.tabs)
        self._wire_start_page()
        if restore_session:
            self._restore_geometry()
        else:
            self._default_size()
        if build_panels:
            self.build_panels()

    def build_panels(self) -> None:
        """Build the panels, menus and Runs dock and bring back the last session (once)."""
        if self.panels_built:
            return
        self.panels_built = True
        # Imported here, not at the top: these pull in pyqtgraph, numpy and the core, a second or more
        # that the start page does not wait for.
        from workbench.gui.panels.augmentation.augmentation_stack import AugmentationStack
        from workbench.gui.panels.data_panel import DataPanel
        from workbench.gui.panels.live_test_panel import LiveTestPanel
        from workbench.gui.panels.model_panel import ModelPanel
        from workbench.gui.panels.results_panel import ResultsPanel
        from workbench.gui.panels.runs_panel import RunsDock, RunsPanel
        from workbench.gui.panels.training_panel import TrainingPanel
        from workbench.gui.project_controller import ProjectController
        from workbench.gui.state import AppState
        from workbench.gui.tf_loader import TensorFlowLoader, startup_cpu_replicas
        from workbench.gui.workers.training_controller import TrainingController

        self.state = AppState(self)
        self.controller = TrainingController(self)
        self.projects = ProjectController(self.state, self)
        self.data_panel = DataPanel(self.state)
        self.model_panel = ModelPanel(self.state, build_when_shown=True)  # no TensorFlow until the tab is opened
        self.augmentation_stack = AugmentationStack(self.state)
        self.augmentation_panel = self.augmentation_stack.panel("image")
        self.audio_augmentation_panel = self.augmentation_stack.panel("audio")
        self.video_augmentation_panel = self.augmentation_stack.panel("video")
        self.training_panel = TrainingPanel(self.state, self.controller)
        self.results_panel = ResultsPanel(self.state)
        self.test_panel = LiveTestPanel(self.state)
        self.runs_panel = RunsPanel()
        for panel, title in ((self.data_panel, "1  Data"), (self.model_panel, "2  Model"),
                             (self.augmentation_stack, "3  Augmentation"), (self.training_panel, "4  Training"),
                             (self.results_panel, "5  Results"), (self.test_panel, "6  Test")):
            self.tabs.addTab(panel, title)
        self.runs_dock = RunsDock(self.runs_panel, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.runs_dock)
        self._tf_status = QLabel("Loading TensorFlow…")
        self._tf_status.setObjectName("tensorflowStatusLabel")
        self.statusBar().addPermanentWidget(self._tf_status)
        # Logical CPU devices for a mirrored run, made before TensorFlow starts (where runs train in this process).
        self._tf_loader = TensorFlowLoader(self, cpu_replicas=startup_cpu_replicas())
        self._tf_loader.devices_found.connect(self.training_panel.set_local_devices)
        self._tf_loader.loaded.connect(self._on_tensorflow_loaded)
        self._tf_loader.failed.connect(self._on_tensorflow_loaded)
        self._build_menus()
        self._wire()
        self.training_panel.set_runs_root(self.projects.runs_root(), saved=bool(self.projects.path))
        if self._restore_session:
            self._restore_settings()
        else:
            self._default_layout()
            self.startup_messages.append("Safe start: the last session was not restored")
        self._report_startup()

    def finish_startup_when_shown(self) -> None:
        """Build the panels and start loading TensorFlow once the start page has been painted."""
        self._build_when_painted = True
        self.statusBar().showMessage("Getting the panels ready…")

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().paintEvent(event)
        if self._build_when_painted:  # the first frame is on screen once this paint is flushed
            self._build_when_painted = False
            QTimer.singleShot(0, self._on_first_frame_shown)

    # --- composition -------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._add_action(file_menu, "&New project", "actionNewProject", self._on_new_project, QKeySequence.StandardKey.New)
        self._add_action(file_menu, "Open dataset &folder…", "actionOpenDatasetFolder",
                         self._on_train_on_folder_requested, QKeySequence.StandardKey.Open)
        self._add_action(file_menu, "&Open project…", "actionOpenProject", self._on_open_project,
                         QKeySequence("Ctrl+Shift+O"))
        self._recent_menu = file_menu.addMenu("Open &recent")
        self._recent_menu.setObjectName("menuRecentProjects")
        self._recent_menu.aboutToShow.connect(self._on_recent_menu_shown)
        self._add_action(file_menu, "&Save project", "actionSaveProject", self._on_save_project,
                         QKeySequence.StandardKey.Save)
        self._add_action(file_menu, "Save project &as…", "actionSaveProjectAs", self._on_save_project_as,
                         QKeySequence.StandardKey.SaveAs)
        file_menu.addSeparator()
        self._add_action(file_menu, "&Quit", "actionQuit", self.close, QKeySequence.StandardKey.Quit)
        training_menu = self.menuBar().addMenu("&Training")
        for action in (self.training_panel.start_action, self.training_panel.stop_action):
            training_menu.addAction(action)
            self.addAction(action)  # the shortcut works in every tab, not only while the menu is shown
        view_menu = self.menuBar().addMenu("&View")
        for index in range(self.tabs.count()):
            title = self.tabs.tabText(index).split(maxsplit=1)[-1]
            key = QKeySequence(f"Ctrl+{index}")  # Ctrl+1 is tab "1  Data", …, Ctrl+0 the start page
            self._add_action(view_menu, f"&{index}  {title}", f"actionShowTab{index}", self._on_show_tab_action,
                             key).setData(index)
            self.tabs.setTabToolTip(index, f"{title} ({key.toString(QKeySequence.SequenceFormat.NativeText)})")
        view_menu.addSeparator()
        view_menu.addAction(self.runs_dock.toggleViewAction())
        view_menu.addAction(self.runs_dock.collapse_action)
        self.addAction(self.runs_dock.collapse_action)

    def _add_action(self, menu, text, name, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)  # shortcuts work while the menu bar is hidden or a dock has the focus
        return action

    @Slot()
    def _on_show_tab_action(self) -> None:
        self.tabs.setCurrentIndex(int(self.sender().data()))

    def _wire_start_page(self) -> None:
        page = self.start_page
        page.draw_digit_requested.connect(self._on_draw_digit_requested)
        page.say_digit_requested.connect(self._on_say_digit_requested)
        page.train_on_folder_requested.connect(self._on_train_on_folder_requested)
        page.project_chosen.connect(self._on_start_project_chosen)
        page.run_chosen.connect(self._on_start_run_chosen)
        page.dataset_chosen.connect(self._on_start_dataset_chosen)

    def _wire(self) -> None:
        self.projects.runs_changed.connect(self.runs_panel.set_runs)
        self.projects.runs_changed.connect(self.start_page.set_runs)
        self.projects.path_changed.connect(self._on_project_path_changed)
        self.projects.runs_moved.connect(self._on_runs_moved)
        self.runs_panel.run_selected.connect(self._on_run_selected)
        self.runs_panel.overlays_selected.connect(self.training_panel.curves.set_overlays)
        self.controller.run_started.connect(self._on_training_started)

    def start_background_loading(self) -> None:
        self._tf_loader.start()

    # --- slots -------------------------------------------------------------------------------
    @Slot()
    def _on_first_frame_shown(self) -> None:
        self.statusBar().clearMessage()
        self.build_panels()
        self.start_background_loading()

    def try_live(self, input_key: str, model_path: str) -> None:
        """Open the Test tab's ``input_key`` input ("draw", "microphone") with the model ``model_path``."""
        self.build_panels()  # a click that came before the panels were built
        self.test_panel.select_model(model_path)
        self.test_panel.tabs.setCurrentWidget(self.test_panel.inputs[input_key])
        self.tabs.setCurrentWidget(self.test_panel)

    @Slot(str)
    def _on_draw_digit_requested(self, model_path: str) -> None:
        self.try_live("draw", model_path)

    @Slot(str)
    def _on_say_digit_requested(self, model_path: str) -> None:
        self.try_live("microphone", model_path)

    @Slot()
    def _on_train_on_folder_requested(self) -> None:
        self.build_panels()
        self.tabs.setCurrentWidget(self.data_panel)
        self.data_panel.choose_folder()

    @Slot(str)
    def _on_start_project_chosen(self, path: str) -> None:
        self.build_panels()
        if self.open_project(path):
            self.tabs.setCurrentWidget(self.data_panel)

    @Slot(str)
    def _on_start_run_chosen(self, run_dir: str) -> None:
        self.build_panels()
        self.results_panel.show_run(run_dir)
        self.tabs.setCurrentWidget(self.results_panel)

    @Slot(str)
    def _on_start_dataset_chosen(self, path: str) -> None:
        self.build_panels()
        self.tabs.setCurrentWidget(self.data_panel)
        self.data_panel.load_path(path)

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
        self.training_panel.set_runs_root(self.projects.runs_root(), saved=bool(path))
        self.start_page.reload_recent_projects()

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
        self.results_panel.show_latest_run(project.runs)
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
        note = self.projects.last_save_note
        self.statusBar().showMessage(f"Saved {self.projects.path}" + (f". {note}" if note else ""),
                                     15_000 if note else 4000)
        return True

    @Slot(dict)
    def _on_runs_moved(self, moved: dict) -> None:
        """Runs moved next to the project on its first save: what showed them follows them."""
        def follow(path: str) -> str:
            for old, new in moved.items():
                if path and Path(path).is_relative_to(old):
                    return str(Path(new) / Path(path).relative_to(old))
            return path

        self.test_panel.rename_models({str(Path(old) / "model.keras"): str(Path(new) / "model.keras")
                                       for old, new in moved.items()})
        shown = self.results_panel.model_path
        if shown and follow(shown) != shown:
            self.results_panel.show_run(follow(shown))
        elif self.state.model_path and follow(self.state.model_path) != self.state.model_path:
            self.state.set_model(follow(self.state.model_path))

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
        if not self.panels_built:  # closed before the panels were built: nothing to stop or remember
            super().closeEvent(event)
            return
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
        self.runs_dock.save_collapsed(settings)
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
            if session is not None:
                self.results_panel.show_latest_run(session.runs)
        except Exception as exc:  # noqa: BLE001 - last resort: never a window that cannot start
            _log.exception("Restoring the last session failed")
            for key in settings_keys.SESSION_KEYS:
                settings.remove(key)
            self.projects.new()
            self.projects.apply_to_state()  # back to a new project's choices
            self._startup_problem(f"The last session could not be restored ({type(exc).__name__}: {exc}); "
                                  "started without it")

    def _restore_geometry(self) -> None:
        """The last launch's window size and place (before the window is shown)."""
        geometry = QSettings().value(settings_keys.WINDOW_GEOMETRY)
        if not (_is_bytes(geometry) and self.restoreGeometry(QByteArray(geometry))):
            self._default_size()

    def _default_size(self) -> None:
        """1280×860, or the screen's free area where that is smaller (a 1280×720 laptop)."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        width, height = DEFAULT_SIZE
        if screen is not None and screen.isValid():
            width, height = min(width, screen.width()), min(height, screen.height())
        self.resize(width, height)

    def _restore_layout(self, settings: QSettings) -> None:
        # The window opens on the start page whatever tab was shown last: it leads everywhere.
        state = settings.value(settings_keys.WINDOW_STATE)
        if _is_bytes(state) and self.restoreState(QByteArray(state)):
            self.runs_dock.restore_collapsed(settings)
        else:
            self._default_layout()

    def _default_layout(self) -> None:
        """The Runs dock a few rows tall; on a short window (under 800 px) collapsed to its title bar,
        which still says how many runs there are."""
        self.resizeDocks([self.runs_dock], [self.runs_dock.default_height()], Qt.Orientation.Vertical)
        self.runs_dock.set_collapsed(self.height() < COMPACT_HEIGHT)

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

"""ProjectController: maps the app state to a project file and back; keeps the recent list."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Signal, Slot

from workbench.core.audio.augment import AudioAugmentationSpec
from workbench.core.image.augment import AugmentationSpec
from workbench.core.project import Project
from workbench.gui import settings_keys
from workbench.gui.recent_paths import RecentPaths
from workbench.gui.state import AppState


class ProjectController(QObject):
    runs_changed = Signal(list)  # run folders of the project
    path_changed = Signal(str)  # "" for an unsaved project

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._recent = RecentPaths(settings_keys.RECENT_PROJECTS)
        self.project = Project()
        self.path = ""
        state.run_finished.connect(self._on_run_finished)

    def runs_root(self) -> str:
        """Where new runs go: next to the project file, else in the app's data folder."""
        if self.path:
            return str(Path(self.path).parent / "runs")
        return str(Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / "runs")

    def new(self) -> None:
        self.project, self.path = Project(), ""
        self.path_changed.emit("")
        self.runs_changed.emit([])

    def open(self, path: str) -> Project:
        project = Project.load(path)  # raises WorkbenchError with a clear message
        self.project, self.path = project, str(Path(path).resolve())
        self._recent.remember(self.path)
        self.path_changed.emit(self.path)
        self.runs_changed.emit(list(project.runs))
        return project

    def _capture_state(self) -> None:
        s = self._state
        self.project.dataset = s.dataset_path
        self.project.val_fraction = s.val_fraction
        self.project.group_regex = s.group_regex
        self.project.template = s.template_id
        self.project.hparams = dict(s.hparams)
        self.project.augmentation = s.augmentation.to_dict()
        self.project.audio_augmentation = s.audio_augmentation.to_dict()

    def save_session(self) -> None:
        """Remember the unsaved project's choices and runs for the next launch."""
        import json
        from dataclasses import asdict

        self._capture_state()
        QSettings().setValue(settings_keys.SESSION_PROJECT, json.dumps(asdict(self.project)))

    def restore_session(self) -> Project | None:
        """The choices of the last launch's unsaved project, applied to the state (None if none)."""
        import json

        raw = QSettings().value(settings_keys.SESSION_PROJECT, "")
        try:
            data = json.loads(raw) if raw else None
            project = Project(**{k: v for k, v in data.items() if k in Project.__dataclass_fields__}) if data else None
        except (TypeError, ValueError):
            return None  # a damaged setting must not stop the app from starting
        if project is None:
            return None
        project.runs = [r for r in project.runs if Path(r).is_dir()]
        self.project = project
        self.apply_to_state()
        self.runs_changed.emit(list(project.runs))
        return project

    def save(self, path: str | None = None) -> str:
        target = path or self.path
        if not target:
            raise ValueError("Expected a path for a project that was never saved. Received: none")
        self._capture_state()
        self.path = str(self.project.save(target).resolve())
        self._recent.remember(self.path)
        self.path_changed.emit(self.path)
        return self.path

    def apply_to_state(self) -> None:
        """Push the opened project's choices into the panels (through the state's signals)."""
        s, p = self._state, self.project
        s.set_template(p.template)
        s.set_hparams(p.hparams)
        s.set_augmentation(AugmentationSpec.from_dict(p.augmentation))
        s.set_audio_augmentation(AudioAugmentationSpec.from_dict(p.audio_augmentation))
        s.set_split(p.val_fraction, p.group_regex)

    def recent(self) -> list[str]:
        """Projects opened or saved before, newest first."""
        return self._recent.paths()

    @Slot(dict)
    def _on_run_finished(self, payload: dict) -> None:
        run_dir = payload.get("run_dir")
        if run_dir and payload.get("model_path"):
            self.project.add_run(run_dir)
            if self.path:
                self.save()  # nothing lost: a finished run is recorded at once
            self.runs_changed.emit(list(self.project.runs))

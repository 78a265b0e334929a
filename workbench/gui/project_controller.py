"""ProjectController: maps the app state to a project file and back; keeps the recent list.

A project (from a file or from the last session) is checked whole before anything of it reaches the
state: its augmentation options must make specs, its hyperparameters must suit its template. A
damaged one raises :class:`WorkbenchError` and the project open until then stays as it was.

Runs made before a project is first saved go to the app's data folder (:meth:`ProjectController.runs_root`).
Saving the project moves them into the ``runs`` folder next to it, so the project file records them
relative to itself and they travel with it; a run still training (or one that cannot be moved) stays
where it is, recorded by its full path. :attr:`ProjectController.runs_moved` and :attr:`last_save_note`
say what was moved, for the window to follow and to tell the user.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal, Slot

from workbench.core.audio.augment import AudioAugmentationSpec
from workbench.core.errors import TemplateError, WorkbenchError
from workbench.core.image.augment import AugmentationSpec
from workbench.core.modality import get_modality
from workbench.core.project import Project
from workbench.gui import settings_keys
from workbench.gui.recent_paths import RecentPaths
from workbench.gui.state import GUI_DISTRIBUTIONS, MAX_CPU_REPLICAS, AppState, unsaved_runs_root

_log = logging.getLogger(__name__)


class ProjectController(QObject):
    runs_changed = Signal(list)  # run folders of the project
    path_changed = Signal(str)  # "" for an unsaved project
    runs_moved = Signal(dict)  # {old run folder: new run folder} moved next to the project file

    def __init__(self, state: AppState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._recent = RecentPaths(settings_keys.RECENT_PROJECTS)
        self.project = Project()
        self.path = ""
        #: What the last save did beyond writing the file (runs moved or left behind), for the status bar.
        self.last_save_note = ""
        state.run_finished.connect(self._on_run_finished)

    def runs_root(self) -> str:
        """Where new runs go: next to the project file, else in the app's data folder."""
        if self.path:
            return str(Path(self.path).parent / "runs")
        return unsaved_runs_root()

    def new(self) -> None:
        self.project, self.path = Project(), ""
        self.path_changed.emit("")
        self.runs_changed.emit([])

    def open(self, path: str) -> Project:
        """Open the project file ``path``; a damaged one raises :class:`WorkbenchError` (with a clear
        message) and leaves the current project as it was."""
        project = Project.load(path)
        checked_choices(project, path)
        checked_video_choices(project, path)
        checked_training_choices(project, path)
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
        self.project.video_augmentation = s.video_augmentation.to_dict()
        self.project.training = s.distribution()

    def save_session(self) -> None:
        """Remember the unsaved project's choices and runs for the next launch."""
        import json

        self._capture_state()
        QSettings().setValue(settings_keys.SESSION_PROJECT, json.dumps(self.project.to_dict()))

    def restore_session(self) -> Project | None:
        """The choices of the last launch's unsaved project, applied to the state (None if none).

        A damaged stored session is removed from the settings and raises :class:`WorkbenchError`
        (the caller reports it); the state is then left as it was."""
        raw = QSettings().value(settings_keys.SESSION_PROJECT, "")
        try:
            project = session_project(raw)
            if project is not None:
                checked_choices(project, "the last session")
                checked_video_choices(project, "the last session")
                checked_training_choices(project, "the last session")
        except WorkbenchError:
            QSettings().remove(settings_keys.SESSION_PROJECT)
            raise
        if project is None:
            return None
        project.runs = [r for r in project.runs if is_dir(r)]
        self.project = project
        self.apply_to_state()
        self.runs_changed.emit(list(project.runs))
        return project

    def save(self, path: str | None = None) -> str:
        target = path or self.path
        if not target:
            raise ValueError("Expected a path for a project that was never saved. Received: none")
        self._capture_state()
        moved, note = adopt_unsaved_runs(self.project.runs, Path(target).parent / "runs")
        self.project.runs = [moved.get(r, r) for r in self.project.runs]
        self.path = str(self.project.save(target).resolve())
        self.last_save_note = note
        self._recent.remember(self.path)
        self.path_changed.emit(self.path)
        if moved:
            self.runs_moved.emit(moved)
            self.runs_changed.emit(list(self.project.runs))
        return self.path

    def apply_to_state(self) -> None:
        """Push the opened project's choices into the panels (through the state's signals)."""
        s, p = self._state, self.project
        image, audio, hparams = checked_choices(p, "the project")
        video = checked_video_choices(p, "the project")
        training = checked_training_choices(p, "the project")
        s.forget_template_hparams()  # values edited for other templates belonged to the project before
        s.set_template(p.template)
        s.set_hparams(hparams)
        s.set_augmentation(image)
        s.set_audio_augmentation(audio)
        s.set_video_augmentation(video)
        s.set_split(float(p.val_fraction), p.group_regex)
        s.set_distribution(**training)

    def recent(self) -> list[str]:
        """Projects opened or saved before, newest first."""
        return self._recent.paths()

    @Slot(dict)
    def _on_run_finished(self, payload: dict) -> None:
        run_dir = payload.get("run_dir")
        if run_dir and payload.get("model_path"):
            self.project.add_run(run_dir)
            if self.path:
                try:
                    self.save()  # nothing lost: a finished run is recorded at once
                except (OSError, WorkbenchError) as exc:  # the run is still listed; saving again may work
                    _log.warning("The project %s could not be saved after the run: %s", self.path, exc)
            self.runs_changed.emit(list(self.project.runs))


def adopt_unsaved_runs(runs: list[str], target_root: str | Path) -> tuple[dict[str, str], str]:
    """Move the runs of ``runs`` that sit in :func:`unsaved_runs_root` into ``target_root``.

    Returns ({old: new} of the moved runs, a sentence for the user: what moved where, and what stayed
    and why; "" when nothing was there to move). A run a live process is training stays."""
    from workbench.core.training.runfolder import lock_holder

    unsaved = Path(unsaved_runs_root()).resolve()
    target = Path(target_root)
    if target.resolve() == unsaved:
        return {}, ""
    moved: dict[str, str] = {}
    stayed: list[str] = []
    for run in runs:
        try:
            source = Path(run).resolve()
            if source.parent != unsaved or not source.is_dir():
                continue
            if lock_holder(source) is not None:
                stayed.append(f"{source.name} (still training)")
                continue
            target.mkdir(parents=True, exist_ok=True)
            destination, n = target / source.name, 2
            while destination.exists():
                destination, n = target / f"{source.name}-{n}", n + 1
            shutil.move(str(source), str(destination))
        except OSError as exc:
            stayed.append(f"{Path(run).name} ({exc.strerror or exc})")
            continue
        moved[run] = str(destination)
    parts = []
    if moved:
        parts.append(f"Moved {len(moved)} run{'s' * (len(moved) != 1)} made before the first save into {target}")
    if stayed:
        parts.append(f"{len(stayed)} run{'s' * (len(stayed) != 1)} stay{'s' * (len(stayed) == 1)} in {unsaved}: "
                     + ", ".join(stayed))
    return moved, "; ".join(parts)


def session_project(raw) -> Project | None:
    """The project a stored session holds (None for none); :class:`WorkbenchError` when damaged.

    Sessions are the project's JSON (with a ``format``); those of earlier releases lack it and carry
    an ``extra`` key, and read as the current version."""
    import json

    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise WorkbenchError(f"Expected the last session as JSON text. Received: {type(raw).__name__}")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise WorkbenchError(f"Expected the last session as JSON text. Received: {str(exc)[:80]}") from None
    if isinstance(data, dict) and isinstance(data.get("extra"), dict) and "format" not in data:
        data = {**data.pop("extra"), **data}  # asdict() of an earlier release
    return Project.from_dict(data, source="the last session")


def checked_video_choices(project: Project, source: object):
    """The project's video augmentation spec (none in projects of earlier releases); raises
    :class:`WorkbenchError` naming ``source`` when it cannot be used."""
    try:
        return get_modality("video").augmentation_spec.from_dict(project.video_augmentation)
    except WorkbenchError as exc:
        raise WorkbenchError(f"{exc} in {source}") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise WorkbenchError(f"Expected video augmentation options within their ranges. Received: {exc} in {source}") from None


def checked_training_choices(project: Project, source: object) -> dict:
    """The project's distribution choice for :meth:`AppState.set_distribution` (one device in projects
    of earlier releases); raises :class:`WorkbenchError` naming ``source`` when it cannot be used."""
    from workbench.core.training.distribute import DEFAULT_CPU_REPLICAS

    training = project.training
    distribute = training.get("distribute", "none")
    replicas = training.get("cpu_replicas", DEFAULT_CPU_REPLICAS)
    mixed = training.get("mixed_precision")  # None: the machine's default
    if distribute not in GUI_DISTRIBUTIONS:
        raise WorkbenchError(f"Expected training.distribute in {' or '.join(map(repr, GUI_DISTRIBUTIONS))} (several "
                             f"machines train from the command line). Received: {distribute!r} in {source}")
    if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= MAX_CPU_REPLICAS:
        raise WorkbenchError(f"Expected training.cpu_replicas to be a whole number from 1 to {MAX_CPU_REPLICAS}. "
                             f"Received: {replicas!r} in {source}")
    if mixed is not None and not isinstance(mixed, bool):
        raise WorkbenchError(f"Expected training.mixed_precision to be true, false or null (this machine's default). "
                             f"Received: {mixed!r} in {source}")
    return {"distribute": distribute, "cpu_replicas": replicas, "mixed_precision": mixed}


def checked_choices(project: Project, source: object) -> tuple[AugmentationSpec, AudioAugmentationSpec, dict]:
    """The project's image and sound augmentation specs and its hyperparameters, checked against its
    template (names the template lacks are dropped: a template may retire one); raises
    :class:`WorkbenchError` naming ``source`` when one cannot be used."""
    try:
        image = AugmentationSpec.from_dict(project.augmentation)
        audio = AudioAugmentationSpec.from_dict(project.audio_augmentation)
    except WorkbenchError as exc:
        raise WorkbenchError(f"{exc} in {source}") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise WorkbenchError(f"Expected augmentation options within their ranges. Received: {exc} in {source}") from None
    from workbench.core.templates import get_template

    try:
        spec = get_template(project.template)
    except WorkbenchError:  # a plug-in template that is not installed: the Model panel says so
        return image, audio, dict(project.hparams)
    hparams = {}
    for name, value in project.hparams.items():
        if value is None:
            continue
        try:
            parameter = spec.hyperparameter(name)
        except TemplateError:
            continue
        try:
            hparams[name] = parameter.coerce(value)
        except TemplateError as exc:
            raise WorkbenchError(f"{exc} in {source}") from None
    return image, audio, hparams


def is_dir(path: str) -> bool:
    """``Path(path).is_dir()``, False for a path the system refuses (too long, NUL)."""
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):
        return False

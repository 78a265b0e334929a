"""StartPage: what the window opens on. The shipped models one click away (draw a digit, say a digit),
training on a folder, recent projects and runs, and where sample data can be found.

It is on the start-up path, shown before the other panels are built: it imports neither pyqtgraph,
numpy nor TensorFlow, and only says what was asked for through its signals (the main window acts).
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCommandLinkButton, QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget,
)

from workbench.core.resources import resource_path
from workbench.core.sample_data import PUBLIC_SOURCES, local_sample_datasets
from workbench.gui import settings_keys
from workbench.gui.recent_paths import RecentPaths

DIGITS_MODEL = ("models", "digits.keras")
SPOKEN_DIGITS_MODEL = ("models", "spoken_digits.keras")
MAX_LISTED = 6
NO_PROJECTS = "No projects yet. File ▸ Save project keeps a dataset, a template, its settings and its runs together."
NO_RUNS = "No runs yet. Train on a folder: each run is listed here with its accuracy and opens in 5 Results."


class StartPage(QWidget):
    """The first tab; its signals carry plain paths."""

    draw_digit_requested = Signal(str)  # the shipped digits model
    say_digit_requested = Signal(str)  # the shipped spoken-digits model
    train_on_folder_requested = Signal()
    project_chosen = Signal(str)  # a recent project file
    run_chosen = Signal(str)  # a run folder of the open project
    dataset_chosen = Signal(str)  # a sample dataset found on this computer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("startPage")
        self.setAccessibleName("Start")
        self._recent = RecentPaths(settings_keys.RECENT_PROJECTS)
        self._draw_button = self._action_button(
            "Draw a digit", "Try the shipped digit model: draw 0–9 with the mouse and watch its guess.",
            "startDrawDigitButton", DIGITS_MODEL)
        self._say_button = self._action_button(
            "Say a digit", "Try the shipped spoken-digit model: say zero to nine into the microphone.",
            "startSayDigitButton", SPOKEN_DIGITS_MODEL)
        self._train_button = self._action_button(
            "Train on a folder", "Choose a folder with one sub-folder of examples per class, then train a "
            "model on it.", "startTrainOnFolderButton")
        self._draw_button.clicked.connect(self._on_draw_clicked)
        self._say_button.clicked.connect(self._on_say_clicked)
        self._train_button.clicked.connect(self._on_train_clicked)

        # Links, one click each (Tab and Enter from the keyboard); each href is an index into these lists.
        self._project_paths: list[str] = []
        self._run_dirs: list[str] = []
        self._sample_paths: list[str] = []
        self._projects = self._link_label("startRecentProjectsLabel", "Recent projects")
        self._projects.linkActivated.connect(self._on_project_link_activated)
        self._runs = self._link_label("startRunsLabel", "Runs of this project")
        self._runs.linkActivated.connect(self._on_run_link_activated)
        self._samples = self._link_label("startSampleDataLabel", "Where sample data can be found")
        self._samples.linkActivated.connect(self._on_sample_link_activated)
        self._build_layout()
        self.reload_recent_projects()
        self.set_runs([])
        self._show_sample_data()

    # ----------------------------------------------------------------------------------- public
    def reload_recent_projects(self) -> None:
        """List the projects opened or saved before, newest first (those still on disk)."""
        self._project_paths = [path for path in self._recent.paths() if _is_file(path)][:MAX_LISTED]
        entries = [(Path(path).stem, path) for path in self._project_paths]
        self._projects.setText(_links("project", entries) if entries else NO_PROJECTS)

    def set_runs(self, run_dirs: list[str]) -> None:
        """List the open project's runs, newest first."""
        from workbench.core.project import run_summary  # reads small JSON files; no TensorFlow

        summaries = [s for s in map(run_summary, list(reversed(run_dirs))[:MAX_LISTED]) if s is not None]
        self._run_dirs = [summary["run_dir"] for summary in summaries]
        entries = [_run_entry(summary) for summary in summaries]
        self._runs.setText(_links("run", entries) if entries else NO_RUNS)

    def recent_project_paths(self) -> list[str]:
        """The project files listed, newest first (link ``project:<i>`` opens the i-th)."""
        return list(self._project_paths)

    def run_paths(self) -> list[str]:
        """The run folders listed, newest first (link ``run:<i>`` shows the i-th)."""
        return list(self._run_dirs)

    def sample_dataset_paths(self) -> list[str]:
        """The sample datasets found on this computer (link ``dataset:<i>`` loads the i-th)."""
        return list(self._sample_paths)

    def activate_link(self, href: str) -> None:
        """Follow a link of the page as a click on it does (for tests and scripts)."""
        label = {"project": self._projects, "run": self._runs}.get(href.partition(":")[0], self._samples)
        label.linkActivated.emit(href)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self.reload_recent_projects()  # another window, or this one, may have saved a project since

    # --------------------------------------------------------------------------------- private
    def _action_button(self, title: str, description: str, name: str,
                       model: tuple[str, str] | None = None) -> QCommandLinkButton:
        button = QCommandLinkButton(title, description, self)
        button.setObjectName(name)
        button.setAccessibleName(title)
        button.setMinimumWidth(260)
        if model is not None:
            path = resource_path(*model)
            button.setProperty("modelPath", str(path))
            if not path.is_file():
                button.setEnabled(False)
                button.setToolTip(f"{path} is missing from this installation (make models builds it).")
        return button

    def _link_label(self, name: str, accessible: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        return label

    def _build_layout(self) -> None:
        title = QLabel("CNN Workbench", self)
        title.setObjectName("startTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel("Teach a model to recognise images, sounds or videos from folders of examples, watch "
                          "it learn, and try it live. Try a model that is already trained, or train your own:", self)
        subtitle.setWordWrap(True)
        actions = QHBoxLayout()
        for button in (self._draw_button, self._say_button, self._train_button):
            actions.addWidget(button, 1)
        # Left: what this user did before; right: where data for a first model comes from.
        columns = QGridLayout()
        columns.setHorizontalSpacing(32)
        columns.setVerticalSpacing(6)
        for row, (heading, widget) in ((0, ("Recent projects", self._projects)),
                                       (3, ("Runs of this project", self._runs))):
            columns.addWidget(QLabel(f"<b>{heading}</b>", self), row, 0)
            columns.addWidget(widget, row + 1, 0)
        columns.setRowMinimumHeight(2, 12)  # a gap between the two lists
        columns.addWidget(QLabel("<b>Sample data</b>", self), 0, 1)
        columns.addWidget(self._samples, 1, 1, 5, 1)
        columns.setColumnStretch(0, 1)
        columns.setColumnStretch(1, 1)
        columns.setRowStretch(5, 1)
        content = QWidget(self)
        content.setObjectName("startContent")
        content.setMaximumWidth(1100)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addLayout(actions)
        layout.addSpacing(8)
        layout.addLayout(columns, 1)
        holder = QWidget(self)
        centred = QHBoxLayout(holder)
        centred.setContentsMargins(0, 0, 0, 0)
        centred.addStretch(1)
        centred.addWidget(content, 20)  # as wide as its maximum allows, centred
        centred.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setObjectName("startScrollArea")
        scroll.setAccessibleName("Start page")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def _show_sample_data(self) -> None:
        parts = []
        local = local_sample_datasets()
        self._sample_paths = [str(path) for _title, path in local]
        if local:
            parts.append("On this computer (click to load):" + _links("dataset", [(t, str(p)) for t, p in local]))
        sources = "".join(
            f'<li><a href="{source.url}">{html.escape(source.title)}</a> ({source.modality}): '
            f"{html.escape(source.how)}</li>" for source in PUBLIC_SOURCES)
        parts.append(f"Public datasets:<ul style='margin-left:-20px'>{sources}</ul>"
                     "Any folder with one sub-folder of files per class works; so do train/ and validation/ "
                     "folders holding those.")
        self._samples.setText("".join(parts))

    @Slot()
    def _on_draw_clicked(self) -> None:
        self.draw_digit_requested.emit(self._draw_button.property("modelPath"))

    @Slot()
    def _on_say_clicked(self) -> None:
        self.say_digit_requested.emit(self._say_button.property("modelPath"))

    @Slot()
    def _on_train_clicked(self) -> None:
        self.train_on_folder_requested.emit()

    @Slot(str)
    def _on_project_link_activated(self, href: str) -> None:
        if (path := _pick(self._project_paths, href, "project")) is not None:
            self.project_chosen.emit(path)

    @Slot(str)
    def _on_run_link_activated(self, href: str) -> None:
        if (run_dir := _pick(self._run_dirs, href, "run")) is not None:
            self.run_chosen.emit(run_dir)

    @Slot(str)
    def _on_sample_link_activated(self, href: str) -> None:
        if href.startswith("dataset:"):
            if (path := _pick(self._sample_paths, href, "dataset")) is not None:
                self.dataset_chosen.emit(path)
        else:
            QDesktopServices.openUrl(QUrl(href))


def _links(kind: str, entries: list[tuple[str, str]]) -> str:
    """One link per (title, detail) entry, its href ``<kind>:<index>``, the detail in small type under it."""
    return "".join(f'<p style="margin-bottom:6px"><a href="{kind}:{i}">{html.escape(title)}</a><br>'
                   f'<small>{html.escape(detail)}</small></p>' for i, (title, detail) in enumerate(entries))


def _pick(paths: list[str], href: str, kind: str) -> str | None:
    prefix, _, index = href.partition(":")
    if prefix != kind or not index.isdigit() or int(index) >= len(paths):
        return None
    return paths[int(index)]


def _run_entry(summary: dict) -> tuple[str, str]:
    accuracy = summary.get("val_accuracy")
    created = summary.get("created") or ""
    try:
        created = datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        pass
    figures = f"validation accuracy {accuracy:.1%}" if isinstance(accuracy, (int, float)) else summary.get("status", "")
    title = " · ".join(part for part in (summary.get("template") or "?", figures) if part)
    return title, " · ".join(part for part in (created, summary["run_dir"]) if part)


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False

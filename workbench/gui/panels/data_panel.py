"""DataPanel: choose a dataset, scan it in the background, inspect it and set the validation split.

Everything slow (scanning and decoding every file, loading thumbnails, splitting an .npz) runs on a
TaskRunner; the GUI thread only shows results. A newer choice supersedes a running scan.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit,
    QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSizePolicy, QSplitter, QVBoxLayout, QWidget,
)

from workbench.core.data.scan import display_path
from workbench.gui.modality_widgets import thumbnail_modalities, widgets_for
from workbench.gui.panels import data_jobs
from workbench.gui.panels.dataset_paths import dropped_dataset_path, recent_datasets
from workbench.gui.panels.panel_widgets import message_label, named, set_message, set_progress_deferred
from workbench.gui.state import AppState
from workbench.gui.widgets.class_counts_widget import ClassCountsWidget
from workbench.gui.widgets.class_thumbnails_widget import ClassThumbnailsWidget
from workbench.gui.workers.task_runner import TaskRunner

SPLIT_DEBOUNCE_MS = 300
SHUTDOWN_TIMEOUT_MS = 30_000  # a scan stops within one file; an .npz load cannot be interrupted
KIND_TEXT = {
    "folder": "one sub-folder per class",
    "presplit": "pre-split train / val / test folders",
    "npz": "NumPy arrays (.npz, keras.datasets layout)",
}
GROUP_REGEX_HELP = (
    "Optional. A regular expression matched against each file name; its first group (in brackets) "
    "names the group a file belongs to, e.g. the speaker or person in 'yes_anna_03.wav' with "
    "_([a-z]+)_. All files of a group go to the same side, so validation measures how well the model "
    "does on people (or sources) it has never seen. Empty: a random split stratified by class."
)


class DataPanel(QWidget):
    """Choose and inspect the dataset; writes ``state.set_dataset`` and ``state.set_split``."""

    scan_finished = Signal(object)  # ScanReport, once shown and handed to the state
    scan_failed = Signal(str)
    split_previewed = Signal(str)  # the preview line (or its error)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataPanel")
        self.setAccessibleName("Data")
        self.setAcceptDrops(True)
        self._state = state
        self._report = None
        self._scan_path = ""
        self._scanning = False
        self._shut_down = False
        # The group regex this panel filled in from the file names, while the field still holds it
        # (None once the user or a project changed it), and the dataset the user cleared one for.
        self._suggested_regex: str | None = None
        self._suggested_path = ""
        self._declined_path = ""
        # The dataset the group regex in the field was written for: another dataset's regex is cleared
        # when a new one loads. None: the next dataset to load (typed before one, or a project's own).
        self._regex_dataset: str | None = None
        self._recording_split = False  # True while this panel writes the split to the state
        self.scan_runner = TaskRunner("dataScanThread", self)
        self._split_runner = TaskRunner("dataSplitThread", self)
        self._split_timer = QTimer(self)
        self._split_timer.setSingleShot(True)
        self._split_timer.setInterval(SPLIT_DEBOUNCE_MS)
        self._build_ui()

        self._folder_button.clicked.connect(self._on_choose_folder_clicked)
        self._npz_button.clicked.connect(self._on_choose_npz_clicked)
        self._recent_combo.activated.connect(self._on_recent_activated)
        self._cancel_button.clicked.connect(self.cancel_scan)
        self.scan_runner.result_ready.connect(self._on_scan_result_ready)
        self.scan_runner.failed.connect(self._on_scan_failed)
        self.scan_runner.progressed.connect(self._on_scan_progressed)
        self._split_runner.result_ready.connect(self._on_split_preview_ready)
        self._split_runner.failed.connect(self._on_split_preview_failed)
        self._val_spin.valueChanged.connect(self._on_split_controls_changed)
        self._regex_edit.textChanged.connect(self._on_split_controls_changed)
        self._regex_edit.textChanged.connect(self._on_regex_edited)
        self._split_timer.timeout.connect(self._on_split_timer_timeout)
        state.dataset_changed.connect(self._on_dataset_changed)
        state.split_changed.connect(self._on_split_changed)
        app = QCoreApplication.instance()
        if app is not None:  # a last line of defence: no thread may outlive the application
            app.aboutToQuit.connect(self.shutdown)

        self._on_split_changed(state.val_fraction, state.group_regex)
        self._reload_recent()
        self._set_scanning(False)
        if state.scan is not None:
            self._on_dataset_changed(state.scan)

    # ----------------------------------------------------------------------------------- public
    def load_path(self, path: str) -> None:
        """Scan ``path`` (a folder or an .npz file) in the background; a running scan is superseded."""
        if self._shut_down:
            return  # the threads are gone; only happens after the window closed
        path = str(Path(path).expanduser())
        if not Path(path).exists():
            set_message(self._status_label, f"{path} does not exist (moved, renamed or on a drive that is "
                        "not mounted). Choose the dataset again.", "error")
            return
        self._start_job(path, None)

    def choose_folder(self) -> None:
        """Ask for a dataset folder (the folder dialog) and scan it."""
        self._on_choose_folder_clicked()

    def cancel_scan(self) -> None:
        """Stop the running scan; the previously loaded dataset (if any) stays selected."""
        if not self._scanning:
            return
        self.scan_runner.cancel()
        self._set_scanning(False)
        kept = f" {self._state.dataset_path} is still selected." if self._report is not None else ""
        set_message(self._status_label, f"Scan cancelled.{kept}", "info")

    @property
    def scanning(self) -> bool:
        return self._scanning

    @property
    def report(self):
        """The ScanReport shown, or None."""
        return self._report

    def is_ready(self) -> bool:
        """True once a dataset is shown and its split preview is up to date (for screenshots)."""
        return (self._report is not None and not self._scanning and not self._split_timer.isActive()
                and not self._split_runner.busy)

    def shutdown(self) -> None:
        """Cancel background work and end the panel's threads (the main window calls this on close)."""
        if self._shut_down:
            return
        self._shut_down = True
        self._split_timer.stop()
        self.scan_runner.shutdown(SHUTDOWN_TIMEOUT_MS)
        self._split_runner.shutdown(SHUTDOWN_TIMEOUT_MS)

    # ----------------------------------------------------------------------------------- events
    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_dataset_path(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_dataset_path(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.load_path(path)

    # ------------------------------------------------------------------------------------ slots
    @Slot()
    def _on_choose_folder_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a dataset folder", self._start_dir())
        if path:
            self.load_path(path)

    @Slot()
    def _on_choose_npz_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an .npz dataset", self._start_dir(),
                                              "NumPy arrays (*.npz);;All files (*)")
        if path:
            self.load_path(path)

    @Slot(int)
    def _on_recent_activated(self, index: int) -> None:
        path = self._recent_combo.itemData(index)
        if not path:
            return
        if not Path(path).exists():
            recent_datasets.forget(path)
            self._reload_recent()
            set_message(self._status_label, f"{path} no longer exists (moved, renamed or on a drive that is "
                        "not mounted); it was removed from the recent list.", "error")
            return
        self.load_path(path)

    @Slot(int, int)
    def _on_scan_progressed(self, done: int, total: int) -> None:
        self._progress.setRange(0, max(total, 1))
        set_progress_deferred(self._progress, done)

    @Slot(object)
    def _on_scan_result_ready(self, loaded: data_jobs.LoadedDataset) -> None:
        self._set_scanning(False)
        set_message(self._status_label, "", "info")
        self._show_dataset(loaded)
        if self._state.scan is not loaded.report:
            self._state.set_dataset(loaded.path, loaded.report)
        if loaded.scanned:
            self._drop_other_datasets_group_regex(loaded.path)
            self._offer_group_regex(loaded)
        else:  # a project's dataset: the regex came with it
            self._regex_dataset = loaded.path
        self._record_split(self._val_spin.value(), self._regex_edit.text())  # records a suggestion too
        recent_datasets.remember(loaded.path)
        self._reload_recent()
        self._split_timer.start()
        self.scan_finished.emit(loaded.report)

    @Slot(str)
    def _on_scan_failed(self, message: str) -> None:
        self._set_scanning(False)
        kept = f" {self._state.dataset_path} is still selected." if self._report is not None else ""
        set_message(self._status_label, f"Could not load {self._scan_path}: {message}{kept}", "error")
        self.scan_failed.emit(message)

    @Slot(object)
    def _on_dataset_changed(self, report) -> None:
        if report is self._report or self._shut_down:
            return  # our own set_dataset coming back, or a project loaded while the window closes
        if report is None:
            path = self._state.dataset_path
            if path and Path(path).exists():
                self.load_path(path)
            else:
                self._show_dataset(None)
            return
        # A report from elsewhere (a loaded project): show it now, fetch the thumbnails behind it.
        self._show_dataset(data_jobs.LoadedDataset(self._state.dataset_path, report))
        self._start_job(self._state.dataset_path or report.path, report)

    @Slot(float, str)
    def _on_split_changed(self, val_fraction: float, group_regex: str) -> None:
        if not self._recording_split:
            self._forget_suggestion()  # a project's (or a new project's) split: the regex is no longer ours
            self._regex_dataset = None  # it goes with the dataset the project loads next
        if abs(self._val_spin.value() - val_fraction) < 1e-9 and self._regex_edit.text() == group_regex:
            return
        with QSignalBlocker(self._val_spin), QSignalBlocker(self._regex_edit):
            self._val_spin.setValue(val_fraction)
            self._regex_edit.setText(group_regex)
        self._split_timer.start()

    @Slot(str)
    def _on_regex_edited(self, text: str) -> None:
        # Typed for the dataset being scanned, else the one shown (none yet: the next one).
        self._regex_dataset = (self._scan_path if self._scanning else self._state.dataset_path) or None
        if self._suggested_regex is None:
            set_message(self._regex_note, "", "info")  # a note on a cleared regex is old news now
        elif text.strip() != self._suggested_regex:
            self._declined_path = self._suggested_path  # cleared or changed: not offered again for it
            self._forget_suggestion()

    @Slot()
    def _on_split_controls_changed(self) -> None:
        self._split_timer.start()  # restarting the single-shot timer is the debounce

    @Slot()
    def _on_split_timer_timeout(self) -> None:
        fraction, regex = self._val_spin.value(), self._regex_edit.text().strip()
        # The state mirrors the controls even when the regex is wrong: training then stops with the
        # same message the preview shows, instead of silently using an older split.
        self._record_split(fraction, regex)
        error = data_jobs.group_regex_error(regex)
        if error is not None:
            self._split_runner.cancel()
            self._show_split_preview(error, "error")
        elif self._report is None:
            self._show_split_preview("Load a dataset to preview the split.", "info")
        else:
            seed = self._state.hparams.get("seed", 42)
            # A project of an uninstalled template keeps its values unchecked: never let one break the preview.
            whole = isinstance(seed, int) and not isinstance(seed, bool) or isinstance(seed, float) and seed.is_integer()
            seed = int(seed) if whole else 42
            self._split_runner.submit(partial(data_jobs.preview_split, self._report, fraction, regex, seed))

    @Slot(object)
    def _on_split_preview_ready(self, preview: data_jobs.SplitPreview) -> None:
        self._show_split_preview(preview.text, "info")

    @Slot(str)
    def _on_split_preview_failed(self, message: str) -> None:
        self._show_split_preview(message, "error")

    # --------------------------------------------------------------------------------- private
    def _start_job(self, path: str, report) -> None:
        self._scan_path = path
        self._set_scanning(True)
        self._progress.setRange(0, 0)  # busy until the first progress report arrives
        set_message(self._status_label, f"Scanning {path}…" if report is None else "", "info")
        self.scan_runner.submit(partial(data_jobs.load_dataset, path, report,
                                        thumbnail_modalities=thumbnail_modalities()))

    def _drop_other_datasets_group_regex(self, path: str) -> None:
        """Clear a group regex written for another dataset: its file names say nothing of this one's
        (a video folder's regex fails on spoken digits). A suggestion for ``path`` may follow."""
        owner, self._regex_dataset = self._regex_dataset, path
        text = self._regex_edit.text().strip()
        if owner is None or owner == path or not text or text == self._suggested_regex:
            return  # nothing written for another dataset (a suggestion of ours: _offer_group_regex decides)
        with QSignalBlocker(self._regex_edit):
            self._regex_edit.clear()
        self._forget_suggestion()
        set_message(self._regex_note, f"The group regex written for {Path(owner).name} was cleared: a new "
                    "dataset starts with a random split by class.", "info")

    def _offer_group_regex(self, loaded: data_jobs.LoadedDataset) -> None:
        """Fill in the group regex the file names suggest, when the field is empty (or still holds an
        earlier suggestion); a regex the user typed or a project holds is never replaced."""
        current = self._regex_edit.text().strip()
        ours = self._suggested_regex is not None and current == self._suggested_regex
        if current and not ours:
            return
        regex = loaded.suggested_group_regex
        if regex is None or loaded.path == self._declined_path:
            if ours:  # an earlier dataset's suggestion does not fit this one
                self._forget_suggestion()
                with QSignalBlocker(self._regex_edit):
                    self._regex_edit.clear()
            return
        with QSignalBlocker(self._regex_edit):
            self._regex_edit.setText(regex)
        self._suggested_regex, self._suggested_path = regex, loaded.path
        set_message(self._regex_note, f"Suggested from the file names ({loaded.suggested_groups} groups): all "
                    "files of a group go to the same side. Clear it for a random split by class.", "info")

    def _record_split(self, val_fraction: float, group_regex: str) -> None:
        self._recording_split = True
        try:
            self._state.set_split(val_fraction, group_regex)
        finally:
            self._recording_split = False

    def _forget_suggestion(self) -> None:
        self._suggested_regex, self._suggested_path = None, ""
        set_message(self._regex_note, "", "info")

    def _set_scanning(self, scanning: bool) -> None:
        self._scanning = scanning
        self._progress_row.setVisible(scanning)
        self._progress.setVisible(scanning)
        self._cancel_button.setVisible(scanning)
        self._cancel_button.setEnabled(scanning)
        for widget in (self._folder_button, self._npz_button, self._recent_combo):
            widget.setEnabled(not scanning)

    def _show_split_preview(self, text: str, kind: str) -> None:
        set_message(self._split_label, text, kind)
        self._split_label.setVisible(True)
        self.split_previewed.emit(text)

    def _show_dataset(self, loaded: data_jobs.LoadedDataset | None) -> None:
        report = loaded.report if loaded is not None else None
        self._report = report
        self._unreadable_list.clear()
        if report is None:
            self._path_label.setText("No dataset chosen yet: pick a folder with one sub-folder per class, "
                                     "an .npz file, or drop one here.")
            self._counts.clear()
            self._thumbnails.clear("Example images of each class appear here once a dataset is loaded.")
            set_message(self._warnings_label, "", "warning")
            self._unreadable_box.hide()
            return
        self._path_label.setText(
            f"<b>{report.modality.capitalize()}</b> dataset · {KIND_TEXT.get(report.kind, report.kind)} · "
            f"{len(report.class_names)} classes · {report.num_samples} samples<br><small>{loaded.path}</small>")
        self._counts.set_counts(report.class_names, [report.counts[c] for c in report.class_names])
        if loaded.thumbnails:
            self._thumbnails.set_thumbnails(loaded.thumbnails, loaded.thumbnail_names)
        elif widgets_for(report.modality).thumbnails:
            self._thumbnails.clear("Loading example images…")
        else:
            self._thumbnails.clear(f"Example thumbnails are shown for image datasets; this one holds "
                                   f"{report.modality} files.")
        set_message(self._warnings_label, "\n".join(report.warnings), "warning")
        # display_path: Qt drops bytes of a file name that are not UTF-8; show them as \xNN instead.
        for entry in report.unreadable:
            item = QListWidgetItem(f"{display_path(Path(entry['path']).name)} — {display_path(entry['reason'])}")
            item.setToolTip(display_path(entry["path"]))
            self._unreadable_list.addItem(item)
        for group in report.skipped:  # passed over without reading: hidden, stray, loops, ...
            examples = ", ".join(display_path(e) for e in group["examples"])
            more = ", …" if group["count"] > len(group["examples"]) else ""
            item = QListWidgetItem(f"{group['count']} {group['reason']}: {examples}{more}")
            item.setToolTip(f"Not read: {group['reason']}")
            self._unreadable_list.addItem(item)
        skipped = sum(group["count"] for group in report.skipped)
        self._unreadable_box.setTitle(f"Skipped: {len(report.unreadable)} unreadable file(s)"
                                      + (f", {skipped} other file(s) or folder(s) passed over" if skipped else ""))
        self._unreadable_box.setVisible(bool(report.unreadable or report.skipped))

    def _reload_recent(self) -> None:
        with QSignalBlocker(self._recent_combo):
            self._recent_combo.clear()
            for path in recent_datasets.paths():
                self._recent_combo.addItem(path, path)
                self._recent_combo.setItemData(self._recent_combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
            self._recent_combo.setCurrentIndex(-1)

    def _start_dir(self) -> str:
        recent = recent_datasets.paths()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def _build_ui(self) -> None:
        self._folder_button = named(QPushButton("Choose folder…"), "dataChooseFolderButton",
                                     "Choose dataset folder", "A folder with one sub-folder of files per class "
                                     "(or train/val/test folders holding those). Ctrl+O from any tab.")
        self._npz_button = named(QPushButton("Open .npz…"), "dataChooseNpzButton", "Open npz dataset",
                                  "An .npz file with x_train and y_train (optionally x_test, y_test), "
                                  "as keras.datasets.mnist saves them; x_val and y_val, when present, "
                                  "are the validation split.")
        self._recent_combo = named(QComboBox(), "dataRecentCombo", "Recent datasets",
                                    "Datasets opened before; choose one to scan it again.")
        self._recent_combo.setPlaceholderText("Recent datasets…")
        self._recent_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._recent_combo.setMinimumContentsLength(20)
        self._recent_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        source = QHBoxLayout()
        source.addWidget(self._folder_button)
        source.addWidget(self._npz_button)
        source.addWidget(self._recent_combo, 1)

        self._progress = named(QProgressBar(), "dataScanProgress", "Scan progress")
        self._progress.setFormat("%v / %m files checked")
        self._cancel_button = named(QPushButton("Cancel"), "dataCancelScanButton", "Cancel scan",
                                     "Stop scanning; the dataset chosen before stays selected.")
        # In a widget of their own so that, hidden while idle, they leave no gap in the layout.
        self._progress_row = QWidget()
        progress = QHBoxLayout(self._progress_row)
        progress.setContentsMargins(0, 0, 0, 0)
        progress.addWidget(self._progress, 1)
        progress.addWidget(self._cancel_button)

        self._status_label = message_label("dataStatusLabel", "Data status")
        self._path_label = message_label("dataSummaryLabel", "Dataset summary")
        self._path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._warnings_label = message_label("dataWarningsLabel", "Dataset warnings")

        self._counts = named(ClassCountsWidget(), "dataClassCounts", "Samples per class")
        self._counts.setMinimumHeight(200)
        self._thumbnails = named(ClassThumbnailsWidget(), "dataThumbnails", "Example images per class")
        thumbs_box = QGroupBox("Examples (first files of each class)")
        QVBoxLayout(thumbs_box).addWidget(self._thumbnails)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("dataSplitter")
        splitter.addWidget(self._counts)
        splitter.addWidget(thumbs_box)
        splitter.setStretchFactor(0, 1)  # the chart takes the spare width; thumbnails keep their own
        splitter.setStretchFactor(1, 0)
        splitter.setChildrenCollapsible(False)

        self._unreadable_list = named(QListWidget(), "dataUnreadableList", "Unreadable files",
                                       "Files that could not be decoded, with the reason; training skips them.")
        self._unreadable_list.setMaximumHeight(90)
        self._unreadable_box = QGroupBox("Unreadable files")
        QVBoxLayout(self._unreadable_box).addWidget(self._unreadable_list)

        self._val_spin = named(QDoubleSpinBox(), "dataValSplitSpin", "Validation fraction",
                                "The share of each class held out to measure the model on data it does "
                                "not train on.")
        self._val_spin.setRange(0.05, 0.5)
        self._val_spin.setSingleStep(0.05)
        self._val_spin.setDecimals(2)
        self._val_spin.setMaximumWidth(110)
        self._regex_edit = named(QLineEdit(), "dataGroupRegexEdit", "Group regex", GROUP_REGEX_HELP)
        self._regex_edit.setPlaceholderText("e.g. _([a-z]+)_  (empty: random split by class)")
        self._regex_edit.setClearButtonEnabled(True)
        self._regex_note = message_label("dataGroupRegexNote", "Group regex suggestion")
        self._split_label = message_label("dataSplitPreviewLabel", "Split preview")
        split_box = QGroupBox("Validation split")
        form = QFormLayout(split_box)
        form.addRow("Validation fraction:", self._val_spin)
        form.addRow("Group regex:", self._regex_edit)
        form.addRow("", self._regex_note)
        form.addRow("Result:", self._split_label)

        layout = QVBoxLayout(self)
        layout.addLayout(source)
        layout.addWidget(self._progress_row)
        layout.addWidget(self._status_label)
        layout.addWidget(self._path_label)
        layout.addWidget(self._warnings_label)
        layout.addWidget(splitter, 1)
        layout.addWidget(self._unreadable_box)
        layout.addWidget(split_box)
        set_message(self._status_label, "", "info")
        self._show_dataset(None)
        set_message(self._regex_note, "", "info")
        self._show_split_preview("Load a dataset to preview the split.", "info")


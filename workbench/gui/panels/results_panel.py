"""ResultsPanel: the metrics of a trained model, its confusion matrix with the samples behind each
cell, per-class figures, evaluation on another dataset and export with a parity check.

Reading a run's small JSON files happens here; everything slow — loading thumbnails, loading a
model and evaluating it, exporting — runs on TaskRunner threads (``results_jobs``), one per kind of
job so that an export does not cancel an evaluation. File dialogs are separate from the actions
(``open_model``, ``evaluate_on``, ``export_to``), so tests and scripts call the actions directly.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QListWidget, QProgressBar, QPushButton,
    QSplitter, QVBoxLayout, QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.evaluation import read_evaluation
from workbench.core.export import default_export_path
from workbench.core.sidecar import read_sidecar
from workbench.core.training.runfolder import run_status
from workbench.gui.modality_widgets import widgets_for
from workbench.gui.panels.cell_clips_widget import CellClipsWidget
from workbench.gui.panels.results_jobs import (
    EXPORT_CHOICES, MAX_THUMBNAILS, SampleImageLoader, caption, cell_samples, evaluate_job, export_job,
    gradcam_samples_job, parity_text,
)
from workbench.gui.panels.live.gradcam_jobs import ExplainerCache
from workbench.gui.state import AppState
from workbench.gui.widgets._style import message_style
from workbench.gui.widgets.confusion_matrix_widget import ConfusionMatrixWidget
from workbench.gui.widgets.per_class_table_widget import PerClassTableWidget
from workbench.gui.widgets.thumbnail_strip_widget import FIT_WIDTH, ThumbnailStripWidget
from workbench.gui.workers.predictor_cache import PredictorCache
from workbench.gui.workers.task_runner import TaskRunner

NO_MODEL_MESSAGE = ("No model yet.\n\nTrain one (4 Training), open a saved model (Open model… above) or pick a "
                    "run in the Runs list: its confusion matrix appears here, and a click on a cell shows the "
                    "samples behind it.")
RUNNER_SHUTDOWN_MS = 60_000  # an export may be inside the TFLite converter; never destroy a running thread


class ResultsPanel(QWidget):
    """Shows one model's evaluation; see the module docstring."""

    evaluation_shown = Signal(str)  # the model path whose evaluation is now shown
    samples_shown = Signal(int)  # thumbnails (or file names) now listed for the clicked cell
    export_finished = Signal(dict)  # ExportResult.to_dict()
    export_failed = Signal(str)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultsPanel")
        self.setAccessibleName("Results")
        self._state = state
        self._model_path: Path | None = None
        self._sidecar: dict = {}
        self._evaluation: dict | None = None
        self._samples_root = ("", "")  # (dataset path, scan path) the evaluation's sample ids refer to
        self._loader = SampleImageLoader()
        self._models = PredictorCache()  # for the Grad-CAM thumbnails (loaded on first use)
        self._explainers = ExplainerCache()  # touched only on the samples runner's thread

        self._open_button = self._button("Open model…", "resultsOpenButton", "Open a saved .keras model")
        self._open_button.clicked.connect(self._on_open_clicked)
        self._evaluate_button = self._button("Evaluate on dataset", "resultsEvaluateButton",
                                             "Evaluate this model on the dataset chosen in the Data panel")
        self._evaluate_button.clicked.connect(self._on_evaluate_clicked)
        self._format_combo = QComboBox(self)
        self._format_combo.setObjectName("resultsExportFormat")
        self._format_combo.setAccessibleName("Export format")
        for label, fmt, quantize in EXPORT_CHOICES:
            self._format_combo.addItem(label, (fmt, quantize))
        self._format_combo.setCurrentIndex(2)  # TFLite: what people export for phones and boards
        self._export_button = self._button("Export…", "resultsExportButton",
                                           "Export the model and check the exported file gives the same answers")
        self._export_button.clicked.connect(self._on_export_clicked)
        self._busy = QProgressBar(self)
        self._busy.setObjectName("resultsBusyIndicator")
        self._busy.setAccessibleName("Working")
        self._busy.setRange(0, 0)  # indeterminate: export and evaluation report no steps
        self._busy.setMaximumWidth(160)
        self._busy.hide()
        self._busy_label = self._label("resultsBusyLabel", "Current task", "")
        self._busy_label.hide()
        self._export_status = self._label("resultsExportStatus", "Export result", "")
        self._export_status.setWordWrap(True)
        self._export_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._export_status.hide()

        self._heading = self._label("resultsHeading", "Model shown", "")  # the matrix's place says what to do
        self._heading.setWordWrap(True)
        self._accuracy = self._label("resultsAccuracyLabel", "Accuracy", "")
        self._top_k = self._label("resultsTopKLabel", "Top-k accuracy", "")
        self._macro_f1 = self._label("resultsMacroF1Label", "Macro F1", "")
        self._best_epoch = self._label("resultsBestEpochLabel", "Best epoch", "")
        for label in (self._accuracy, self._top_k, self._macro_f1, self._best_epoch):
            font = label.font()
            font.setPointSizeF(font.pointSizeF() * 1.15)
            label.setFont(font)

        self._matrix = ConfusionMatrixWidget(self)
        self._matrix.setObjectName("resultsConfusionMatrix")
        self._matrix.cell_clicked.connect(self._on_cell_clicked)
        self._matrix.set_empty_message(NO_MODEL_MESSAGE)
        self._per_class = PerClassTableWidget(self)
        self._per_class.setObjectName("resultsPerClassTable")

        self._sample_note = self._label("resultsSampleNote", "Samples of the selected cell",
                                        "Click a cell of the confusion matrix to see its misclassified samples.")
        self._sample_note.setWordWrap(True)
        # A grid as wide as the samples column, scrolling down: two-line captions stay whole.
        self._thumbnails = ThumbnailStripWidget(self, columns=FIT_WIDTH, thumb_size=64, placeholder="")
        self._thumbnails.setObjectName("resultsSampleThumbnails")
        self._thumbnails.setAccessibleName("Misclassified samples")
        self._sample_list = QListWidget(self)  # sound and video samples are listed by file name
        self._sample_list.setObjectName("resultsSampleList")
        self._sample_list.setAccessibleName("Misclassified sample files")
        self._sample_list.setMaximumHeight(120)
        self._sample_list.hide()
        # Sound: the clips with the selected one's spectrogram, probabilities and Play.
        self._clips = CellClipsWidget(self._models, self)
        self._clips.hide()
        self._gradcam = QCheckBox("Grad-CAM", self)
        self._gradcam.setObjectName("resultsGradCamToggle")
        self._gradcam.setAccessibleName("Show Grad-CAM heat maps on the samples")
        self._gradcam.setToolTip("Colour each sample by where the model saw the class it wrongly predicted "
                                 "(red: strong evidence, blue: none), from its last convolution layer.")
        self._gradcam.toggled.connect(self._on_gradcam_toggled)

        self._build_layout()
        self._runners = {name: TaskRunner(f"results{name.capitalize()}Thread", self)
                         for name in ("samples", "evaluate", "export")}
        self._runners["samples"].result_ready.connect(self._on_samples_loaded)
        self._runners["samples"].failed.connect(self._on_samples_failed)
        self._runners["evaluate"].result_ready.connect(self._on_evaluation_ready)
        self._runners["evaluate"].failed.connect(self._on_evaluation_failed)
        self._runners["export"].result_ready.connect(self._on_export_ready)
        self._runners["export"].failed.connect(self._on_export_failed)
        for runner in (self._runners["evaluate"], self._runners["export"]):
            runner.busy_changed.connect(self._on_busy_changed)
        state.run_finished.connect(self._on_run_finished)
        state.model_changed.connect(self._on_model_changed)
        state.dataset_changed.connect(self._on_dataset_changed)
        self._sync_buttons()

    def _button(self, text: str, name: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(text.rstrip("…"))
        button.setToolTip(tip)
        return button

    def _label(self, name: str, accessible: str, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        return label

    def _build_layout(self) -> None:
        actions = QHBoxLayout()
        for widget in (self._open_button, self._evaluate_button, QLabel("Export as", self), self._format_combo,
                       self._export_button, self._busy, self._busy_label):
            actions.addWidget(widget)
        actions.addStretch(1)
        metrics = QHBoxLayout()
        for widget in (self._accuracy, self._top_k, self._macro_f1, self._best_epoch):
            metrics.addWidget(widget)
        metrics.addStretch(1)
        samples = self._samples_box = QGroupBox("Samples of the selected cell", self)
        samples_layout = QVBoxLayout(samples)
        note_row = QHBoxLayout()
        note_row.addWidget(self._sample_note, 1)
        note_row.addWidget(self._gradcam, 0, Qt.AlignmentFlag.AlignTop)
        samples_layout.addLayout(note_row)
        samples_layout.addWidget(self._thumbnails, 1)
        samples_layout.addWidget(self._sample_list)
        samples_layout.addWidget(self._clips, 1)
        # The matrix takes the whole height on the left (a short window still shows it large, its
        # class names written upwards under it); per-class figures and the clicked cell's samples
        # share the right column, the line between them draggable.
        right = self._right_column = QSplitter(Qt.Orientation.Vertical, self)
        right.setObjectName("resultsRightSplitter")
        right.addWidget(self._per_class)
        right.addWidget(samples)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        right.setChildrenCollapsible(False)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("resultsSplitter")
        splitter.addWidget(self._matrix)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(actions)
        layout.addWidget(self._export_status)
        layout.addWidget(self._heading)
        layout.addLayout(metrics)
        layout.addWidget(splitter, 1)
        self._show_figures(False)

    # ----------------------------------------------------------------------------------- public
    @property
    def model_path(self) -> str:
        return str(self._model_path or "")

    @property
    def evaluation(self) -> dict | None:
        return self._evaluation

    @property
    def confusion_matrix(self) -> ConfusionMatrixWidget:
        return self._matrix

    @property
    def thumbnails(self) -> ThumbnailStripWidget:
        return self._thumbnails

    def show_run(self, run_dir: str) -> bool:
        """Show a run folder (or its ``model.keras``): sidecar, ``evaluation.json`` when present."""
        path = Path(run_dir)
        model = path if path.suffix == ".keras" else path / "model.keras"
        return self.open_model(str(model))

    def show_latest_run(self, run_dirs: list[str]) -> bool:
        """Show the newest of a project's runs that saved a model (the last listed: runs are listed
        as they finish); False when none did. What a reopened project or session shows first."""
        for run_dir in reversed(run_dirs):
            if (Path(run_dir) / "model.keras").is_file():
                return self.show_run(run_dir)
        return False

    def open_model(self, model_path: str) -> bool:
        """Show a saved model; without an evaluation next to it, offer to evaluate on the dataset."""
        model = Path(model_path)
        try:
            if not model.is_file():
                raise WorkbenchError(f"Expected a saved model (.keras). Received: {model} does not exist")
            sidecar = read_sidecar(model)
        except (WorkbenchError, OSError) as exc:
            self._show_status(str(exc), error=True)
            return False
        evaluation_file, evaluation, damaged = model.parent / "evaluation.json", None, ""
        if evaluation_file.is_file():
            try:
                evaluation = read_evaluation(evaluation_file)
            except WorkbenchError as exc:  # the model is fine: open it, say why no figures are shown
                damaged = f"{exc} — evaluate it again. "
        self._runners["evaluate"].cancel()  # an evaluation of the previous model must not land on this one
        self._show_status("")  # the previous model's export line or error says nothing of this one
        self._matrix.clear_selection()
        self._model_path, self._sidecar = model, sidecar
        metrics = sidecar.get("final_metrics", {})
        status, epochs = sidecar.get("status", "?"), metrics.get("epochs_run", "?")
        if status == "running":  # "interrupted" when no live process trains it any more
            with contextlib.suppress(WorkbenchError, OSError):
                state = run_status(model)
                status, epochs = state.status, state.epochs_run
        members = len((sidecar.get("ensemble") or {}).get("members") or [])  # a joined model ran no epochs itself
        self._heading.setText(f"{sidecar.get('title', sidecar.get('template', 'Model'))} — {model}"
                              f" · {f'joins {members} runs' if members else f'status {status}, {epochs} epoch(s)'}")
        dataset = sidecar.get("dataset", {})
        if evaluation is not None:
            source = f"the validation split ({evaluation.get('num_samples', 0)} samples)"
            self._show_evaluation(evaluation, source, (dataset.get("path", ""), dataset.get("scan", {}).get("path", "")))
        else:
            self._clear_evaluation(damaged or "No evaluation saved with this model: choose “Evaluate on dataset” to "
                                   "evaluate it on the dataset of the Data panel.")
        self._sync_buttons()
        self._state.set_model(str(model))
        return True

    def evaluate_on(self, dataset_path: str) -> None:
        """Evaluate the model shown on ``dataset_path`` in the background."""
        if self._model_path is None or not dataset_path:
            self._show_status("Evaluating needs a model and a dataset (choose one in the Data panel).", error=True)
            return
        self._busy_label.setText("Evaluating…")
        self._runners["evaluate"].submit(functools.partial(evaluate_job, str(self._model_path), dataset_path))

    def export_to(self, path: str, fmt: str, quantize: str = "none") -> None:
        """Export the model shown to ``path`` in the background; the parity figure follows."""
        if self._model_path is None:
            self._show_status("Open or train a model before exporting.", error=True)
            return
        self._busy_label.setText(f"Exporting {fmt}{'' if quantize == 'none' else ' ' + quantize}…")
        self._show_status("")
        self._runners["export"].submit(functools.partial(
            export_job, str(self._model_path), path, fmt, quantize, self._state.dataset_path))

    def show_cell(self, true_index: int, predicted_index: int) -> None:
        """List the samples of one confusion-matrix cell (what a click on it does)."""
        if self._evaluation is None:
            return
        names = self._evaluation["class_names"]
        count = int(self._evaluation["confusion_matrix"][true_index][predicted_index])
        true_name, predicted_name = names[true_index], names[predicted_index]
        if self._matrix.selected_cell() != (true_index, predicted_index):
            self._matrix.select_cell(true_index, predicted_index)  # the frame follows a cell chosen in code too
        self._runners["samples"].cancel()  # thumbnails of the previously clicked cell arrive too late
        self._thumbnails.clear()
        self._clear_sample_files()
        if true_index == predicted_index:
            self._sample_note.setText(f"{count} sample(s) of “{true_name}” were predicted correctly. Only "
                                      "misclassified samples are listed: click a cell off the diagonal.")
            self.samples_shown.emit(0)
            return
        samples = cell_samples(self._evaluation, true_index, predicted_index)
        if not samples:
            capped = count and self._evaluation.get("num_misclassified", 0) > len(self._evaluation["misclassified"])
            self._sample_note.setText(
                f"No sample of “{true_name}” was predicted as “{predicted_name}”." if not count else
                f"{count} sample(s), not in the saved list{' (it keeps the most confident mistakes only)' if capped else ''}.")
            self.samples_shown.emit(0)
            return
        shown = samples[:MAX_THUMBNAILS]
        more = f" (the {len(shown)} most confident shown)" if len(samples) > len(shown) else ""
        self._sample_note.setText(f"{len(samples)} sample(s) of “{true_name}” predicted as “{predicted_name}”, "
                                  f"most confident first{more}.")
        thumbnails = widgets_for(self._sidecar.get("modality")).thumbnails
        self._thumbnails.setVisible(thumbnails)  # sound and video samples are listed instead
        if thumbnails:
            dataset_path, scan_path = self._samples_root
            if self._gradcam.isChecked():
                self._runners["samples"].submit(functools.partial(
                    gradcam_samples_job, self._loader, self._models, self._explainers, str(self._model_path), shown,
                    dataset_path, scan_path))
            else:
                self._runners["samples"].submit(functools.partial(self._loader.load_many, shown, dataset_path,
                                                                  scan_path))
        elif widgets_for(self._sidecar.get("modality")).clips:
            self._clips.set_model(str(self._model_path), list(names), *self._samples_root)
            self._clips.show_samples(shown)
            self._clips.show()
            self.samples_shown.emit(len(shown))
        else:
            for sample in shown:
                self._sample_list.addItem(f"{Path(str(sample['sample'])).name}   {caption(sample)}")
                self._sample_list.item(self._sample_list.count() - 1).setToolTip(str(sample["sample"]))
            self._sample_list.show()
            self.samples_shown.emit(len(shown))

    def shutdown(self) -> None:
        """End the background threads (the main window calls this on close)."""
        for runner in self._runners.values():
            runner.shutdown(RUNNER_SHUTDOWN_MS)
        self._clips.shutdown()

    def cell_clips(self) -> CellClipsWidget:
        """The sound clips of the selected cell (shown for sound models)."""
        return self._clips

    # --------------------------------------------------------------------------------- private
    def _clear_sample_files(self) -> None:
        """Empty (and hide) the file list and the clips of the previous cell."""
        self._sample_list.clear()
        self._sample_list.hide()
        self._clips.clear()
        self._clips.hide()

    def _show_status(self, text: str, error: bool = False) -> None:
        self._export_status.setStyleSheet(message_style("error") if error else "")
        self._export_status.setText(text)
        self._export_status.setVisible(bool(text))

    def _sync_buttons(self) -> None:
        has_model = self._model_path is not None
        self._export_button.setEnabled(has_model)
        self._evaluate_button.setEnabled(has_model and bool(self._state.dataset_path))
        self._gradcam.setEnabled(has_model and widgets_for(self._sidecar.get("modality")).thumbnails)

    def _show_evaluation(self, evaluation: dict, source: str, samples_root: tuple[str, str]) -> None:
        self._evaluation, self._samples_root = evaluation, samples_root
        names = evaluation["class_names"]
        self._accuracy.setText(f"Accuracy <b>{evaluation['accuracy']:.1%}</b>")
        self._top_k.setText(f"Top-{evaluation.get('top_k', 1)} accuracy <b>{evaluation.get('top_k_accuracy', 0):.1%}</b>")
        self._macro_f1.setText(f"Macro F1 <b>{evaluation.get('macro_f1', 0):.3f}</b>")
        metrics = self._sidecar.get("final_metrics", {})
        best = metrics.get("best_epoch")
        self._best_epoch.setText(f"Best epoch <b>{best}</b> of {metrics.get('epochs_run', '?')}" if best
                                 else "Best epoch —")
        self._heading.setToolTip(f"Evaluated on {source}")
        self._runners["samples"].cancel()
        self._matrix.clear_selection()  # a cell of another evaluation
        self._matrix.set_matrix(evaluation["confusion_matrix"], names)
        self._show_figures(True)
        self._per_class.set_rows(evaluation.get("per_class", []))
        self._thumbnails.clear()
        self._clear_sample_files()
        self._sample_note.setText(f"Evaluated on {source}. Click a cell of the confusion matrix to see its "
                                  "misclassified samples.")
        self.evaluation_shown.emit(str(self._model_path))

    def _clear_evaluation(self, note: str) -> None:
        self._evaluation = None
        self._runners["samples"].cancel()
        for label in (self._accuracy, self._top_k, self._macro_f1, self._best_epoch):
            label.clear()
        self._matrix.set_empty_message(note)
        self._matrix.set_matrix(np.zeros((0, 0)), [])
        self._show_figures(False)
        self._per_class.setRowCount(0)
        self._thumbnails.clear()
        self._clear_sample_files()
        self._sample_note.setText(note)

    def _show_figures(self, shown: bool) -> None:
        """The per-class table and the samples only with an evaluation; the matrix's place says what
        to do without one."""
        self._per_class.setVisible(shown)
        self._samples_box.setVisible(shown)
        self._right_column.setVisible(shown)

    @Slot()
    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a trained model", str(self._model_path or ""),
                                              "Keras models (*.keras)")
        if path:
            self.open_model(path)

    @Slot()
    def _on_evaluate_clicked(self) -> None:
        self.evaluate_on(self._state.dataset_path)

    @Slot()
    def _on_export_clicked(self) -> None:
        if self._model_path is None:
            return
        fmt, quantize = self._format_combo.currentData()
        suggested = default_export_path(self._model_path, fmt, quantize)
        filters = {"keras": "Keras model (*.keras)", "tflite": "TFLite model (*.tflite)"}
        path, _ = QFileDialog.getSaveFileName(self, "Export the model", str(suggested),
                                              filters.get(fmt, "SavedModel folder (*)"))
        if path:
            self.export_to(path, fmt, quantize)

    @Slot(int, int)
    def _on_cell_clicked(self, true_index: int, predicted_index: int) -> None:
        self.show_cell(true_index, predicted_index)

    @Slot(bool)
    def _on_gradcam_toggled(self, _checked: bool) -> None:
        cell = self._matrix.selected_cell()
        if cell is not None and self._evaluation is not None:
            self.show_cell(*cell)

    @Slot(object)
    def _on_samples_loaded(self, result: object) -> None:
        images, captions = result
        self._thumbnails.set_images(images, captions)
        self.samples_shown.emit(len(images))

    @Slot(str)
    def _on_samples_failed(self, message: str) -> None:
        self._sample_note.setText(f"Could not load the samples: {message}")

    @Slot(object)
    def _on_evaluation_ready(self, evaluation: object) -> None:
        dataset = evaluation.get("dataset", {})
        source = f"{dataset.get('path', 'the dataset')} ({evaluation.get('num_samples', 0)} samples)"
        self._show_evaluation(evaluation, source, (dataset.get("path", ""), dataset.get("path", "")))
        self._show_status(f"Evaluated on {source}.")

    @Slot(str)
    def _on_evaluation_failed(self, message: str) -> None:
        self._show_status(f"Evaluation failed: {message}", error=True)

    @Slot(object)
    def _on_export_ready(self, result: object) -> None:
        self._show_status(parity_text(result))
        self.export_finished.emit(result)

    @Slot(str)
    def _on_export_failed(self, message: str) -> None:
        self._show_status(f"Export failed: {message}", error=True)
        self.export_failed.emit(message)

    @Slot(bool)
    def _on_busy_changed(self, _busy: bool) -> None:
        busy = self._runners["evaluate"].busy or self._runners["export"].busy
        self._busy.setVisible(busy)
        self._busy_label.setVisible(busy)

    @Slot(dict)
    def _on_run_finished(self, payload: dict) -> None:
        if payload.get("model_path"):
            self.show_run(payload.get("run_dir") or str(Path(payload["model_path"]).parent))

    @Slot(str)
    def _on_model_changed(self, path: str) -> None:
        if path and Path(path) != self._model_path and (Path(path).parent / "evaluation.json").is_file():
            self.open_model(path)

    @Slot(object)
    def _on_dataset_changed(self, _scan) -> None:
        self._sync_buttons()


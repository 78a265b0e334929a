"""ModelPanel: pick a template, edit its hyperparameters and see the exact model that will train:
every layer (a pretrained backbone's too) and, for a run in phases, which layers each phase trains.

The summary is built by the template itself (``core.templates.summary``) on a TaskRunner thread —
building imports TensorFlow, which takes seconds the first time — with the dataset's class count,
the template's input shape and the current hyperparameters, so it is the model ``train`` will build.
Rebuilds are debounced: dragging a spin box costs one build, not one per step. In the main window
(``build_when_shown=True``) the summary is built only while the panel is on screen: a window whose Model
tab is never opened never builds one (nor imports TensorFlow for it), and changes made elsewhere cost
one build when the tab is next shown.

With a dataset loaded the list shows the templates that fit it first and says why the others do not
(:func:`workbench.core.templates.fit.template_fit`); above the form, :class:`ModelGuidance` shows what
the scan found, the settings it proposes and the shipped recipes. Under the summary, the model's
parameter count and the size of its checkpoint (with the optimizer's state), with a warning when large.

For a transfer template, double-clicking a backbone layer in the table sets ``fine_tune_blocks`` so
that phase 2 trains from that layer's block up: through the form's own field, as a user's edit, so
the state (and the project) records it and the table is rebuilt with the new phase 2.
"""

from __future__ import annotations

import functools
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import (
    QFileDialog, QFrame, QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QScrollArea,
    QSplitter, QVBoxLayout, QWidget,
)

from workbench.core.modality import get_modality
from workbench.core.templates import get_template
from workbench.core.templates.fit import rank_templates
from workbench.core.templates.size import size_line
from workbench.gui.panels.model_guidance import ModelGuidance
from workbench.gui.panels.panel_widgets import message_label, set_message
from workbench.gui.state import AppState
from workbench.gui.widgets.hyperparameter_form_widget import HyperParameterFormWidget
from workbench.gui.widgets.layer_table_widget import LayerTableWidget
from workbench.gui.workers.task_runner import TaskRunner

SUMMARY_DEBOUNCE_MS = 300
CLASSES_WITHOUT_DATASET = 10


def _summary_job(template_id: str, num_classes: int, hparams: dict[str, Any], *, progress, cancel) -> dict:
    """Runs on the TaskRunner thread: the only place this panel touches Keras."""
    from workbench.core.templates.summary import summarize_template

    return summarize_template(template_id, num_classes, None, hparams)


def _model_file_job(path: str, *, progress, cancel) -> dict:
    """Runs on the TaskRunner thread: loads a saved model to list its layers."""
    from workbench.core.templates.summary import summarize_model_file

    return summarize_model_file(path)


def _shape_text(shape) -> str:
    return "×".join(str(d) for d in shape)


class ModelPanel(QWidget):
    """Template list, description, hyperparameter form and model summary table."""

    summary_shown = Signal(dict)  # the summary now in the table (for tests and the status bar)

    def __init__(self, state: AppState, parent: QWidget | None = None, build_when_shown: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("modelPanel")
        self.setAccessibleName("Model")
        self._state = state
        self._summary: dict | None = None
        self._tensorflow_loaded = False
        self._build_when_shown = build_when_shown
        self._summary_pending = False  # a build was wanted while the panel was hidden

        self._list = QListWidget(self)
        self._list.setObjectName("modelTemplateList")
        self._list.setAccessibleName("Model templates")
        self._list.setWordWrap(True)
        self._list.setSpacing(2)
        self._list_header = message_label("modelFitHeader", "Which templates fit the data")
        self._fill_list()
        self._list.currentItemChanged.connect(self._on_template_selected)
        list_column = QWidget(self)
        list_layout = QVBoxLayout(list_column)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self._list_header)
        list_layout.addWidget(self._list, 1)

        self._title = QLabel(self)
        self._title.setObjectName("modelTemplateTitle")
        self._title.setAccessibleName("Template title")
        font = self._title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self._title.setFont(font)
        self._description = QLabel(self)
        self._description.setObjectName("modelTemplateDescription")
        self._description.setAccessibleName("Template description")
        self._description.setWordWrap(True)
        self._description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Shown up front for a template that cannot be trained yet (video), not as an error mid-run.
        self._unavailable = QLabel(self)
        self._unavailable.setObjectName("modelTemplateUnavailable")
        self._unavailable.setAccessibleName("Template cannot be trained yet")
        self._unavailable.setWordWrap(True)
        self._unavailable.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._unavailable.setStyleSheet("font-weight: bold;")
        self._unavailable.hide()

        self._form = HyperParameterFormWidget(self, object_prefix="modelHparam_")
        self._form.values_changed.connect(self._on_form_values_changed)
        self._reset_button = QPushButton("Reset to defaults", self)
        self._reset_button.setObjectName("modelResetHparamsButton")
        self._reset_button.setAccessibleName("Reset hyperparameters to the template's defaults")
        self._reset_button.clicked.connect(self._on_reset_clicked)
        form_scroll = QScrollArea(self)
        form_scroll.setWidgetResizable(True)
        form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form_scroll.setWidget(self._form)
        form_box = QGroupBox("Hyperparameters", self)
        form_layout = QVBoxLayout(form_box)
        form_layout.addWidget(form_scroll, 1)
        form_layout.addWidget(self._reset_button, 0, Qt.AlignmentFlag.AlignRight)

        middle = QWidget(self)
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(self._title)
        middle_layout.addWidget(self._description)
        middle_layout.addWidget(self._unavailable)
        self._guidance = ModelGuidance(state, middle)
        middle_layout.addWidget(self._guidance)
        middle_layout.addWidget(form_box, 1)

        self._summary_status = QLabel(self)
        self._summary_status.setObjectName("modelSummaryStatus")
        self._summary_status.setAccessibleName("Model summary status")
        self._summary_status.setWordWrap(True)
        # Parameters and checkpoint size before any training (a Flatten→Dense on a large map made 539 MB).
        self._size_label = message_label("modelSizeLabel", "Model size: parameters and megabytes")
        self._size_label.hide()
        self._layers = LayerTableWidget(self)
        self._layers.setObjectName("modelLayerTable")
        self._layers.setAccessibleName("Model layers: output shapes, parameters and what trains in each phase")
        self._layers.fine_tune_requested.connect(self._on_fine_tune_requested)
        self._open_model_button = QPushButton("Show a saved model…", self)
        self._open_model_button.setObjectName("modelOpenSavedButton")
        self._open_model_button.setAccessibleName("Show the layers of a saved model")
        self._open_model_button.setToolTip("Show the layers of a .keras model file (the template's model comes "
                                           "back with the next change of template or hyperparameters)")
        self._open_model_button.clicked.connect(self._on_open_model_clicked)
        summary_box = QGroupBox("Model summary", self)
        summary_layout = QVBoxLayout(summary_box)
        status_row = QHBoxLayout()
        status_row.addWidget(self._summary_status, 1)
        status_row.addWidget(self._open_model_button, 0, Qt.AlignmentFlag.AlignTop)
        summary_layout.addLayout(status_row)
        summary_layout.addWidget(self._size_label)
        summary_layout.addWidget(self._layers, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(list_column)
        splitter.addWidget(middle)
        splitter.addWidget(summary_box)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 4)
        # The layer table wants the room: a backbone's rows are indented and a run in phases adds a
        # column per phase. Qt scales these to the panel's width when it is first laid out.
        splitter.setSizes([200, 330, 670])
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)

        # One Python thread state for the thread's life: a summary builds a Keras model per job, and on a
        # plain QThread a later build hung or crashed in TensorFlow (see workers/python_thread.py).
        self._runner = TaskRunner("modelSummaryThread", self, python_thread=True)
        self._runner.result_ready.connect(self._on_summary_built)
        self._runner.failed.connect(self._on_summary_failed)
        self._debounce = QTimer(self)
        self._debounce.setObjectName("modelSummaryDebounceTimer")
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SUMMARY_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)

        state.template_changed.connect(self._on_template_changed)
        state.hparams_changed.connect(self._on_hparams_changed)
        state.dataset_changed.connect(self._on_dataset_changed)
        self._on_template_changed(state.template_id)

    # ----------------------------------------------------------------------------------- public
    @property
    def summary(self) -> dict | None:
        """The summary shown in the table (None until the first build finished)."""
        return self._summary

    @property
    def layer_table(self) -> LayerTableWidget:
        return self._layers

    @property
    def form(self) -> HyperParameterFormWidget:
        return self._form

    @property
    def guidance(self) -> ModelGuidance:
        return self._guidance

    def listed_templates(self) -> list[str]:
        """The template ids in the order the list shows them (those that fit the data first)."""
        return [self._list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self._list.count())]

    def num_classes(self) -> tuple[int, str]:
        """The class count the summary is built for, and a note on where it comes from."""
        scan = self._state.scan
        if scan is None or not getattr(scan, "class_names", None):
            return CLASSES_WITHOUT_DATASET, (f"Built for {CLASSES_WITHOUT_DATASET} classes: no dataset is chosen yet, "
                                             "so the output layer will change to match the dataset's classes.")
        count = len(scan.class_names)
        if count < 2:
            return 2, f"The dataset has {count} class; shown for 2 classes (a classifier needs at least 2)."
        return count, f"Built for the {count} classes of the dataset."

    def shutdown(self) -> None:
        """End the summary thread (the main window calls this on close)."""
        self._debounce.stop()
        self._runner.shutdown(30_000)

    # --------------------------------------------------------------------------------- private
    def _fill_list(self) -> None:
        """One item per template, those that fit the loaded data first; the others greyed with the reason."""
        scan = self._state.scan
        self._list.blockSignals(True)  # rebuilding the list is not a user's choice
        try:
            self._list.clear()
            dimmed = QBrush(self._list.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
            for fit in rank_templates(scan):
                spec = get_template(fit.template)
                cannot = "" if spec.can_train else " · cannot train yet"
                lines = [spec.title, f"{spec.modality} · input {_shape_text(spec.input_shape)}{cannot}"]
                tip = spec.description if spec.can_train else f"{spec.description}\n\n{spec.train_unavailable}."
                if not fit.fits and spec.can_train:
                    lines.append(f"✖ needs {get_modality(spec.modality).noun} data")
                    tip = f"{fit.reason}\n\n{tip}"
                item = QListWidgetItem("\n".join(lines))
                item.setData(Qt.ItemDataRole.UserRole, spec.id)
                item.setToolTip(tip)
                if not fit.fits:
                    item.setForeground(dimmed)
                self._list.addItem(item)
        finally:
            self._list.blockSignals(False)
        self._select_in_list(self._state.template_id)
        fitting = sum(1 for f in rank_templates(scan) if f.fits)
        modality = getattr(scan, "modality", None)
        if modality is None:
            set_message(self._list_header, "")
        else:
            noun = get_modality(modality).noun
            set_message(self._list_header, f"For the loaded {noun} data: {fitting} template{'s' * (fitting != 1)} "
                                           "first; the greyed ones need other data (hover for why).")

    def _select_in_list(self, template_id: str) -> None:
        self._list.blockSignals(True)  # selecting to mirror the state is not a user choice
        try:
            for row in range(self._list.count()):
                if self._list.item(row).data(Qt.ItemDataRole.UserRole) == template_id:
                    self._list.setCurrentRow(row)
                    break
            else:
                self._list.setCurrentRow(-1)
        finally:
            self._list.blockSignals(False)

    def _schedule_summary(self) -> None:
        if self._build_when_shown and not self.isVisible():
            self._summary_pending = True  # built when the tab is shown (showEvent)
            self._debounce.stop()
            return
        self._debounce.start()  # restarts: a burst of changes makes one build

    def summary_coming(self) -> bool:
        """Whether a summary is being built or about to be (the debounce running, or a build waiting
        for the panel to be shown)."""
        return self._summary_pending or self._debounce.isActive() or self._runner.busy

    def refresh_summary(self) -> None:
        """Build the summary now (debounced), shown or not."""
        self._summary_pending = False
        self._debounce.start()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self._summary_pending:
            self.refresh_summary()

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_template_selected(self, current: QListWidgetItem | None, _previous) -> None:
        if current is None:
            return
        template_id = current.data(Qt.ItemDataRole.UserRole)
        if template_id == self._state.template_id:
            return
        # The state gives each template its own values (its defaults the first time: VGG16 wants a
        # smaller learning rate than a digit CNN), and brings one's edits back on returning to it.
        self._state.set_template(template_id)

    @Slot(str)
    def _on_template_changed(self, template_id: str) -> None:
        self._select_in_list(template_id)
        try:
            spec = get_template(template_id)
        except Exception as exc:  # e.g. a project naming a plug-in template that is not installed
            self._title.setText(template_id)
            self._description.setText(str(exc))
            self._unavailable.hide()
            self._form.set_specs(())
            return
        self._title.setText(spec.title)
        self._description.setText(
            f"{spec.description}\n\nModality: {spec.modality} · input {_shape_text(spec.input_shape)}")
        self._unavailable.setText(f"Cannot train yet: {spec.train_unavailable}." if not spec.can_train else "")
        self._unavailable.setVisible(not spec.can_train)
        names = {hp.name for hp in spec.hyperparameters}
        # Values set for another template (a project load may set them in either order) keep only
        # the names this template knows.
        kept = {k: v for k, v in self._state.hparams.items() if k in names}
        self._form.set_specs(spec.hyperparameters, kept)
        if kept != self._state.hparams:
            self._state.set_hparams(kept)
        self._schedule_summary()

    @Slot(dict)
    def _on_hparams_changed(self, hparams: dict) -> None:
        self._form.set_values(hparams)
        self._schedule_summary()

    @Slot(object)
    def _on_dataset_changed(self, _scan) -> None:
        self._fill_list()
        self._schedule_summary()

    @Slot(dict)
    def _on_form_values_changed(self, values: dict) -> None:
        defaults = self._form.defaults()
        # Only changed values go to the state (and the project file), so a template's later change
        # of a default still reaches projects that never touched it.
        self._state.set_hparams({k: v for k, v in values.items() if v != defaults.get(k)})

    @Slot(int)
    def _on_fine_tune_requested(self, blocks: int) -> None:
        """Phase 2 from a clicked backbone layer's block up: the form's field, as if typed there."""
        fine_tune = (self._summary or {}).get("fine_tune")
        if not fine_tune or self._summary.get("template") != self._state.template_id:
            return
        name = fine_tune["hyperparameter"]
        if name not in self._form.names():
            return
        self._form.editor(name).setValue(blocks)  # values_changed → state → a rebuilt table

    @Slot()
    def _on_reset_clicked(self) -> None:
        self._state.set_hparams({})

    @Slot()
    def _on_debounce_timeout(self) -> None:
        try:
            get_template(self._state.template_id)
        except Exception:
            return
        num_classes, _note = self.num_classes()
        self._summary_status.setText("Building the model…" if self._tensorflow_loaded
                                     else "Loading TensorFlow and building the model…")
        self._runner.submit(functools.partial(
            _summary_job, self._state.template_id, num_classes, dict(self._state.hparams)))

    def show_model_file(self, path: str) -> None:
        """List the layers of a saved ``.keras`` model (built off the GUI thread) instead of the template's."""
        self._debounce.stop()
        self._summary_status.setText(f"Loading {path}…")
        self._runner.submit(functools.partial(_model_file_job, str(path)))

    @Slot()
    def _on_open_model_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Show a saved model", "", "Keras models (*.keras)")
        if path:
            self.show_model_file(path)

    @Slot(object)
    def _on_summary_built(self, summary: dict) -> None:
        self._tensorflow_loaded = True
        self._summary = summary
        output = "one sigmoid unit" if summary["output"] == "sigmoid" else "softmax"
        shape = _shape_text(summary["input_shape"])
        if summary.get("source"):
            made = f", trained from {summary['template']}" if summary.get("template") else ""
            self._summary_status.setText(f"{summary['source']} ({summary['model_name']}{made}): input {shape}, "
                                         f"{output} output; trainable as saved.")
        else:
            _, note = self.num_classes()
            phases = summary.get("phases") or []
            trained = (f" Trained in {len(phases)} phases: " + ", then ".join(p["name"] for p in phases) + "."
                       if len(phases) > 1 else "")
            self._summary_status.setText(
                f"{summary['model_name']}: input {shape}, {output} output. {note}{trained}")
        self._show_size(summary.get("size"))
        self._layers.set_summary(summary)
        self.summary_shown.emit(summary)

    def _show_size(self, size: dict | None) -> None:
        if not size:
            set_message(self._size_label, "")
            return
        warning = size.get("warning") or ""
        set_message(self._size_label, size_line(size) + (f"\n{warning}" if warning else ""),
                    "warning" if warning else "info")

    @Slot(str)
    def _on_summary_failed(self, message: str) -> None:
        self._tensorflow_loaded = True
        self._summary = None
        self._show_size(None)
        self._layers.clear()
        self._summary_status.setText(f"Could not show the model: {message}")

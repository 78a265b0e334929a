"""What the image and the sound augmentation panels share: a spec edited by controls, and a preview
of real samples rendered on a TaskRunner with the training code path.

A control change updates the spec, publishes it to the state and restarts a single-shot timer (the
debounce); when it fires, the newest spec is rendered in the background, a newer request
superseding an older one, so dragging a slider stays smooth. The samples are picked once per
dataset, template and seed and then reused, so a slider scales the same random draws instead of
reshuffling them; "New samples" changes the seed.

Subclasses say where samples come from (:meth:`_sample_source`), how to render and show a preview,
and how the state holds their spec.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from workbench.core.modality import get_modality
from workbench.gui.panels.panel_widgets import named, set_message
from workbench.gui.state import AppState
from workbench.gui.workers.task_runner import TaskRunner

PREVIEW_DEBOUNCE_MS = 150
SHUTDOWN_TIMEOUT_MS = 60_000  # the first preview may be inside the TensorFlow import, which cannot stop


def add_slider_row(grid: QGridLayout, row: int, text: str, object_name: str, tooltip: str,
                   widest_value: str) -> tuple[QSlider, QLabel]:
    """One option's row of the controls: "text:", a slider and its value, right-aligned in a label
    wide enough for ``widest_value``. The slider's range is the caller's."""
    label = QLabel(f"{text}:")
    label.setToolTip(tooltip)
    slider = named(QSlider(Qt.Orientation.Horizontal), object_name, text, tooltip)
    slider.setMinimumWidth(160)
    label.setBuddy(slider)
    value = named(QLabel(), object_name.replace("Slider", "Value"), f"{text} value")
    value.setMinimumWidth(value.fontMetrics().horizontalAdvance(widest_value))
    value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    grid.addWidget(label, row, 0)
    grid.addWidget(slider, row, 1)
    grid.addWidget(value, row, 2)
    return slider, value


def add_controls_footer(grid: QGridLayout, row: int, reset_button: QPushButton, note_text: str,
                        note_name: str, recipe_button: QPushButton | None = None) -> None:
    """Below the option rows: the Reset button (and the template's recipe beside it), a gap, the note
    on what augmentation does, and a stretch that keeps the controls at the top."""
    buttons = QHBoxLayout()
    buttons.addWidget(reset_button, 1)
    if recipe_button is not None:
        buttons.addWidget(recipe_button, 1)
    grid.addLayout(buttons, row, 0, 1, 3)
    note = QLabel(note_text)
    note.setObjectName(note_name)
    note.setWordWrap(True)
    grid.setRowMinimumHeight(row + 1, 8)
    grid.addWidget(note, row + 2, 0, 1, 3)
    grid.setRowStretch(row + 3, 1)


def preview_header(status_label: QLabel, new_samples_button: QPushButton) -> QHBoxLayout:
    """The preview's first line: its status message, and "New samples" at the top right."""
    header = QHBoxLayout()
    header.addWidget(status_label, 1)
    header.addWidget(new_samples_button, 0, Qt.AlignmentFlag.AlignTop)
    return header


class AugmentationPreviewPanel(QWidget):
    """Base of the augmentation panels. Subclasses build their controls, create ``_status_label``,
    then call :meth:`_start` at the end of ``__init__``."""

    preview_updated = Signal(object)  # the subclass's preview object
    preview_failed = Signal(str)

    def __init__(self, state: AppState, runner_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._spec = self._state_spec()
        self._sample_seed = 0
        self._samples: Any = None  # the picked samples of the preview shown, reused while the source holds
        self._samples_source: Any = None
        self._preview: Any = None
        self._shut_down = False
        self._status_label: QLabel | None = None
        self.preview_runner = TaskRunner(runner_name, self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DEBOUNCE_MS)
        # Shown when the template comes with an augmentation recipe of this panel's kind.
        self._recipe_button = named(QPushButton("Template's recipe"), "augRecipeButton",
                                    "Use the template's default augmentation")

    def _start(self) -> None:
        self._timer.timeout.connect(self._on_preview_timer_timeout)
        self.preview_runner.result_ready.connect(self._on_preview_ready)
        self.preview_runner.failed.connect(self._on_preview_errored)
        self._state.dataset_changed.connect(self._on_samples_invalidated)
        self._state.template_changed.connect(self._on_samples_invalidated)
        self._recipe_button.clicked.connect(self._on_recipe_clicked)
        for signal in (self._state.template_changed, self._state.augmentation_changed,
                       self._state.audio_augmentation_changed, self._state.video_augmentation_changed):
            signal.connect(self._refresh_recipe_button)
        self._refresh_recipe_button()
        app = QCoreApplication.instance()
        if app is not None:  # a last line of defence: no thread may outlive the application
            app.aboutToQuit.connect(self.shutdown)
        self._show_spec(self._spec)
        self._timer.start()

    # ----------------------------------------------------------------------------------- public
    @property
    def spec(self):
        return self._spec

    @property
    def preview(self):
        """The preview shown, or None."""
        return self._preview

    def recipe_button(self) -> QPushButton:
        return self._recipe_button

    def template_recipe(self):
        """The chosen template's default augmentation when it is of this panel's kind, else None."""
        recipe = self._state.template_augmentation_default()
        return recipe if isinstance(recipe, type(self._spec)) else None

    def is_ready(self) -> bool:
        """True when the preview shown matches the controls (for tests and screenshots)."""
        return (self._preview is not None and self._preview.spec == self._spec
                and not self._timer.isActive() and not self.preview_runner.busy)

    def status_text(self) -> str:
        return self._status_label.text()

    def edits_spec_of(self, modality: str) -> bool:
        """Whether this panel edits the augmentation spec of ``modality`` (the registry says which
        spec class each modality augments with)."""
        return get_modality(modality).augmentation_spec is type(self._spec)

    def shutdown(self) -> None:
        """End the panel's threads (the main window calls this on close)."""
        if self._shut_down:
            return
        self._shut_down = True
        self._timer.stop()
        self._shutdown_more()
        self.preview_runner.shutdown(SHUTDOWN_TIMEOUT_MS)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------------------- for subclasses
    def _state_spec(self):
        """The state's spec of this panel's kind."""
        raise NotImplementedError

    def _publish(self, spec) -> None:
        """Put ``spec`` into the state."""
        raise NotImplementedError

    def _show_spec(self, spec) -> None:
        """Set every control from ``spec`` without feeding the change back."""
        raise NotImplementedError

    def _sample_source(self):
        """Where preview samples come from, or a string saying why there is nothing to preview."""
        raise NotImplementedError

    def _same_samples(self, cached, source) -> bool:
        """Whether samples picked for ``cached`` serve ``source`` too."""
        raise NotImplementedError

    def _render_job(self, spec, source, samples):
        """A TaskRunner job rendering the preview (``samples`` None: pick them)."""
        raise NotImplementedError

    def _samples_of(self, preview):
        """The picked samples inside ``preview``, to reuse for the next render."""
        raise NotImplementedError

    def _display(self, preview) -> str:
        """Show ``preview``; return the status line."""
        raise NotImplementedError

    def _clear_preview(self) -> None:
        raise NotImplementedError

    def _shutdown_more(self) -> None:
        """Threads of the subclass's own to end on shutdown."""

    # ------------------------------------------------------------------------------------ slots
    @Slot()
    def _on_reset_clicked(self) -> None:
        self._set_whole_spec(type(self._spec)())

    @Slot()
    def _on_recipe_clicked(self) -> None:
        recipe = self.template_recipe()
        if recipe is not None:
            self._set_whole_spec(recipe)

    @Slot()
    def _refresh_recipe_button(self, *_args) -> None:
        recipe = self.template_recipe()
        self._recipe_button.setVisible(recipe is not None)
        self._recipe_button.setEnabled(recipe is not None and recipe != self._state_spec())
        if recipe is not None:
            options = ", ".join(f"{k} {'on' if v is True else v}" for k, v in recipe.to_dict().items()
                                if k != "modality" and v)
            self._recipe_button.setToolTip(f"The augmentation '{self._state.template_id}' was measured with and "
                                           f"trains with by default: {options}.")
        else:
            self._recipe_button.setToolTip("Use the chosen template's own augmentation (offered for templates "
                                           "that come with one).")

    def _set_whole_spec(self, spec) -> None:
        self._spec = spec
        self._show_spec(self._spec)
        self._publish(self._spec)
        self._timer.start()

    @Slot()
    def _on_new_samples_clicked(self) -> None:
        self._sample_seed = int(np.random.default_rng().integers(1, 2**31 - 1))
        self._samples = self._samples_source = None
        self._timer.start()

    @Slot(object)
    def _on_spec_changed_elsewhere(self, spec) -> None:
        if spec == self._spec:
            return  # our own change coming back
        self._spec = spec
        self._show_spec(spec)
        self._timer.start()

    @Slot()
    def _on_samples_invalidated(self, *_args) -> None:
        self._samples = self._samples_source = None
        self._timer.start()

    @Slot()
    def _on_preview_timer_timeout(self) -> None:
        if self._shut_down:
            return
        source = self._sample_source()
        if isinstance(source, str):
            self.preview_runner.cancel()
            self._preview = None
            self._clear_preview()
            set_message(self._status_label, source, "info")
            return
        reuse = self._samples_source is not None and self._same_samples(self._samples_source, source)
        if reuse:
            source = self._samples_source
        if "keras" not in sys.modules:
            set_message(self._status_label, "Loading TensorFlow for the preview (first time only)…", "info")
        self.preview_runner.submit(self._render_job(self._spec, source, self._samples if reuse else None))

    @Slot(object)
    def _on_preview_ready(self, preview) -> None:
        self._samples, self._samples_source = self._samples_of(preview), preview.source
        self._preview = preview
        set_message(self._status_label, self._display(preview), "info")
        self.preview_updated.emit(preview)

    @Slot(str)
    def _on_preview_errored(self, message: str) -> None:
        set_message(self._status_label, f"Could not preview augmentation: {message}", "error")
        self.preview_failed.emit(message)

    def _change(self, **values) -> None:
        self._spec = replace(self._spec, **values)
        self._show_spec(self._spec)
        self._publish(self._spec)
        self._timer.start()  # restarting the single-shot timer is the debounce

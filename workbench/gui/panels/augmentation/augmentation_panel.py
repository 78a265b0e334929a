"""AugmentationPanel: every image augmentation option as a control, with a live preview on real samples.

The preview runs ``augment_samples`` — the Keras layers training uses — on a TaskRunner, so the
first TensorFlow import and every re-render happen off the GUI thread (debounced and superseded as
described in ``augmentation_preview_base``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from PySide6.QtCore import QSignalBlocker, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.image.augment import FILL_MODES, AugmentationSpec
from workbench.core.templates import get_template
from workbench.gui.panels.augmentation.augmentation_jobs import (
    PREVIEW_VERSIONS, AugmentationPreview, SampleSource, render_preview,
)
from workbench.gui.panels.augmentation.augmentation_preview_base import (
    AugmentationPreviewPanel, add_controls_footer, add_slider_row, preview_header,
)
from workbench.gui.panels.panel_widgets import message_label, named
from workbench.gui.state import AppState
from workbench.gui.widgets.thumbnail_strip_widget import ThumbnailStripWidget


@dataclass(frozen=True)
class _SliderOption:
    name: str  # AugmentationSpec field
    label: str
    steps: int  # slider maximum
    per_unit: int  # slider steps per unit of the field
    object_name: str
    tooltip: str
    unit: str = "±{:.2f}"  # how the value label shows a non-zero value

    def text(self, value: float) -> str:
        return self.unit.format(value) if value else "off"


SLIDERS = (
    _SliderOption("rotation", "Rotation", 180, 1, "augRotationSlider",
                  "Rotate each training image by a random angle of up to this many degrees, either way.",
                  "±{:.0f}°"),
    _SliderOption("width_shift", "Width shift", 50, 100, "augWidthShiftSlider",
                  "Move each image left or right by up to this fraction of its width."),
    _SliderOption("height_shift", "Height shift", 50, 100, "augHeightShiftSlider",
                  "Move each image up or down by up to this fraction of its height."),
    _SliderOption("shear", "Shear", 50, 100, "augShearSlider",
                  "Slant each image by up to this factor, as if seen at an angle."),
    _SliderOption("zoom", "Zoom", 50, 100, "augZoomSlider",
                  "Zoom in or out by up to this fraction."),
    _SliderOption("brightness", "Brightness", 50, 100, "augBrightnessSlider",
                  "Make each image brighter or darker by up to this fraction of the value range."),
    _SliderOption("contrast", "Contrast", 50, 100, "augContrastSlider",
                  "Raise or lower the contrast by up to this fraction."),
    _SliderOption("stroke_width", "Stroke width", 100, 100, "augStrokeWidthSlider",
                  "The share of images whose bright strokes are made a little thicker or thinner: for "
                  "drawn digits, whose pen width never varies.", "{:.0%} of images"),
)
CHECKS = (
    ("horizontal_flip", "Flip left–right", "augHorizontalFlipCheck",
     "Mirror half of the images left to right. Leave off for digits and text: a mirrored 7 is not a 7."),
    ("vertical_flip", "Flip top–bottom", "augVerticalFlipCheck",
     "Mirror half of the images top to bottom. Only for images with no 'up', such as microscopy."),
)
FILL_HELP = ("How the pixels that rotation, shifts, shear and zoom bring in from outside the image are "
             "filled: nearest repeats the edge pixel, constant uses black, reflect mirrors the image, "
             "wrap tiles it.")


class AugmentationPanel(AugmentationPreviewPanel):
    """Edits ``state.augmentation`` and previews it on samples of ``state.scan``."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, "augPreviewThread", parent)
        self.setObjectName("augmentationPanel")
        self.setAccessibleName("Augmentation")
        self._sliders: dict[str, QSlider] = {}
        self._value_labels: dict[str, QLabel] = {}
        self._checks: dict[str, QCheckBox] = {}
        self._slider_labels: dict[str, QLabel] = {}
        self._build_ui()

        for option in SLIDERS:
            self._sliders[option.name].valueChanged.connect(partial(self._on_slider_value_changed, option))
        for name, check in self._checks.items():
            check.toggled.connect(partial(self._on_check_toggled, name))
        self._fill_combo.currentTextChanged.connect(self._on_fill_mode_changed)
        self._reset_button.clicked.connect(self._on_reset_clicked)
        self._new_samples_button.clicked.connect(self._on_new_samples_clicked)
        state.augmentation_changed.connect(self._on_spec_changed_elsewhere)
        state.template_changed.connect(self._offer_options_for_template)
        self._offer_options_for_template(state.template_id)
        self._start()

    def option_offered(self, name: str) -> bool:
        """Whether the control of option ``name`` is offered for the current template."""
        return not self._sliders[name].isHidden()

    # ------------------------------------------------------------------------------------ slots
    @Slot(str)
    def _offer_options_for_template(self, template_id: str) -> None:
        """Stroke width thickens bright strokes on a dark ground: it means something for drawn digits
        (one grey channel), nothing for photos, so it is offered only for single-channel templates."""
        try:
            shape = tuple(get_template(template_id).input_shape) if template_id else ()
        except WorkbenchError:
            shape = ()
        strokes = len(shape) != 3 or int(shape[-1]) == 1
        for widget in (self._sliders["stroke_width"], self._value_labels["stroke_width"],
                       self._slider_labels["stroke_width"]):
            widget.setVisible(strokes)
        if not strokes and self._state.augmentation.stroke_width:
            self._change(stroke_width=0.0)  # hidden, it must not go on changing the photos

    def _on_slider_value_changed(self, option: _SliderOption, value: int) -> None:
        # A partial of this method is the receiver; the signal and this method live in the GUI thread.
        self._change(**{option.name: value / option.per_unit})

    def _on_check_toggled(self, name: str, checked: bool) -> None:
        self._change(**{name: checked})

    @Slot(str)
    def _on_fill_mode_changed(self, mode: str) -> None:
        self._change(fill_mode=mode)

    # --------------------------------------------------------------------- AugmentationPreviewPanel
    def _state_spec(self) -> AugmentationSpec:
        return self._state.augmentation

    def _publish(self, spec: AugmentationSpec) -> None:
        self._state.set_augmentation(spec)

    def _same_samples(self, cached: SampleSource, source: SampleSource) -> bool:
        return (cached.report is source.report and cached.seed == source.seed
                and cached.input_shape == source.input_shape and cached.preprocessing == source.preprocessing)

    def _render_job(self, spec, source, samples):
        return partial(render_preview, spec, source, samples)

    def _samples_of(self, preview: AugmentationPreview) -> np.ndarray:
        return preview.originals

    def _clear_preview(self) -> None:
        self._grid.clear()

    def _display(self, preview: AugmentationPreview) -> str:
        images, captions = [], []
        for original, versions in zip(preview.originals, preview.augmented):
            images += [original, *versions]
            captions += ["original"] + [f"#{i + 1}" for i in range(len(versions))]
        self._grid.set_images(images, captions)
        size = ""
        if len(preview.originals) and np.ndim(preview.originals[0]) == 3:
            height, width = np.shape(preview.originals[0])[:2]
            # Shown as the model sees them: training resizes every image to the input, aspect not kept.
            size = f" Shown at the model's input size, {width}×{height}: pictures of another shape are stretched " \
                   "to it, as training does."
        if preview.spec.enabled:
            return (f"Each row: a random training image, then {PREVIEW_VERSIONS} versions made by the same "
                    f"Keras layers training uses.{size}")
        return f"Augmentation is off: training sees the images as they are. Move a slider to try it.{size}"

    def _sample_source(self) -> SampleSource | str:
        """Where preview samples come from, or why there is nothing to preview."""
        report = self._state.scan
        if report is None:
            return "Choose a dataset in the Data panel to preview augmentation on its images."
        if not self.edits_spec_of(report.modality):
            return f"Augmentation applies to images; this dataset holds {report.modality} files."
        try:
            template = get_template(self._state.template_id)
        except WorkbenchError as exc:
            return str(exc)
        shape = tuple(int(d) for d in template.input_shape)
        if len(shape) != 3:
            return f"The template '{self._state.template_id}' does not take single images; nothing to preview."
        return SampleSource(report, shape, self._sample_seed, dict(template.preprocessing))

    def _show_spec(self, spec: AugmentationSpec) -> None:
        """Set every control from ``spec`` without feeding the change back."""
        for option in SLIDERS:
            slider = self._sliders[option.name]
            with QSignalBlocker(slider):
                slider.setValue(min(option.steps, round(getattr(spec, option.name) * option.per_unit)))
        for name, check in self._checks.items():
            with QSignalBlocker(check):
                check.setChecked(getattr(spec, name))
        with QSignalBlocker(self._fill_combo):
            self._fill_combo.setCurrentText(spec.fill_mode)
        self._show_values(spec)

    def _show_values(self, spec: AugmentationSpec) -> None:
        for option in SLIDERS:
            self._value_labels[option.name].setText(option.text(getattr(spec, option.name)))
        geometric = any((spec.rotation, spec.width_shift, spec.height_shift, spec.shear, spec.zoom))
        self._fill_combo.setEnabled(geometric)  # fill only matters when pixels move in from outside

    def _build_ui(self) -> None:
        controls = QGroupBox("Random changes to training images")
        grid = QGridLayout(controls)
        grid.setColumnStretch(1, 1)
        for row, option in enumerate(SLIDERS):
            slider, value = add_slider_row(grid, row, option.label, option.object_name, option.tooltip,
                                           "100% of images")
            slider.setRange(0, option.steps)
            slider.setPageStep(10 if option.per_unit == 1 else 5)
            self._sliders[option.name], self._value_labels[option.name] = slider, value
            self._slider_labels[option.name] = grid.itemAtPosition(row, 0).widget()
        row = len(SLIDERS)
        for offset, (name, text, object_name, tooltip) in enumerate(CHECKS):
            check = named(QCheckBox(text), object_name, text, tooltip)
            grid.addWidget(check, row + offset, 0, 1, 3)
            self._checks[name] = check
        row += len(CHECKS)
        self._fill_combo = named(QComboBox(), "augFillModeCombo", "Fill mode", FILL_HELP)
        self._fill_combo.addItems(list(FILL_MODES))
        fill_label = QLabel("Fill mode:")
        fill_label.setToolTip(FILL_HELP)
        fill_label.setBuddy(self._fill_combo)
        grid.addWidget(fill_label, row, 0)
        grid.addWidget(self._fill_combo, row, 1, 1, 2)
        self._reset_button = named(QPushButton("Reset (no augmentation)"), "augResetButton", "Reset augmentation",
                                   "Switch every augmentation off.")
        add_controls_footer(grid, row + 1, self._reset_button,
                            "Each epoch every training image gets new random changes within these limits, so "
                            "the model learns what does not change a class. Validation and test images, and "
                            "the saved model, are left as they are.", "augNoteLabel",
                            recipe_button=self._recipe_button)

        preview_box = QGroupBox("Preview on your data")
        self._status_label = message_label("augPreviewStatus", "Preview status")
        self._grid = named(ThumbnailStripWidget(columns=1 + PREVIEW_VERSIONS, thumb_size=64,
                                                placeholder="The preview appears here."),
                           "augPreviewGrid", "Augmentation preview")
        self._new_samples_button = named(QPushButton("New samples"), "augNewSamplesButton", "New preview samples",
                                         "Pick other random images (and other random changes) to preview.")
        header = preview_header(self._status_label, self._new_samples_button)
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addLayout(header)
        preview_layout.addWidget(self._grid, 1)

        layout = QHBoxLayout(self)
        layout.addWidget(controls, 0)
        layout.addWidget(preview_box, 1)


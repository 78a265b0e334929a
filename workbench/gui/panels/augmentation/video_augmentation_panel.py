"""VideoAugmentationPanel: every video augmentation option as a control, previewed on real clips.

The preview reads clips of the chosen dataset as training reads them and makes its versions with
``augment_clips`` — training's speed jitter and per-clip crop, mirror, brightness and contrast — on a
TaskRunner (see ``video_augmentation_jobs``; debounced and superseded as described in
``augmentation_preview_base``). Each clip is shown as a strip of frames spread over it: the original,
then the versions, so one change per clip (the same crop on every frame) and the speed can be seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QSignalBlocker, Qt, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSlider, QVBoxLayout, QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.templates import get_template
from workbench.core.video.augment import LIMITS
from workbench.gui.panels.augmentation.augmentation_preview_base import (
    AugmentationPreviewPanel, add_controls_footer, add_slider_row, preview_header,
)
from workbench.gui.panels.augmentation.video_augmentation_jobs import (
    PREVIEW_CLIPS, PREVIEW_VERSIONS, VideoAugmentationPreview, VideoSampleSource, frame_strip, render_video_preview,
    strip_indices,
)
from workbench.gui.panels.panel_widgets import message_label, named
from workbench.gui.state import AppState
from workbench.gui.widgets.thumbnail_strip_widget import array_to_qimage

STRIP_HEIGHT = 64  # pixels per frame in a strip


@dataclass(frozen=True)
class _SliderOption:
    name: str  # VideoAugmentationSpec field
    label: str
    per_unit: int  # slider steps per unit of the field
    tooltip: str
    unit: str = "±{:.2f}"

    def text(self, value: float) -> str:
        return self.unit.format(value) if value else "off"


SLIDERS = (
    _SliderOption("zoom", "Crop / zoom", 100,
                  "Cut up to this fraction of each side away at a random place and enlarge the rest back to the "
                  "frame size: the same crop on every frame of a clip.", "up to {:.0%}"),
    _SliderOption("speed", "Speed", 100,
                  "Read a stretch of the clip up to this much longer or shorter into the same frames, so the "
                  "motion looks faster or slower.", "±{:.0%}"),
    _SliderOption("brightness", "Brightness", 100,
                  "Make each clip brighter or darker by up to this fraction of the value range."),
    _SliderOption("contrast", "Contrast", 100, "Raise or lower each clip's contrast by up to this fraction."),
)
FLIP_HELP = ("Mirror half of the clips left to right (all their frames alike): most actions look the same "
             "mirrored. Leave off when left and right matter (signs, gestures that point).")


def _object_name(name: str) -> str:
    return "videoAug" + "".join(part.capitalize() for part in name.split("_")) + "Slider"


class VideoAugmentationPanel(AugmentationPreviewPanel):
    """Edits ``state.video_augmentation`` and previews it on clips of ``state.scan``."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, "videoAugPreviewThread", parent)
        self.setObjectName("videoAugmentationPanel")
        self.setAccessibleName("Video augmentation")
        self._sliders: dict[str, QSlider] = {}
        self._value_labels: dict[str, QLabel] = {}
        self._strips: list[list[QLabel]] = []
        self._clip_labels: list[QLabel] = []
        self._build_ui()

        for option in SLIDERS:
            self._sliders[option.name].valueChanged.connect(partial(self._on_slider_value_changed, option))
        self._flip.toggled.connect(self._on_flip_toggled)
        self._reset_button.clicked.connect(self._on_reset_clicked)
        self._new_samples_button.clicked.connect(self._on_new_samples_clicked)
        state.video_augmentation_changed.connect(self._on_spec_changed_elsewhere)
        state.hparams_changed.connect(self._on_samples_invalidated)  # frames, size, colour or window may change
        self._start()

    # ----------------------------------------------------------------------------------- public
    def slider(self, name: str) -> QSlider:
        return self._sliders[name]

    def value_label(self, name: str) -> QLabel:
        return self._value_labels[name]

    def flip_check(self) -> QCheckBox:
        return self._flip

    def strip_label(self, clip: int, version: int) -> QLabel:
        """The strip of clip ``clip``: its original (version 0) or augmented version ``version``."""
        return self._strips[clip][version]

    # ------------------------------------------------------------------------------------ slots
    def _on_slider_value_changed(self, option: _SliderOption, value: int) -> None:
        # A partial of this method is the receiver; the signal and this method live in the GUI thread.
        self._change(**{option.name: value / option.per_unit})

    @Slot(bool)
    def _on_flip_toggled(self, checked: bool) -> None:
        self._change(horizontal_flip=checked)

    # --------------------------------------------------------------------- AugmentationPreviewPanel
    def _state_spec(self):
        return self._state.video_augmentation

    def _publish(self, spec) -> None:
        self._state.set_video_augmentation(spec)

    def _sample_source(self) -> VideoSampleSource | str:
        """Where preview clips come from, or why there is nothing to preview."""
        report = self._state.scan
        if report is None:
            return "Choose a video dataset in the Data panel to preview augmentation on its clips."
        if not self.edits_spec_of(report.modality):
            return f"Video augmentation applies to video datasets; this dataset holds {report.modality} files."
        try:
            template = get_template(self._state.template_id)
            if not self.edits_spec_of(template.modality):
                return (f"The template '{self._state.template_id}' takes {template.modality} input; choose a "
                        "video template in the Model panel to preview its augmentation.")
            shape = tuple(int(d) for d in template.input_shape_for(self._state.hparams))
            preprocessing = template.preprocessing_for(self._state.hparams, shape)
        except WorkbenchError as exc:
            return str(exc)
        return VideoSampleSource(report, shape, dict(preprocessing), self._sample_seed)

    def _same_samples(self, cached: VideoSampleSource, source: VideoSampleSource) -> bool:
        return (cached.report is source.report and cached.seed == source.seed
                and cached.input_shape == source.input_shape and cached.preprocessing == source.preprocessing)

    def _render_job(self, spec, source, samples):
        return partial(render_video_preview, spec, source, samples)

    def _samples_of(self, preview: VideoAugmentationPreview):
        return preview.originals, preview.names

    def _display(self, preview: VideoAugmentationPreview) -> str:
        frames = preview.originals.shape[1]
        indices = strip_indices(frames)
        for row, strips in enumerate(self._strips):
            visible = row < len(preview.names)
            self._clip_labels[row].setVisible(visible)
            for label in strips:
                label.setVisible(visible)
                label.parentWidget().setVisible(visible)
            if not visible:
                continue
            self._clip_labels[row].setText(preview.names[row])
            clips = [preview.originals[row], *preview.augmented[row]]
            for label, clip in zip(strips, clips):
                pixmap = QPixmap.fromImage(array_to_qimage(frame_strip(clip, indices)))
                label.setPixmap(pixmap.scaledToHeight(STRIP_HEIGHT, Qt.TransformationMode.SmoothTransformation))
        shown = f"{len(indices)} of the {frames} frames the model reads, spread over the clip"
        if not preview.spec.enabled:
            return (f"Augmentation is off: training sees the clips as they are ({shown}). Move a slider to try it.")
        return (f"Each clip as training reads it, then {PREVIEW_VERSIONS} versions made by the training code "
                f"({shown}).")

    def _clear_preview(self) -> None:
        for row, strips in enumerate(self._strips):
            self._clip_labels[row].setText("")
            for label in strips:
                label.clear()

    def _show_spec(self, spec) -> None:
        """Set every control from ``spec`` without feeding the change back."""
        for option in SLIDERS:
            slider = self._sliders[option.name]
            with QSignalBlocker(slider):
                slider.setValue(round(getattr(spec, option.name) * option.per_unit))
            self._value_labels[option.name].setText(option.text(getattr(spec, option.name)))
        with QSignalBlocker(self._flip):
            self._flip.setChecked(spec.horizontal_flip)

    def _build_ui(self) -> None:
        controls = QGroupBox("Random changes to training clips")
        grid = QGridLayout(controls)
        grid.setColumnStretch(1, 1)
        for row, option in enumerate(SLIDERS):
            slider, value = add_slider_row(grid, row, option.label, _object_name(option.name), option.tooltip,
                                           "up to 100%")
            slider.setRange(0, round(LIMITS[option.name] * option.per_unit))
            slider.setPageStep(5)
            self._sliders[option.name], self._value_labels[option.name] = slider, value
        row = len(SLIDERS)
        self._flip = named(QCheckBox("Flip left–right"), "videoAugHorizontalFlipCheck", "Flip left–right",
                           FLIP_HELP)
        grid.addWidget(self._flip, row, 0, 1, 3)
        self._reset_button = named(QPushButton("Reset (no augmentation)"), "videoAugResetButton",
                                   "Reset video augmentation", "Switch every video augmentation off.")
        add_controls_footer(grid, row + 1, self._reset_button,
                            "Each epoch every training clip is read from a random window of its video and gets "
                            "one random change for all its frames, within these limits, so the model learns "
                            "what does not change an action. Validation clips, the camera and the saved model "
                            "see the videos as they are.", "videoAugNoteLabel",
                            recipe_button=self._recipe_button)

        preview_box = QGroupBox("Preview on your data")
        self._status_label = message_label("videoAugPreviewStatus", "Video augmentation preview status")
        self._new_samples_button = named(QPushButton("New samples"), "videoAugNewSamplesButton",
                                         "New preview clips", "Pick other random clips (and other random changes).")
        header = preview_header(self._status_label, self._new_samples_button)
        strips_grid = QGridLayout()
        strips_grid.setHorizontalSpacing(8)
        strips_grid.setVerticalSpacing(2)
        rows = 3 + PREVIEW_VERSIONS  # per clip: its name, its strips, a gap
        for clip in range(PREVIEW_CLIPS):
            name = named(QLabel(), f"videoAugClipLabel{clip}", f"Preview clip {clip + 1}")
            font = name.font()
            font.setBold(True)
            name.setFont(font)
            strips_grid.addWidget(name, clip * rows, 0, 1, 2)
            self._clip_labels.append(name)
            strips = []
            for version in range(1 + PREVIEW_VERSIONS):
                what = "original" if version == 0 else f"#{version}"
                caption = QLabel(what)
                caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                strip = named(QLabel(), f"videoAugStrip{clip}_{version}",
                              f"Frames of clip {clip + 1}, {'original' if version == 0 else f'version {version}'}")
                strip.setMinimumHeight(STRIP_HEIGHT)
                holder = QWidget()  # caption and strip shown and hidden together
                line = QHBoxLayout(holder)
                line.setContentsMargins(0, 0, 0, 0)
                line.addWidget(caption)
                line.addWidget(strip, 1)
                caption.setFixedWidth(caption.fontMetrics().horizontalAdvance("original") + 6)
                strips_grid.addWidget(holder, clip * rows + 1 + version, 0, 1, 2)
                strips.append(strip)
            strips_grid.setRowMinimumHeight(clip * rows + rows - 1, 10)
            self._strips.append(strips)
        strips_grid.setRowStretch(PREVIEW_CLIPS * rows, 1)
        content = QWidget()
        content.setLayout(strips_grid)
        scroll = QScrollArea()
        scroll.setObjectName("videoAugPreviewScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addLayout(header)
        preview_layout.addWidget(scroll, 1)

        layout = QHBoxLayout(self)
        layout.addWidget(controls, 0)
        layout.addWidget(preview_box, 1)

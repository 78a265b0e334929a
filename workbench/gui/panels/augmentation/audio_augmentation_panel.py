"""AudioAugmentationPanel: every sound augmentation option as a control, previewed on real clips.

The controls are built from ``AudioAugmentationSpec.options()`` (ranges, units, help), so a new
core option appears here without panel code. The preview picks real clips of the chosen dataset
and renders them on a TaskRunner with the training code path (see ``audio_augmentation_jobs``):
the model's spectrogram of each clip and of a few augmented versions, SpecAugment masks drawn,
each with a Play button to hear the waveform changes (debounced and superseded as described in
``augmentation_preview_base``).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Slot
from PySide6.QtWidgets import (
    QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget,
)

from workbench.core.audio.augment import AudioAugmentationSpec, AugmentationOption
from workbench.core.errors import WorkbenchError
from workbench.core.templates import get_template
from workbench.gui.panels.augmentation.audio_augmentation_jobs import (
    PREVIEW_CLIPS, PREVIEW_VERSIONS, AudioAugmentationPreview, AudioSampleSource, render_audio_preview,
)
from workbench.gui.panels.augmentation.augmentation_preview_base import (
    AugmentationPreviewPanel, add_controls_footer, add_slider_row, preview_header,
)
from workbench.gui.panels.panel_widgets import message_label, named, set_message
from workbench.gui.state import AppState
from workbench.gui.widgets.spectrogram_view_widget import SpectrogramViewWidget
from workbench.gui.workers.playback import playback_job
from workbench.gui.workers.task_runner import TaskRunner

#: Slider resolution per option (a whole number for counts); finer steps than these are not audible.
STEP = {"time_shift": 0.01, "speed": 0.01, "freq_warp": 0.01, "gain_db": 0.5, "eq": 0.05, "noise": 0.05,
        "noise_local": 0.05, "snr_min": 1.0, "snr_max": 1.0}
LABELS = {"time_shift": "Time shift", "speed": "Speed / pitch", "freq_warp": "Formant shift", "gain_db": "Gain",
          "eq": "Microphone colour", "noise": "Added noise",
          "noise_local": "Noise around the word only", "snr_min": "Noise SNR from", "snr_max": "Noise SNR to",
          "freq_mask": "Frequency masks", "time_mask": "Time masks", "mask_count": "Masks of each kind"}
#: Options whose zero means "off" (the SNR range and the mask count only shape other options).
SWITCHES = ("time_shift", "speed", "freq_warp", "gain_db", "eq", "noise", "freq_mask", "time_mask")


def _object_name(option: AugmentationOption) -> str:
    head, *rest = option.name.split("_")
    return "audioAug" + head.capitalize() + "".join(part.capitalize() for part in rest) + "Slider"


def value_text(option: AugmentationOption, value: float) -> str:
    """How an option's value reads next to its slider."""
    if option.name in SWITCHES and value == 0:
        return "off"
    if option.name == "time_shift":
        return f"±{value:.2f} × clip"
    if option.name in ("speed", "freq_warp"):
        return f"±{value:.0%}"
    if option.name == "gain_db":
        return f"±{value:g} dB"
    if option.name == "noise":
        return f"{value:.0%} of clips"
    if option.name == "noise_local":
        return f"{value:.0%} of noisy clips"
    if option.unit == "dB":
        return f"{value:g} dB"
    if option.kind == "int":
        return f"{int(value)} {option.unit}".strip()
    return f"{value:.2f}"


class AudioAugmentationPanel(AugmentationPreviewPanel):
    """Edits ``state.audio_augmentation`` and previews it on clips of ``state.scan``."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, "audioAugPreviewThread", parent)
        self.setObjectName("audioAugmentationPanel")
        self.setAccessibleName("Sound augmentation")
        self.player = TaskRunner("audioAugPlaybackThread", self)
        self._options = {option.name: option for option in AudioAugmentationSpec.options()}
        self._sliders: dict[str, QSlider] = {}
        self._value_labels: dict[str, QLabel] = {}
        self._cells: list[list[tuple[SpectrogramViewWidget, QPushButton]]] = []
        self._clip_labels: list[QLabel] = []
        self._build_ui()

        for name, slider in self._sliders.items():
            slider.valueChanged.connect(partial(self._on_slider_value_changed, name))
        self._reset_button.clicked.connect(self._on_reset_clicked)
        self._new_samples_button.clicked.connect(self._on_new_samples_clicked)
        self.player.failed.connect(self._on_playback_failed)
        state.audio_augmentation_changed.connect(self._on_spec_changed_elsewhere)
        state.hparams_changed.connect(self._on_samples_invalidated)  # the sample rate or clip length may change
        self._start()

    # ----------------------------------------------------------------------------------- public
    def slider(self, name: str) -> QSlider:
        return self._sliders[name]

    def value_label(self, name: str) -> QLabel:
        """The text next to option ``name``'s slider."""
        return self._value_labels[name]

    def play_button(self, clip: int, version: int) -> QPushButton:
        """The Play button under clip ``clip``'s original (version 0) or augmented version ``version``."""
        return self._cells[clip][version][1]

    def spectrogram_view(self, clip: int, version: int) -> SpectrogramViewWidget:
        return self._cells[clip][version][0]

    # ------------------------------------------------------------------------------------ slots
    def _on_slider_value_changed(self, name: str, step: int) -> None:
        option = self._options[name]
        value = int(step) if option.kind == "int" else round(step * STEP[name], 6)
        changes = {name: value}
        # The noise SNR is a range: moving one end past the other carries the other along.
        if name == "snr_min" and value > self._spec.snr_max:
            changes["snr_max"] = value
        if name == "snr_max" and value < self._spec.snr_min:
            changes["snr_min"] = value
        self._change(**changes)

    def _on_play_clicked(self, row: int, version: int, *_checked) -> None:
        preview = self._preview
        if preview is None or row >= len(preview.names):
            return
        samples = preview.originals[row] if version == 0 else preview.augmented[row, version - 1]
        self.player.cancel()  # a new Play stops the one still playing
        self.player.submit(playback_job(samples, preview.sample_rate))

    @Slot(str)
    def _on_playback_failed(self, message: str) -> None:
        set_message(self._status_label, f"Could not play the clip: {message}", "error")

    # --------------------------------------------------------------------- AugmentationPreviewPanel
    def _state_spec(self) -> AudioAugmentationSpec:
        return self._state.audio_augmentation

    def _publish(self, spec: AudioAugmentationSpec) -> None:
        self._state.set_audio_augmentation(spec)

    def _shutdown_more(self) -> None:
        self.player.shutdown()

    def _sample_source(self) -> AudioSampleSource | str:
        """Where preview clips come from, or why there is nothing to preview."""
        report = self._state.scan
        if report is None:
            return "Choose a sound dataset in the Data panel to preview augmentation on its clips."
        if not self.edits_spec_of(report.modality):
            return f"Sound augmentation applies to sound datasets; this dataset holds {report.modality} files."
        try:
            template = get_template(self._state.template_id)
            if not self.edits_spec_of(template.modality):
                return (f"The template '{self._state.template_id}' takes {template.modality} input; choose a "
                        "sound template in the Model panel to preview its augmentation.")
            preprocessing = template.preprocessing_for(self._state.hparams)
        except WorkbenchError as exc:
            return str(exc)
        return AudioSampleSource(report, dict(preprocessing), self._sample_seed)

    def _same_samples(self, cached: AudioSampleSource, source: AudioSampleSource) -> bool:
        return (cached.report is source.report and cached.seed == source.seed
                and cached.preprocessing == source.preprocessing)

    def _render_job(self, spec, source, samples):
        return partial(render_audio_preview, spec, source, samples)

    def _samples_of(self, preview: AudioAugmentationPreview) -> tuple[np.ndarray, list[str]]:
        return preview.originals, preview.names

    def _display(self, preview: AudioAugmentationPreview) -> str:
        config = preview.source.config
        per_second = config.frames / config.duration
        for row, cells in enumerate(self._cells):
            visible = row < len(preview.names)
            self._clip_labels[row].setVisible(visible)
            for view, button in cells:
                view.setVisible(visible)
                button.setVisible(visible)
            if not visible:
                continue
            self._clip_labels[row].setText(preview.names[row])
            original = preview.original_features[row]
            # One scale per row, from the original: a version that got quieter looks darker.
            levels = (float(np.percentile(original, 1)), float(original.max()))
            cells[0][0].set_spectrogram(original, per_second, levels)
            for version, (view, _button) in enumerate(cells[1:]):
                view.set_spectrogram(preview.augmented_features[row, version], per_second, levels)
        if not preview.spec.enabled:
            return "Augmentation is off: training hears the clips as they are. Move a slider to try it."
        masks = (" Formant shift and masks act on the spectrogram only: Play lets you hear the other changes."
                 if preview.spec.spectrogram_enabled else "")
        return (f"Each row: a random clip as training reads it, then {PREVIEW_VERSIONS} versions made by "
                f"the code training runs, as the model's log-mel spectrogram.{masks}")

    def _show_spec(self, spec: AudioAugmentationSpec) -> None:
        for name, slider in self._sliders.items():
            option, value = self._options[name], getattr(spec, name)
            with QSignalBlocker(slider):
                slider.setValue(int(value) if option.kind == "int" else round(value / STEP[name]))
            self._value_labels[name].setText(value_text(option, value))
        noise_on = spec.noise > 0
        masks_on = spec.masks_enabled
        for name, enabled in (("noise_local", noise_on), ("snr_min", noise_on), ("snr_max", noise_on),
                              ("mask_count", masks_on)):
            self._sliders[name].setEnabled(enabled)  # they only shape an option that is switched on

    def _clear_preview(self) -> None:
        for row, cells in enumerate(self._cells):
            self._clip_labels[row].setText("")
            for view, _button in cells:
                view.clear()

    def _build_ui(self) -> None:
        controls = QGroupBox("Random changes to training sounds")
        grid = QGridLayout(controls)
        grid.setColumnStretch(1, 1)
        for row, option in enumerate(AudioAugmentationSpec.options()):
            slider, value = add_slider_row(grid, row, LABELS.get(option.name, option.name), _object_name(option),
                                           option.help, "±0.50 × clip")
            if option.kind == "int":
                slider.setRange(int(option.minimum), int(option.maximum))
            else:
                step = STEP[option.name]
                slider.setRange(math.floor(option.minimum / step + 1e-9), math.floor(option.maximum / step + 1e-9))
            self._sliders[option.name], self._value_labels[option.name] = slider, value
        row = len(self._sliders)
        self._reset_button = named(QPushButton("Reset (no augmentation)"), "audioAugResetButton",
                                   "Reset sound augmentation", "Switch every sound augmentation off.")
        add_controls_footer(grid, row, self._reset_button,
                            "Each epoch every training clip gets new random changes within these limits: another "
                            "speed and pitch, formants, level, microphone colour and noise, and masked bands and "
                            "moments, so the model learns what does not change a class. Validation clips, the "
                            "microphone and the saved model hear the sounds as they are.", "audioAugNoteLabel",
                            recipe_button=self._recipe_button)

        preview_box = QGroupBox("Preview on your data")
        self._status_label = message_label("audioAugPreviewStatus", "Sound augmentation preview status")
        self._new_samples_button = named(QPushButton("New samples"), "audioAugNewSamplesButton",
                                         "New preview clips", "Pick other random clips (and other random changes).")
        header = preview_header(self._status_label, self._new_samples_button)
        cells_grid = QGridLayout()
        for column, title in enumerate(["original", *[f"#{i + 1}" for i in range(PREVIEW_VERSIONS)]]):
            heading = QLabel(title)
            heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cells_grid.addWidget(heading, 0, column)
        for row in range(PREVIEW_CLIPS):
            name = named(QLabel(), f"audioAugClipLabel{row}", f"Preview clip {row + 1}")
            cells_grid.addWidget(name, 1 + 3 * row, 0, 1, 1 + PREVIEW_VERSIONS)
            self._clip_labels.append(name)
            cells = []
            for column in range(1 + PREVIEW_VERSIONS):
                what = "original" if column == 0 else f"version {column}"
                view = SpectrogramViewWidget(f"audioAugSpectrogram{row}_{column}",
                                             f"Spectrogram of clip {row + 1}, {what}", compact=True)
                view.setMinimumSize(120, 90)
                button = named(QPushButton("▶ Play"), f"audioAugPlayButton{row}_{column}",
                               f"Play clip {row + 1}, {what}", "Play this waveform on the default output device")
                button.clicked.connect(partial(self._on_play_clicked, row, column))
                cells_grid.addWidget(view, 2 + 3 * row, column)
                cells_grid.addWidget(button, 3 + 3 * row, column)
                cells.append((view, button))
            self._cells.append(cells)
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addLayout(header)
        preview_layout.addLayout(cells_grid, 1)

        layout = QHBoxLayout(self)
        layout.addWidget(controls, 0)
        layout.addWidget(preview_box, 1)

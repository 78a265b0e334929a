"""AugmentationStack: the Augmentation tab shows the image or the sound options, whichever apply.

Which options a run uses follows the template (``AppState.augmentation_for_template``); before a
sound template is chosen, a sound dataset already brings up the sound options, so someone who has
just opened a folder of recordings is not shown image sliders.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QStackedWidget, QWidget

from workbench.gui.panels.audio_augmentation_panel import AudioAugmentationPanel
from workbench.gui.panels.augmentation_panel import AugmentationPanel
from workbench.gui.state import AppState


class AugmentationStack(QStackedWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("augmentationStack")
        self.setAccessibleName("Augmentation")
        self._state = state
        self.image_panel = AugmentationPanel(state)
        self.audio_panel = AudioAugmentationPanel(state)
        self.addWidget(self.image_panel)
        self.addWidget(self.audio_panel)
        state.template_changed.connect(self._follow_state)
        state.dataset_changed.connect(self._follow_state)
        self._follow_state()

    def modality(self) -> str:
        """"audio" when the sound options are shown, else "image"."""
        return "audio" if self.currentWidget() is self.audio_panel else "image"

    def shutdown(self) -> None:
        self.image_panel.shutdown()
        self.audio_panel.shutdown()

    @Slot()
    def _follow_state(self, *_args) -> None:
        template_modality = self._state.template_modality()
        scan = self._state.scan
        dataset_modality = scan.modality if scan is not None else None
        sound = template_modality == "audio" or (dataset_modality == "audio" and template_modality == "image")
        self.setCurrentWidget(self.audio_panel if sound else self.image_panel)

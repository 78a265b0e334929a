"""AugmentationStack: the Augmentation tab shows the options of the modality that applies.

One page per modality with an augmentation panel in
:data:`~workbench.gui.modality_widgets.MODALITY_WIDGETS` (images, sound, video). Which options a run uses
follows the template (``AppState.augmentation_for_template``); while the template is still one of
the default modality (images), a dataset of another modality already brings up its own options, so
someone who has just opened a folder of recordings is not shown image sliders.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QStackedWidget, QWidget

from workbench.core.modality import DEFAULT_MODALITY
from workbench.gui.modality_widgets import MODALITY_WIDGETS
from workbench.gui.panels.augmentation.augmentation_preview_base import AugmentationPreviewPanel
from workbench.gui.state import AppState


class AugmentationStack(QStackedWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("augmentationStack")
        self.setAccessibleName("Augmentation")
        self._state = state
        self._panels: dict[str, AugmentationPreviewPanel] = {
            name: widgets.augmentation_panel(state)
            for name, widgets in MODALITY_WIDGETS.items() if widgets.augmentation_panel is not None
        }
        for panel in self._panels.values():
            self.addWidget(panel)
        state.template_changed.connect(self._follow_state)
        state.dataset_changed.connect(self._follow_state)
        self._follow_state()

    def panel(self, modality: str) -> AugmentationPreviewPanel:
        """The page editing ``modality``'s options."""
        return self._panels[modality]

    def modality(self) -> str:
        """The modality whose options are shown."""
        return next(name for name, panel in self._panels.items() if panel is self.currentWidget())

    def shutdown(self) -> None:
        for panel in self._panels.values():
            panel.shutdown()

    @Slot()
    def _follow_state(self, *_args) -> None:
        shown = self._state.template_modality()
        scan = self._state.scan
        if shown == DEFAULT_MODALITY and scan is not None and scan.modality in self._panels:
            shown = scan.modality
        self.setCurrentWidget(self._panels.get(shown, self._panels[DEFAULT_MODALITY]))

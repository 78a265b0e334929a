"""LiveTestPanel: try a model live (the Test tab). A model picker on top, one tab per input: every
modality's live inputs (:func:`~workbench.gui.modality_widgets.live_inputs`: drawing, microphone,
camera) and the Files tab, which takes any modality's files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.resources import resource_path, shipped_models
from workbench.gui.modality_widgets import live_inputs
from workbench.gui.panels.live.files_test_widget import FilesTestWidget
from workbench.gui.panels.live.live_input_tab import LiveInputTab
from workbench.gui.state import AppState
from workbench.gui.widgets.panel_tabs import PanelTabs
from workbench.gui.workers.predictor_cache import PredictorCache


class LiveTestPanel(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("testPanel")
        self._state = state
        self.cache = PredictorCache()
        self._combo = QComboBox()
        self._combo.setObjectName("testModelCombo")
        self._combo.setAccessibleName("Model to test")
        self._combo.setMinimumContentsLength(40)
        self._combo.currentIndexChanged.connect(self._on_model_chosen)
        self._open = QPushButton("Open model…")
        self._open.setObjectName("testOpenModelButton")
        self._open.setAccessibleName("Open a saved model to test")
        self._open.clicked.connect(self._on_open_model_clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel("Model:"))
        top.addWidget(self._combo, 1)
        top.addWidget(self._open)
        # Each input scrolls within its own tab when the window is small (the Camera tab is the tallest),
        # so a short window does not scroll the whole panel, nor the Draw tab for the Camera tab's sake.
        self.tabs = PanelTabs()
        self.tabs.setObjectName("testTabs")
        self.tabs.setAccessibleName("Test inputs")
        self.files = FilesTestWidget(self.cache)
        first, *others = live_inputs()
        #: The live input tabs by their key in the modality mapping ("draw", "microphone", ...).
        self.inputs: dict[str, LiveInputTab] = {entry.key: entry.widget(self.cache) for entry in (first, *others)}
        # The first input (drawing: what a new user should try) opens first, then Files, then the rest.
        for title, tab in ((first.title, self.inputs[first.key]), ("Files", self.files),
                           *((entry.title, self.inputs[entry.key]) for entry in others)):
            self.add_input_tab(tab, title)
            if hasattr(tab, "model_adapted"):  # "Adapt to my examples" (Draw, Microphone): test the new model
                tab.model_adapted.connect(self._on_model_adapted)
        self.tabs.setCurrentIndex(0)
        self.tabs.currentChanged.connect(self._on_input_tab_changed)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs)
        for path in shipped_models():
            self._add_model(str(path), f"{path.stem} (shipped)")
        digits = self._combo.findData(str(resource_path("models", "digits.keras")))
        if digits >= 0:
            self._combo.setCurrentIndex(digits)
        state.model_changed.connect(self._on_state_model_changed)
        if state.model_path:
            self._on_state_model_changed(state.model_path)
        state.dataset_changed.connect(self._on_dataset_changed)
        self._on_dataset_changed(None)

    @property
    def draw(self) -> LiveInputTab:
        """The Draw tab (for scripts and tests)."""
        return self.inputs["draw"]

    @property
    def microphone(self) -> LiveInputTab:
        """The Microphone tab (for scripts and tests)."""
        return self.inputs["microphone"]

    def add_input_tab(self, widget: LiveInputTab, title: str) -> None:
        """Add an input tab; it receives ``set_model`` calls."""
        self.tabs.addTab(widget, title)
        if self.current_model():
            widget.set_model(self.current_model())

    def input_tabs(self) -> list[LiveInputTab]:
        return [self.tabs.widget(i) for i in range(self.tabs.count())]

    def current_model(self) -> str:
        return self._combo.currentData() or ""

    def select_model(self, path: str) -> None:
        """Test ``path`` (added to the model list if new)."""
        self._add_model(str(path))

    def rename_models(self, renamed: dict[str, str]) -> None:
        """Models that moved ({old path: new path}, a run moved next to its project) keep their place in
        the list under the new path; the model chosen is given to the tabs again if it moved."""
        current = self.current_model()
        for index in range(self._combo.count()):
            old = self._combo.itemData(index)
            if old in renamed:
                self._combo.setItemData(index, renamed[old])
        if current in renamed:
            self._on_model_chosen(self._combo.currentIndex())

    def shutdown(self) -> None:
        for tab in self.input_tabs():
            tab.shutdown()

    def _add_model(self, path: str, label: str | None = None) -> None:
        index = self._combo.findData(path)
        if index < 0:
            self._combo.addItem(label or f"{Path(path).parent.name}/{Path(path).name}", path)
            index = self._combo.count() - 1
        self._combo.setCurrentIndex(index)

    @Slot(str)
    def _on_state_model_changed(self, path: str) -> None:
        if path:
            self._add_model(path)

    @Slot(str)
    def _on_model_adapted(self, path: str) -> None:
        # The adapted model is added and chosen; the original stays in the list to go back to.
        self._add_model(path, f"{Path(path).stem} (adapted)")

    @Slot(object)
    def _on_dataset_changed(self, _scan: object) -> None:
        # Inputs that collect samples (the camera's "Add to dataset") save into the Data panel's dataset.
        for tab in self.inputs.values():
            if hasattr(tab, "set_dataset_folder"):
                tab.set_dataset_folder(self._state.dataset_path)

    @Slot(int)
    def _on_model_chosen(self, _index: int) -> None:
        path = self.current_model()
        for tab in self.input_tabs():
            tab.set_model(path)

    @Slot(int)
    def _on_input_tab_changed(self, index: int) -> None:
        # A tab that cannot use the chosen model may name a shipped one that fits (the Microphone tab
        # with the digit-drawing model picks spoken_digits), so "open the tab and speak" just works.
        tab: LiveInputTab | None = self.tabs.widget(index)
        if tab is not None and (path := tab.preferred_model(self.current_model())):
            self._add_model(path)

    @Slot()
    def _on_open_model_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", "Keras models (*.keras)")
        if path:
            self._add_model(path)

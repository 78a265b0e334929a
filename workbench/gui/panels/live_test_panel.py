"""TestPanel: try a model live. A model picker on top, one tab per input (files now; drawing,
microphone and camera tabs join as they land)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from workbench.core.resources import resource_path, shipped_models
from workbench.gui.panels.draw_test_widget import DrawTestWidget
from workbench.gui.panels.files_test_widget import FilesTestWidget
from workbench.gui.panels.microphone_test_widget import MicrophoneTestWidget
from workbench.gui.state import AppState
from workbench.gui.workers.predictor_cache import PredictorCache


class TestPanel(QWidget):
    __test__ = False  # not a pytest test class, despite the name

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
        self.tabs = QTabWidget()
        self.tabs.setObjectName("testTabs")
        self.files = FilesTestWidget(self.cache)
        self.tabs.addTab(self.files, "Files")
        self.draw = DrawTestWidget(self.cache)  # first and current: what a new user should try
        self.tabs.insertTab(0, self.draw, "Draw")
        self.tabs.setCurrentIndex(0)
        self.microphone = MicrophoneTestWidget(self.cache)
        self.add_input_tab(self.microphone, "Microphone")
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

    def add_input_tab(self, widget: QWidget, title: str) -> None:
        """Add an input tab (draw, microphone, camera); it receives ``set_model`` calls."""
        self.tabs.addTab(widget, title)
        if self.current_model():
            widget.set_model(self.current_model())

    def current_model(self) -> str:
        return self._combo.currentData() or ""

    def select_model(self, path: str) -> None:
        """Test ``path`` (added to the model list if new)."""
        self._add_model(str(path))

    def shutdown(self) -> None:
        for i in range(self.tabs.count()):
            widget = self.tabs.widget(i)
            if hasattr(widget, "shutdown"):
                widget.shutdown()

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

    @Slot(int)
    def _on_model_chosen(self, _index: int) -> None:
        path = self.current_model()
        for i in range(self.tabs.count()):
            widget = self.tabs.widget(i)
            if hasattr(widget, "set_model"):
                widget.set_model(path)

    @Slot(int)
    def _on_input_tab_changed(self, index: int) -> None:
        # A tab that cannot use the chosen model may name a shipped one that fits (the Microphone tab
        # with the digit-drawing model picks spoken_digits), so "open the tab and speak" just works.
        preferred = getattr(self.tabs.widget(index), "preferred_model", None)
        if preferred is not None and (path := preferred(self.current_model())):
            self._add_model(path)

    @Slot()
    def _on_open_model_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", "Keras models (*.keras)")
        if path:
            self._add_model(path)

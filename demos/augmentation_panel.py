"""Setup for running the Augmentation panel alone: scan DATA in the background, then hand it over.

Kept out of the panel module: in the app the Data panel does the scanning.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QCoreApplication, QObject, Slot
from PySide6.QtWidgets import QWidget

from workbench.core.image.augment import AugmentationSpec
from workbench.core.data.scan import scan_dataset
from workbench.gui.state import AppState
from workbench.gui.workers.task_runner import TaskRunner


class _DemoLoader(QObject):
    """Scans one path on its own TaskRunner and puts the report into the state."""

    def __init__(self, state: AppState, path: str, panel: QWidget) -> None:
        super().__init__(panel)
        self._state, self._path, self._panel = state, path, panel
        self._runner = TaskRunner("augDemoScanThread", self)
        self._runner.result_ready.connect(self._on_scan_ready)
        self._runner.failed.connect(self._on_scan_failed)
        QCoreApplication.instance().aboutToQuit.connect(self._runner.shutdown)
        self._runner.submit(partial(scan_dataset, path))

    @Slot(object)
    def _on_scan_ready(self, report) -> None:
        self._state.set_dataset(self._path, report)

    @Slot(str)
    def _on_scan_failed(self, message: str) -> None:
        print(f"could not scan {self._path}: {message}")
        self._panel.setProperty("demoFailed", True)


def build_demo(panel_class, args) -> QWidget:
    state = AppState()
    if args.augment:
        state.set_augmentation(AugmentationSpec.from_pairs(args.augment))
    panel = panel_class(state)
    if args.data:
        _DemoLoader(state, args.data, panel)
    else:
        panel.setProperty("demoFailed", True)  # nothing to wait for: grab the empty state
    return panel

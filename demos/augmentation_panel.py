"""The image Augmentation panel alone: ``python -m demos.augmentation_panel [DATA] [--augment KEY=VALUE]
[--screenshot PATH]`` scans DATA in the background (in the app the Data panel does that), then hands it
to the panel, whose preview shows its images."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QCoreApplication, QObject, Slot
from PySide6.QtWidgets import QWidget

from demos.runner import run_panel_demo
from workbench.core.data.scan import scan_dataset
from workbench.core.image.augment import AugmentationSpec
from workbench.gui.panels.augmentation.augmentation_panel import AugmentationPanel
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


if __name__ == "__main__":
    raise SystemExit(run_panel_demo(
        partial(build_demo, AugmentationPanel), title="Augmentation", size=(1180, 560),
        add_arguments=lambda parser: (
            parser.add_argument("data", nargs="?", help="a folder or .npz whose images to preview"),
            parser.add_argument("--augment", action="append", metavar="KEY=VALUE",
                                help="start with these options, e.g. --augment rotation=20"),
        ),
        ready=lambda panel, *_: panel.is_ready() or panel.property("demoFailed") is True,
    ))

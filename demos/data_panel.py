"""The Data panel alone: ``python -m demos.data_panel [DATA] [--screenshot PATH]`` scans DATA (a
folder or an .npz file) as the app would."""

from __future__ import annotations

from demos.runner import run_panel_demo
from workbench.gui.panels.data_panel import DataPanel
from workbench.gui.state import AppState


def demo_panel(args) -> DataPanel:
    panel = DataPanel(AppState())
    if args.data:
        panel.load_path(args.data)
    return panel


if __name__ == "__main__":
    raise SystemExit(run_panel_demo(
        demo_panel, title="Data", size=(980, 760),
        add_arguments=lambda parser: parser.add_argument("data", nargs="?", help="a folder or .npz to load"),
        ready=lambda panel, *_: not panel.scanning and (panel.report is None or panel.is_ready()),
    ))

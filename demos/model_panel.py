"""The Model panel alone: ``python -m demos.model_panel [--template ID] [--screenshot PATH]``."""

from __future__ import annotations

from demos.runner import run_panel_demo
from workbench.gui.panels.model_panel import ModelPanel
from workbench.gui.state import AppState


def demo_panel(args) -> ModelPanel:
    state = AppState()
    state.set_template(args.template)
    return ModelPanel(state)


if __name__ == "__main__":
    raise SystemExit(run_panel_demo(
        demo_panel, title="Model", size=(1200, 640),
        add_arguments=lambda p: p.add_argument("--template", default="mnist_cnn", help="template id to select"),
        ready=lambda panel, _args: panel.summary is not None,
    ))

"""The Model panel alone: ``python -m demos.model_panel [--template ID] [--hparam K=V ...] [--scroll-to-end]
[--screenshot PATH]``."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from demos.runner import run_panel_demo
from workbench.core.templates import get_template
from workbench.gui.panels.model_panel import ModelPanel
from workbench.gui.state import AppState


def demo_panel(args) -> ModelPanel:
    state = AppState()
    state.set_template(args.template)
    if args.hparam:
        spec = get_template(args.template)
        state.set_hparams({key: spec.hyperparameter(key).coerce(value)
                           for key, value in (pair.split("=", 1) for pair in args.hparam)})
    panel = ModelPanel(state)
    if args.scroll_to_end:  # a backbone's top blocks and the head, where the phases differ
        # After the table's columns are laid out (a horizontal scroll bar would hide the last row).
        panel.summary_shown.connect(lambda _summary: QTimer.singleShot(100, panel.layer_table.tree.scrollToBottom))
    return panel


def demo_arguments(parser) -> None:
    parser.add_argument("--template", default="mnist_cnn", help="template id to select")
    parser.add_argument("--hparam", action="append", metavar="KEY=VALUE", help="a hyperparameter to set")
    parser.add_argument("--scroll-to-end", action="store_true", help="show the last layers of the table")


if __name__ == "__main__":
    raise SystemExit(run_panel_demo(
        demo_panel, title="Model", size=(1360, 760),
        add_arguments=demo_arguments,
        ready=lambda panel, _args: panel.summary is not None,
    ))

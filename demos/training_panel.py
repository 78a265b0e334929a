"""The Training panel alone: ``python -m demos.training_panel [--real DATASET] [--template ID] [--epochs N]
[--hparam K=V ...] [--screenshot PATH]`` replays a synthetic run through the fake controller (no
TensorFlow), or trains for real."""

from __future__ import annotations

from demos.fake_training_controller import FakeTrainingController
from demos.runner import run_panel_demo
from workbench.core.templates import get_template
from workbench.gui.panels.training_panel import TrainingPanel
from workbench.gui.state import AppState


def demo_panel(args) -> TrainingPanel:
    state = AppState()
    state.set_template(args.template)
    if args.real:
        from workbench.core.data.scan import scan_dataset
        from workbench.gui.workers.training_controller import TrainingController

        state.set_dataset(args.real, scan_dataset(args.real))
        controller = TrainingController()
    else:
        state.dataset_path = "synthetic (fake controller)"  # the fake never reads it
        controller = FakeTrainingController()
    spec = get_template(args.template)
    extra = {key: spec.hyperparameter(key).coerce(value)
             for key, value in (pair.split("=", 1) for pair in args.hparam or [])}
    state.set_hparams({"epochs": args.epochs, **extra})
    panel = TrainingPanel(state, controller)
    controller.setParent(panel)
    if args.runs_root:
        panel.runs_root = args.runs_root
    panel.start()
    return panel


def demo_arguments(parser) -> None:
    parser.add_argument("--real", metavar="DATASET", help="train for real on this dataset (default: replay)")
    parser.add_argument("--template", default="simple_cnn")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--hparam", action="append", metavar="KEY=VALUE",
                        help="another hyperparameter, e.g. fine_tune_epochs=3 (transfer_squeezenet)")
    parser.add_argument("--runs-root", help="folder for real runs (default: the app data folder)")
    parser.add_argument("--shot-at-epoch", type=int, default=0,
                        help="take the screenshot after this many epochs (default: when the run ends)")


def demo_ready(panel: TrainingPanel, args) -> bool:
    epochs = panel.curves.point_counts()["epoch"]
    at_epoch = args.shot_at_epoch and epochs >= args.shot_at_epoch
    return bool(at_epoch or (not panel.controller.running and epochs > 0) or panel.error_text())


if __name__ == "__main__":
    raise SystemExit(run_panel_demo(demo_panel, title="Training", size=(1000, 760),
                                    add_arguments=demo_arguments, ready=demo_ready, timeout_s=300))

"""The video Augmentation panel alone: ``python -m demos.video_augmentation_panel [DATA] [--template ID]
[--augment KEY=VALUE] [--screenshot PATH]`` scans DATA (a folder of class folders of videos) in the
background (in the app the Data panel does that), then hands it to the panel, whose preview shows
frame strips of its clips, e.g. ``python -m demos.video_augmentation_panel ../shared/data/video/ucf101_actions
--augment zoom=0.2 --augment horizontal_flip=true --augment speed=0.3``."""

from __future__ import annotations

from demos.augmentation_panel import _DemoLoader
from demos.runner import run_panel_demo
from workbench.core.video.augment import VideoAugmentationSpec
from workbench.gui.panels.augmentation.video_augmentation_panel import VideoAugmentationPanel
from workbench.gui.state import AppState


def build_demo(args) -> VideoAugmentationPanel:
    state = AppState()
    state.set_template(args.template)
    if args.augment:
        state.set_video_augmentation(VideoAugmentationSpec.from_pairs(args.augment))
    panel = VideoAugmentationPanel(state)
    if args.data:
        _DemoLoader(state, args.data, panel)
    else:
        panel.setProperty("demoFailed", True)  # nothing to wait for: grab the empty state
    return panel


if __name__ == "__main__":
    raise SystemExit(run_panel_demo(
        build_demo, title="Video augmentation", size=(1280, 820),
        add_arguments=lambda parser: (
            parser.add_argument("data", nargs="?", help="a folder of class folders of videos to preview"),
            parser.add_argument("--template", default="video_cnn_gru", help="the video template (its clip shape)"),
            parser.add_argument("--augment", action="append", metavar="KEY=VALUE",
                                help="start with these options, e.g. --augment zoom=0.2"),
        ),
        ready=lambda panel, *_: panel.is_ready() or panel.property("demoFailed") is True,
    ))

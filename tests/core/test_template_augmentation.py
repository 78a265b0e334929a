"""A template's default augmentation (its measured recipe): applied when a run names none, off with
``--augment none``, recorded in the sidecar, brought into the GUI when the template is chosen."""

from __future__ import annotations

import argparse

import pytest

from workbench.cli import build_parser, train_config_from_args
from workbench.core.errors import WorkbenchError
from workbench.core.templates import get_template
from workbench.core.templates.base import TemplateSpec
from workbench.core.training.config import augmentation_for
from workbench.core.video.augment import VideoAugmentationSpec

RECIPE = VideoAugmentationSpec(zoom=0.4, horizontal_flip=True, brightness=0.4, contrast=0.5, speed=0.4)


def train_args(*extra: str) -> argparse.Namespace:
    return build_parser().parse_args(["train", "--template", "video_cnn_gru", "--data", "somewhere", *extra])


def test_the_stronger_video_template_carries_the_recipe_its_figures_were_measured_with():
    spec = get_template("video_cnn_gru")
    assert spec.augmentation_default() == RECIPE
    assert spec.to_dict()["default_augmentation"] == {"zoom": 0.4, "horizontal_flip": True, "brightness": 0.4,
                                                      "contrast": 0.5, "speed": 0.4}
    assert not get_template("video_cnn_lstm").default_augmentation  # the article's template: as published
    assert not get_template("video_cnn_lstm").augmentation_default().enabled


def test_a_run_that_names_no_augmentation_gets_the_template_s_and_one_that_names_some_gets_its_own():
    default = get_template("video_cnn_gru").augmentation_default()
    assert augmentation_for("video", None, default) == RECIPE
    assert augmentation_for("video", VideoAugmentationSpec(), default) == VideoAugmentationSpec()
    assert augmentation_for("video", VideoAugmentationSpec(speed=0.1), default) == VideoAugmentationSpec(speed=0.1)
    assert augmentation_for("video", None, None) == VideoAugmentationSpec()


@pytest.mark.parametrize("argv, expected", [
    ((), None),  # None: prepare() applies the template's recipe
    (("--augment", "none"), VideoAugmentationSpec()),
    (("--augment",), VideoAugmentationSpec()),
    (("--augment", "speed=0.2"), VideoAugmentationSpec(speed=0.2)),
])
def test_the_command_line_leaves_the_default_to_the_template_unless_told(argv, expected):
    assert train_config_from_args(train_args(*argv)).augmentation == expected


def test_a_misspelt_recipe_fails_when_the_template_is_made():
    spec = get_template("video_cnn_gru")
    with pytest.raises(WorkbenchError, match="zooom"):
        TemplateSpec(id="x", title="x", description="x", modality="video", input_shape=spec.input_shape,
                     builder=spec.builder, hyperparameters=spec.hyperparameters, default_augmentation={"zooom": 0.4})

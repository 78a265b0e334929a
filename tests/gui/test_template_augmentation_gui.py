"""The GUI brings a template's augmentation recipe when the template is chosen, keeps options someone
set, and offers the recipe again from the augmentation page."""

from __future__ import annotations

import pytest

from workbench.core.video.augment import VideoAugmentationSpec
from workbench.gui.panels.augmentation.video_augmentation_panel import VideoAugmentationPanel
from workbench.gui.state import AppState

pytestmark = pytest.mark.gui
RECIPE = VideoAugmentationSpec(zoom=0.4, horizontal_flip=True, brightness=0.4, contrast=0.5, speed=0.4)


def test_choosing_the_template_brings_its_recipe_and_the_training_config_uses_it(tmp_path):
    state = AppState()
    state.set_template("video_cnn_gru")
    assert state.video_augmentation == RECIPE
    state.dataset_path = str(tmp_path)
    assert state.train_config().augmentation == RECIPE


def test_options_someone_set_are_kept_and_a_template_without_a_recipe_changes_nothing():
    state = AppState()
    mine = VideoAugmentationSpec(speed=0.1)
    state.set_video_augmentation(mine)
    state.set_template("video_cnn_gru")
    assert state.video_augmentation == mine
    state = AppState()
    state.set_template("video_cnn_lstm")
    assert state.video_augmentation == VideoAugmentationSpec()


def test_the_recipe_button_restores_the_recipe_after_a_reset(qtbot, make_widget, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    state = AppState()
    state.set_template("video_cnn_gru")
    panel = make_widget(VideoAugmentationPanel, state)
    panel.show()
    button = panel.recipe_button()
    assert button.isVisible() and not button.isEnabled()  # the recipe is what is set
    panel.findChild(type(button), "videoAugResetButton").click()
    assert state.video_augmentation == VideoAugmentationSpec() and button.isEnabled()
    button.click()
    assert state.video_augmentation == RECIPE and panel.slider("zoom").value() == 40
    state.set_template("video_cnn_lstm")
    assert not button.isVisible()

"""VideoAugmentationPanel: controls ↔ state, and frame strips of real clips augmented by the training code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from tests.helpers import write_image_dataset, write_video_dataset
from workbench.core.data.scan import scan_dataset
from workbench.core.video.augment import VideoAugmentationSpec
from workbench.gui.panels.augmentation.augmentation_stack import AugmentationStack
from workbench.gui.panels.augmentation.video_augmentation_jobs import (
    PREVIEW_VERSIONS, STRIP_GAP, frame_strip, strip_indices,
)
from workbench.gui.panels.augmentation.video_augmentation_panel import VideoAugmentationPanel
from workbench.gui.state import AppState

pytestmark = pytest.mark.gui
TF_TIMEOUT_MS = 60_000  # a preview with frame changes imports TensorFlow
TEMPLATE = "video_cnn_lstm"
HPARAMS = {"frames": 6, "height": 24, "width": 24, "color_mode": "grayscale", "window_s": 1.0, "hop_s": 0.5}


@pytest.fixture(autouse=True)
def video_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def video_report(tmp_path_factory):
    root = write_video_dataset(tmp_path_factory.mktemp("clips"), {"a_hbar": 3, "b_vbar": 3}, size=32, frames=12)
    return scan_dataset(root)


@pytest.fixture
def state(video_report):
    state = AppState()
    state.set_template(TEMPLATE)
    state.set_hparams(HPARAMS)
    state.set_dataset(str(video_report.path), video_report)
    return state


@pytest.fixture
def panel(qtbot, make_widget, state):
    panel = make_widget(VideoAugmentationPanel, state, size=(1100, 800))
    with qtbot.waitSignal(panel.preview_updated, timeout=TF_TIMEOUT_MS):
        panel.show()
    return panel


def wait_ready(qtbot, panel):
    qtbot.waitUntil(panel.is_ready, timeout=TF_TIMEOUT_MS)
    return panel.preview


def test_with_augmentation_off_the_strips_are_the_clips_as_training_reads_them(panel):
    from workbench.core.modality import get_modality

    preview = panel.preview
    assert preview.originals.shape == (2, 6, 24, 24, 1)
    assert preview.augmented.shape == (2, PREVIEW_VERSIONS, 6, 24, 24, 1)
    np.testing.assert_array_equal(preview.augmented, np.repeat(preview.originals[:, None], PREVIEW_VERSIONS, 1))
    # Two classes, each clip read as training reads it (the modality's load_file: the middle window).
    assert {name.split(" · ")[0] for name in preview.names} == {"a_hbar", "b_vbar"}
    cls, name = preview.names[0].split(" · ")
    path = Path(preview.source.report.path) / cls / name
    np.testing.assert_array_equal(preview.originals[0], get_modality("video").load_file(
        path, (6, 24, 24, 1), preview.source.preprocessing))
    assert panel.findChild(QLabel, "videoAugClipLabel0").text() == preview.names[0]
    # Each strip shows the clip's 6 frames side by side, 64 pixels high.
    pixmap = panel.strip_label(1, PREVIEW_VERSIONS).pixmap()
    assert pixmap.height() == 64 and pixmap.width() == pytest.approx(64 * (6 * 24 + 5 * STRIP_GAP) / 24, abs=1)
    assert "off" in panel.status_text()


def test_sliders_and_the_flip_change_the_state_and_the_preview(qtbot, panel, state):
    panel.slider("brightness").setValue(40)
    assert state.video_augmentation.brightness == pytest.approx(0.4)
    assert panel.value_label("brightness").text() == "±0.40"
    panel.slider("zoom").setValue(25)
    assert state.video_augmentation.zoom == pytest.approx(0.25)
    assert panel.value_label("zoom").text() == "up to 25%"
    panel.flip_check().setChecked(True)
    assert state.video_augmentation == VideoAugmentationSpec(zoom=0.25, brightness=0.4, horizontal_flip=True)
    preview = wait_ready(qtbot, panel)
    assert preview.spec == state.video_augmentation
    originals = np.repeat(preview.originals[:, None], PREVIEW_VERSIONS, 1)
    assert preview.augmented.shape == originals.shape
    # One change per clip: every version differs from its clip, the same way on each of its frames
    # (its mean brightness shifts alike on all frames, give or take the crop).
    assert all(not np.allclose(preview.augmented[k, v], preview.originals[k])
               for k in range(2) for v in range(PREVIEW_VERSIONS))
    assert 0.0 <= preview.augmented.min() and preview.augmented.max() <= 255.0
    assert "versions made by the training code" in panel.status_text()


def test_speed_repicks_the_frames_of_a_clip(qtbot, panel, state):
    panel.slider("speed").setValue(50)
    assert state.video_augmentation.speed == pytest.approx(0.5)
    preview = wait_ready(qtbot, panel)
    # Speed alone re-picks whole frames of the clip: every frame of a version is one of the clip's frames.
    for k in range(2):
        for v in range(PREVIEW_VERSIONS):
            assert all(any(np.array_equal(frame, original) for original in preview.originals[k])
                       for frame in preview.augmented[k, v])
    assert not np.array_equal(preview.augmented, np.repeat(preview.originals[:, None], PREVIEW_VERSIONS, 1))


def test_a_spec_set_elsewhere_moves_the_controls_and_reset_clears_it(qtbot, panel, state):
    state.set_video_augmentation(VideoAugmentationSpec(contrast=0.3, speed=0.2))
    assert panel.slider("contrast").value() == 30 and panel.slider("speed").value() == 20
    assert panel.value_label("speed").text() == "±20%"
    wait_ready(qtbot, panel)
    panel.findChild(type(panel._reset_button), "videoAugResetButton").click()
    assert state.video_augmentation == VideoAugmentationSpec() and panel.slider("contrast").value() == 0


def test_an_image_dataset_gets_a_message_not_a_preview(qtbot, make_widget, tmp_path):
    state = AppState()
    state.set_template(TEMPLATE)
    report = scan_dataset(write_image_dataset(tmp_path / "images"))
    state.set_dataset(str(report.path), report)
    panel = make_widget(VideoAugmentationPanel, state)
    qtbot.waitUntil(lambda: "applies to video datasets" in panel.status_text(), timeout=5000)
    assert panel.preview is None


def test_the_stack_shows_the_video_page_for_a_video_dataset_and_training_uses_its_spec(make_widget, state):
    stack = make_widget(AugmentationStack, state)
    assert stack.modality() == "video" and stack.currentWidget() is stack.panel("video")
    state.set_video_augmentation(VideoAugmentationSpec(zoom=0.1))
    assert state.augmentation_for_template() == VideoAugmentationSpec(zoom=0.1)


def test_frame_strips_lay_frames_side_by_side():
    clip = np.stack([np.full((4, 5, 3), 10.0 * i) for i in range(10)])
    indices = strip_indices(10, 4)
    assert indices == [0, 3, 6, 9]
    strip = frame_strip(clip, indices, gap=2)
    assert strip.shape == (4, 4 * 5 + 3 * 2, 3) and strip.dtype == np.uint8
    assert strip[0, 0, 0] == 0 and strip[0, 7, 0] == 30 and strip[0, 5, 0] == 255  # frame 3 after a gap
    assert strip_indices(3, 8) == [0, 1, 2]

"""AugmentationPanel: controls ↔ state, and a live preview made by the training layers on real MNIST."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QPushButton, QSlider, QWidget

from tests.paths import MNIST_FOLDERS_SMALL, require_shared
from workbench.core.data.scan import scan_dataset
from workbench.core.image.augment import AugmentationSpec
from workbench.gui.panels.augmentation.augmentation_panel import AugmentationPanel
from workbench.gui.state import AppState
from workbench.gui.widgets.thumbnail_strip_widget import ThumbnailStripWidget

pytestmark = pytest.mark.gui
TF_TIMEOUT_MS = 60_000  # the first augmented preview imports TensorFlow


@pytest.fixture(scope="module")
def mnist_report():
    return scan_dataset(require_shared(MNIST_FOLDERS_SMALL))


@pytest.fixture
def state(mnist_report):
    state = AppState()
    state.set_dataset(str(MNIST_FOLDERS_SMALL), mnist_report)
    return state


@pytest.fixture
def panel(qtbot, make_widget, state):
    panel = make_widget(AugmentationPanel, state, size=(1100, 560))
    with qtbot.waitSignal(panel.preview_updated, timeout=TF_TIMEOUT_MS):
        panel.show()
    return panel


def child(panel, cls, name):
    widget = panel.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def wait_for_preview(qtbot, panel, check):
    """Wait until a preview made with a spec passing ``check`` is shown."""
    qtbot.waitUntil(lambda: panel.preview is not None and check(panel.preview.spec), timeout=TF_TIMEOUT_MS)
    return panel.preview


def test_first_preview_shows_real_samples_unchanged(panel):
    preview = panel.preview
    assert preview.originals.shape[1:] == (28, 28, 1)  # the mnist_cnn template's input
    assert preview.augmented.shape == (len(preview.originals), 8, 28, 28, 1)
    assert np.array_equal(preview.augmented, np.repeat(preview.originals[:, None], 8, axis=1))
    assert preview.originals.max() > 200  # real digits, not blank images
    grid = child(panel, ThumbnailStripWidget, "augPreviewGrid")
    assert grid.count() == len(preview.originals) * 9


def test_rotation_slider_updates_state_and_preview(qtbot, panel, state):
    before = panel.preview
    child(panel, QSlider, "augRotationSlider").setValue(90)
    assert state.augmentation.rotation == 90
    assert child(panel, QWidget, "augRotationValue").text() == "±90°"
    preview = wait_for_preview(qtbot, panel, lambda spec: spec.rotation == 90)
    assert np.array_equal(preview.originals, before.originals)  # same samples, new augmentation
    assert preview.augmented.shape[1] == 8
    diffs = np.abs(preview.augmented - preview.originals[:, None]).mean(axis=(2, 3, 4))
    assert (diffs > 1.0).all(), diffs  # every one of the 8 versions of every sample is changed
    assert child(panel, ThumbnailStripWidget, "augPreviewGrid").count() == len(preview.originals) * 9


def test_flip_checkbox_flips_some_versions(qtbot, panel, state):
    child(panel, QCheckBox, "augHorizontalFlipCheck").setChecked(True)
    assert state.augmentation.horizontal_flip is True
    preview = wait_for_preview(qtbot, panel, lambda spec: spec.horizontal_flip)
    flipped = 0
    for original, versions in zip(preview.originals, preview.augmented):
        for version in versions:
            is_flipped = np.allclose(version, original[:, ::-1], atol=1e-3)
            assert is_flipped or np.allclose(version, original, atol=1e-3)
            flipped += is_flipped
    assert 0 < flipped < preview.augmented.shape[0] * 8


def test_reset_restores_defaults(qtbot, panel, state):
    child(panel, QSlider, "augZoomSlider").setValue(20)
    child(panel, QCheckBox, "augVerticalFlipCheck").setChecked(True)
    child(panel, QComboBox, "augFillModeCombo").setCurrentText("reflect")
    assert state.augmentation == AugmentationSpec(zoom=0.2, vertical_flip=True, fill_mode="reflect")
    child(panel, QPushButton, "augResetButton").click()
    assert state.augmentation == AugmentationSpec()
    assert child(panel, QSlider, "augZoomSlider").value() == 0
    assert not child(panel, QCheckBox, "augVerticalFlipCheck").isChecked()
    assert child(panel, QComboBox, "augFillModeCombo").currentText() == "nearest"
    wait_for_preview(qtbot, panel, lambda spec: spec == AugmentationSpec())


def test_state_changes_update_controls_without_feedback(qtbot, panel, state):
    emitted = []
    state.augmentation_changed.connect(emitted.append)
    spec = AugmentationSpec(rotation=30, width_shift=0.25, vertical_flip=True, fill_mode="wrap")
    state.set_augmentation(spec)  # as when a project is loaded
    assert emitted == [spec] and state.augmentation is spec
    assert child(panel, QSlider, "augRotationSlider").value() == 30
    assert child(panel, QSlider, "augWidthShiftSlider").value() == 25
    assert child(panel, QCheckBox, "augVerticalFlipCheck").isChecked()
    assert child(panel, QComboBox, "augFillModeCombo").currentText() == "wrap"
    wait_for_preview(qtbot, panel, lambda s: s == spec)


def test_new_samples_picks_other_images(qtbot, panel):
    before = panel.preview.originals
    with qtbot.waitSignal(panel.preview_updated, timeout=TF_TIMEOUT_MS):
        child(panel, QPushButton, "augNewSamplesButton").click()
    assert not np.array_equal(panel.preview.originals, before)


def test_without_dataset_explains_what_to_do(qtbot, make_widget):
    panel = make_widget(AugmentationPanel, AppState())
    status = child(panel, QWidget, "augPreviewStatus")
    qtbot.waitUntil(lambda: "Choose a dataset" in status.text(), timeout=5_000)
    assert panel.preview is None


def test_every_spec_option_has_a_control(panel, state):
    from dataclasses import fields

    for spec_field in fields(AugmentationSpec):
        camel = "".join(part.capitalize() for part in spec_field.name.split("_"))
        kind = {"float": (QSlider, "Slider"), "bool": (QCheckBox, "Check"), "str": (QComboBox, "Combo")}
        cls, suffix = kind[spec_field.type]
        control = child(panel, cls, f"aug{camel}{suffix}")
        if cls is QSlider:  # moving it to its top sets that option and only that option
            control.setValue(control.maximum())
            assert getattr(state.augmentation, spec_field.name) > 0
            control.setValue(0)
    assert state.augmentation == AugmentationSpec()


def test_interactive_widgets_have_names(panel):
    names = ["augRotationSlider", "augWidthShiftSlider", "augHeightShiftSlider", "augShearSlider",
             "augZoomSlider", "augBrightnessSlider", "augContrastSlider", "augStrokeWidthSlider",
             "augHorizontalFlipCheck",
             "augVerticalFlipCheck", "augFillModeCombo", "augPreviewGrid", "augResetButton",
             "augNewSamplesButton"]
    for name in names:
        widget = panel.findChild(QWidget, name)
        assert widget is not None and widget.accessibleName(), name
        if isinstance(widget, QSlider):
            assert widget.toolTip(), name


def test_npz_dataset_is_previewed(qtbot, make_widget):
    from tests.paths import MNIST_NPZ

    state = AppState()
    state.set_dataset(str(MNIST_NPZ), scan_dataset(require_shared(MNIST_NPZ)))
    state.set_augmentation(AugmentationSpec(zoom=0.3))
    panel = make_widget(AugmentationPanel, state)
    preview = wait_for_preview(qtbot, panel, lambda spec: spec.zoom == 0.3)
    assert preview.originals.shape[1:] == (28, 28, 1) and preview.originals.max() > 200
    assert not np.array_equal(preview.augmented[:, 0], preview.originals)


def test_template_change_prepares_samples_to_its_input_shape(qtbot, panel, state):
    state.set_template("regularized_cnn")  # 150x150 RGB input
    qtbot.waitUntil(lambda: panel.preview.originals.shape[1:] == (150, 150, 3), timeout=TF_TIMEOUT_MS)
    preview = panel.preview
    assert preview.augmented.shape[2:] == (150, 150, 3)
    # Grey digits become three equal channels, as the training pipeline makes them.
    assert np.array_equal(preview.originals[..., 0], preview.originals[..., 2])


def test_stroke_width_is_offered_for_drawn_digits_only(panel, state):
    assert state.template_id == "mnist_cnn" and panel.option_offered("stroke_width")
    state.set_augmentation(AugmentationSpec(rotation=10.0, stroke_width=0.3))
    state.set_template("regularized_cnn")  # colour photos: thicker "strokes" mean nothing there
    assert not panel.option_offered("stroke_width") and panel.option_offered("rotation")
    assert state.augmentation.stroke_width == 0.0 and state.augmentation.rotation == 10.0
    state.set_template("canvas_digits_cnn")
    assert panel.option_offered("stroke_width")

"""AudioAugmentationPanel: controls ↔ state, and a preview of real clips made by the training code."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.audio_helpers import write_tone_dataset
from tests.helpers import write_image_dataset
from workbench.core.audio.augment import AudioAugmentationSpec
from workbench.core.data.scan import scan_dataset
from workbench.gui.panels.augmentation import audio_augmentation_panel as panel_module
from workbench.gui.panels.augmentation.audio_augmentation_jobs import PREVIEW_VERSIONS
from workbench.gui.panels.augmentation.audio_augmentation_panel import AudioAugmentationPanel
from workbench.gui.panels.augmentation.augmentation_stack import AugmentationStack
from workbench.gui.state import AppState

pytestmark = pytest.mark.gui
TF_TIMEOUT_MS = 60_000  # the first preview imports TensorFlow
TEMPLATE = "audio_cnn"


@pytest.fixture(scope="module")
def tone_report(tmp_path_factory):
    return scan_dataset(write_tone_dataset(tmp_path_factory.mktemp("tones"), per_class=4))


@pytest.fixture
def state(tone_report):
    state = AppState()
    state.set_template(TEMPLATE)
    state.set_dataset(str(tone_report.path), tone_report)
    return state


@pytest.fixture
def panel(qtbot, make_widget, state):
    panel = make_widget(AudioAugmentationPanel, state, size=(1100, 600))
    with qtbot.waitSignal(panel.preview_updated, timeout=TF_TIMEOUT_MS):
        panel.show()
    return panel


def wait_ready(qtbot, panel):
    qtbot.waitUntil(panel.is_ready, timeout=TF_TIMEOUT_MS)
    return panel.preview


def test_with_augmentation_off_the_versions_are_the_clips_as_training_reads_them(panel):
    preview = panel.preview
    k, samples = preview.originals.shape
    assert k == 2 and samples == preview.source.config.sample_rate * preview.source.config.duration
    assert preview.augmented.shape == (2, PREVIEW_VERSIONS, samples)
    np.testing.assert_allclose(preview.augmented, np.repeat(preview.originals[:, None], PREVIEW_VERSIONS, 1), atol=1e-6)
    assert preview.original_features.shape[0] == 2 and preview.augmented_features.shape[:2] == (2, PREVIEW_VERSIONS)
    # Two different classes are shown first, named by class and file.
    assert len({name.split(" · ")[0] for name in preview.names}) == 2
    assert panel.findChild(QLabel, "audioAugClipLabel0").text() == preview.names[0]
    assert panel.spectrogram_view(0, 0).image() is not None
    assert "off" in panel.status_text()


def test_a_slider_changes_the_state_and_the_preview(qtbot, panel, state):
    panel.slider("gain_db").setValue(24)  # steps of 0.5 dB
    assert state.audio_augmentation.gain_db == 12.0
    assert panel.findChild(QLabel, "audioAugGainDbValue").text() == "±12 dB"
    preview = wait_ready(qtbot, panel)
    assert preview.spec.gain_db == 12.0
    levels = np.abs(preview.augmented).max(axis=-1) / np.abs(preview.originals).max(axis=-1)[:, None]
    assert not np.allclose(levels, 1.0, atol=0.01)  # the versions got louder or quieter
    assert np.all((levels > 10 ** (-12.5 / 20)) & (levels < 10 ** (12.5 / 20)))


def test_frequency_masks_show_as_flat_bands_on_the_spectrograms(qtbot, panel, state):
    panel.slider("freq_mask").setValue(12)
    assert state.audio_augmentation.freq_mask == 12
    assert panel.slider("mask_count").isEnabled()
    preview = wait_ready(qtbot, panel)
    masked_bands = np.all(preview.augmented_features == 0.0, axis=2)  # (k, n, n_mels): zero in every frame
    assert masked_bands.any(axis=-1).all()
    assert not np.all(preview.original_features == 0.0, axis=1).any()
    # Masks act on the spectrogram, so the waveforms (what Play plays) are untouched.
    np.testing.assert_allclose(preview.augmented, np.repeat(preview.originals[:, None], PREVIEW_VERSIONS, 1), atol=1e-6)


def test_formant_shift_moves_the_spectrogram_but_not_the_sound(qtbot, panel, state):
    panel.slider("freq_warp").setValue(20)  # 0.01 per step
    assert state.audio_augmentation.freq_warp == pytest.approx(0.2)
    assert panel.value_label("freq_warp").text() == "±20%"
    assert not panel.slider("mask_count").isEnabled()  # no masks: their count shapes nothing
    preview = wait_ready(qtbot, panel)
    originals = np.repeat(preview.original_features[:, None], PREVIEW_VERSIONS, 1)
    assert not np.allclose(preview.augmented_features, originals, atol=1e-3)
    # The warp acts on the spectrogram, so the waveforms (what Play plays) are untouched.
    np.testing.assert_allclose(preview.augmented, np.repeat(preview.originals[:, None], PREVIEW_VERSIONS, 1), atol=1e-6)


def test_the_noise_snr_range_stays_a_range(panel, state):
    assert not panel.slider("snr_min").isEnabled()  # shapes the noise only, which is off
    panel.slider("noise").setValue(10)
    assert panel.slider("snr_min").isEnabled()
    panel.slider("snr_min").setValue(40)  # above snr_max's 30 dB: carries it along
    assert (state.audio_augmentation.snr_min, state.audio_augmentation.snr_max) == (40.0, 40.0)
    assert panel.slider("snr_max").value() == 40
    panel.slider("snr_max").setValue(5)
    assert (state.audio_augmentation.snr_min, state.audio_augmentation.snr_max) == (5.0, 5.0)


def test_play_plays_the_waveform_of_that_cell(qtbot, panel, monkeypatch):
    played = []

    def fake_job(samples, sample_rate):
        played.append((np.array(samples), sample_rate))
        return lambda progress, cancel: 0.0

    monkeypatch.setattr(panel_module, "playback_job", fake_job)
    panel.slider("speed").setValue(20)
    preview = wait_ready(qtbot, panel)
    qtbot.mouseClick(panel.play_button(1, 2), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.play_button(0, 0), Qt.MouseButton.LeftButton)
    assert [rate for _s, rate in played] == [preview.sample_rate] * 2
    np.testing.assert_array_equal(played[0][0], preview.augmented[1, 1])
    np.testing.assert_array_equal(played[1][0], preview.originals[0])


def test_reset_and_state_changes_round_trip(panel, state):
    state.set_audio_augmentation(AudioAugmentationSpec(time_shift=0.2, time_mask=8))
    assert panel.slider("time_shift").value() == 20 and panel.slider("time_mask").value() == 8
    panel.findChild(type(panel._reset_button), "audioAugResetButton").click()
    assert state.audio_augmentation == AudioAugmentationSpec()
    assert panel.slider("time_shift").value() == 0


def test_nothing_to_preview_says_why(qtbot, make_widget, tmp_path):
    state = AppState()
    panel = make_widget(AudioAugmentationPanel, state)
    qtbot.waitUntil(lambda: "Choose a sound dataset" in panel.status_text(), timeout=2000)
    images = tmp_path / "images"
    write_image_dataset(images)
    state.set_dataset(str(images), scan_dataset(images))
    qtbot.waitUntil(lambda: "this dataset holds image files" in panel.status_text(), timeout=2000)


def test_training_uses_the_options_of_the_templates_modality(state):
    state.set_audio_augmentation(AudioAugmentationSpec(speed=0.1))
    assert state.train_config().augmentation == AudioAugmentationSpec(speed=0.1)
    state.set_template("mnist_cnn")
    assert state.train_config().augmentation is state.augmentation


def test_the_augmentation_tab_shows_the_options_that_apply(make_widget, tone_report, tmp_path):
    state = AppState()
    stack = make_widget(AugmentationStack, state)
    assert stack.modality() == "image"
    state.set_dataset(str(tone_report.path), tone_report)  # sound files, image template still chosen
    assert stack.modality() == "audio"
    state.set_template(TEMPLATE)
    assert stack.modality() == "audio"
    images = tmp_path / "images"
    write_image_dataset(images)
    state.set_template("mnist_cnn")
    state.set_dataset(str(images), scan_dataset(images))
    assert stack.modality() == "image"

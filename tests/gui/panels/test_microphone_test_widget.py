"""MicrophoneTestWidget without sound hardware: a stand-in sounddevice module delivers a synthetic
stream (the real capture path is tests/hardware), and an import hook simulates missing PortAudio.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import soundfile
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from tests.fake_sounddevice import PortAudioMissingFinder, fake_sounddevice
from workbench.gui.panels.live.microphone_test_widget import MicrophoneTestWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui

RATE = 16000


def word(seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * 220 * t) * np.hanning(t.size)).astype(np.float32)


def tone(seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.float32)


@pytest.fixture
def fake_sd(monkeypatch):
    module = fake_sounddevice()
    monkeypatch.setitem(sys.modules, "sounddevice", module)
    return module


@pytest.fixture
def make_tab(qtbot, make_widget):
    """Build shown Microphone tabs; at teardown each is shut down and must have closed its microphone
    (the shared factory and thread check cover the rest)."""
    tabs = []

    def make(model: str = "") -> MicrophoneTestWidget:
        tab = make_widget(MicrophoneTestWidget, PredictorCache(), size=(1000, 650))
        tabs.append(tab)
        tab.set_model(model)
        tab.show()
        qtbot.waitExposed(tab)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()
        assert not tab.is_listening()


def image_model(tmp_path) -> str:
    """A sidecar that says "image model" (the .keras file is never loaded for an incompatible model)."""
    (tmp_path / "digits.keras").write_bytes(b"")
    (tmp_path / "digits.json").write_text(json.dumps({"format": "workbench-model/1", "modality": "image",
                                                      "input_shape": [28, 28, 1], "class_names": ["0", "1"]}))
    return str(tmp_path / "digits.keras")


def test_missing_portaudio_is_explained_and_the_widget_still_works(qtbot, make_tab, monkeypatch):
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [PortAudioMissingFinder(), *sys.meta_path])
    widget = make_tab()
    assert widget.problem() is not None
    assert "sudo apt-get install libportaudio2" in widget.message_text()
    assert "PortAudio library" in widget.message_text()
    assert not widget.is_listening() and not widget.controls.talk_button().isEnabled()
    widget.set_mode("push")  # the rest of the tab keeps working


def test_no_input_device_is_explained(qtbot, make_tab, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(no_inputs=True))
    widget = make_tab()
    assert "No input device found" in widget.message_text()


def test_an_image_model_is_refused_with_the_reason(qtbot, make_tab, fake_sd, tmp_path):
    widget = make_tab(image_model(tmp_path))
    assert "not sound" in widget.message_text() and "spoken_digits" in widget.message_text()
    assert widget.is_listening()  # the meter and recording still work without a sound model


def test_opens_the_default_device_and_feeds_the_meter_and_spectrogram(qtbot, make_tab, fake_sd):
    widget = make_tab()
    assert widget.is_listening() and widget.problem() is None
    assert widget.controls.device_labels() == ["USB mic · ALSA · 48 kHz", "default · ALSA (default) · 44.1 kHz"]
    stream = fake_sd.streams[-1]
    assert stream.samplerate == RATE
    stream.push(np.concatenate([silence(0.2), tone(0.3)]))
    qtbot.waitUntil(lambda: widget.live.columns_added() >= 45, timeout=3000)
    rms, peak = widget.controls.meter.levels()  # of the last 20 ms block
    assert rms == pytest.approx(20 * np.log10(0.3 / np.sqrt(2)), abs=0.5)
    assert peak == pytest.approx(20 * np.log10(0.3), abs=0.5)
    widget.hide()  # the microphone is closed while the tab is not shown
    assert not widget.is_listening() and stream.closed
    widget.show()
    assert widget.is_listening()


def test_the_noise_floor_and_threshold_are_shown_and_a_word_over_steady_noise_still_triggers(qtbot, make_tab,
                                                                                               fake_sd):
    widget = make_tab()
    widget.set_mode("auto")
    widget.controls.set_threshold(10)
    stream = fake_sd.streams[-1]
    hiss = np.random.default_rng(0).normal(0.0, 10 ** (-40 / 20), int(2.0 * RATE)).astype(np.float32)
    captured = []
    widget.controller().clip_captured.connect(captured.append)
    stream.push(hiss[:RATE])  # steady white noise at -40 dBFS: nothing to record
    qtbot.waitUntil(lambda: "threshold" in widget.controls.detector_levels_text(), timeout=3000)
    qtbot.wait(200)
    detector = widget.controller().detector
    band_floor = -40 + 10 * np.log10(37 / 80)  # the speech band's share of the noise
    assert band_floor - 2.5 <= detector.noise_floor_dbfs <= band_floor
    floor, threshold = round(detector.noise_floor_dbfs), round(detector.threshold_dbfs)
    assert threshold == floor + 10
    assert f"noise floor \u2212{-floor} dBFS" in widget.controls.detector_levels_text()
    assert captured == []
    speech = hiss[RATE:].copy()
    speech[:int(0.5 * RATE)] += word(0.5) * 0.1  # ~-36 dBFS: 12 dB over the noise at its loudest
    with qtbot.waitSignal(widget.controller().clip_captured, timeout=3000):
        stream.push(speech)
    assert len(captured) == 1
    widget.set_mode("push")  # no trigger level in push to talk
    stream.push(hiss[:RATE // 4])
    qtbot.waitUntil(lambda: "threshold" not in widget.controls.detector_levels_text(), timeout=3000)


def test_auto_trigger_cuts_the_word_and_add_to_dataset_saves_it(qtbot, make_tab, fake_sd, tmp_path):
    widget = make_tab()
    widget.set_mode("auto")
    with qtbot.waitSignal(widget.controller().clip_captured, timeout=3000) as captured:
        fake_sd.streams[-1].push(np.concatenate([silence(0.3), word(0.5), silence(0.5)]))
    clip = captured.args[0]
    assert clip["kind"] == "auto" and 0.5 <= clip["samples"].size / RATE <= 0.75
    samples, rate = widget.clip.clip()
    assert rate == RATE and samples.size == clip["samples"].size
    widget.clip.set_directory(tmp_path / "dataset")
    path = widget.clip.save_clip("yes")
    assert path.parent == tmp_path / "dataset" / "yes"
    data, saved_rate = soundfile.read(path, dtype="float32")
    assert saved_rate == RATE and data.size == samples.size
    assert "now 1 clips in yes" in widget.clip.saved_text()


def test_push_to_talk_records_while_the_button_is_held(qtbot, make_tab, fake_sd):
    widget = make_tab()
    widget.set_mode("push")
    button = widget.controls.talk_button()
    assert button.isVisible()
    stream = fake_sd.streams[-1]
    stream.push(silence(0.5))
    qtbot.wait(100)
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    stream.push(np.concatenate([silence(0.4), word(0.4), silence(0.4)]))
    with qtbot.waitSignal(widget.controller().clip_captured, timeout=3000) as captured:
        qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    clip = captured.args[0]
    assert clip["kind"] == "push"
    assert clip["samples"].size / RATE == pytest.approx(0.4 + 2 * 0.05, abs=0.05)  # trimmed, padded
    with qtbot.waitSignal(widget.controller().nothing_heard, timeout=3000):
        qtbot.mousePress(button, Qt.MouseButton.LeftButton)
        stream.push(silence(0.5))
        qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)


def test_continuous_mode_offers_windows_and_marks_silence(qtbot, make_tab, fake_sd):
    widget = make_tab()
    widget.set_mode("continuous")
    windows = []
    widget.controller().window_ready.connect(windows.append)
    stream = fake_sd.streams[-1]
    stream.push(silence(1.2))
    qtbot.waitUntil(lambda: len(windows) >= 1, timeout=3000)
    assert all(w["silent"] for w in windows)
    stream.push(word(0.5))
    qtbot.waitUntil(lambda: not windows[-1]["silent"], timeout=3000)
    assert windows[-1]["samples"].size == RATE


def test_opening_the_tab_with_an_image_model_switches_to_the_shipped_sound_model(make_widget, fake_sd, tmp_path,
                                                                                 monkeypatch):
    from workbench.gui.panels.live import microphone_test_widget
    from workbench.gui.panels.live_test_panel import LiveTestPanel
    from workbench.gui.state import AppState

    sound = tmp_path / "sound"
    sound.mkdir()
    (sound / "spoken_digits.keras").write_bytes(b"")
    (sound / "spoken_digits.json").write_text(json.dumps({
        "format": "workbench-model/1", "modality": "audio", "input_shape": [16000], "class_names": ["0", "1"]}))
    monkeypatch.setattr(microphone_test_widget, "SHIPPED_MODEL", sound / "spoken_digits.keras")
    panel = make_widget(LiveTestPanel, AppState())
    panel.show()
    panel._state.set_model(image_model(tmp_path))
    assert panel.current_model() == str(tmp_path / "digits.keras")
    panel.tabs.setCurrentWidget(panel.microphone)
    assert panel.current_model() == str(sound / "spoken_digits.keras")
    assert "not sound" not in panel.microphone.message_text()
    panel.tabs.setCurrentWidget(panel.files)
    combo = panel.findChild(QComboBox, "testModelCombo")
    combo.setCurrentIndex(combo.findData(str(tmp_path / "digits.keras")))  # chosen by hand: kept
    assert panel.current_model() == str(tmp_path / "digits.keras")
    assert "not sound" in panel.microphone.message_text()

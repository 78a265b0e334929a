"""Playing a clip: a missing output device or PortAudio gives a message that says what to do, not
PortAudio's "Error querying device -1"; a clip plays to its end or until cancelled."""

from __future__ import annotations

import types

import numpy as np
import pytest

from workbench.core.sources import speaker
from workbench.core.sources.microphone import MicrophoneUnavailable
from workbench.core.sources.speaker import SoundOutputUnavailable, play_samples


class PortAudioError(Exception):
    pass


def fake_sounddevice(default_output: int, devices: dict[int, dict]):
    played = []

    class Stream:
        active = False

    def query_devices(index):
        if index not in devices:
            raise PortAudioError(f"Error querying device {index}")
        return devices[index]

    module = types.SimpleNamespace(
        default=types.SimpleNamespace(device=[None, default_output]),
        _lib=types.SimpleNamespace(Pa_GetDefaultOutputDevice=lambda: default_output),
        query_devices=query_devices,
        play=lambda samples, rate, device=None: played.append((samples, rate, device)),
        get_stream=lambda: Stream(),
        stop=lambda: None,
        PortAudioError=PortAudioError,
    )
    return module, played


def test_no_output_device_says_what_to_do(monkeypatch):
    module, played = fake_sounddevice(-1, {})
    monkeypatch.setattr(speaker, "import_sounddevice", lambda: module)
    with pytest.raises(SoundOutputUnavailable) as error:
        play_samples(np.zeros(800), 8000)
    message = str(error.value)
    assert message.startswith("No sound output device") and "speakers or headphones" in message
    assert "pactl list short sinks" in message and not played


def test_an_input_only_device_is_not_an_output(monkeypatch):
    module, played = fake_sounddevice(2, {2: {"name": "USB mic", "max_output_channels": 0}})
    monkeypatch.setattr(speaker, "import_sounddevice", lambda: module)
    with pytest.raises(SoundOutputUnavailable, match="USB mic"):
        play_samples(np.zeros(800), 8000)
    assert not played


def test_missing_portaudio_is_said_for_playback_not_the_microphone(monkeypatch):
    def missing():
        raise MicrophoneUnavailable("Microphone unavailable: the PortAudio library was not found. Install it.")

    monkeypatch.setattr(speaker, "import_sounddevice", missing)
    with pytest.raises(SoundOutputUnavailable) as error:
        play_samples(np.zeros(800), 8000)
    assert str(error.value).startswith("No sound output: the PortAudio library was not found")


def test_a_clip_plays_on_the_default_output_clipped_to_full_scale(monkeypatch):
    module, played = fake_sounddevice(3, {3: {"name": "Speakers", "max_output_channels": 2}})
    monkeypatch.setattr(speaker, "import_sounddevice", lambda: module)
    seconds = play_samples(np.array([0.5, 2.0, -3.0, 0.0]), 8000)
    assert seconds == pytest.approx(4 / 8000)
    samples, rate, device = played[0]
    assert rate == 8000 and device == 3
    np.testing.assert_array_equal(samples, np.array([0.5, 1.0, -1.0, 0.0], np.float32))


def test_an_empty_clip_is_refused_with_what_was_expected(monkeypatch):
    module, played = fake_sounddevice(3, {3: {"name": "Speakers", "max_output_channels": 2}})
    monkeypatch.setattr(speaker, "import_sounddevice", lambda: module)
    with pytest.raises(SoundOutputUnavailable, match="Expected a clip with samples"):
        play_samples(np.zeros(0), 8000)

"""MicrophoneSource over a stand-in ``sounddevice`` module, and the missing-PortAudio message.

The real capture path (PortAudio → PulseAudio) is tested in tests/hardware; here a fake module with
the same calls lets the device choice, the rate choice and the ring buffer be checked exactly.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from tests.fake_sounddevice import PortAudioMissingFinder, fake_sounddevice
from tests.paths import REPO_ROOT
from workbench.core.sources.microphone import (MicrophoneSource, MicrophoneUnavailable, choose_sample_rate,
                                               import_sounddevice, list_input_devices)


@pytest.fixture
def fake_sd(monkeypatch):
    module = fake_sounddevice()
    monkeypatch.setitem(sys.modules, "sounddevice", module)
    return module


def test_lists_only_input_devices_and_marks_the_default(fake_sd):
    devices = list_input_devices(refresh=True)
    assert [(d.index, d.name, d.channels, d.is_default) for d in devices] == [(1, "USB mic", 2, False),
                                                                              (2, "default", 32, True)]
    assert fake_sd.reinitialised == 2  # terminate + initialise: devices plugged in later are seen
    assert devices[1].label == "default · ALSA (default)"


def test_prefers_16_khz_and_falls_back_to_the_device_rate(monkeypatch, fake_sd):
    device = list_input_devices()[1]
    assert choose_sample_rate(device) == 16000
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(no_16k=True))
    assert choose_sample_rate(device) == 44100


def test_the_callback_copies_channel_zero_into_the_ring_buffer(fake_sd):
    source = MicrophoneSource(buffer_seconds=2.0)
    assert source.device.name == "default" and source.sample_rate == 16000
    assert source.block_size == 320  # 20 ms
    source.start()
    stream = fake_sd.streams[-1]
    assert source.running and stream.samplerate == 16000
    signal = (0.5 * np.sin(np.arange(4000) / 10.0)).astype(np.float32)
    stream.push(signal)
    np.testing.assert_array_equal(source.drain(), signal)
    assert source.drain().size == 0
    np.testing.assert_array_equal(source.read_latest(0.05), signal[-800:])
    rms, peak = source.level()  # of the last block (4000 % 320 = 160 samples)
    last = signal[-160:].astype(np.float64)
    assert rms == pytest.approx(20 * np.log10(np.sqrt(np.mean(last ** 2))), abs=1e-4)
    assert peak == pytest.approx(20 * np.log10(np.abs(last).max()), abs=1e-4)
    source.close()
    assert stream.closed and not source.running


def test_a_device_that_does_not_exist_or_cannot_record_is_refused(fake_sd):
    with pytest.raises(MicrophoneUnavailable, match=r"Received: device 0"):
        MicrophoneSource(0)  # HDMI out has no input channels


def test_no_input_device_says_what_to_check(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(no_inputs=True))
    with pytest.raises(MicrophoneUnavailable) as caught:
        MicrophoneSource()
    assert "No input device found" in str(caught.value) and "pactl list short sources" in str(caught.value)


@pytest.fixture
def portaudio_missing(monkeypatch):
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [PortAudioMissingFinder(), *sys.meta_path])


def test_missing_portaudio_says_what_is_missing_and_how_to_install_it(portaudio_missing):
    with pytest.raises(MicrophoneUnavailable) as caught:
        import_sounddevice()
    message = str(caught.value)
    assert "PortAudio library" in message and "was not found" in message
    assert "sudo apt-get install libportaudio2" in message  # Debian/Ubuntu
    assert "macOS and Windows" in message and "pip install --force-reinstall sounddevice" in message
    assert message.endswith("Received: OSError: PortAudio library not found")
    with pytest.raises(MicrophoneUnavailable, match="libportaudio2"):
        MicrophoneSource()
    with pytest.raises(MicrophoneUnavailable, match="libportaudio2"):
        list_input_devices()


def test_missing_sounddevice_package_says_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    with pytest.raises(MicrophoneUnavailable, match=r"python -m pip install sounddevice"):
        import_sounddevice()


def test_importing_the_sources_does_not_load_portaudio():
    code = ("import sys, workbench.core.sources.microphone, workbench.core.sources.utterance; "
            "sys.exit('sounddevice' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT).returncode == 0


def test_ring_buffer_survives_a_concurrent_writer(fake_sd):
    source = MicrophoneSource(buffer_seconds=1.0)
    source.start()
    stream = fake_sd.streams[-1]
    data = np.arange(160_000, dtype=np.float32) / 160_000

    writer = threading.Thread(target=stream.push, args=(data,))
    writer.start()
    chunks = []
    while writer.is_alive():
        chunks.append(source.drain())
    writer.join()
    chunks.append(source.drain())
    received = np.concatenate(chunks)
    # The reader may fall more than the buffer behind and lose old samples, never reorder them.
    assert received.size <= data.size and np.all(np.diff(received) > 0)
    assert received[-1] == data[-1]
    source.close()

"""A stand-in for the ``sounddevice`` module, and an import hook that fails like missing PortAudio.

``fake_sounddevice()`` has the calls :mod:`workbench.core.sources.microphone` makes; its input
streams deliver whatever a test pushes, in PortAudio's shape ((frames, channels) blocks in one
reused buffer). Put it in ``sys.modules["sounddevice"]`` with monkeypatch.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import types

import numpy as np


class FakeStream:
    def __init__(self, module, device, samplerate, channels, dtype, blocksize, callback):
        self.module, self.samplerate, self.blocksize, self.callback = module, samplerate, blocksize, callback
        self.active = False
        self.latency = 0.01
        self.closed = False
        module.streams.append(self)

    def start(self):
        self.active = True

    def push(self, samples: np.ndarray) -> None:
        """Deliver ``samples`` the way PortAudio does: (frames, channels) blocks in one reused buffer."""
        buffer = np.zeros((self.blocksize, 2), np.float32)
        for i in range(0, samples.size, self.blocksize):
            block = samples[i:i + self.blocksize]
            buffer[:block.size, 0] = block
            buffer[:block.size, 1] = 9.0  # a second channel the source must ignore
            self.callback(buffer[:block.size], block.size, None, None)
            buffer[:] = np.nan  # reused: nothing may keep a reference to it

    def stop(self):
        self.active = False

    def close(self):
        self.closed = True


def fake_sounddevice(no_16k: bool = False, no_inputs: bool = False) -> types.ModuleType:
    module = types.ModuleType("sounddevice")
    module.streams = []
    devices = [
        {"index": 0, "name": "HDMI out", "hostapi": 0, "max_input_channels": 0, "default_samplerate": 48000.0},
        {"index": 1, "name": "USB mic", "hostapi": 0, "max_input_channels": 2, "default_samplerate": 48000.0},
        {"index": 2, "name": "default", "hostapi": 0, "max_input_channels": 32, "default_samplerate": 44100.0},
    ]
    if no_inputs:
        devices = devices[:1]
    module.query_devices = lambda: devices
    module.query_hostapis = lambda: [{"name": "ALSA"}]
    module.default = types.SimpleNamespace(device=[-1, -1])
    module._lib = types.SimpleNamespace(Pa_GetDefaultInputDevice=lambda: 2 if not no_inputs else -1)
    module.reinitialised = 0

    def check_input_settings(device, channels, samplerate, dtype):
        if no_16k and samplerate == 16000:
            raise ValueError("Invalid sample rate")

    def reinit():
        module.reinitialised += 1

    module.check_input_settings = check_input_settings
    module._terminate = module._initialize = reinit
    module.InputStream = lambda **kw: FakeStream(module, **kw)
    return module


class PortAudioMissingFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes ``import sounddevice`` fail the way it does without libportaudio2."""

    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise OSError("PortAudio library not found")

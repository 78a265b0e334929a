"""Play a clip on the default output device through PortAudio (``sounddevice``), with errors that
say what is missing instead of PortAudio's "Error querying device -1".

The caller's thread blocks until the clip ends, ``cancel.cancelled`` turns true, or the clip's
length plus a margin has passed; the GUI runs it on a worker thread.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.core.sources.microphone import MicrophoneUnavailable, import_sounddevice

NO_OUTPUT_HELP = (
    "Connect speakers or headphones (or enable an output in the system's sound settings). "
    "On Linux, check that PulseAudio or PipeWire is running ('pactl info') and lists a sink "
    "('pactl list short sinks'); inside a container, the sound server's socket must be shared with it."
)


class SoundOutputUnavailable(WorkbenchError):
    """No clip can be played: PortAudio or sounddevice is missing, or no output device exists."""


def _sounddevice() -> Any:
    try:
        return import_sounddevice()
    except MicrophoneUnavailable as exc:  # the same missing library, said for playback
        raise SoundOutputUnavailable(str(exc).replace("Microphone unavailable", "No sound output", 1)) from None


def default_output_device() -> int:
    """The index of the default output device, or SoundOutputUnavailable saying why there is none."""
    sd = _sounddevice()
    try:
        index = sd.default.device[1]
        if index is None or index < 0:
            index = sd._lib.Pa_GetDefaultOutputDevice()
        if index is None or index < 0:
            raise ValueError("PortAudio has no default output device")
        info = sd.query_devices(index)
        if int(info["max_output_channels"]) < 1:
            raise ValueError(f"device {index} ({info['name']}) cannot play sound")
    except SoundOutputUnavailable:
        raise
    except Exception as exc:  # PortAudioError, ValueError: one message for the user either way
        raise SoundOutputUnavailable(
            f"No sound output device: PortAudio found no speakers or headphones to play the clip on. "
            f"{NO_OUTPUT_HELP} Received: {exc}") from None
    return int(index)


def play_samples(samples: np.ndarray, sample_rate: int, cancel: Any = None) -> float:
    """Play ``samples`` (mono float, clipped to -1..1) and return the seconds of audio played."""
    samples = np.clip(np.asarray(samples, np.float32).reshape(-1), -1.0, 1.0)
    if samples.size == 0:
        raise SoundOutputUnavailable("Expected a clip with samples to play. Received: an empty clip")
    sd = _sounddevice()
    device = default_output_device()
    try:
        sd.play(samples, int(sample_rate), device=device)
    except Exception as exc:
        raise SoundOutputUnavailable(
            f"Could not open the sound output at {int(sample_rate)} Hz: {exc}. {NO_OUTPUT_HELP}") from None
    try:
        stream = sd.get_stream()
        deadline = time.monotonic() + samples.size / sample_rate + 2.0
        while stream.active and not (cancel is not None and cancel.cancelled) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sd.stop()
    return samples.size / sample_rate

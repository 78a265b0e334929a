"""MicrophoneSource: a PortAudio input stream (``sounddevice``) feeding a ring buffer.

The PortAudio callback only copies the block into an :class:`AudioRingBuffer`; everything else
(levels, spectrograms, utterance detection, resampling, the model) happens in the reader, which
calls :meth:`MicrophoneSource.drain` from a timer.

The stream opens at 16 kHz when the device accepts it (the rate of the audio templates), else at the
device's default rate; models resample whatever they receive, so either works.

``sounddevice`` loads the PortAudio shared library when it is imported and raises ``OSError``
("PortAudio library not found") when it is missing. That import happens here lazily, and failures
become :class:`MicrophoneUnavailable` with a message that says what is missing and how to install it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from workbench.core.errors import WorkbenchError
from workbench.core.sources.ring_buffer import AudioRingBuffer

PREFERRED_SAMPLE_RATE = 16000
DEFAULT_BLOCK_MS = 20
DEFAULT_BUFFER_SECONDS = 30.0
SILENCE_DBFS = -120.0  # what level() reports for digital silence instead of -inf

INSTALL_PORTAUDIO = (
    "Install PortAudio and restart the app. "
    "Debian/Ubuntu: sudo apt-get install libportaudio2 · Fedora: sudo dnf install portaudio · "
    "Arch: sudo pacman -S portaudio · macOS and Windows: the sounddevice wheel bundles PortAudio, so "
    "reinstall it in the app's environment (python -m pip install --force-reinstall sounddevice); "
    "on macOS 'brew install portaudio' also works."
)
NO_INPUT_HELP = (
    "Connect a microphone (or enable one in the system's sound settings) and press Refresh. "
    "On Linux, check that PulseAudio or PipeWire is running ('pactl info') and lists a source "
    "('pactl list short sources'); inside a container, the sound server's socket must be shared with it."
)


class MicrophoneUnavailable(WorkbenchError):
    """No microphone can be opened: PortAudio or sounddevice is missing, or no input device exists."""


@dataclass(frozen=True)
class InputDevice:
    """An input device as PortAudio lists it."""

    index: int
    name: str
    default_sample_rate: float
    channels: int
    host_api: str = ""
    is_default: bool = False

    @property
    def label(self) -> str:
        suffix = " (default)" if self.is_default else ""
        api = f" · {self.host_api}" if self.host_api else ""
        return f"{self.name}{api}{suffix}"


def import_sounddevice() -> ModuleType:
    """``import sounddevice``, or :class:`MicrophoneUnavailable` saying what is missing."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice is installed, the PortAudio library is not
        raise MicrophoneUnavailable(
            "Microphone unavailable: the PortAudio library (libportaudio.so.2 / libportaudio.dylib / "
            f"portaudio.dll) was not found, so sounddevice cannot open audio devices. {INSTALL_PORTAUDIO} "
            f"Received: OSError: {exc}") from None
    except ImportError as exc:
        raise MicrophoneUnavailable(
            "Microphone unavailable: the Python package 'sounddevice' is not installed in this "
            f"environment ({sys.executable}). Install it with: python -m pip install sounddevice "
            f"(it also needs PortAudio: {INSTALL_PORTAUDIO}) Received: ImportError: {exc}") from None
    return sounddevice


def list_input_devices(refresh: bool = False) -> list[InputDevice]:
    """The devices that can record, default first marked.

    Args:
        refresh: re-initialise PortAudio first, so devices (or a sound server) that appeared since
            the first import are seen. Only call it with no stream open.
    """
    sd = import_sounddevice()
    if refresh:
        sd._terminate()  # PortAudio enumerates devices once, at initialisation
        sd._initialize()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in = sd.default.device[0]
        if default_in is None or default_in < 0:
            default_in = sd._lib.Pa_GetDefaultInputDevice()
    except Exception as exc:
        raise MicrophoneUnavailable(f"Could not list audio devices: {exc}. {NO_INPUT_HELP}") from None
    found = []
    for info in devices:
        if int(info["max_input_channels"]) < 1:
            continue
        api = apis[info["hostapi"]]["name"] if 0 <= info["hostapi"] < len(apis) else ""
        found.append(InputDevice(int(info["index"]), str(info["name"]), float(info["default_samplerate"]),
                                 int(info["max_input_channels"]), api, int(info["index"]) == int(default_in)))
    return found


def default_input_device(devices: list[InputDevice]) -> InputDevice:
    """The system default input among ``devices``, else the first; MicrophoneUnavailable when empty."""
    if not devices:
        raise MicrophoneUnavailable(f"No input device found: PortAudio lists no device that can record. "
                                    f"{NO_INPUT_HELP} Received: no input devices")
    return next((d for d in devices if d.is_default), devices[0])


def choose_sample_rate(device: InputDevice, preferred: int = PREFERRED_SAMPLE_RATE) -> int:
    """``preferred`` when the device accepts it for one channel, else the device's default rate."""
    sd = import_sounddevice()
    try:
        sd.check_input_settings(device=device.index, channels=1, samplerate=preferred, dtype="float32")
        return int(preferred)
    except Exception:
        return int(round(device.default_sample_rate))


def dbfs(samples: np.ndarray) -> tuple[float, float]:
    """(RMS, peak) of ``samples`` in dB relative to full scale; :data:`SILENCE_DBFS` for silence."""
    if samples.size == 0:
        return SILENCE_DBFS, SILENCE_DBFS
    x = samples.astype(np.float64, copy=False)
    rms = float(np.sqrt(np.mean(x * x)))
    peak = float(np.max(np.abs(x)))
    floor = 10.0 ** (SILENCE_DBFS / 20.0)
    return 20.0 * np.log10(max(rms, floor)), 20.0 * np.log10(max(peak, floor))


class MicrophoneSource:
    """One input device opened as a mono float32 stream into a ring buffer.

    Args:
        device: a device index, an :class:`InputDevice`, or None for the system default input.
        sample_rate: the stream's rate; None picks 16 kHz when supported, else the device default.
        block_ms: PortAudio block length (the callback period and the level meter's window).
        buffer_seconds: ring buffer length: how long the reader may be late before samples are lost.

    Raises:
        MicrophoneUnavailable: PortAudio is missing, or there is no such input device.
    """

    def __init__(self, device: int | InputDevice | None = None, sample_rate: int | None = None, *,
                 block_ms: float = DEFAULT_BLOCK_MS, buffer_seconds: float = DEFAULT_BUFFER_SECONDS) -> None:
        self._sd = import_sounddevice()
        devices = list_input_devices()
        if isinstance(device, InputDevice):
            device = device.index
        if device is None:
            self.device = default_input_device(devices)
        else:
            matches = [d for d in devices if d.index == int(device)]
            if not matches:
                raise MicrophoneUnavailable(
                    f"Expected one of the input devices {[d.index for d in devices]}. {NO_INPUT_HELP} "
                    f"Received: device {device}")
            self.device = matches[0]
        self.sample_rate = int(sample_rate) if sample_rate else choose_sample_rate(self.device)
        self.block_size = max(16, int(round(self.sample_rate * block_ms / 1000.0)))
        self._ring = AudioRingBuffer(int(self.sample_rate * buffer_seconds))
        self._stream = None
        self.overflows = 0  # blocks PortAudio flagged as input overflow (samples lost upstream)

    # ---------------------------------------------------------------------------------- control
    @property
    def running(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def start(self) -> None:
        """Open the stream (if needed) and start recording into the ring buffer."""
        if self._stream is None:
            try:
                self._stream = self._sd.InputStream(
                    device=self.device.index, samplerate=self.sample_rate, channels=1, dtype="float32",
                    blocksize=self.block_size, callback=self._callback)
            except Exception as exc:
                raise MicrophoneUnavailable(
                    f"Could not open '{self.device.name}' at {self.sample_rate} Hz: {exc}. {NO_INPUT_HELP} "
                    f"Received: {type(exc).__name__}") from None
        if not self._stream.active:
            self._stream.start()

    def stop(self) -> None:
        """Stop and close the stream; the ring buffer keeps what was recorded."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()

    close = stop

    def __enter__(self) -> MicrophoneSource:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------- reading
    @property
    def total_samples(self) -> int:
        """Samples captured so far: the stream's sample clock."""
        return self._ring.total_written

    @property
    def latency_s(self) -> float:
        """PortAudio's input latency estimate for the open stream (0 when closed)."""
        return float(self._stream.latency) if self._stream is not None else 0.0

    def read_latest(self, seconds: float) -> np.ndarray:
        """The newest ``seconds`` of audio (a copy; shorter right after starting)."""
        return self._ring.read_latest(int(round(seconds * self.sample_rate)))

    def drain(self) -> np.ndarray:
        """Every sample captured since the previous drain (at most the buffer's length)."""
        return self._ring.drain()

    def level(self) -> tuple[float, float]:
        """(RMS, peak) dBFS of the last block PortAudio delivered."""
        return dbfs(self._ring.last_block())

    # ------------------------------------------------------------------------ real-time callback
    def _callback(self, indata, frames, time_info, status) -> None:
        # PortAudio's thread: copy and return. No allocation, no logging, no maths.
        self._ring.write(indata[:, 0])
        if status:
            self.overflows += 1

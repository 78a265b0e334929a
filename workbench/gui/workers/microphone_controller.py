"""MicrophoneController: the GUI-thread side of the microphone (open, drain, detect, record).

PortAudio's callback only copies blocks into the source's ring buffer (its own thread, owned by
PortAudio and ended by :meth:`close`). A 25 Hz ``QTimer`` in the GUI thread drains whatever
arrived and does the cheap work on it: new spectrogram columns, the level, the utterance detector,
the push-to-talk recording and the continuous mode's sliding window. What comes out are plain numpy
arrays and dicts in signals; the model runs elsewhere (an :class:`AudioPredictWorker`).

Times: each utterance carries ``fired_at``, the ``perf_counter`` moment its last needed sample
was captured (the tick's time minus the audio that arrived after it), so "end of utterance →
label" includes the polling delay, not only the model.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from workbench.core.sources.display_spectrogram import StreamingSpectrogram
from workbench.core.sources.microphone import MicrophoneSource, MicrophoneUnavailable
from workbench.core.sources.utterance import DetectorConfig, SlidingWindow, UtteranceDetector, trim_silence

TICK_MS = 40
MODES = ("push", "auto", "continuous")
PUSH_PRE_ROLL_S = 0.15
WINDOW_S = 1.0
HOP_S = 0.25
METER_S = 0.02  #: the meter's speech-band level is of the newest 20 ms (a PortAudio block)


class MicrophoneController(QObject):
    """Owns the :class:`MicrophoneSource` and the drain timer.

    Signals:
        ticked(dict): each tick with audio: ``columns`` (frames, n_mels), ``rms``/``peak`` dBFS,
            ``speech`` (the level in the detector's speech band), and the detector's ``floor`` and
            ``threshold`` dBFS, measured in that band.
        clip_captured(dict): an utterance (auto) or a released push-to-talk recording: ``samples``,
            ``sample_rate``, ``kind`` ("auto"/"push"), ``fired_at`` and ``speech_end_at`` (perf_counter s).
        window_ready(dict): continuous mode's newest window: ``samples``, ``sample_rate``, ``silent``,
            ``fired_at``.
        nothing_heard(): a push-to-talk recording held only silence.
        failed(str): the stream stopped or could not open.
    """

    ticked = Signal(object)
    clip_captured = Signal(object)
    window_ready = Signal(object)
    nothing_heard = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source: MicrophoneSource | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_tick)
        self._mode = "auto"
        self._config = DetectorConfig()
        self._detector: UtteranceDetector | None = None
        self._spectrogram: StreamingSpectrogram | None = None
        self._window: SlidingWindow | None = None
        self._recording: list[np.ndarray] | None = None
        self._fed = 0
        self._muted_until = 0.0

    # ------------------------------------------------------------------------------------ public
    @property
    def source(self) -> MicrophoneSource | None:
        return self._source

    @property
    def listening(self) -> bool:
        return self._source is not None and self._source.running

    @property
    def recording(self) -> bool:
        return self._recording is not None

    @property
    def sample_rate(self) -> int:
        return self._source.sample_rate if self._source is not None else 0

    @property
    def columns_per_second(self) -> float:
        return self._spectrogram.columns_per_second if self._spectrogram is not None else 100.0

    @property
    def detector(self) -> UtteranceDetector | None:
        return self._detector

    def open(self, device: int | None = None) -> MicrophoneSource:
        """Open ``device`` (None: the default input) and start listening.

        Raises:
            MicrophoneUnavailable: no PortAudio, no such device, or it cannot be opened.
        """
        self.close()
        source = MicrophoneSource(device)
        source.start()
        self._source = source
        rate = source.sample_rate
        self._detector = UtteranceDetector(rate, self._config)
        self._spectrogram = StreamingSpectrogram(rate)
        self._window = SlidingWindow(rate, WINDOW_S, HOP_S)
        self._fed = 0
        self._timer.start()
        return source

    def close(self) -> None:
        """Stop the timer and close the stream (ends PortAudio's callback thread)."""
        self._timer.stop()
        self._recording = None
        source, self._source = self._source, None
        if source is not None:
            source.close()

    shutdown = close

    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"Expected a mode in {MODES}. Received: {mode!r}")
        self._mode = mode
        if self._window is not None:
            self._window.reset()
        if self._detector is not None and self._detector.active:
            self._detector.reset()

    def set_threshold_db(self, value: float) -> None:
        """How far above the noise floor speech must be (auto trigger and continuous gating)."""
        self._config = replace(self._config, threshold_db=float(value))
        if self._detector is not None:
            self._detector.set_threshold_db(value)

    def mute_for(self, seconds: float) -> None:
        """Ignore triggers for ``seconds`` (our own playback reaching the microphone)."""
        self._muted_until = time.perf_counter() + seconds
        if self._detector is not None:
            self._detector.reset()

    @Slot()
    def start_recording(self) -> None:
        """Push-to-talk pressed: record from now, plus a short pre-roll."""
        if self._source is None:
            return
        self._on_tick()  # consume what arrived before the press, so the pre-roll does not repeat it
        self._recording = [self._source.read_latest(PUSH_PRE_ROLL_S)]

    @Slot()
    def stop_recording(self) -> None:
        """Push-to-talk released: trim the recording and emit it (or ``nothing_heard``)."""
        if self._recording is None or self._source is None:
            self._recording = None
            return
        self._on_tick()
        parts, self._recording = self._recording, None
        released = time.perf_counter()
        rate = self._source.sample_rate
        clip = trim_silence(np.concatenate(parts), rate, min_level_dbfs=self._config.min_level_dbfs)
        if clip.size < int(self._config.min_length_s * rate):
            self.nothing_heard.emit()
            return
        self.clip_captured.emit({"samples": clip, "sample_rate": rate, "kind": "push",
                                 "fired_at": released, "speech_end_at": released})

    # ----------------------------------------------------------------------------------- private
    @Slot()
    def _on_tick(self) -> None:
        source = self._source
        if source is None:
            return
        if not source.running:
            self.close()
            self.failed.emit("The microphone stream stopped (device unplugged or taken by another program?). "
                             "Press Refresh to open it again.")
            return
        samples = source.drain()
        now = time.perf_counter()
        if samples.size == 0:
            return
        self._fed += samples.size
        rate = source.sample_rate
        columns = self._spectrogram.feed(samples)
        rms, peak = source.level()
        utterances = self._detector.feed(samples)
        if self._recording is not None:
            self._recording.append(samples)
        muted = now < self._muted_until
        if self._mode == "auto" and not muted:
            for utterance in utterances:
                self.clip_captured.emit({
                    "samples": utterance.samples, "sample_rate": rate, "kind": "auto",
                    "fired_at": now - (self._fed - utterance.fired_at) / rate,
                    "speech_end_at": now - (self._fed - utterance.speech_end) / rate,
                    "truncated": utterance.truncated})
        if self._mode == "continuous":
            window = self._window.feed(samples)
            if window is not None:
                levels = self._detector.frame_levels(window)  # in the band the threshold is measured in
                silent = muted or levels.size == 0 or float(levels.max()) < self._detector.threshold_dbfs
                self.window_ready.emit({"samples": window, "sample_rate": rate, "silent": silent,
                                        "kind": "window", "fired_at": now})
        levels = self._detector.frame_levels(samples[-int(rate * METER_S):])  # like rms: the newest audio
        speech = float(10.0 * np.log10(np.mean(10.0 ** (levels / 10.0)))) if levels.size else rms
        self.ticked.emit({"columns": columns, "rms": rms, "peak": peak, "speech": speech,
                          "floor": self._detector.noise_floor_dbfs, "threshold": self._detector.threshold_dbfs})


__all__ = ["MicrophoneController", "MicrophoneUnavailable", "MODES"]

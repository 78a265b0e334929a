"""MicrophoneTestWidget: speak into the microphone and see the class (the Test panel's Microphone tab).

Threads: PortAudio's callback copies blocks into a ring buffer; a 25 Hz timer in the GUI thread
(:class:`MicrophoneController`) drains it, scrolls the spectrogram, moves the level meter and runs
the utterance detector; clips go to an :class:`AudioPredictWorker` behind a latest-wins
:class:`LivePredictController`; playback has its own thread. No model call ever runs in the GUI
thread, and :meth:`shutdown` ends every thread and closes the stream.

Modes: push-to-talk (record while the button is held), auto trigger (the energy detector cuts each
utterance; the slider sets how far above the noise floor speech must be) and continuous (the newest
1 s window every 250 ms, averaged over the last three answers, skipped while silent).

The microphone is open only while the tab is shown. Without PortAudio or an input device the tab
says what is missing and how to install it. The latency shown runs from the end of the word (its
last loud frame) to the label on screen, the detector's hangover included
(:meth:`speech_latencies_ms`); :meth:`latencies_ms` has the part after the detector fired.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.modality import DEFAULT_MODALITY, get_modality
from workbench.core.resources import resource_path
from workbench.core.sources.microphone import MicrophoneUnavailable, default_input_device, list_input_devices
from workbench.core.sources.utterance import ProbabilitySmoother
from workbench.gui import settings_keys
from workbench.gui.panels.live.microphone_clip_widget import MicrophoneClipWidget
from workbench.gui.panels.live.microphone_controls_widget import HINTS, MicrophoneControlsWidget
from workbench.gui.widgets.probability_bars_widget import DEFAULT_THRESHOLD, ProbabilityBarsWidget
from workbench.gui.widgets.spectrogram_view_widget import SpectrogramViewWidget
from workbench.gui.workers.audio_predict_worker import AudioPredictWorker
from workbench.gui.workers.live_predict_controller import LivePredictController
from workbench.gui.workers.microphone_controller import MicrophoneController
from workbench.gui.workers.predictor_cache import PredictorCache

LATENCY_HISTORY = 200
SMOOTHING = 3
SHIPPED_MODEL = resource_path("models", "spoken_digits.keras")
NO_SOUND_MODEL = "Choose a sound model above (e.g. spoken_digits (shipped)) to adapt it to your voice."


def reads_recordings(modality: str) -> bool:
    """Whether models of ``modality`` take recorded sound: its registry object prepares recordings,
    the capability :meth:`Predictor.prepare_waveform` needs."""
    try:
        return hasattr(get_modality(modality), "prepare_recording")
    except WorkbenchError:
        return False


def incompatibility(sidecar: dict) -> str | None:
    """Why a model cannot classify sound, or None when it can (an audio model)."""
    modality = sidecar.get("modality") or DEFAULT_MODALITY
    if reads_recordings(modality):
        return None
    shape = "×".join(str(v) for v in sidecar.get("input_shape", ())) or "other"
    return (f"This model takes {shape} {modality} input, not sound. Choose an audio model above "
            "(e.g. spoken_digits (shipped)) to classify what the microphone hears; the level meter, "
            "recording and “Add to dataset…” work with any model.")


class MicrophoneTestWidget(QWidget):
    """The Microphone tab: device, level, live spectrogram, capture modes, clip and class probabilities.

    Signals:
        prediction_shown(dict): a label was displayed: ``kind``, ``label``, ``probabilities``,
            ``latency_ms`` (None for continuous windows), ``speech_latency_ms`` (clips only), ``model_ms``.
        model_adapted(str): "Adapt to my examples" wrote this new model (the panel selects it).
    """

    prediction_shown = Signal(object)
    model_adapted = Signal(str)

    def __init__(self, cache: PredictorCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("microphoneTestWidget")
        self._model_path = self._requested_path = ""
        self._compatible = False
        self._class_names: list[str] = []
        self._problem: str | None = None
        self._model_note = ""
        self._opened_once = False
        self._last_result: dict | None = None
        self._latencies: deque[float] = deque(maxlen=LATENCY_HISTORY)
        self._speech_latencies: deque[float] = deque(maxlen=LATENCY_HISTORY)
        self._smoother = ProbabilitySmoother(SMOOTHING)

        self._mic = MicrophoneController(self)
        self._mic.ticked.connect(self._on_ticked)
        self._mic.clip_captured.connect(self._on_clip_captured)
        self._mic.window_ready.connect(self._on_window_ready)
        self._mic.nothing_heard.connect(self._on_nothing_heard)
        self._mic.failed.connect(self._on_microphone_failed)
        self._predict = LivePredictController(cache, "micPredictThread", self, worker=AudioPredictWorker(cache))
        self._predict.model_loaded.connect(self._on_model_loaded)
        self._predict.model_failed.connect(self._on_model_failed)
        self._predict.prediction_ready.connect(self._on_prediction_ready)
        self._predict.prediction_failed.connect(self._on_prediction_failed)

        self._message = QLabel("", self)
        self._message.setObjectName("micMessage")
        self._message.setAccessibleName("Microphone tab message")
        self._message.setWordWrap(True)
        self._message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.controls = MicrophoneControlsWidget(self)
        self.controls.device_chosen.connect(self._on_device_chosen)
        self.controls.refresh_requested.connect(self._on_refresh_requested)
        self.controls.mode_changed.connect(self._on_mode_changed)
        self.controls.threshold_changed.connect(self._on_threshold_changed)
        self.controls.talk_pressed.connect(self._mic.start_recording)
        self.controls.talk_released.connect(self._mic.stop_recording)
        self.live = SpectrogramViewWidget("micLiveSpectrogram", "Live spectrogram of the microphone", self)
        self.live.setMinimumHeight(150)
        self.clip = MicrophoneClipWidget(self)
        self.clip.playback_started.connect(self._on_playback_started)
        self.clip.playing_changed.connect(self._on_playing_changed)
        self.clip.adapt.adapt_requested.connect(self._on_adapt_requested)
        self.clip.adapt.adapted.connect(self._on_adapted)
        self.clip.adapt.set_available(False, NO_SOUND_MODEL)
        self.bars = ProbabilityBarsWidget(self, threshold=DEFAULT_THRESHOLD)
        self.bars.setMinimumSize(260, 240)
        self._latency = QLabel("", self)
        self._latency.setObjectName("micLatencyLabel")
        self._latency.setAccessibleName("Latency from the end of an utterance to the label")
        self._latency.setWordWrap(True)

        left = QVBoxLayout()
        left.addWidget(self.controls)
        left.addWidget(self.live, 3)
        left.addWidget(self.clip, 2)
        right = QVBoxLayout()
        right.addWidget(self.bars, 1)
        right.addWidget(self._latency)
        row = QHBoxLayout()
        row.addLayout(left, 3)
        row.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self._message)
        layout.addLayout(row, 1)
        self._mic.set_mode(self.controls.mode())
        self._mic.set_threshold_db(self.controls.threshold())
        self._refresh_message()

    # ------------------------------------------------------------------------------------ public
    def set_model(self, path: str) -> None:
        """Use the model at ``path`` ("" for none); it loads when the tab is shown."""
        from workbench.core.sidecar import read_sidecar

        self._model_path, self._compatible, self._requested_path = str(path or ""), False, ""
        self._predict.unload()
        self._class_names = []
        self.bars.clear()
        self.clip.adapt.set_available(False, NO_SOUND_MODEL)
        if not self._model_path:
            self._set_model_note("Choose an audio model above (e.g. spoken_digits (shipped)).")
            return
        try:
            sidecar = read_sidecar(self._model_path)
        except WorkbenchError as exc:
            self._set_model_note(str(exc))
            return
        problem = incompatibility(sidecar)
        if problem:
            self._set_model_note(problem)
            return
        self._compatible = True
        self.clip.adapt.set_available(True)
        self.clip.set_class_names(list(sidecar.get("class_names", [])))
        self._set_model_note("")
        if self.isVisible():
            self._start_loading()

    def shutdown(self) -> None:
        """Close the stream and end the prediction and playback threads."""
        self._mic.shutdown()
        self._predict.shutdown()
        self.clip.shutdown()

    def set_mode(self, mode: str) -> None:
        self.controls.set_mode(mode)

    def mode(self) -> str:
        return self._mic.mode()

    def preferred_model(self, current: str) -> str:
        """The shipped spoken-digit model when ``current`` cannot take sound, else "" (keep it)."""
        return str(SHIPPED_MODEL) if not self._compatible and SHIPPED_MODEL.is_file() else ""

    def problem(self) -> str | None:
        """What keeps the microphone from working (missing PortAudio, no device), or None."""
        return self._problem

    def is_listening(self) -> bool:
        return self._mic.listening

    def is_ready(self) -> bool:
        """An audio model is loaded and warmed up."""
        return self._compatible and self._predict.ready

    def controller(self) -> MicrophoneController:
        return self._mic

    def message_text(self) -> str:
        return self._message.text()

    def prediction_text(self) -> str:
        return self.bars.top_label_text() if self._last_result else ""

    def last_result(self) -> dict | None:
        return self._last_result

    def latencies_ms(self) -> list[float]:
        """End of utterance (detector fired / button released) → label shown, per clip, in ms."""
        return list(self._latencies)

    def speech_latencies_ms(self) -> list[float]:
        """End of the word (its last loud frame; the release for push-to-talk) → label shown, in ms:
        what the speaker waits. The detector's hangover is part of it."""
        return list(self._speech_latencies)

    def latency_text(self) -> str:
        return self._latency.text()

    # ----------------------------------------------------------------------------------- private
    def _set_message(self, text: str, warning: bool = False) -> None:
        self._message.setText(text)
        self._message.setStyleSheet("QLabel { color: #b45309; font-weight: bold; }" if warning else "")

    def _set_model_note(self, note: str) -> None:
        self._model_note = note
        self._refresh_message()

    def _refresh_message(self) -> None:
        """The most important thing to say: a missing microphone, then the model, then a hint."""
        if self._problem is not None:
            self._set_message(self._problem, warning=True)
        else:
            self._set_message(self._model_note or HINTS[self.mode()], warning=bool(self._model_note))

    def _start_loading(self) -> None:
        self._requested_path = self._model_path
        self._predict.load(self._model_path)
        self._latency.setText("Loading the model (the first time also loads TensorFlow)…")

    def _set_unavailable(self, message: str) -> None:
        self._problem = message
        self._refresh_message()
        self.controls.set_talk_enabled(False)
        self.controls.meter.set_levels(-120.0, -120.0)
        self.controls.meter.set_markers(None, None)
        self.controls.set_detector_levels(None, None)

    def _populate_devices(self, refresh: bool) -> None:
        try:
            devices = list_input_devices(refresh=refresh)
            wanted = str(QSettings().value(settings_keys.MICROPHONE_DEVICE, "", type=str))
            choice = next((d for d in devices if d.name == wanted), None) or default_input_device(devices)
        except MicrophoneUnavailable as exc:  # no PortAudio, or no device that can record
            self.controls.set_devices([], None)
            self._set_unavailable(str(exc))
            return
        self.controls.set_devices(devices, choice.index)
        self._open_device(choice.index)

    def _open_device(self, index: int) -> None:
        try:
            source = self._mic.open(index)
        except MicrophoneUnavailable as exc:
            self._set_unavailable(str(exc))
            return
        self._problem = None
        self.controls.set_talk_enabled(True)
        QSettings().setValue(settings_keys.MICROPHONE_DEVICE, source.device.name)
        self.live.reset(64, self._mic.columns_per_second)
        self._refresh_message()
        self._latency.setText(self._latency.text() or f"Listening at {source.sample_rate} Hz.")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if not self._opened_once:
            self._opened_once = True
            self._mic.close()
            self._populate_devices(refresh=False)
        elif not self._mic.listening and self.controls.current_device() is not None:
            self._open_device(self.controls.current_device())
        if self._compatible and self._requested_path != self._model_path:
            self._start_loading()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().hideEvent(event)
        self._mic.close()  # the microphone is in use only while the tab is on screen

    def _submit(self, clip: dict) -> None:
        if self._compatible:
            self._predict.submit(clip)

    def _show_probabilities(self, probabilities: np.ndarray, result: dict) -> None:
        self.bars.set_probabilities(self._class_names, probabilities)
        best = int(np.argmax(probabilities))
        self._last_result = {**result, "probabilities": probabilities, "label": self._class_names[best]}

    @Slot(object)
    def _on_ticked(self, tick: object) -> None:
        self.live.append(tick["columns"])
        # The bar in the band the detector listens to, so it reads against the floor and threshold lines.
        self.controls.meter.set_levels(tick.get("speech", tick["rms"]), tick["peak"])
        threshold = tick["threshold"] if self.mode() != "push" else None
        self.controls.meter.set_markers(tick["floor"], threshold)
        self.controls.set_detector_levels(tick["floor"], threshold)

    @Slot(object)
    def _on_clip_captured(self, clip: object) -> None:
        note = "cut at the maximum length" if clip.get("truncated") else ""
        self.clip.set_clip(clip["samples"], clip["sample_rate"], note)
        self._submit(clip)

    @Slot(object)
    def _on_window_ready(self, window: object) -> None:
        if window["silent"]:
            self._smoother.reset()
            return
        self._submit(window)

    @Slot()
    def _on_nothing_heard(self) -> None:
        self._latency.setText("Nothing heard while the button was held (below the trigger level).")

    @Slot(str)
    def _on_microphone_failed(self, message: str) -> None:
        self._set_unavailable(message)

    @Slot(str)
    def _on_mode_changed(self, mode: str) -> None:
        self._mic.set_mode(mode)
        self._smoother.reset()
        self._refresh_message()

    @Slot(int)
    def _on_threshold_changed(self, value: int) -> None:
        self._mic.set_threshold_db(value)

    @Slot(int)
    def _on_device_chosen(self, index: int) -> None:
        self._open_device(index)

    @Slot()
    def _on_refresh_requested(self) -> None:
        self._mic.close()  # PortAudio can only re-enumerate with no stream open
        self._populate_devices(refresh=True)

    @Slot(float)
    def _on_playback_started(self, seconds: float) -> None:
        self._mic.mute_for(seconds + 0.5)  # our own playback may reach the microphone

    @Slot(bool)
    def _on_playing_changed(self, playing: bool) -> None:
        self.controls.set_refresh_enabled(not playing)  # re-initialising PortAudio would pull the stream away

    @Slot(object)
    def _on_model_loaded(self, info: object) -> None:
        self._class_names = list(info["class_names"])
        self.clip.set_class_names(self._class_names)
        self._latencies.clear()
        self._speech_latencies.clear()
        self._latency.setText(f"Model ready (warm-up {info['warmup_ms']:.0f} ms).")

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self._set_model_note(f"Could not load the model: {message}")

    @Slot(object)
    def _on_prediction_ready(self, result: object) -> None:
        request = result["request"]
        probabilities = np.asarray(result["probabilities"], np.float64)
        kind = request.get("kind", "")
        if result.get("blank"):
            self._smoother.reset()
            if kind != "window":
                self._latency.setText("The clip was silence after trimming: nothing to classify.")
            return
        if kind == "window":
            if self.mode() != "continuous":
                return  # a window answered after the mode changed
            self._show_probabilities(self._smoother.update(probabilities), {"kind": kind, "latency_ms": None,
                                                                             "model_ms": result["total_ms"]})
            self._latency.setText(f"Continuous: model {result['total_ms']:.0f} ms per window, "
                                  f"mean of the last {SMOOTHING} windows shown.")
        else:
            self._show_probabilities(probabilities, {"kind": kind, "model_ms": result["total_ms"]})
            self.clip.set_class(self._last_result["label"])
            shown = time.perf_counter()
            latency = (shown - request["fired_at"]) * 1000.0
            speech = (shown - request["speech_end_at"]) * 1000.0
            self._last_result["latency_ms"] = latency
            self._last_result["speech_latency_ms"] = speech
            self._latencies.append(latency)
            self._speech_latencies.append(speech)
            if kind == "auto":
                self._latency.setText(
                    f"End of the word → label: {speech:.0f} ms (median {np.median(self._speech_latencies):.0f} ms "
                    f"over {len(self._speech_latencies)}): waiting to be sure the word was over "
                    f"{speech - latency:.0f} ms, then model and display {latency:.0f} ms "
                    f"(model {result['total_ms']:.0f} ms).")
            else:
                self._latency.setText(
                    f"Button released → label: {latency:.0f} ms (model {result['total_ms']:.0f} ms; "
                    f"median {np.median(self._latencies):.0f} ms over {len(self._latencies)}).")
        self.prediction_shown.emit(dict(self._last_result))

    @Slot(str)
    def _on_prediction_failed(self, message: str) -> None:
        self._latency.setText(f"Prediction failed: {message}")

    @Slot()
    def _on_adapt_requested(self) -> None:
        if not self.clip.ensure_directory():
            self.clip.adapt.show_message("Choose the dataset folder with your recordings first.", "warning")
            return
        self.clip.adapt.start(self._model_path, self.clip.directory())

    @Slot(object)
    def _on_adapted(self, result: object) -> None:
        self.model_adapted.emit(str(result["model_path"]))


"""CameraTestWidget: point a camera at something and watch the model's answer (the Test panel's Camera tab).

Threads: the :class:`~workbench.core.sources.camera.CameraSource` reads on its own thread and keeps
only the newest frame; a ~33 Hz timer in the GUI thread (:class:`CameraController`) takes each new
frame, draws it and hands it to a :class:`CameraPredictWorker` behind a latest-wins
:class:`CameraPredictController`: while the model is busy, newer frames replace the waiting one, so the
answer is always about (nearly) the newest frame and nothing queues up. Saving captures runs on the
collect row's :class:`TaskRunner` thread. No model call ever runs in the GUI thread, and :meth:`shutdown` ends
every thread and closes the camera.

Image models classify each frame through :meth:`Predictor.prepare_image`: digit models get the same
MNIST-style preparation as the Draw canvas, so a digit written on paper and held up to the camera is
read. Video models classify the frames of the last clip duration as one clip (prepared exactly as
training prepared clips), and show the mean of the last :data:`SMOOTHING` answers.

For image models the "Grad-CAM" toggle (:class:`CameraGradCamWidget`) shows where the model looked
for the class it names: a few heat maps a second, each of the newest answer, on their own thread;
answers that come while a map is being computed are skipped, never queued.

The camera is open only while the tab is shown; without a camera the tab says so and a video file
("Video file…") stands in for one. Figures shown: the feed's FPS, predictions per second and the
latency from a frame's capture to its label on screen (median and 95th percentile).
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.modality import DEFAULT_MODALITY
from workbench.core.resources import resource_path
from workbench.core.sources.camera import CameraUnavailable, EventRate, list_cameras, parse_source
from workbench.core.sources.utterance import ProbabilitySmoother
from workbench.gui import settings_keys
from workbench.gui.panels.live.camera_collect_widget import CameraCollectWidget
from workbench.gui.panels.live.camera_controls_widget import CameraControlsWidget
from workbench.gui.panels.live.camera_gradcam_widget import CameraGradCamWidget
from workbench.gui.widgets._style import message_style
from workbench.gui.widgets.camera_view_widget import CameraViewWidget
from workbench.gui.widgets.model_input_view_widget import ModelInputViewWidget
from workbench.gui.widgets.probability_bars_widget import DEFAULT_THRESHOLD, ProbabilityBarsWidget
from workbench.gui.widgets.probability_timeline_widget import ProbabilityTimelineWidget
from workbench.gui.workers.camera_controller import CameraController
from workbench.gui.workers.camera_predict_controller import CameraPredictController
from workbench.gui.workers.predictor_cache import PredictorCache

SMOOTHING = 3  # video models: the mean of the last answers, so one odd window does not flip the label
DEFAULT_CLIP_S = 2.0
LATENCY_HISTORY = 300
STATS_MS = 500
SHIPPED_MODEL = resource_path("models", "digits.keras")
NO_CAMERA = ('No camera found on this computer. Choose "Video file…" as the source to use a recording as '
             "the camera, or enter a stream URL.")


def clip_seconds(preprocessing: dict) -> float:
    """How many seconds of frames a video model reads at once: its sidecar's ``window_s`` (or
    ``clip_s``), else frames / fps, else 2 s."""
    for key in ("window_s", "clip_s"):
        if preprocessing.get(key):
            return float(preprocessing[key])
    frames, fps = preprocessing.get("frames"), preprocessing.get("fps")
    if frames and fps:
        return float(frames) / float(fps)
    return DEFAULT_CLIP_S


def camera_mode(sidecar: dict) -> tuple[str | None, str]:
    """("image" | "video", "") when the camera can feed the model, else (None, why not)."""
    modality = sidecar.get("modality") or DEFAULT_MODALITY
    shape = tuple(int(v) for v in sidecar.get("input_shape", ()))
    if modality == "image" and len(shape) == 3:
        return "image", ""
    if modality == "video" and len(shape) == 4:
        return "video", ""
    what = "×".join(str(v) for v in shape) or "other"
    return None, (f"This model takes {what} {modality} input, not camera frames. Choose an image model "
                  "(e.g. digits (shipped)) or a video model above; the feed and “Add to dataset” still work.")


class CameraTestWidget(QWidget):
    """The Camera tab: source, feed, class probabilities now and over time, figures, Add to dataset.

    Signals:
        prediction_shown(dict): a label was displayed: ``label``, ``probabilities``, ``latency_ms``
            (frame capture → label), ``model_ms``, ``frame_index``, ``mode``.
        saved(str): "Add to dataset" wrote this file.
    """

    prediction_shown = Signal(object)
    saved = Signal(str)

    def __init__(self, cache: PredictorCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cameraTestWidget")
        self._model_path = self._requested_path = ""
        self._mode: str | None = None
        self._window_s = DEFAULT_CLIP_S
        self._mnist_style = False
        self._class_names: list[str] = []
        self._problem: str | None = None
        self._model_note = ""
        self._populated = False
        self._last_result: dict | None = None
        self._latencies: deque[float] = deque(maxlen=LATENCY_HISTORY)
        self._answers = EventRate()
        self._smoother = ProbabilitySmoother(SMOOTHING)

        self._camera = CameraController(self)
        self._camera.opened.connect(self._on_camera_opened)
        self._camera.frame_ready.connect(self._on_frame_ready)
        self._camera.failed.connect(self._on_camera_failed)
        self._predict = CameraPredictController(cache, "cameraPredictThread", self)
        self._predict.model_loaded.connect(self._on_model_loaded)
        self._predict.model_failed.connect(self._on_model_failed)
        self._predict.prediction_ready.connect(self._on_prediction_ready)
        self._predict.prediction_failed.connect(self._on_prediction_failed)
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(STATS_MS)
        self._stats_timer.timeout.connect(self._on_stats_timeout)

        self._message = QLabel("", self)
        self._message.setObjectName("cameraMessage")
        self._message.setAccessibleName("Camera tab message")
        self._message.setWordWrap(True)
        self._message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.controls = CameraControlsWidget(self)
        self.controls.source_chosen.connect(self._on_source_chosen)
        self.controls.refresh_requested.connect(self._on_refresh_requested)
        self.view = CameraViewWidget(self)
        self.preview = ModelInputViewWidget(parent=self)
        self.gradcam = CameraGradCamWidget(cache, self.view, self)
        self.bars = ProbabilityBarsWidget(self, threshold=DEFAULT_THRESHOLD)
        self.bars.setMinimumSize(240, 150)
        self._stats = QLabel("", self)
        self._stats.setObjectName("cameraStatsLabel")
        self._stats.setAccessibleName("Feed rate, predictions per second and latency")
        self._stats.setToolTip("Feed: frames drawn per second. Predictions: answers per second (the newest frame "
                               "always goes next; frames that arrive meanwhile are skipped). Latency: from the "
                               "frame's capture to its label on screen.")
        self._stats.setWordWrap(True)
        self.timeline = ProbabilityTimelineWidget(self)
        self.timeline.setMinimumHeight(130)
        self.collect = CameraCollectWidget(self)
        self.collect.save_requested.connect(self._on_save_requested)
        self.collect.saved.connect(self.saved)

        # What the model sees beside the probabilities (not above them), so that on a short window
        # (1280×720) the bars keep their height.
        inputs = QVBoxLayout()
        inputs.addWidget(self.preview)
        inputs.addWidget(self.gradcam.input_view)
        inputs.addStretch(1)
        answer = QHBoxLayout()
        answer.addLayout(inputs)
        answer.addWidget(self.bars, 1)
        right = QVBoxLayout()
        right.addLayout(answer, 1)
        right.addWidget(self.gradcam)
        right.addWidget(self._stats)
        row = QHBoxLayout()
        row.addWidget(self.view, 3)
        row.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self._message)
        layout.addWidget(self.controls)
        layout.addLayout(row, 2)
        layout.addWidget(self.timeline, 1)
        layout.addWidget(self.collect)
        self._refresh_message()

    # ------------------------------------------------------------------------------------ public
    def set_model(self, path: str) -> None:
        """Use the model at ``path`` ("" for none); it loads when the tab is shown."""
        from workbench.core.sidecar import read_sidecar

        self._model_path, self._mode, self._requested_path = str(path or ""), None, ""
        self._predict.unload()
        self._reset_answers()
        if not self._model_path:
            self._apply_mode({})
            self._set_model_note("Choose an image or video model above (e.g. digits (shipped)).")
            return
        try:
            sidecar = read_sidecar(self._model_path)
        except WorkbenchError as exc:
            self._apply_mode({})
            self._set_model_note(str(exc))
            return
        mode, problem = camera_mode(sidecar)
        self._mode = mode
        self._apply_mode(sidecar.get("preprocessing") or {})
        if problem:
            self._set_model_note(problem)
            return
        self._set_class_names(list(sidecar.get("class_names", [])))
        self._set_model_note("")
        if self.isVisible():
            self._start_loading()

    def preferred_model(self, current: str) -> str:
        """The shipped digits model when ``current`` cannot take camera frames, else "" (keep it)."""
        return str(SHIPPED_MODEL) if self._mode is None and SHIPPED_MODEL.is_file() else ""

    def shutdown(self) -> None:
        """Close the camera (joining its thread) and end the prediction and saving threads."""
        self._stats_timer.stop()
        self._camera.shutdown()
        self._predict.shutdown()
        self.gradcam.shutdown()
        self.collect.shutdown()

    def set_dataset_folder(self, path: str) -> None:
        """Save captures into ``path`` (the Data panel's dataset) when it is a folder."""
        if path and Path(path).is_dir():
            self.collect.set_directory(path)

    def open_source(self, source: str | int) -> None:
        """Use ``source`` (a camera index, a video file or a stream URL) from now on."""
        self.controls.add_source(str(source))
        self._open(str(source))

    def save_capture(self, class_name: str | None = None) -> None:
        """Save the current frame (image or no model) or the last clip (video model) into
        ``<folder>/<class>/`` on the saving thread; ``saved`` or a message in the tab follows."""
        name = (class_name if class_name is not None else self.collect.class_name()).strip()
        if self._mode == "video":
            frames = self._camera.recent_frames(self._window_s)
            if frames:
                self.collect.save_clip([f.image for f in frames], [f.timestamp for f in frames], name)
                return
        elif (frame := self._camera.latest_frame()) is not None:
            self.collect.save_frame(frame.image, name)
            return
        self.collect.show_message("Nothing to save yet: no frames from the camera.")

    def is_ready(self) -> bool:
        """A model the camera can feed is loaded and warmed up."""
        return self._mode is not None and self._predict.ready

    def is_capturing(self) -> bool:
        return self._camera.running

    def mode(self) -> str | None:
        """"image", "video", or None (no model the camera can feed)."""
        return self._mode

    def window_seconds(self) -> float:
        return self._window_s

    def problem(self) -> str | None:
        """What keeps the camera from working, or None."""
        return self._problem

    def message_text(self) -> str:
        return self._message.text()

    def prediction_text(self) -> str:
        return self.bars.top_label_text() if self._last_result else ""

    def last_result(self) -> dict | None:
        return self._last_result

    def latencies_ms(self) -> list[float]:
        """Frame capture → label on screen, per answer shown, in ms (the last few hundred)."""
        return list(self._latencies)

    def predictions_per_second(self) -> float:
        return self._answers.rate()

    def feed_fps(self) -> float:
        return self._camera.feed_fps()

    def stats_text(self) -> str:
        return self._stats.text()

    def controller(self) -> CameraController:
        return self._camera

    # ----------------------------------------------------------------------------------- private
    def _apply_mode(self, preprocessing: dict) -> None:
        self._mnist_style = bool(preprocessing.get("mnist_style"))
        self._window_s = clip_seconds(preprocessing) if self._mode == "video" else DEFAULT_CLIP_S
        self._camera.set_history(self._window_s if self._mode == "video" else 0.0)
        self.collect.set_mode("video" if self._mode == "video" else "image", self._window_s)
        self.preview.setVisible(self._mode == "image")
        self.gradcam.set_model(self._model_path, self._mode, self._mnist_style)

    def _set_class_names(self, names: list[str]) -> None:
        self._class_names = names
        self.gradcam.set_class_names(names)
        self.collect.set_class_names(names)
        self.timeline.set_class_names(names)

    def _reset_answers(self) -> None:
        self._last_result = None
        self._latencies.clear()
        self._answers.clear()
        self._smoother.reset()
        self.bars.clear()
        self.timeline.clear()
        self.preview.set_input(None)

    def _hint(self) -> str:
        if self._mode == "video":
            return (f"The last {self._window_s:.1f} s of frames are classified as one clip, as in training; "
                    f"the label is the mean of the last {SMOOTHING} answers.")
        if self._mnist_style:
            return ("Hold a digit written on paper (dark ink on white) in front of the camera: each frame is "
                    "prepared as the Draw canvas is, so the model reads it.")
        return "Each frame is classified as it comes; frames that arrive while the model is busy are skipped."

    def _set_model_note(self, note: str) -> None:
        self._model_note = note
        self._refresh_message()

    def _refresh_message(self) -> None:
        """What keeps the tab from working (the camera, then the model), else a hint."""
        problems = [text for text in (self._problem, self._model_note) if text]
        text, warning = ("\n".join(problems), True) if problems else (self._hint(), False)
        self._message.setText(text)
        self._message.setStyleSheet(message_style("warning", bold=True) if warning else "")

    def _start_loading(self) -> None:
        self._requested_path = self._model_path
        self._predict.load(self._model_path)
        self._stats.setText("Loading the model (the first time also loads TensorFlow)…")

    def _populate(self) -> None:
        try:
            cameras = list_cameras()
        except Exception as exc:  # OpenCV missing or broken: the tab says so, the app goes on
            cameras = []
            self._problem = f"Cameras cannot be listed: {exc}"
        self.controls.set_cameras(cameras)
        saved = str(QSettings().value(settings_keys.CAMERA_SOURCE, "", type=str) or "")
        choice = self.controls.current_source()
        if choice is None and saved and (not saved.isdigit() or any(c.index == int(saved) for c in cameras)):
            if saved.isdigit() or "://" in saved or Path(saved).is_file():
                choice = saved
        if choice is None and cameras:
            choice = str(cameras[0].index)
        if choice is None:
            self._problem = NO_CAMERA
            self.view.clear("No camera: choose “Video file…” above")
            self._refresh_message()
            return
        self.controls.add_source(choice)
        self._open(choice)

    def _open(self, source: str) -> None:
        try:
            parse_source(source)
        except CameraUnavailable as exc:
            self._problem = str(exc)
            self._refresh_message()
            return
        QSettings().setValue(settings_keys.CAMERA_SOURCE, source)
        self._problem = None
        self._smoother.reset()
        self.view.clear("Opening…")
        self._camera.open(source)
        self._stats_timer.start()
        self._refresh_message()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if not self._populated:
            self._populated = True
            self._populate()
        elif not self._camera.running and self.controls.current_source() is not None and self._problem is None:
            self._open(self.controls.current_source())
        if self._mode is not None and self._requested_path != self._model_path:
            self._start_loading()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().hideEvent(event)
        self._camera.close()  # the camera is in use only while the tab is on screen
        self._stats_timer.stop()

    @Slot(object)
    def _on_camera_opened(self, info: object) -> None:
        fps = f" at {info['fps']:.0f} fps" if info["fps"] else ""
        self.view.setToolTip(f"{info['description']}: {info['width']}×{info['height']}{fps}")

    @Slot(object)
    def _on_frame_ready(self, frame: object) -> None:
        self.view.set_frame(frame.image)
        if not self.is_ready():
            return
        if self._mode == "image":
            self._predict.submit({"kind": "image", "image": frame.image, "frame_index": frame.index,
                                  "captured_at": frame.timestamp, "frame_size": frame.image.shape[:2]})
            return
        frames = self._camera.recent_frames(self._window_s)
        if len(frames) >= 2 and frames[-1].timestamp - frames[0].timestamp >= 0.5 * self._window_s:
            self._predict.submit({"kind": "clip", "frames": [f.image for f in frames], "frame_index": frame.index,
                                  "captured_at": frames[-1].timestamp})

    @Slot(str)
    def _on_camera_failed(self, message: str) -> None:
        self._problem = message
        self._stats_timer.stop()
        self.view.clear("The camera stopped: see the message above")
        self._refresh_message()

    @Slot(str)
    def _on_source_chosen(self, source: str) -> None:
        self._open(source)

    @Slot()
    def _on_refresh_requested(self) -> None:
        self._camera.close()
        self._problem = None
        self._populate()

    @Slot(object)
    def _on_model_loaded(self, info: object) -> None:
        self._set_class_names(list(info["class_names"]))
        self._reset_answers()
        self._stats.setText(f"Model ready (warm-up {info['warmup_ms']:.0f} ms).")

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self._set_model_note(f"Could not load the model: {message}")

    @Slot(object)
    def _on_prediction_ready(self, result: object) -> None:
        shown = time.perf_counter()
        request = result["request"]
        self._answers.add(shown)
        latency = (shown - request["captured_at"]) * 1000.0
        self._latencies.append(latency)
        if request["kind"] == "image":  # digit models fit the digit keeping its shape; others stretch the frame
            self.preview.set_input(result["model_input"], None if self._mnist_style else request.get("frame_size"))
        if result["blank"]:
            self.bars.clear()  # plain paper: nothing to read, and a softmax would still name a class
            self.gradcam.clear()
            self._last_result = None
            return
        probabilities = np.asarray(result["probabilities"], np.float64)
        if request["kind"] == "clip":
            probabilities = self._smoother.update(probabilities)
        self.bars.set_probabilities(self._class_names, probabilities)
        self.timeline.append(shown, probabilities)
        index = int(np.argmax(probabilities))
        label = self._class_names[index]
        if request["kind"] == "image":
            self.gradcam.offer(result["model_input"], index, request["frame_index"], request.get("frame_size"))
        self._last_result = {"label": label, "probabilities": probabilities, "latency_ms": latency,
                             "model_ms": result["total_ms"], "frame_index": request["frame_index"],
                             "mode": self._mode}
        self.prediction_shown.emit(dict(self._last_result))

    @Slot(str)
    def _on_prediction_failed(self, message: str) -> None:
        self._stats.setText(f"Prediction failed: {message}")

    @Slot()
    def _on_stats_timeout(self) -> None:
        parts = [f"Feed {self._camera.feed_fps():.1f} fps"]
        if self.is_ready():
            parts.append(f"{self._answers.rate():.1f} predictions/s")
            if self._latencies:
                values = np.asarray(self._latencies)
                parts.append(f"frame → label {values[-1]:.0f} ms (median {np.median(values):.0f}, "
                             f"p95 {np.percentile(values, 95):.0f})")
        self._stats.setText(" · ".join(parts))

    @Slot(str)
    def _on_save_requested(self, class_name: str) -> None:
        self.save_capture(class_name)



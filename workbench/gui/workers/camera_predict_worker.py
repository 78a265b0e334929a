"""CameraPredictWorker: classifies camera frames (image models) or windows of frames (video models).

Same protocol as :class:`~workbench.gui.workers.live_predict_worker.LivePredictWorker` (load, then
exactly one answer per request), so a
:class:`~workbench.gui.workers.live_predict_controller.LivePredictController` drives it with its
latest-wins queue: at most one request in here, one waiting, and a newer frame replaces the waiting
one. A request is a dict:

- ``{"kind": "image", "image": (H, W, 3) uint8, ...}``: :meth:`LiveModel.predict_image`, i.e.
  :meth:`Predictor.prepare_image` (digit models: the same MNIST-style preparation as the canvas),
  then the traced single-sample call; a blank frame (no ink on the paper) comes back ``blank``.
- ``{"kind": "clip", "frames": [(H, W, 3) uint8, ...], ...}``: the frames of the last clip duration,
  oldest first, stacked and prepared by :meth:`Predictor.prepare_array` exactly as training
  prepared clips (it samples the model's frame count uniformly over them), then the model.

Other keys (frame index, capture time) come back untouched in the answer's ``"request"``, so the
GUI can time frame → label.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

_log = logging.getLogger(__name__)
WARMUP_SIZE = (240, 320)


class CameraPredictWorker(QObject):
    """Lives on the controller's thread; owns the loaded :class:`~workbench.core.inference.live.LiveModel`.

    The protocol (signals and the ``load`` / ``predict`` slots) is :class:`LivePredictWorker`'s, but
    the slots are this class's own rather than overrides: PySide6 (6.11 measured) runs a slot that a
    subclass overrides in the *emitting* thread, even on a queued connection, which would put the
    model on the GUI thread.
    """

    loaded = Signal(int, object)  # generation, {"class_names", "input_shape", "warmup_ms", "path"}
    load_failed = Signal(int, str)  # generation, message
    predicted = Signal(int, int, object)  # generation, request id, result dict
    predict_failed = Signal(int, int, str)  # generation, request id, message

    def __init__(self, cache) -> None:
        super().__init__()
        self._cache = cache
        self._live = None
        self._generation = -1

    @Slot(int, str)
    def load(self, generation: int, model_path: str) -> None:
        """Load ``model_path`` (through the shared cache), trace and warm up its single-sample call,
        then run the preparation once on a blank frame (first-call costs of resizing and, for video,
        of the clip path stay out of the first answer)."""
        from workbench.core.errors import WorkbenchError
        from workbench.core.inference.live import LiveModel
        from workbench.gui.workers.priority import lower_current_thread_priority

        lower_current_thread_priority()  # the feed (GUI thread) first; predictions use what is left
        self._live, self._generation = None, generation
        try:
            live = LiveModel(self._cache.get(model_path))
            warmup_ms = live.warm_up()
        except Exception as exc:
            if not isinstance(exc, WorkbenchError):
                _log.exception("Could not load %s for the camera", model_path)
            self.load_failed.emit(generation, str(exc) or type(exc).__name__)
            return
        self._live = live
        frame = np.full((*WARMUP_SIZE, 3), 255, np.uint8)
        try:
            if len(live.predictor.input_shape) == 4:
                self._predict_clip([frame] * 4)
            else:
                live.predict_image(frame)
        except Exception:  # a model that cannot take frames fails here at once; a real frame reports it
            _log.debug("Camera warm-up failed", exc_info=True)
        self.loaded.emit(generation, {
            "path": model_path,
            "class_names": list(live.predictor.class_names),
            "input_shape": tuple(live.predictor.input_shape),
            "warmup_ms": warmup_ms,
        })

    @Slot(int, int, object)
    def predict(self, generation: int, request_id: int, request: object) -> None:
        """Classify one request; answers with ``predicted`` or ``predict_failed``."""
        if self._live is None or generation != self._generation:
            self.predict_failed.emit(generation, request_id, "No model is loaded.")
            return
        meta = {k: v for k, v in request.items() if k not in ("image", "frames")}
        try:
            if request["kind"] == "clip":
                result = self._predict_clip(request["frames"])
            else:
                result = self._live.predict_image(request["image"])
        except Exception as exc:
            from workbench.core.errors import WorkbenchError

            if not isinstance(exc, WorkbenchError):
                _log.exception("Camera prediction failed")
            self.predict_failed.emit(generation, request_id, str(exc) or type(exc).__name__)
            return
        self.predicted.emit(generation, request_id, {
            "probabilities": result.probabilities,
            "model_input": result.model_input if request["kind"] != "clip" else None,
            "blank": result.blank,
            "prepare_ms": result.prepare_ms,
            "predict_ms": result.predict_ms,
            "total_ms": result.total_ms,
            "request": meta,
        })

    def _predict_clip(self, frames):
        from workbench.core.inference.live import LivePrediction

        predictor = self._live.predictor
        prepare = getattr(predictor, "prepare_array", None) or predictor.prepare_image  # both: the modality's
        start = time.perf_counter()
        x = np.asarray(prepare(_sampled(frames, predictor.input_shape[0])), np.float32)
        prepared = time.perf_counter()
        probabilities = self._live.predict_prepared(x)
        done = time.perf_counter()
        return LivePrediction(probabilities, x, False, (prepared - start) * 1000.0, (done - prepared) * 1000.0)


def _sampled(frames, count: int) -> np.ndarray:
    """The ``count`` frames the clip preparation would pick out of ``frames``, stacked.

    Preparing a clip samples F frames uniformly (``uniform_indices``); picking them here first gives
    the same input (F frames sample to themselves) without stacking a few seconds of full-size
    frames for every answer (4 s of 640×480 at 30 fps: 110 MB copied per prediction)."""
    try:
        from workbench.core.video.clips import uniform_indices
    except ImportError:
        return np.stack(frames)
    return np.stack([frames[i] for i in uniform_indices(len(frames), int(count))])

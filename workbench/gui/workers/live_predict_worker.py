"""LivePredictWorker: loads one model and classifies single images, on its own thread.

It never touches widgets: it receives plain arrays through queued signals and answers with plain
dicts. Every predict request gets exactly one answer (a result or an error), because the controller
counts on it to know when the worker is free again.

Subclasses (other inputs: microphone clips) override the plain hooks :meth:`_warm_up_input` and
:meth:`_predict_request`, never the ``load`` / ``predict`` slots: PySide6 (6.11 measured) runs a slot
that a subclass overrides in the *emitting* thread, even across threads, which put the Microphone
tab's model load and every word's model call on the GUI thread.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

_log = logging.getLogger(__name__)


class LivePredictWorker(QObject):
    """Lives on the controller's thread; owns the loaded :class:`~workbench.core.inference.live.LiveModel`."""

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
        """Load ``model_path`` (through the shared cache), trace and warm up its single-sample call."""
        self._live, self._generation = None, generation
        try:
            from workbench.core.inference.live import LiveModel

            live = LiveModel(self._cache.get(model_path))
            warmup_ms = live.warm_up()
        except Exception as exc:
            from workbench.core.errors import WorkbenchError

            if not isinstance(exc, WorkbenchError):
                _log.exception("Could not load %s for live prediction", model_path)
            self.load_failed.emit(generation, str(exc) or type(exc).__name__)
            return
        self._live = live
        self._warm_up_input(live)
        predictor = live.predictor
        self.loaded.emit(generation, {
            "path": model_path,
            "class_names": list(predictor.class_names),
            "input_shape": tuple(predictor.input_shape),
            "warmup_ms": warmup_ms,
        })

    @Slot(int, int, object)
    def predict(self, generation: int, request_id: int, request: object) -> None:
        """Prepare and classify ``request``; answers with ``predicted`` or ``predict_failed``."""
        if self._live is None or generation != self._generation:
            self.predict_failed.emit(generation, request_id, "No model is loaded.")
            return
        try:
            answer = self._predict_request(self._live, request)
        except Exception as exc:
            from workbench.core.errors import WorkbenchError

            if not isinstance(exc, WorkbenchError):
                _log.exception("Live prediction failed")
            self.predict_failed.emit(generation, request_id, str(exc) or type(exc).__name__)
            return
        self.predicted.emit(generation, request_id, answer)

    # ------------------------------------------------------------------ hooks for other inputs
    def _warm_up_input(self, live) -> None:
        """After the model's own warm-up: anything a first real input would otherwise pay for."""

    def _predict_request(self, live, image: np.ndarray) -> dict:
        """The answer dict for one request (an image here); raises on failure."""
        result = live.predict_image(image)
        return {
            "probabilities": result.probabilities,
            "model_input": result.model_input,
            "blank": result.blank,
            "prepare_ms": result.prepare_ms,
            "predict_ms": result.predict_ms,
            "total_ms": result.total_ms,
        }

"""LivePredictController: latest-wins live prediction on a background thread (GUI-thread side).

A live input (a stroke being drawn, a camera, a microphone) produces images faster than a model
may answer on a slow CPU. Queueing them would make the answer lag further and further behind the
input, so at most one image is in the worker and at most one waits here: a new image replaces the
waiting one. When the worker answers, the newest waiting image (if any) goes next. All of that
bookkeeping happens in the GUI thread, so it needs no locks.

Answers that no longer apply are dropped: those of a model that has since been replaced (counted by
a generation number) and those of images submitted before :meth:`discard` (the canvas was cleared).

The worker runs on a :class:`PythonThread`: on a plain QThread, loading a second model in a later slot
call (the Draw tab switched from the shipped digits model to an adapted one) crashed TensorFlow in
the new model's first traced call, every time (see :mod:`~workbench.gui.workers.python_thread`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from workbench.gui.workers.live_predict_worker import LivePredictWorker
from workbench.gui.workers.python_thread import PythonThread


class LivePredictController(QObject):
    """Owns the worker thread; :meth:`load` a model, then :meth:`submit` images."""

    model_loaded = Signal(object)  # {"path", "class_names", "input_shape", "warmup_ms"}
    model_failed = Signal(str)
    prediction_ready = Signal(object)  # the worker's result dict plus "request_id"
    prediction_failed = Signal(str)
    _load_requested = Signal(int, str)
    _predict_requested = Signal(int, int, object)

    def __init__(self, cache, name: str = "livePredictThread", parent: QObject | None = None,
                 worker: LivePredictWorker | None = None) -> None:
        super().__init__(parent)
        self._thread = PythonThread(self)
        self._thread.setObjectName(name)
        # A subclass of LivePredictWorker may take other inputs (e.g. audio clips) with the same protocol.
        self._worker = worker if worker is not None else LivePredictWorker(cache)
        self._worker.moveToThread(self._thread)
        self._load_requested.connect(self._worker.load)
        self._predict_requested.connect(self._worker.predict)
        self._worker.loaded.connect(self._on_loaded)
        self._worker.load_failed.connect(self._on_load_failed)
        self._worker.predicted.connect(self._on_predicted)
        self._worker.predict_failed.connect(self._on_predict_failed)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()
        self._generation = 0
        self._ready = False
        self._busy = False
        self._pending: np.ndarray | None = None
        self._next_request = 0
        self._valid_from = 0
        self._stopped = False

    # ------------------------------------------------------------------------------------ public
    @property
    def ready(self) -> bool:
        """A model is loaded and warmed up."""
        return self._ready

    @property
    def busy(self) -> bool:
        """An image is in the worker."""
        return self._busy

    @property
    def has_pending(self) -> bool:
        return self._pending is not None

    def load(self, model_path: str) -> None:
        """Load ``model_path`` in the background; ``model_loaded`` or ``model_failed`` follows."""
        self._generation += 1
        self._ready = False
        self._load_requested.emit(self._generation, str(model_path))

    def unload(self) -> None:
        """Stop predicting (e.g. the chosen model cannot take this input); late answers are dropped."""
        self._generation += 1
        self._ready = False
        self._pending = None

    def submit(self, image: np.ndarray) -> None:
        """Classify ``image`` as soon as the worker is free; replaces any image still waiting.

        (Whatever the worker's ``predict`` takes: an image for :class:`LivePredictWorker`.)"""
        if self._stopped:
            return
        self._pending = image
        self._dispatch()

    def discard(self) -> None:
        """Forget the waiting image and drop the answer to the one in the worker."""
        self._pending = None
        self._valid_from = self._next_request

    def shutdown(self, timeout_ms: int = 60_000) -> None:
        """End the thread (a model load in progress finishes first); call before the owner dies."""
        self._stopped = True
        self._pending = None
        self._thread.quit()
        self._thread.wait(timeout_ms)

    # ----------------------------------------------------------------------------------- private
    def _dispatch(self) -> None:
        if not self._ready or self._busy or self._pending is None or self._stopped:
            return
        image, self._pending = self._pending, None
        request_id = self._next_request
        self._next_request += 1
        self._busy = True
        self._predict_requested.emit(self._generation, request_id, image)

    @Slot(int, object)
    def _on_loaded(self, generation: int, info: object) -> None:
        if generation != self._generation:
            return
        self._ready = True
        self.model_loaded.emit(info)
        self._dispatch()

    @Slot(int, str)
    def _on_load_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.model_failed.emit(message)

    @Slot(int, int, object)
    def _on_predicted(self, generation: int, request_id: int, result: object) -> None:
        self._busy = False
        if generation == self._generation and request_id >= self._valid_from:
            self.prediction_ready.emit({**result, "request_id": request_id})
        self._dispatch()

    @Slot(int, int, str)
    def _on_predict_failed(self, generation: int, request_id: int, message: str) -> None:
        self._busy = False
        if generation == self._generation and request_id >= self._valid_from:
            self.prediction_failed.emit(message)
        self._dispatch()

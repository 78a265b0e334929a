"""Grad-CAM for the Camera tab: heat maps of the newest answered frame, on their own thread, a few per second.

The camera's prediction worker answers with the prepared model input and its label; the GUI offers
the newest one to :class:`CameraGradCamController`, which takes it only when no heat map is being
computed and the last one started long enough ago: at most :data:`MAX_PER_SECOND` a second, and
never sooner than :data:`DUTY_FACTOR` times the last map's duration, so a slow model's maps keep
to about half of one core. Offers it does not take are dropped, never queued, so the next map is
always about the newest frame. :meth:`~CameraGradCamController.discard` (toggle off, another model,
another layer) makes the answer of a map still being computed be ignored.

The job itself (a callable taking the request dict and returning a plain dict, e.g.
:class:`~workbench.gui.panels.live.camera_gradcam_jobs.CameraGradCamJob`) is called only on the
worker's :class:`PythonThread` (TensorFlow's per-thread state must last; see
:mod:`~workbench.gui.workers.python_thread`), which runs below the prediction worker's priority:
predictions and the feed come first on a busy CPU. Signals carry plain data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from workbench.gui.workers.python_thread import PythonThread

_log = logging.getLogger(__name__)
#: At most this many heat maps per second.
MAX_PER_SECOND = 4.0
#: A heat map starts no sooner than this many of the last map's durations after the last one started.
DUTY_FACTOR = 2.0
#: Below the prediction worker's niceness (5): Grad-CAM is the first to wait on a busy CPU.
GRADCAM_NICENESS = 10


class CameraGradCamWorker(QObject):
    """Runs ``job(request)`` once per ``explain`` call on the controller's thread."""

    explained = Signal(int, object)  # generation, result dict
    failed = Signal(int, str)  # generation, message

    def __init__(self, job: Callable[[dict], dict]) -> None:
        super().__init__()
        self._job = job
        self._lowered = False

    @Slot(int, object)
    def explain(self, generation: int, request: object) -> None:
        """Answers with ``explained`` (the job's dict plus ``ms`` and ``thread``) or ``failed``."""
        if not self._lowered:
            from workbench.gui.workers.priority import lower_current_thread_priority

            lower_current_thread_priority(GRADCAM_NICENESS)
            self._lowered = True
        start = time.perf_counter()
        try:
            result = dict(self._job(request))
        except Exception as exc:
            from workbench.core.errors import WorkbenchError

            if not isinstance(exc, WorkbenchError):
                _log.exception("Camera Grad-CAM failed")
            self.failed.emit(generation, str(exc) or type(exc).__name__)
            return
        result["ms"] = (time.perf_counter() - start) * 1000.0
        result["thread"] = threading.current_thread().name
        self.explained.emit(generation, result)


class CameraGradCamController(QObject):
    """GUI-thread side: owns the worker's thread; :meth:`offer` requests, get ``explained`` / ``failed``.

    Signals:
        explained(dict): a heat map's result (see :class:`CameraGradCamWorker`), not discarded since.
        failed(str): a heat map could not be made (the message says why).
    """

    explained = Signal(object)
    failed = Signal(str)
    _explain_requested = Signal(int, object)

    def __init__(self, job: Callable[[dict], dict], name: str = "cameraGradCamThread",
                 parent: QObject | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__(parent)
        self._clock = clock
        self._thread = PythonThread(self)
        self._thread.setObjectName(name)
        self._worker = CameraGradCamWorker(job)
        self._worker.moveToThread(self._thread)
        self._explain_requested.connect(self._worker.explain)
        self._worker.explained.connect(self._on_explained)
        self._worker.failed.connect(self._on_failed)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()
        self._generation = 0
        self._busy = False
        self._started = self._next_start = 0.0
        self._stopped = False

    @property
    def busy(self) -> bool:
        """A heat map is being computed (its answer may since have been discarded)."""
        return self._busy

    def offer(self, request: dict) -> bool:
        """Start a heat map of ``request`` if none is being computed and the rate allows; otherwise
        drop it. Returns whether it was taken."""
        now = self._clock()
        if self._stopped or self._busy or now < self._next_start:
            return False
        self._busy, self._started = True, now
        self._next_start = now + 1.0 / MAX_PER_SECOND
        self._explain_requested.emit(self._generation, dict(request))
        return True

    def discard(self) -> None:
        """Ignore the answer of the heat map being computed (if any)."""
        self._generation += 1

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Ignore what is in flight and end the thread (a map being computed finishes first)."""
        self._stopped = True
        self.discard()
        self._thread.quit()
        self._thread.wait(timeout_ms)

    def _finished_one(self) -> None:
        self._busy = False
        took = self._clock() - self._started
        self._next_start = max(self._next_start, self._started + DUTY_FACTOR * took)

    @Slot(int, object)
    def _on_explained(self, generation: int, result: object) -> None:
        self._finished_one()
        if generation == self._generation and not self._stopped:
            self.explained.emit(result)

    @Slot(int, str)
    def _on_failed(self, generation: int, message: str) -> None:
        self._finished_one()
        if generation == self._generation and not self._stopped:
            self.failed.emit(message)

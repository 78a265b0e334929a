"""TaskRunner: run short jobs (scan, preview, evaluate, export, predict) off the GUI thread.

One long-lived QThread per runner. Submitting a new job supersedes the previous one: its cancel
flag is set and its late result is dropped (the Orange3 pattern), so a slider dragged quickly only
shows the last preview. Progress is throttled to ~10 Hz at the source.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from workbench.core.training.events import CancelToken

_log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.1


class _TaskWorker(QObject):
    completed = Signal(int, object)
    errored = Signal(int, str)
    progressed = Signal(int, int, int)

    @Slot(int, object, object)
    def execute(self, task_id: int, function: Callable, cancel: CancelToken) -> None:
        from workbench.gui.workers.priority import lower_current_thread_priority

        lower_current_thread_priority()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= PROGRESS_INTERVAL_S or done >= total:
                last[0] = now
                self.progressed.emit(task_id, int(done), int(total))

        try:
            result = function(progress=progress, cancel=cancel)
        except Exception as exc:
            from workbench.core.errors import WorkbenchError

            if not isinstance(exc, WorkbenchError):
                _log.exception("Background task failed")
            self.errored.emit(task_id, str(exc) or type(exc).__name__)
        else:
            self.completed.emit(task_id, result)


class TaskRunner(QObject):
    """Runs ``function(progress=..., cancel=...)`` calls one at a time on a background thread.

    ``python_thread=True`` runs them on a :class:`PythonThread` (one Python thread state for the thread's
    life): needed when jobs build or load TensorFlow models one after another — on a plain QThread the
    second "Adapt to my examples" crashed in its first model call, every time.
    """

    result_ready = Signal(object)
    failed = Signal(str)
    progressed = Signal(int, int)
    busy_changed = Signal(bool)
    _submit = Signal(int, object, object)

    def __init__(self, name: str, parent: QObject | None = None, *, python_thread: bool = False) -> None:
        super().__init__(parent)
        from workbench.gui.workers.python_thread import PythonThread

        self._thread = PythonThread(self) if python_thread else QThread(self)
        self._thread.setObjectName(name)
        self._worker = _TaskWorker()
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.execute)
        self._worker.completed.connect(self._on_completed)
        self._worker.errored.connect(self._on_errored)
        self._worker.progressed.connect(self._on_progressed)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()
        self._current = 0
        self._cancel: CancelToken | None = None
        self._pending = 0

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def submit(self, function: Callable[..., Any]) -> int:
        """Queue ``function``; any earlier job is cancelled and its result will be dropped."""
        self.cancel()
        self._current += 1
        self._cancel = CancelToken()
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._submit.emit(self._current, function, self._cancel)
        return self._current

    @Slot()
    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancel the current job and end the thread (call before the owner is destroyed)."""
        self.cancel()
        self._thread.quit()
        self._thread.wait(timeout_ms)

    def _finish_one(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.busy_changed.emit(False)

    @Slot(int, object)
    def _on_completed(self, task_id: int, result: object) -> None:
        self._finish_one()
        if task_id == self._current and not (self._cancel and self._cancel.cancelled):
            self.result_ready.emit(result)

    @Slot(int, str)
    def _on_errored(self, task_id: int, message: str) -> None:
        self._finish_one()
        if task_id == self._current and not (self._cancel and self._cancel.cancelled):
            self.failed.emit(message)

    @Slot(int, int, int)
    def _on_progressed(self, task_id: int, done: int, total: int) -> None:
        if task_id == self._current:
            self.progressed.emit(done, total)

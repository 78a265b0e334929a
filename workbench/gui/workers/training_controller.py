"""TrainingController: owns the training QThread and its worker, lives in the GUI thread.

Stop sets a cancel flag that a Keras callback checks after every batch (a queued slot on the worker
could not run: its thread is inside ``fit``). The thread is always quit and waited for; it is never
terminated.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from workbench.core.training.events import CancelToken
from workbench.gui.workers.training_worker import TrainingWorker


class TrainingController(QObject):
    run_started = Signal(dict)
    phase_started = Signal(dict)
    batch_ended = Signal(dict)
    epoch_ended = Signal(dict)
    run_finished = Signal(dict)
    log = Signal(str)
    stage_started = Signal(dict)
    failed = Signal(str)
    finished = Signal()  # the thread has ended; safe to start again

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._cancel: CancelToken | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, config) -> None:
        if self.running:
            raise RuntimeError("A training run is already in progress")
        self._cancel = CancelToken()
        self._thread = QThread(self)
        self._thread.setObjectName("trainingThread")
        self._worker = TrainingWorker(config, self._cancel)
        self._worker.moveToThread(self._thread)
        # Relay through this object's signals: receivers connect once, to the controller.
        self._worker.run_started.connect(self.run_started)
        self._worker.phase_started.connect(self.phase_started)
        self._worker.batch_ended.connect(self.batch_ended)
        self._worker.epoch_ended.connect(self.epoch_ended)
        self._worker.run_finished.connect(self.run_finished)
        self._worker.log.connect(self.log)
        self._worker.stage_started.connect(self.stage_started)
        self._worker.failed.connect(self.failed)
        self._thread.started.connect(self._worker.run)
        # Direct: quit() is thread-safe, and a queued call would never run while the GUI thread is
        # blocked in stop_and_wait() (closing the window mid-run).
        self._worker.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        self._thread.start()

    @Slot()
    def stop(self) -> None:
        """Ask the run to stop; it ends within one batch and keeps the best checkpoint."""
        if self._cancel is not None:
            self._cancel.cancel()

    def stop_and_wait(self, timeout_ms: int = 30_000) -> bool:
        """Stop and block until the thread has ended (used when the window closes)."""
        thread = self._thread
        if thread is None:
            return True
        self.stop()
        ended = thread.wait(timeout_ms)
        if ended:
            self._on_thread_finished()
        return ended

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is None:
            return
        self._worker.deleteLater()
        self._thread.deleteLater()
        self._thread = self._worker = self._cancel = None
        self.finished.emit()

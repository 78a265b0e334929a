"""TrainingWorker: runs ``core.training.train`` on its own thread and reports through signals.

The worker's signals' bound ``emit`` methods are the core's listeners, so the core never knows Qt.
Payloads are plain dicts of floats and strings. The worker never touches a widget.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

from workbench.core.training.events import CancelToken, TrainingListeners

_log = logging.getLogger(__name__)


class TrainingWorker(QObject):
    run_started = Signal(dict)
    batch_ended = Signal(dict)
    epoch_ended = Signal(dict)
    run_finished = Signal(dict)
    log = Signal(str)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, config, cancel: CancelToken) -> None:
        super().__init__()
        self._config = config
        self._cancel = cancel

    @Slot()
    def run(self) -> None:
        """Train; ``failed`` on any error, ``finished`` always, so the UI never stays busy."""
        from workbench.core.errors import WorkbenchError
        from workbench.gui.workers.priority import lower_current_thread_priority

        lower_current_thread_priority()
        try:
            from workbench.core.training import train

            listeners = TrainingListeners(
                run_started=self.run_started.emit,
                batch_ended=self.batch_ended.emit,
                epoch_ended=self.epoch_ended.emit,
                run_finished=self.run_finished.emit,
                log=self.log.emit,
            )
            result = train(self._config, listeners, self._cancel)
            if result.status == "failed":
                self.failed.emit(result.message)
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except MemoryError:
            self.failed.emit("Training ran out of memory. Try a smaller batch size or input size.")
        except Exception as exc:  # the app must survive anything training throws
            _log.exception("Training crashed")
            self.failed.emit(f"Training failed: {type(exc).__name__}: {exc}")
        finally:
            self.finished.emit()

"""Import TensorFlow in the background after the window shows, so start-up stays fast."""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot


def _freeze_long_lived_objects() -> None:
    """Keep TensorFlow's import out of every later full garbage collection.

    The import leaves ~370,000 Python objects that live until exit. A full (generation 2)
    collection walks them all, ~165 ms with the GIL held on our 2-core machine, and it runs in
    whichever thread happens to allocate: it showed as a 240-265 ms freeze of the window at the
    start of a second training run. ``gc.freeze`` moves the objects alive now out of the
    collector's sight (a full collection then takes well under a millisecond); the collect
    before it frees what the import left as garbage.
    """
    import gc

    gc.collect()
    gc.freeze()


class _ImportWorker(QObject):
    loaded = Signal(str)
    failed = Signal(str)

    @Slot()
    def run(self) -> None:
        from workbench.gui.workers.priority import lower_current_thread_priority

        lower_current_thread_priority()
        try:
            import keras
            import tensorflow as tf

            # The first operation creates TensorFlow's compute thread pools; creating them from this
            # low-priority thread makes every pool thread yield to the GUI thread.
            tf.constant(1.0) + 1.0
            _freeze_long_lived_objects()
            self.loaded.emit(f"TensorFlow {tf.__version__}, Keras {keras.__version__}")
        except Exception as exc:  # a broken install must not take the window down
            self.failed.emit(f"TensorFlow could not be loaded: {exc}")
        finally:
            # Quit from inside the thread: a queued quit() would wait for the GUI thread's event loop,
            # which is blocked in wait() when the window closes during the import.
            QThread.currentThread().quit()


class TensorFlowLoader(QObject):
    """Owns a short-lived thread that imports TensorFlow; emits ``loaded`` or ``failed``."""

    loaded = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread(self)
        self._thread.setObjectName("tensorflowLoaderThread")
        self._worker = _ImportWorker()
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.loaded.connect(self.loaded)
        self._worker.failed.connect(self.failed)
        self._thread.finished.connect(self._worker.deleteLater)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout_ms: int = 60_000) -> bool:
        return self._thread.wait(timeout_ms)

"""Import TensorFlow in the background after the window shows, so start-up stays fast; then say
which devices it found (for the Training tab's strategy and mixed-precision choices).

Logical CPU devices (a mirrored run on a machine without a GPU) can only be made before TensorFlow
starts its devices, so the loader makes them first when the app's own TensorFlow will train:
``WORKBENCH_CPU_REPLICAS=N`` in the environment, or, where runs train in the app's process (a frozen
build, ``WORKBENCH_TRAIN_IN_PROCESS``), the count saved with the last mirrored choice. Elsewhere each
run trains in a child process that makes its own devices, and the app's TensorFlow keeps one CPU device.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, QSettings, QThread, Signal, Slot


def startup_cpu_replicas() -> int | None:
    """The logical CPU devices the app's TensorFlow should start with from the saved choice (None:
    TensorFlow's default; ``WORKBENCH_CPU_REPLICAS`` is read by the loader itself)."""
    from workbench.gui import settings_keys
    from workbench.gui.workers.training_worker import in_process_reason

    if in_process_reason() is None:
        return None
    try:
        count = int(QSettings().value(settings_keys.TRAINING_CPU_REPLICAS, 0) or 0)
    except (TypeError, ValueError):
        return None
    return count if count > 1 else None


def configure_startup_cpu_replicas(saved: int | None) -> str:
    """Make the logical CPU devices asked for (``WORKBENCH_CPU_REPLICAS``, else ``saved``) before
    TensorFlow starts its devices; "" or why it could not (never raises: the app starts regardless)."""
    from workbench.core.training.distribute import (
        CPU_REPLICAS_ENV, DistributeError, configure_cpu_replicas, configure_cpu_replicas_from_env, local_gpus,
    )

    try:
        if os.environ.get(CPU_REPLICAS_ENV, "").strip():
            configure_cpu_replicas_from_env()
        elif saved and not local_gpus():
            configure_cpu_replicas(saved)
    except DistributeError as exc:
        return str(exc)
    return ""


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
    devices_found = Signal(dict)

    def __init__(self, cpu_replicas: int | None = None) -> None:
        super().__init__()
        self._cpu_replicas = cpu_replicas

    @Slot()
    def run(self) -> None:
        from workbench.gui.workers.priority import lower_current_thread_priority

        lower_current_thread_priority()
        try:
            import keras
            import tensorflow as tf

            from workbench.core.training.distribute import local_devices

            note = configure_startup_cpu_replicas(self._cpu_replicas)  # before TensorFlow starts its devices
            # The first operation creates TensorFlow's compute thread pools; creating them from this
            # low-priority thread makes every pool thread yield to the GUI thread.
            tf.constant(1.0) + 1.0
            _freeze_long_lived_objects()
            self.devices_found.emit({**local_devices().to_dict(), "note": note})
            self.loaded.emit(f"TensorFlow {tf.__version__}, Keras {keras.__version__}")
        except Exception as exc:  # a broken install must not take the window down
            self.failed.emit(f"TensorFlow could not be loaded: {exc}")
        finally:
            # Quit from inside the thread: a queued quit() would wait for the GUI thread's event loop,
            # which is blocked in wait() when the window closes during the import.
            QThread.currentThread().quit()


class TensorFlowLoader(QObject):
    """Owns a short-lived thread that imports TensorFlow; emits ``devices_found`` (``{"gpus": [names],
    "cpu_devices": n, "note": why CPU replicas could not be made, or ""}``) then ``loaded``, or ``failed``.
    ``cpu_replicas``: logical CPU devices to make first (see the module docstring)."""

    loaded = Signal(str)
    failed = Signal(str)
    devices_found = Signal(dict)

    def __init__(self, parent: QObject | None = None, cpu_replicas: int | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread(self)
        self._thread.setObjectName("tensorflowLoaderThread")
        self._worker = _ImportWorker(cpu_replicas)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.loaded.connect(self.loaded)
        self._worker.failed.connect(self.failed)
        self._worker.devices_found.connect(self.devices_found)
        self._thread.finished.connect(self._worker.deleteLater)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout_ms: int = 60_000) -> bool:
        return self._thread.wait(timeout_ms)

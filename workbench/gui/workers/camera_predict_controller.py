"""CameraPredictController: the latest-wins :class:`LivePredictController` on a :class:`PythonThread`.

The camera's worker loads image and video models one after the other in the same thread; video
models (LSTM, GRU) crash TensorFlow when built in a later slot call of a plain QThread (see
:mod:`~workbench.gui.workers.python_thread`). Everything but the thread is the base class's.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from workbench.gui.workers.camera_predict_worker import CameraPredictWorker
from workbench.gui.workers.live_predict_controller import LivePredictController
from workbench.gui.workers.python_thread import PythonThread


class CameraPredictController(LivePredictController):
    """:class:`LivePredictController` driving a :class:`CameraPredictWorker` on a :class:`PythonThread`."""

    def __init__(self, cache, name: str = "cameraPredictThread", parent: QObject | None = None) -> None:
        # The base class's __init__ with one change, the thread's class (once the base class uses
        # PythonThread itself, this whole __init__ can go).
        QObject.__init__(self, parent)
        self._thread = PythonThread(self)
        self._thread.setObjectName(name)
        self._worker = CameraPredictWorker(cache)
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
        self._pending = None
        self._next_request = 0
        self._valid_from = 0
        self._stopped = False

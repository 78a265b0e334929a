"""PythonThread: a QThread whose event loop runs inside one Python call, so Python state per thread lasts.

A plain ``QThread`` runs its event loop in C++; every queued slot call into Python then gets a fresh
Python thread state (PySide6 ensures one for the call and drops it after), and with it a fresh
``threading.local``. TensorFlow keeps its eager context in thread-locals, so a model loaded in one
slot call and another model built in a later one can crash the process: loading a CNN-LSTM after the
digits model in the same worker thread ended in a segmentation fault in ``stateless_random_normal``
(TensorFlow 2.21, PySide6 6.11, every time). Running ``exec()`` from ``run()`` keeps one Python
thread state for the thread's whole life, as a ``threading.Thread`` would have.
"""

from __future__ import annotations

from PySide6.QtCore import QThread


class PythonThread(QThread):
    """A QThread with its event loop entered from Python (see the module docstring)."""

    def run(self) -> None:
        self.exec()

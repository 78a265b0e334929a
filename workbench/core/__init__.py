"""The Qt-free engine: data, templates, training, evaluation, inference and export.

Nothing under this package may import PySide6, pyqtgraph or :mod:`workbench.gui`; a test and an
import-linter contract enforce it. Heavy libraries (TensorFlow/Keras) are imported lazily inside the
functions that need them, so importing the core is cheap.
"""

"""CNN Workbench: a local desktop workbench for convolutional neural networks.

The Qt-free engine lives in :mod:`workbench.core`; the desktop app in :mod:`workbench.gui`
and the command line in :mod:`workbench.cli` are thin layers over it.
"""

import os

# TensorFlow's C++ start-up chatter (oneDNN notices, "no CUDA driver") is noise for users of a desktop
# app and a CLI; real errors still surface as Python exceptions. Set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

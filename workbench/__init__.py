"""CNN Workbench: a local desktop workbench for convolutional neural networks.

The Qt-free engine lives in :mod:`workbench.core`; the desktop app in :mod:`workbench.gui`
and the command line in :mod:`workbench.cli` are thin layers over it.
"""

from workbench import tf_quiet as _tf_quiet

# TensorFlow's C++ start-up chatter (oneDNN notices, "no CUDA driver", absl's notice) is noise for users
# of a desktop app and a CLI; real errors still surface as Python exceptions. Set up before TensorFlow
# is imported; `workbench --verbose` undoes it (workbench.tf_quiet.set_verbose).
_tf_quiet.install()

#: Also the version in pyproject.toml (tests/cli/test_cli_quiet.py checks they agree).
__version__ = "0.1.0"

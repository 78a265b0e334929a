from __future__ import annotations

import gc

import pytest

from workbench.gui.tf_loader import TensorFlowLoader

pytestmark = pytest.mark.gui


def test_loading_tensorflow_freezes_its_objects_out_of_full_collections(qtbot):
    """A full garbage collection over TensorFlow's ~370,000 import objects held the GIL for
    ~165 ms and froze the window; after the loader they are out of the collector's sight."""
    gc.unfreeze()  # earlier tests may have loaded it already; start from nothing frozen
    assert gc.get_freeze_count() == 0
    loader = TensorFlowLoader()
    with qtbot.waitSignal(loader.loaded, timeout=60_000) as blocker:
        loader.start()
    assert loader.wait()
    assert blocker.args[0].startswith("TensorFlow ")
    assert gc.get_freeze_count() > 100_000

"""The Files tab with a sound model: audio files are accepted and classified, images refused.

Written against the shipped spoken-digit model (see tests/hardware/spoken_digits.py): without it
these tests fail, they do not skip.
"""

from __future__ import annotations

import pytest

from tests.hardware.spoken_digits import recording, require_model
from workbench.gui.panels.files_test_widget import FilesTestWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui


@pytest.fixture
def files(qtbot):
    model = require_model()
    widget = FilesTestWidget(PredictorCache())
    qtbot.addWidget(widget)
    widget.set_model(str(model))
    yield widget
    widget.shutdown()


def test_sound_files_are_classified_with_their_duration(qtbot, files):
    paths = [str(recording(f"{d}/{d}_george_1.wav")) for d in ("3", "7")]
    with qtbot.waitSignal(files._runner.result_ready, timeout=90_000):
        files.classify(paths)
    assert files.row_count() == 2
    assert [files.prediction_text(r).split()[0] for r in range(2)] == ["3", "7"]
    assert files._table.item(0, 0).text().endswith("s · 8 kHz")
    assert files._table.horizontalHeaderItem(0).text() == "Sound"


def test_image_files_are_refused_by_a_sound_model(files, tmp_path):
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    files.classify([str(image)])
    assert files.row_count() == 0
    assert "Expected sound files (.flac, .mp3, .ogg, .wav)" in files._status.text()

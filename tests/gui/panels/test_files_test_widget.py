"""The Files tab with an image model: image files are classified with thumbnails; sound is refused."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.paths import SHARED_DATA, require_shared
from workbench.core.resources import resource_path
from workbench.gui.panels.live.files_test_widget import FilesTestWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui


@pytest.fixture
def files(make_widget):
    widget = make_widget(FilesTestWidget, PredictorCache())
    widget.set_model(str(resource_path("models", "digits.keras")))
    return widget


def test_digit_images_are_classified_without_a_detail_view(qtbot, files):
    folders = require_shared(SHARED_DATA / "mnist" / "folders_small")
    paths = [str(sorted((folders / digit).glob("*.png"))[0]) for digit in ("2", "8")]
    files.show()
    with qtbot.waitSignal(files.predictions_shown, timeout=90_000):
        files.classify(paths)
    assert files.row_count() == 2
    assert [files.prediction_text(r).split()[0] for r in range(2)] == ["2", "8"]
    assert files._table.horizontalHeaderItem(0).text() == "Image"
    assert files._table.item(0, 0).data(Qt.ItemDataRole.DecorationRole) is not None  # the thumbnail
    assert files.detail is None  # images have no detail view under the table


def test_sound_files_are_refused_by_an_image_model(files, tmp_path):
    sound = tmp_path / "x.wav"
    sound.write_bytes(b"")
    files.classify([str(sound)])
    assert files.row_count() == 0
    assert "Expected image files" in files._status.text()

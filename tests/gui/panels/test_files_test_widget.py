"""The Files tab with an image model: image files are classified with thumbnails and shown in the
image detail (with a Grad-CAM overlay computed off the GUI thread); sound is refused."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.paths import SHARED_DATA, require_shared
from workbench.core.resources import resource_path
from workbench.gui.panels.live.files_test_widget import FilesTestWidget
from workbench.gui.panels.live.image_file_detail_widget import ImageFileDetailWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui


@pytest.fixture
def files(make_widget):
    widget = make_widget(FilesTestWidget, PredictorCache())
    widget.set_model(str(resource_path("models", "digits.keras")))
    return widget


def test_digit_images_are_classified_and_shown_in_the_image_detail(qtbot, files):
    folders = require_shared(SHARED_DATA / "mnist" / "folders_small")
    paths = [str(sorted((folders / digit).glob("*.png"))[0]) for digit in ("2", "8")]
    files.show()
    with qtbot.waitSignal(files.predictions_shown, timeout=90_000):
        files.classify(paths)
    assert files.row_count() == 2
    assert [files.prediction_text(r).split()[0] for r in range(2)] == ["2", "8"]
    assert files._table.horizontalHeaderItem(0).text() == "Image"
    assert files._table.item(0, 0).data(Qt.ItemDataRole.DecorationRole) is not None  # the thumbnail
    detail = files.detail
    assert isinstance(detail, ImageFileDetailWidget)
    assert detail.title_text().startswith(f"{paths[0].rsplit('/', 1)[-1]}: 2 ")
    assert detail.overlay is None and not detail.toggle.isChecked()  # Grad-CAM is off until asked for


def test_the_gradcam_overlay_appears_and_is_computed_off_the_gui_thread(qtbot, files, monkeypatch):
    from workbench.core.inference import gradcam

    computed_in: list[int] = []
    heatmap = gradcam.GradCam.heatmap

    def recording_heatmap(self, *args, **kwargs):
        computed_in.append(threading.get_ident())
        return heatmap(self, *args, **kwargs)

    monkeypatch.setattr(gradcam.GradCam, "heatmap", recording_heatmap)
    folders = require_shared(SHARED_DATA / "mnist" / "folders_small")
    paths = [str(sorted((folders / digit).glob("*.png"))[0]) for digit in ("7", "0")]
    files.show()
    with qtbot.waitSignal(files.predictions_shown, timeout=90_000):
        files.classify(paths)
    detail = files.detail
    plain = detail._picture.pixmap().toImage()
    with qtbot.waitSignal(detail.gradcam_shown, timeout=90_000) as shown:
        detail.toggle.setChecked(True)
    layers = detail.layer_names()
    assert shown.args == [layers[0]]  # the default: the deepest convolution, listed first
    assert len(layers) >= 2 and all("conv" in name for name in layers)
    assert computed_in and threading.get_ident() not in computed_in
    overlay = detail.overlay
    assert overlay.shape == (28, 28, 3) and overlay.dtype == np.uint8  # on the MNIST-style model input
    assert np.abs(overlay[..., 0].astype(int) - overlay[..., 2]).max() > 50  # coloured, not grey any more
    assert detail._picture.pixmap().toImage() != plain
    assert "Grad-CAM for “7” from layer" in detail.note_text()

    with qtbot.waitSignal(detail.gradcam_shown, timeout=90_000) as shown:
        detail.select_layer(layers[-1])  # another layer is computed again
    assert shown.args == [layers[-1]]
    with qtbot.waitSignal(detail.gradcam_shown, timeout=90_000):
        files.select_row(1)  # another row: its own heat map
    assert "Grad-CAM for “0”" in detail.note_text()
    assert threading.get_ident() not in computed_in and len(computed_in) == 3
    coloured = detail._picture.pixmap().toImage()
    detail.toggle.setChecked(False)  # back to the plain picture
    assert detail.overlay is None and detail._picture.pixmap().toImage() != coloured


def test_sound_files_are_refused_by_an_image_model(files, tmp_path):
    sound = tmp_path / "x.wav"
    sound.write_bytes(b"")
    files.classify([str(sound)])
    assert files.row_count() == 0
    assert "Expected image files" in files._status.text()


def test_opening_more_files_adds_to_the_list_until_cleared_or_the_model_changes(qtbot, files):
    folders = require_shared(SHARED_DATA / "mnist" / "folders_small")
    first = [str(sorted((folders / digit).glob("*.png"))[0]) for digit in ("2", "8")]
    second = [str(sorted((folders / "5").glob("*.png"))[0]), first[0]]  # one new file, one opened again
    with qtbot.waitSignal(files.predictions_shown, timeout=90_000):
        files.classify(first)
    with qtbot.waitSignal(files.predictions_shown, timeout=90_000):
        files.classify(second)
    # The second opening adds: 8 stays, 2 is not listed twice, and the new files come last, selected.
    assert [files.prediction_text(r).split()[0] for r in range(files.row_count())] == ["8", "5", "2"]
    assert files._table.currentRow() == 1
    assert "3 in the list" in files._status.text()
    files._clear.click()
    assert files.row_count() == 0 and not files._clear.isEnabled()
    with qtbot.waitSignal(files.predictions_shown, timeout=90_000):
        files.classify(first)
    files.set_model(str(resource_path("models", "spoken_digits.keras")))
    assert files.row_count() == 0  # the digit model's answers are not the new model's

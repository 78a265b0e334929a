"""Collect mode's file writing: folder per class, PNG as given, never an overwrite."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from workbench.core.image.collect import count_images, save_class_image
from workbench.core.errors import DatasetError


def test_saves_a_grey_png_into_the_class_folder_and_counts_it(tmp_path):
    image = np.zeros((280, 280), np.uint8)
    image[100:180, 130:150] = 255
    path = save_class_image(image, tmp_path, "7")
    assert path.parent == tmp_path / "7" and path.name.startswith("draw_") and path.suffix == ".png"
    np.testing.assert_array_equal(np.asarray(Image.open(path)), image)
    assert count_images(tmp_path / "7") == 1
    assert count_images(tmp_path / "missing") == 0


def test_same_timestamp_never_overwrites(tmp_path):
    now = datetime(2026, 1, 2, 3, 4, 5, 6)
    first = save_class_image(np.zeros((8, 8), np.uint8), tmp_path, "a", now=now)
    second = save_class_image(np.full((8, 8), 255, np.uint8), tmp_path, "a", now=now)
    assert first != second and first.is_file() and second.is_file()
    assert count_images(tmp_path / "a") == 2


@pytest.mark.parametrize("name", ["", "..", "a/b"])
def test_class_names_that_are_not_folder_names_are_refused(tmp_path, name):
    with pytest.raises(DatasetError, match="Received"):
        save_class_image(np.zeros((8, 8), np.uint8), tmp_path, name)


def test_a_save_that_fails_half_way_leaves_nothing_in_the_dataset(tmp_path, monkeypatch):
    from PIL import Image

    def half_then_fail(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"\x89PNG\r\n\x1a\n half")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_class_image(np.zeros((28, 28), np.uint8), tmp_path, "7")
    assert list((tmp_path / "7").iterdir()) == []

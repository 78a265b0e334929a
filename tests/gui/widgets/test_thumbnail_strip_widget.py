from __future__ import annotations

import gc

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from workbench.gui.widgets.thumbnail_strip_widget import ThumbnailStripWidget, array_to_qimage

pytestmark = pytest.mark.gui


def _images(n: int, size: int = 28) -> list[np.ndarray]:
    return [np.full((size, size), 20 * i, dtype=np.uint8) for i in range(n)]


@pytest.mark.parametrize(
    ("array", "fmt"),
    [
        (np.zeros((5, 7), np.uint8), QImage.Format.Format_Grayscale8),
        (np.zeros((5, 7, 1), np.uint8), QImage.Format.Format_Grayscale8),
        (np.zeros((5, 7, 3), np.float32), QImage.Format.Format_RGB888),
        (np.zeros((5, 7, 4), np.uint8), QImage.Format.Format_RGBA8888),
    ],
)
def test_array_shapes_convert(array, fmt):
    image = array_to_qimage(array)
    assert (image.width(), image.height(), image.format()) == (7, 5, fmt)


def test_conversion_keeps_pixels_and_owns_them():
    rgb = np.zeros((4, 6, 3), np.float64)
    rgb[1, 2] = (255.0, 127.6, -5.0)  # out of range values are clipped, floats rounded
    rgb = rgb[:, ::1]  # odd row strides (6*3 bytes) must not shear the image
    image = array_to_qimage(rgb)
    del rgb
    gc.collect()
    colour = image.pixelColor(2, 1)
    assert (colour.red(), colour.green(), colour.blue()) == (255, 128, 0)
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    image = array_to_qimage(grey)
    grey[:] = 255  # the QImage owns a copy, so later changes to the array do not show
    assert image.pixelColor(3, 2).red() == 11


def test_non_contiguous_arrays_convert():
    wide = np.arange(2 * 10, dtype=np.uint8).reshape(2, 10)
    image = array_to_qimage(wide[:, ::2])  # a strided view
    assert image.width() == 5 and image.pixelColor(1, 1).red() == wide[1, 2]


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="Received: shape \\(4, 4, 2\\)"):
        array_to_qimage(np.zeros((4, 4, 2)))


def test_clicking_a_thumbnail_emits_its_index(qtbot):
    strip = ThumbnailStripWidget()
    qtbot.addWidget(strip)
    strip.set_images(_images(5), [f"sample {i}" for i in range(5)])
    strip.show()
    qtbot.waitExposed(strip)
    with qtbot.waitSignal(strip.image_clicked, timeout=2000) as blocker:
        qtbot.mouseClick(strip.button(2), Qt.MouseButton.LeftButton)
    assert blocker.args == [2]
    assert strip.button(2).accessibleName() == "sample 2"
    assert strip.button(2).objectName() == "thumbnail_2"


def test_strip_is_one_row_and_grid_has_n_columns(qtbot):
    strip = ThumbnailStripWidget()
    grid = ThumbnailStripWidget(columns=3)
    for widget in (strip, grid):
        qtbot.addWidget(widget)
        widget.set_images(_images(7), [str(i) for i in range(7)])
        widget.resize(400, 400)
        widget.show()
    qtbot.waitExposed(grid)
    assert len({strip.button(i).y() for i in range(7)}) == 1
    assert [grid.button(i).x() for i in (0, 3, 6)] == [grid.button(0).x()] * 3
    assert grid.button(0).y() < grid.button(3).y() < grid.button(6).y()
    assert len({grid.button(i).x() for i in range(7)}) == 3


def test_set_images_replaces_and_validates(qtbot):
    strip = ThumbnailStripWidget()
    qtbot.addWidget(strip)
    strip.set_images(_images(4), ["a", "b", "c", "d"])
    strip.set_images(_images(2), ["x", "y"])
    assert strip.count() == 2
    with pytest.raises(ValueError, match="Received: 2 images and 1 captions"):
        strip.set_images(_images(2), ["only one"])
    with pytest.raises(ValueError):
        strip.set_images([np.zeros((3, 3, 5))], ["bad"])
    assert strip.count() == 2  # a failed call leaves what was shown
    strip.clear()
    assert strip.count() == 0


def test_a_long_caption_wraps_after_its_arrow_instead_of_being_cut(qtbot):
    from PySide6.QtGui import QFontMetrics

    from workbench.gui.widgets.thumbnail_strip_widget import MIN_CAPTION_PX, wrap_caption

    strip = ThumbnailStripWidget(thumb_size=64)
    qtbot.addWidget(strip)
    metrics = QFontMetrics(strip.font())
    assert wrap_caption("dress→t-shirt 97%", metrics, MIN_CAPTION_PX) == ["dress→", "t-shirt 97%"]
    lines = wrap_caption("dress_or_sundress→shoes_and_sneakers 97%", metrics, MIN_CAPTION_PX)
    assert len(lines) == 2 and lines[0].endswith("→") and lines[1].endswith("97%")
    assert all(metrics.horizontalAdvance(line) <= MIN_CAPTION_PX for line in lines)
    strip.set_images([np.zeros((8, 8), np.uint8)], ["dress→t-shirt 97%"])
    assert strip.button(0).text() == "dress→\nt-shirt 97%"
    assert strip.button(0).toolTip() == "dress→t-shirt 97%"

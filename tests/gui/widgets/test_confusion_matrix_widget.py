from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from workbench.gui.widgets.confusion_matrix_widget import ConfusionMatrixWidget

pytestmark = pytest.mark.gui

NAMES = ["ant", "bee", "cat", "dog"]
MATRIX = np.array([[50, 2, 0, 1], [3, 40, 5, 0], [0, 7, 30, 9], [1, 0, 4, 45]])


@pytest.fixture
def matrix_widget(qtbot):
    widget = ConfusionMatrixWidget()
    qtbot.addWidget(widget)
    widget.resize(500, 500)
    widget.set_matrix(MATRIX, NAMES)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_clicking_a_cell_emits_true_and_predicted(matrix_widget, qtbot):
    pos = matrix_widget.cell_center(2, 1)
    with qtbot.waitSignal(matrix_widget.cell_clicked, timeout=2000) as blocker:
        qtbot.mouseClick(matrix_widget.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [2, 1]
    assert matrix_widget.selected_cell() == (2, 1)


def test_click_outside_the_cells_emits_nothing(matrix_widget, qtbot):
    with qtbot.assertNotEmitted(matrix_widget.cell_clicked):
        qtbot.mouseClick(matrix_widget.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(2, 2))
    assert matrix_widget.cell_at(2, 2) is None


def test_rows_run_down_and_columns_run_across(matrix_widget):
    for row in range(4):
        for col in range(4):
            centre = matrix_widget.cell_center(row, col)
            assert matrix_widget.cell_at(centre.x(), centre.y()) == (row, col)
    assert matrix_widget.cell_center(0, 0).y() < matrix_widget.cell_center(3, 0).y()
    assert matrix_widget.cell_center(0, 0).x() < matrix_widget.cell_center(0, 3).x()


def test_cells_show_counts_with_readable_text(matrix_widget):
    assert matrix_widget.cell_label(2, 3)[0] == "9"
    assert matrix_widget.cell_label(0, 0)[0] == "50"
    # The darkest cell (the maximum) gets light text, an almost empty one dark text.
    assert matrix_widget.cell_label(0, 0)[1].lightness() > 200
    assert matrix_widget.cell_label(0, 2)[1].lightness() < 60
    ticks = matrix_widget.view.getPlotItem().getAxis("left")._tickLevels[0]
    assert [label for _pos, label in ticks] == NAMES


def test_cell_numbers_are_painted_inside_their_cells(matrix_widget):
    image = matrix_widget.view.grab().toImage()

    def lightest_and_darkest(row: int, col: int) -> tuple[int, int]:
        centre = matrix_widget.cell_center(row, col)
        values = [image.pixelColor(centre.x() + dx, centre.y() + dy).lightness()
                  for dx in range(-12, 13) for dy in range(-8, 9)]
        return max(values), min(values)

    # (0, 0) is the darkest cell: its "50" is painted in white on dark blue.
    brightest, darkest = lightest_and_darkest(0, 0)
    assert darkest < 80 and brightest > 200
    # (0, 2) is almost white: its "0" is painted in near-black.
    brightest, darkest = lightest_and_darkest(0, 2)
    assert brightest > 200 and darkest < 80


def test_row_normalisation_shows_shares(matrix_widget):
    matrix_widget.set_normalize_rows(True)
    assert matrix_widget.cell_label(2, 2)[0] == f"{30 / 46:.0%}"
    # 65% of its row is a dark cell, so its text is light.
    assert matrix_widget.cell_label(2, 2)[1].lightness() > 200


def test_hovering_a_cell_names_it_in_full(matrix_widget, qtbot):
    qtbot.mouseMove(matrix_widget.view.viewport(), matrix_widget.cell_center(1, 2))
    qtbot.waitUntil(lambda: matrix_widget.view.toolTip() != "", timeout=2000)
    assert matrix_widget.view.toolTip() == "true bee → predicted cat: 5"


def test_keyboard_moves_and_activates(matrix_widget, qtbot):
    matrix_widget.view.setFocus()
    qtbot.keyClick(matrix_widget.view, Qt.Key.Key_Down)  # first arrow selects (0, 0)
    qtbot.keyClick(matrix_widget.view, Qt.Key.Key_Right)
    qtbot.keyClick(matrix_widget.view, Qt.Key.Key_Down)
    with qtbot.waitSignal(matrix_widget.cell_clicked, timeout=2000) as blocker:
        qtbot.keyClick(matrix_widget.view, Qt.Key.Key_Return)
    assert blocker.args == [1, 1]


def test_selection_survives_a_new_matrix_of_the_same_size(matrix_widget):
    matrix_widget.select_cell(3, 2)
    matrix_widget.set_matrix(MATRIX * 2, NAMES)
    assert matrix_widget.selected_cell() == (3, 2)
    matrix_widget.set_matrix(np.eye(2, dtype=int), ["a", "b"])
    assert matrix_widget.selected_cell() is None


def test_rejects_a_matrix_that_does_not_match_the_names(qtbot):
    widget = ConfusionMatrixWidget()
    qtbot.addWidget(widget)
    with pytest.raises(ValueError, match="Received: matrix shape \\(2, 3\\)"):
        widget.set_matrix(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="3 class names"):
        widget.set_matrix(np.zeros((2, 2)), ["a", "b", "c"])


def test_every_class_is_named_on_both_axes_when_names_are_long(qtbot):
    names = ["dress_or_sundress", "hat_or_cap", "longsleeve_top", "outerwear_jacket", "pants_and_trousers",
             "shirt_with_collar", "shoes_and_sneakers", "shorts", "skirt", "t-shirt"]
    widget = ConfusionMatrixWidget()
    qtbot.addWidget(widget)
    widget.resize(560, 520)
    widget.set_matrix(np.eye(len(names), dtype=int) * 5 + 1, names)
    widget.show()
    qtbot.waitExposed(widget)
    labels = widget.axis_labels()
    # Side by side they would overlap: the columns' names are written upwards, one per column.
    assert [i for i, _text in labels["bottom"]] == list(range(len(names)))
    assert [i for i, _text in labels["left"]] == list(range(len(names)))
    assert widget.view.getPlotItem().getAxis("bottom").is_vertical()
    for i, text in labels["bottom"]:  # elided in the middle at most: both ends kept
        assert text == names[i] or (text[0] == names[i][0] and text[-1] == names[i][-1] and "…" in text)
    # The full name is under the pointer's tooltip on the axis.
    below = widget.cell_center(len(names) - 1, 4)
    widget._on_mouse_moved(widget.view.mapToScene(below.x(), below.y() + 60))
    assert widget.view.toolTip() == "predicted class: pants_and_trousers"


def test_short_names_stay_side_by_side(matrix_widget):
    assert not matrix_widget.view.getPlotItem().getAxis("bottom").is_vertical()
    assert [text for _i, text in matrix_widget.axis_labels()["bottom"]] == NAMES

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontMetrics

from workbench.gui.widgets._style import BLUE, WARNING, slot_pixels
from workbench.gui.widgets.class_counts_widget import ClassCountsWidget

pytestmark = pytest.mark.gui

NAMES = ["apple", "banana", "cherry", "date"]


@pytest.fixture
def counts_widget(qtbot):
    widget = ClassCountsWidget()
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_small_and_imbalancing_classes_are_flagged(counts_widget):
    # banana: under 5 samples; date: 15 * 5 < 100, so under a fifth of the largest class.
    counts_widget.set_counts(NAMES, [100, 3, 90, 15])
    assert counts_widget.highlighted() == {"banana", "date"}
    assert counts_widget.bar_colors() == [BLUE.name(), WARNING.name(), BLUE.name(), WARNING.name()]
    caption = counts_widget.findChild(type(counts_widget._caption), "classCountsCaption").text()
    assert "banana (3)" in caption and "date (15)" in caption and "apple" not in caption


def test_balanced_counts_flag_nothing(counts_widget):
    counts_widget.set_counts(NAMES, [40, 35, 38, 41])
    assert counts_widget.highlighted() == set()
    assert set(counts_widget.bar_colors()) == {BLUE.name()}


def test_explicit_highlight_wins(counts_widget):
    counts_widget.set_counts(NAMES, [100, 3, 90, 15], highlight={"apple"})
    assert counts_widget.highlighted() == {"apple"}
    assert counts_widget.bar_colors()[0] == WARNING.name()
    assert counts_widget.bar_colors()[1] == BLUE.name()


def test_bars_and_axis_follow_the_data(counts_widget):
    counts_widget.set_counts(NAMES, [7, 8, 9, 10])
    bars = counts_widget._bars.opts
    assert list(bars["height"]) == [7, 8, 9, 10]
    ticks = counts_widget._view.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [label for _x, label in ticks] == NAMES
    counts_widget.clear()
    assert counts_widget.bar_colors() == []
    assert counts_widget.highlighted() == set()


def test_crowded_names_and_counts_never_overlap(counts_widget, qtbot):
    names = [f"a rather long class name {i}" for i in range(50)]
    counts_widget.resize(500, 300)
    counts_widget.set_counts(names, list(range(100, 150)))
    qtbot.waitUntil(lambda: counts_widget._view.width() <= 500, timeout=2000)
    axis = counts_widget._view.getPlotItem().getAxis("bottom")
    labels = axis._tickLevels[0]
    metrics = QFontMetrics(counts_widget._view.font())
    slot = slot_pixels(counts_widget._view)
    assert 1 <= len(labels) < 50
    for (x1, t1), (x2, t2) in zip(labels, labels[1:]):
        assert (x2 - x1) * slot >= (metrics.horizontalAdvance(t1) + metrics.horizontalAdvance(t2)) / 2
    assert all(names[x].startswith(t.split("…")[0]) and names[x].endswith(t.split("…")[-1])
               for x, t in labels)
    assert not any(text.isVisible() for text in counts_widget._texts)
    counts_widget.set_counts(NAMES, [7, 8, 9, 10])  # few classes: room for names and counts again
    assert [t for _x, t in axis._tickLevels[0]] == NAMES
    assert all(text.isVisible() for text in counts_widget._texts)


def test_mismatched_lengths_are_rejected(counts_widget):
    with pytest.raises(ValueError, match="Received: 4 names and 3 counts"):
        counts_widget.set_counts(NAMES, [1, 2, 3])

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

from workbench.gui.widgets._style import fit_category_labels, shorten

pytestmark = pytest.mark.gui


@pytest.fixture
def metrics(qapp) -> QFontMetrics:
    return QFontMetrics(QApplication.font())


def test_names_that_fit_are_kept_whole(metrics):
    names = ["cat", "dog", "horse"]
    assert fit_category_labels(names, 200, metrics) == [(0, "cat"), (1, "dog"), (2, "horse")]


def test_long_names_are_elided_to_their_slot(metrics):
    names = ["automobile", "aeroplane", "motorcycle"]
    slot = metrics.horizontalAdvance("automo") + metrics.horizontalAdvance("  ") + 12
    labels = fit_category_labels(names, slot, metrics)
    assert [i for i, _t in labels] == [0, 1, 2]
    for i, text in labels:
        head, tail = text.split("…")
        assert names[i].startswith(head) and names[i].endswith(tail) and head and tail
        assert metrics.horizontalAdvance(text) <= slot


def test_too_narrow_slots_name_every_nth_category(metrics):
    names = [f"class {i}" for i in range(40)]
    labels = fit_category_labels(names, 8, metrics)
    indices = [i for i, _t in labels]
    assert indices[0] == 0 and len(indices) < 40
    assert len({b - a for a, b in zip(indices, indices[1:])}) == 1  # evenly spaced
    assert all(len(t) > 3 or t == names[i] for i, t in labels)


def test_shorten_keeps_both_ends():
    assert shorten("cat") == "cat"
    short = shorten("class_with_long_name_11", 12)
    assert len(short) == 12 and short.startswith("class_") and short.endswith("_11")

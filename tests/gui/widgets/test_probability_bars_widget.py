from __future__ import annotations

import numpy as np
import pytest

from workbench.gui.widgets._style import BLUE, GREY, WARNING
from workbench.gui.widgets.probability_bars_widget import ProbabilityBarsWidget

pytestmark = pytest.mark.gui

NAMES = ["cat", "dog", "horse"]


@pytest.fixture
def bars(qtbot):
    widget = ProbabilityBarsWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _brush_colours(widget: ProbabilityBarsWidget) -> list[str]:
    return [b.color().name() for b in widget._bars.opts["brushes"]]


def test_confident_prediction_names_the_top_class(bars):
    bars.set_probabilities(NAMES, [0.1, 0.85, 0.05])
    assert bars.top_label_text() == "dog · 85%"
    assert "not sure" not in bars.top_label_text()
    assert _brush_colours(bars) == [GREY.name(), BLUE.name(), GREY.name()]
    np.testing.assert_allclose(bars._bars.opts["width"], [10, 85, 5])


def test_low_confidence_says_not_sure(bars):
    bars.set_probabilities(NAMES, [0.45, 0.40, 0.15])
    assert bars.top_label_text().startswith("not sure")
    assert "cat" in bars.top_label_text() and "45%" in bars.top_label_text()
    assert _brush_colours(bars)[0] == WARNING.name()


def test_threshold_is_settable(bars):
    assert bars.threshold() == pytest.approx(0.6)
    bars.set_probabilities(NAMES, [0.45, 0.40, 0.15])
    bars.set_threshold(0.4)
    assert bars.top_label_text() == "cat · 45%"
    bars.set_threshold(0.5)
    assert "not sure" in bars.top_label_text()
    with pytest.raises(ValueError, match="Received: 1.5"):
        bars.set_threshold(1.5)


def test_exactly_at_threshold_counts_as_sure(bars):
    bars.set_probabilities(["a", "b"], [0.6, 0.4])
    assert "not sure" not in bars.top_label_text()


def test_repeated_updates_reuse_the_items_and_clear_resets(bars):
    bars.set_probabilities(NAMES, [0.2, 0.7, 0.1])
    texts = list(bars._texts)
    bars.set_probabilities(NAMES, [0.9, 0.05, 0.05])
    assert bars._texts == texts  # same names: nothing rebuilt
    assert [t.toPlainText() for t in texts] == ["90%", "5%", "5%"]
    bars.set_probabilities(["x", "y"], [0.3, 0.7])
    assert len(bars._texts) == 2
    bars.clear()
    assert bars.top_label_text() == "–"
    assert bars._texts == []


def test_mismatched_input_is_rejected(bars):
    with pytest.raises(ValueError, match="Received: 3 names and 2 probabilities"):
        bars.set_probabilities(NAMES, [0.5, 0.5])

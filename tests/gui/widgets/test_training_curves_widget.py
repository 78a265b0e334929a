from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest

from workbench.gui.widgets.training_curves_widget import TrainingCurvesWidget

pytestmark = pytest.mark.gui


@pytest.fixture
def curves(qtbot):
    widget = TrainingCurvesWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _batch(i: int, steps: int = 100, loss: float | None = None) -> dict:
    epoch, step = divmod(i, steps)
    return {
        "epoch": epoch + 1, "step": step + 1, "steps_per_epoch": steps,
        "loss": loss if loss is not None else 2.0 / (1 + i / 50) + 0.3 * math.sin(i),
        "accuracy": min(1.0, i / 500),
    }


def _curve_len(widget: TrainingCurvesWidget, metric: str, kind: str) -> int:
    x, _y = widget.curve(metric, kind).getOriginalDataset()
    return 0 if x is None else len(x)


def _as_keras_reports(values: list[float], steps: int = 100) -> list[dict]:
    """Keras-style batch reports: ``loss`` is the running mean since the start of the epoch."""
    reports, total = [], 0.0
    for i, value in enumerate(values):
        epoch, step = divmod(i, steps)
        total = value if step == 0 else total + value
        reports.append({"epoch": epoch + 1, "step": step + 1, "steps_per_epoch": steps,
                        "loss": total / (step + 1), "accuracy": min(1.0, i / 500)})
    return reports


def test_batch_points_are_drawn_by_the_paced_redraw(curves, qtbot):
    raw = [_batch(i)["loss"] for i in range(500)]
    for report in _as_keras_reports(raw):
        curves.add_batch_point(report)
    assert curves.point_counts() == {"batch": 500, "epoch": 0}
    qtbot.waitUntil(lambda: _curve_len(curves, "loss", "batch") == 500, timeout=2000)
    x, y = curves.curve("loss", "batch").getOriginalDataset()
    assert x[-1] == pytest.approx(5.0)  # epoch 5, step 100 of 100 -> end of the fifth epoch
    assert x[0] == pytest.approx(0.01)
    # The running means are undone: the curve shows each batch's own loss, with no jump at epochs.
    np.testing.assert_allclose(y, raw, rtol=1e-6, atol=1e-9)
    _sx, smoothed = curves.curve("loss", "smoothed").getOriginalDataset()
    assert len(smoothed) == 500
    assert min(raw) <= smoothed[-1] <= max(raw)
    # The debiased EMA starts at the first value instead of being dragged towards zero.
    assert smoothed[0] == pytest.approx(raw[0])
    # Smoothing really smooths: the smoothed curve varies less than the raw one.
    assert np.std(np.diff(smoothed)) < np.std(np.diff(raw)) / 2


def test_throttled_reports_show_the_mean_of_the_batches_between_them(curves, qtbot):
    values = [float(i % 7) for i in range(100)]
    reports = _as_keras_reports(values)
    for index in (9, 19, 49, 99):  # every few batches, as the ~10 Hz throttle sends them
        curves.add_batch_point(reports[index])
    qtbot.waitUntil(lambda: _curve_len(curves, "loss", "batch") == 4, timeout=2000)
    _x, y = curves.curve("loss", "batch").getOriginalDataset()
    expected = [np.mean(values[0:10]), np.mean(values[10:20]), np.mean(values[20:50]), np.mean(values[50:100])]
    np.testing.assert_allclose(y, expected)


def test_points_are_not_drawn_one_by_one(curves, qtbot, monkeypatch):
    calls = []
    item = curves.curve("loss", "batch")
    original = item.setData
    monkeypatch.setattr(item, "setData", lambda *a, **k: (calls.append(1), original(*a, **k)))
    for i in range(2000):
        curves.add_batch_point(_batch(i))
    assert calls == []  # nothing drawn synchronously per point
    qtbot.waitUntil(lambda: len(calls) >= 1, timeout=2000)
    assert len(calls) == 1
    assert _curve_len(curves, "loss", "batch") == 2000


def test_epoch_points_skip_missing_validation(curves, qtbot):
    curves.add_epoch_point({"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": None,
                            "val_accuracy": None})
    curves.add_epoch_point({"epoch": 2, "loss": 0.8, "accuracy": 0.6, "val_loss": 0.9,
                            "val_accuracy": float("nan")})
    curves.add_epoch_point({"epoch": 3, "loss": 0.6, "accuracy": 0.7, "val_loss": 0.7,
                            "val_accuracy": 0.65})
    qtbot.waitUntil(lambda: _curve_len(curves, "loss", "train") == 3, timeout=2000)
    assert curves.point_counts()["epoch"] == 3
    assert _curve_len(curves, "loss", "val") == 2
    assert _curve_len(curves, "accuracy", "val") == 1
    x, y = curves.curve("accuracy", "train").getOriginalDataset()
    assert list(x) == [1.0, 2.0, 3.0] and list(y) == [0.5, 0.6, 0.7]


def test_batch_without_accuracy_still_draws_loss(curves, qtbot):
    curves.add_batch_point({"epoch": 1, "step": 1, "steps_per_epoch": 10, "loss": 1.5})
    qtbot.waitUntil(lambda: _curve_len(curves, "loss", "batch") == 1, timeout=2000)
    assert _curve_len(curves, "accuracy", "batch") == 0


def test_clear_forgets_the_run(curves, qtbot):
    for i in range(300):
        curves.add_batch_point(_batch(i))
    curves.add_epoch_point({"epoch": 1, "loss": 1.0, "accuracy": 0.5})
    qtbot.waitUntil(lambda: _curve_len(curves, "loss", "batch") == 300, timeout=2000)
    curves.clear()
    assert curves.point_counts() == {"batch": 0, "epoch": 0}
    assert _curve_len(curves, "loss", "batch") == 0
    assert _curve_len(curves, "loss", "train") == 0
    curves.add_batch_point(_batch(0, loss=3.0))
    qtbot.waitUntil(lambda: _curve_len(curves, "loss", "smoothed") == 1, timeout=2000)
    # The smoothing restarted too: the first point after clear() is not mixed with the old run.
    assert curves.curve("loss", "smoothed").getOriginalDataset()[1][0] == pytest.approx(3.0)


def test_overlays_are_added_replaced_and_removed(curves):
    history = {"loss": [1.0, 0.7, 0.5], "val_loss": [1.1, 0.9, 0.8],
               "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.45, 0.6, 0.7]}
    curves.set_overlays([("run A", history), ("run B", {"loss": [2.0, 1.0]})])
    names = curves.overlay_names()
    assert names.count("run A") == 2 and names.count("run A (val)") == 2
    assert names == ["run A", "run A (val)", "run A", "run A (val)", "run B"]
    legend = curves.plot("loss").legend
    assert "run B" in [label.text for _sample, label in legend.items]
    curves.set_overlays([("run C", {"loss": [1.0]})])
    assert curves.overlay_names() == ["run C"]
    assert "run A" not in [label.text for _sample, label in legend.items]
    curves.set_overlays([])
    assert curves.overlay_names() == []


def test_plots_share_the_epoch_axis(curves):
    assert curves.plot("accuracy").getViewBox().linkedView(pg.ViewBox.XAxis) is curves.plot(
        "loss").getViewBox()
    assert curves.findChild(pg.PlotWidget, "lossCurvesPlot") is not None
    assert curves.findChild(pg.PlotWidget, "accuracyCurvesPlot") is not None


def test_a_live_run_is_framed_from_zero_to_its_last_epoch(curves, qtbot):
    curves.set_epoch_span(5)
    for i in range(150):  # one and a half epochs of 100 steps
        curves.add_batch_point(_batch(i))
    qtbot.waitUntil(lambda: _curve_len(curves, "loss", "batch") == 150, timeout=2000)
    for metric in ("loss", "accuracy"):  # the loss plot follows through the x link
        x_min, x_max = curves.plot(metric).getViewBox().viewRange()[0]
        assert -0.2 < x_min <= 0.0 and 5.0 <= x_max < 5.2
    # A longer past run overlaid widens the frame so it shows whole.
    curves.set_overlays([("run A", {"loss": [1.0] * 8})])
    assert 8.0 <= curves.plot("accuracy").getViewBox().viewRange()[0][1] < 8.3


def _lines(curves, metric: str) -> list[pg.InfiniteLine]:
    return [item for item in curves.plot(metric).items if isinstance(item, pg.InfiniteLine)]


def test_a_later_phase_is_marked_where_it_begins(curves, qtbot):
    # A run in two phases, as the trainer reports it: 3 head epochs, then fine-tuning from epoch 4.
    for i in range(600):
        curves.add_batch_point(_batch(i))
        if (i + 1) % 100 == 0:
            epoch = (i + 1) // 100
            curves.add_epoch_point({"epoch": epoch, "loss": 1.0 / epoch, "accuracy": 0.5, "val_loss": 1.1 / epoch,
                                    "val_accuracy": 0.4})
            if epoch == 3:
                curves.add_phase_marker(3, "fine-tune")  # phase 2's first epoch is 4: its batches start at x=3
    assert curves.phase_markers() == [(3.0, "fine-tune")]
    for metric in ("loss", "accuracy"):
        (line,) = _lines(curves, metric)
        assert line.value() == pytest.approx(3.0) and line.angle == 90 and not line.movable
    (labelled,) = _lines(curves, "loss")
    assert labelled.label is not None and labelled.label.format == "fine-tune"
    qtbot.waitUntil(lambda: _curve_len(curves, "loss", "batch") == 600, timeout=2000)
    x, _y = curves.curve("loss", "train").getOriginalDataset()
    assert list(x) == [1, 2, 3, 4, 5, 6]  # one timeline over both phases

    curves.add_phase_marker(3, "fine-tune")  # announced again (a resumed run): still one line
    assert len(_lines(curves, "loss")) == 1
    curves.clear()
    assert curves.phase_markers() == [] and _lines(curves, "loss") == [] and _lines(curves, "accuracy") == []


def test_the_legend_sits_above_the_plot_not_over_the_newest_points(curves, qtbot):
    curves.resize(600, 400)
    curves.set_epoch_span(2)
    for epoch in (1, 2):
        curves.add_epoch_point({"epoch": epoch, "loss": 1.0 / epoch, "accuracy": 0.5, "val_loss": 0.9,
                                "val_accuracy": 0.5})
    qtbot.waitUntil(lambda: _curve_len(curves, "loss", "val") == 2, timeout=2000)
    plot = curves.plot("loss")
    legend = plot.legend
    assert [label.text for _sample, label in legend.items][:3] == [
        "train (batches, smoothed)", "train (epoch)", "validation (epoch)"]
    legend_rect = legend.sceneBoundingRect()
    data_rect = plot.getViewBox().sceneBoundingRect()
    assert legend_rect.height() > 0 and legend_rect.bottom() <= data_rect.top() + 1
    # Both plots' data areas still line up, so the linked epoch axes agree.
    accuracy_box = curves.plot("accuracy").getViewBox()
    assert abs(accuracy_box.sceneBoundingRect().width() - data_rect.width()) < 2

"""Live loss and accuracy curves: raw and smoothed batches, train and validation epochs, past runs,
and a labelled vertical line where each later phase of a run begins (transfer learning's fine-tuning).

Follows pyqtgraph's ``scrollingPlots``/``PlotSpeedTest`` pattern: one persistent PlotDataItem per
series, numpy buffers that grow by doubling, and a paced redraw. Incoming points only append to the
buffers and mark them dirty; a single-shot QTimer redraws at most 5 times a second, so thousands
of batch points cost a few ``setData`` calls, not thousands.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from workbench.gui.widgets._plot_items import add_legend_above
from workbench.gui.widgets._style import BLUE, GREY, SERIES_COLORS, VERMILLION, make_plot_widget, palette_colors
from workbench.gui.widgets.empty_state_widget import EmptyStateWidget

METRICS = ("loss", "accuracy")
KINDS = ("batch", "smoothed", "train", "val")
# Every redraw repaints both plots and sends them to the display server, CPU taken from training
# on a 2-core machine; 5 Hz still reads as live, and each redraw takes in two ~10 Hz batch reports.
REDRAW_INTERVAL_MS = 200
EMPTY_MESSAGE = ("No training run yet.\n\nChoose a dataset (1 Data) and a template (2 Model), then press Start: "
                 "loss and accuracy are drawn here as the model learns. Select two or more runs in the Runs "
                 "list to compare their curves.")


class _GrowingBuffer:
    """x/y float buffers that double when full, so appending is amortised O(1)."""

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.size = 0

    def append(self, x: float, y: float) -> None:
        if self.size == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x[: self.size], self._y[: self.size]

    def clear(self) -> None:
        self.size = 0


def _as_float(value: Any) -> float:
    """None, missing or non-numeric values become NaN, which the curves skip."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class TrainingCurvesWidget(QWidget):
    """Two linked plots (loss, accuracy) whose x axis is in epochs, fractional for batches."""

    def __init__(self, parent: QWidget | None = None, smoothing: float = 0.6) -> None:
        super().__init__(parent)
        self.setObjectName("trainingCurvesWidget")
        self.setAccessibleName("Training curves")
        self._smoothing = smoothing
        self._buffers = {m: {k: _GrowingBuffer() for k in KINDS} for m in METRICS}
        self._ema = {m: (0.0, 0) for m in METRICS}  # (biased running mean, finite samples seen)
        self._running: dict[str, tuple[float, float, float]] = {}  # metric -> (epoch, step, running mean)
        self._counts = {"batch": 0, "epoch": 0}
        self._dirty: set[tuple[str, str]] = set()
        self._overlay_items: list[tuple[pg.PlotItem, pg.PlotDataItem]] = []
        self._epoch_span = 0  # epochs of the live run, 0 before a run starts
        self._markers: list[tuple[float, str, list[tuple[pg.PlotItem, pg.InfiniteLine]]]] = []

        plots = QWidget(self)
        plots.setObjectName("trainingCurvesPlots")
        plots.setAccessibleName("Training curves")
        plots_layout = QVBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.setSpacing(2)
        self._views: dict[str, pg.PlotWidget] = {}
        self._curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        for metric in METRICS:
            view = make_plot_widget(f"{metric}CurvesPlot", f"{metric.capitalize()} curves", plots)
            plots_layout.addWidget(view)
            self._views[metric] = view
            self._curves[metric] = self._make_curves(view.getPlotItem(), metric)
        loss_plot, acc_plot = self.plot("loss"), self.plot("accuracy")
        acc_plot.setXLink(loss_plot)
        # The loss plot shares the accuracy plot's x axis, so its own tick labels are noise.
        loss_plot.getAxis("bottom").setStyle(showValues=False)
        acc_plot.setLabel("bottom", "epoch")
        # Until a run starts (or past runs are overlaid) the plots give their place to what to do.
        self._empty_state = EmptyStateWidget(plots, EMPTY_MESSAGE, self, object_name="trainingCurvesEmptyState")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._empty_state)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setObjectName("trainingCurvesRedrawTimer")
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self._on_redraw_timeout)

    def _make_curves(self, plot: pg.PlotItem, metric: str) -> dict[str, pg.PlotDataItem]:
        plot.setLabel("left", metric)
        # A fixed axis width keeps the two plots' x axes aligned whatever the tick label lengths.
        plot.getAxis("left").setWidth(52)
        # No grid: pyqtgraph draws grid lines as part of each axis picture, and replaying those
        # pictures was over half of the GUI thread's time while training (profiled on 2 cores).
        plot.showGrid(x=False, y=False)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        if metric == "loss":  # one legend serves both plots: the styles are the same
            # In a row above the plot: inside it, it covered the newest points (the last validation marker).
            add_legend_above(plot, columns=4)
        faint = pg.mkColor(BLUE)
        faint.setAlpha(60)
        return {
            # Raw batches stay out of the legend: the smoothed curve is what people read.
            "batch": plot.plot(pen=pg.mkPen(faint, width=1)),
            "smoothed": plot.plot(pen=pg.mkPen(BLUE, width=2), name="train (batches, smoothed)"),
            "train": plot.plot(
                pen=pg.mkPen(BLUE, width=1.5), symbol="o", symbolSize=7,
                symbolBrush=BLUE, symbolPen=None, name="train (epoch)",
            ),
            "val": plot.plot(
                pen=pg.mkPen(VERMILLION, width=2), symbol="s", symbolSize=7,
                symbolBrush=VERMILLION, symbolPen=None, name="validation (epoch)",
            ),
        }

    # ----------------------------------------------------------------------------------- public
    def plot(self, metric: str) -> pg.PlotItem:
        """The PlotItem of ``metric`` ("loss" or "accuracy")."""
        return self._views[metric].getPlotItem()

    def curve(self, metric: str, kind: str) -> pg.PlotDataItem:
        """The persistent curve of ``metric`` and ``kind`` ("batch", "smoothed", "train", "val")."""
        return self._curves[metric][kind]

    @property
    def empty_state(self) -> EmptyStateWidget:
        """The plots, or what to do before the first run."""
        return self._empty_state

    def point_counts(self) -> dict[str, int]:
        """How many batch and epoch points were received since the last clear()."""
        return dict(self._counts)

    @Slot(dict)
    def add_batch_point(self, payload: dict) -> None:
        """Append one batch report: keys epoch (1-based), step, steps_per_epoch, loss, accuracy."""
        steps = max(_as_float(payload.get("steps_per_epoch")), 1.0)
        x = _as_float(payload.get("epoch")) - 1.0 + _as_float(payload.get("step")) / steps
        if not math.isfinite(x):
            return
        for metric in METRICS:
            y = self._recent_value(metric, payload)
            if not math.isfinite(y):
                continue
            self._buffers[metric]["batch"].append(x, y)
            self._buffers[metric]["smoothed"].append(x, self._smooth(metric, y))
            self._dirty.update({(metric, "batch"), (metric, "smoothed")})
        self._counts["batch"] += 1
        self._sync_empty_state()
        self._schedule_redraw()

    @Slot(dict)
    def add_epoch_point(self, payload: dict) -> None:
        """Append one epoch: keys epoch, loss, accuracy, val_loss, val_accuracy (val may be None)."""
        x = _as_float(payload.get("epoch"))
        if not math.isfinite(x):
            return
        for metric in METRICS:
            for kind, key in (("train", metric), ("val", f"val_{metric}")):
                y = _as_float(payload.get(key))
                if math.isfinite(y):  # a run without validation just has no val points
                    self._buffers[metric][kind].append(x, y)
                    self._dirty.add((metric, kind))
        self._counts["epoch"] += 1
        self._sync_empty_state()
        self._schedule_redraw()

    @Slot()
    def _recent_value(self, metric: str, payload: dict) -> float:
        """The mean over the batches since the previous report.

        Keras reports a running mean that restarts every epoch, which lags and jumps at epoch
        boundaries; undoing it from two consecutive reports shows what the latest batches did.
        """
        running = _as_float(payload.get(metric))
        epoch, step = _as_float(payload.get("epoch")), _as_float(payload.get("step"))
        last = self._running.get(metric)
        self._running[metric] = (epoch, step, running)
        if not (math.isfinite(running) and math.isfinite(step)):
            return running
        if last is None or last[0] != epoch or not step > last[1] or not math.isfinite(last[2]):
            previous_step, previous_mean = 0.0, 0.0
        else:
            previous_step, previous_mean = last[1], last[2]
        if step <= previous_step:
            return running
        return (running * step - previous_mean * previous_step) / (step - previous_step)

    def set_epoch_span(self, epochs: int) -> None:
        """Show the whole run, 0 to ``epochs``, on the x axis from its start.

        The curves then grow into a fixed frame instead of rescaling on every redraw, which also
        spares pyqtgraph regenerating the epoch axis on every redraw. Panning and the "A"
        (auto-range) button still work as usual.
        """
        self._epoch_span = max(int(epochs), 0)
        self._fit_x_range()
        self._sync_empty_state()

    def _fit_x_range(self) -> None:
        """The live run's span, widened to the longest overlaid run; auto-range without a live run."""
        longest = max((len(item.xData) for _plot, item in self._overlay_items if item.xData is not None),
                      default=0)
        span = max(self._epoch_span, longest)
        if self._epoch_span > 0:
            self.plot("accuracy").setXRange(0.0, float(span), padding=0.02)
        else:
            self.plot("accuracy").enableAutoRange(x=True)

    def add_phase_marker(self, epoch: float, label: str) -> None:
        """A vertical line at ``epoch`` on both plots, ``label`` written beside it on the loss plot.

        The x axis counts epochs, an epoch's batches filling the unit before its number, so a phase
        whose first epoch is N begins at x = N - 1. A second marker at the same place replaces the first.
        """
        x = float(epoch)
        self._remove_markers(lambda mx: mx == x)
        pen = pg.mkPen(GREY, width=1.5, style=Qt.PenStyle.DashLine)
        lines = []
        for metric in METRICS:
            options = {}
            if metric == "loss":
                _background, foreground = palette_colors()
                options = {"label": label, "labelOpts": {"position": 0.92, "color": foreground, "anchors":
                                                         [(0, 0.5), (0, 0.5)], "movable": False}}
            line = pg.InfiniteLine(pos=x, angle=90, movable=False, pen=pen, **options)
            line.setZValue(-5)  # behind the curves
            self.plot(metric).addItem(line, ignoreBounds=True)
            lines.append((self.plot(metric), line))
        self._markers.append((x, label, lines))
        self._sync_empty_state()

    def phase_markers(self) -> list[tuple[float, str]]:
        """The phase markers drawn: (x in epochs, label), in the order they were added."""
        return [(x, label) for x, label, _lines in self._markers]

    def _remove_markers(self, which=lambda _x: True) -> None:
        kept = []
        for x, label, lines in self._markers:
            if which(x):
                for plot, line in lines:
                    plot.removeItem(line)
            else:
                kept.append((x, label, lines))
        self._markers = kept

    def clear(self) -> None:
        """Forget the live run and its phase markers (overlays of past runs stay until set_overlays([]))."""
        self._remove_markers()
        for metric in METRICS:
            for kind in KINDS:
                self._buffers[metric][kind].clear()
                self._curves[metric][kind].setData([], [])
            self._ema[metric] = (0.0, 0)
        self._running.clear()
        self._counts = {"batch": 0, "epoch": 0}
        self._dirty.clear()
        self._redraw_timer.stop()
        self._sync_empty_state()

    def set_overlays(self, runs: list[tuple[str, dict]]) -> None:
        """Draw past runs as dashed (train) and dotted (validation) curves, one colour per run.

        Args:
            runs: (label, Keras-style history) pairs; history maps "loss", "val_loss", "accuracy",
                "val_accuracy" to per-epoch lists. Missing keys are skipped.
        """
        for plot, item in self._overlay_items:
            plot.removeItem(item)  # also removes the legend entry
        self._overlay_items = []
        for index, (label, history) in enumerate(runs):
            color = SERIES_COLORS[(index + 2) % len(SERIES_COLORS)]  # not the live run's colours
            for metric in METRICS:
                plot = self.plot(metric)
                for key, style, suffix in (
                    (metric, Qt.PenStyle.DashLine, ""),
                    (f"val_{metric}", Qt.PenStyle.DotLine, " (val)"),
                ):
                    values = np.asarray(history.get(key) or [], dtype=float)
                    if values.size == 0:
                        continue
                    item = plot.plot(
                        np.arange(1, values.size + 1, dtype=float), values,
                        pen=pg.mkPen(color, width=1.5, style=style), name=f"{label}{suffix}",
                    )
                    self._overlay_items.append((plot, item))
        self._fit_x_range()
        self._sync_empty_state()

    def overlay_names(self) -> list[str]:
        """Legend names of the overlay curves currently drawn."""
        return [item.name() for _plot, item in self._overlay_items]

    # --------------------------------------------------------------------------------- private
    def _sync_empty_state(self) -> None:
        has_run = self._epoch_span > 0 or any(self._counts.values()) or bool(self._markers)
        if has_run or self._overlay_items:
            self._empty_state.show_content()
        else:
            self._empty_state.show_message(EMPTY_MESSAGE)

    def _smooth(self, metric: str, y: float) -> float:
        """Debiased exponential moving average (as TensorBoard does), so early points aren't
        dragged towards zero; it is a weighted mean of the points, so it stays within their range."""
        biased, seen = self._ema[metric]
        biased = self._smoothing * biased + (1.0 - self._smoothing) * y
        seen += 1
        self._ema[metric] = (biased, seen)
        return biased / (1.0 - self._smoothing**seen) if self._smoothing > 0 else y

    def _schedule_redraw(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    @Slot()
    def _on_redraw_timeout(self) -> None:
        for metric, kind in self._dirty:
            self._curves[metric][kind].setData(*self._buffers[metric][kind].view())
        self._dirty.clear()

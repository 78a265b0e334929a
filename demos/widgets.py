"""Every reusable widget alone with demo data: ``python -m demos.widgets NAME [--screenshot PATH]``,
NAME a module of :mod:`workbench.gui.widgets` (``python -m demos.widgets --list`` lists them).

:data:`DEMOS` maps each widget class to its demo; the widget contract test
(``tests/gui/widgets/test_widget_contract.py``) builds every widget through it, so a new widget
needs an entry here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from demos.runner import run_demo
from workbench.gui.widgets.class_counts_widget import ClassCountsWidget
from workbench.gui.widgets.class_thumbnails_widget import ClassThumbnailsWidget
from workbench.gui.widgets.confusion_matrix_widget import ConfusionMatrixWidget
from workbench.gui.widgets.draw_canvas_widget import DrawCanvasWidget, Point
from workbench.gui.widgets.hyperparameter_form_widget import HyperParameterFormWidget
from workbench.gui.widgets.layer_table_widget import LayerTableWidget
from workbench.gui.widgets.level_meter_widget import LevelMeterWidget
from workbench.gui.widgets.log_spin_box import LogSpinBox
from workbench.gui.widgets.per_class_table_widget import PerClassTableWidget
from workbench.gui.widgets.probability_bars_widget import ProbabilityBarsWidget
from workbench.gui.widgets.spectrogram_view_widget import SpectrogramViewWidget
from workbench.gui.widgets.thumbnail_strip_widget import ThumbnailStripWidget
from workbench.gui.widgets.training_curves_widget import TrainingCurvesWidget

SAMPLE_TWO: list[list[Point]] = [
    [
        (0.30, 0.33), (0.34, 0.24), (0.42, 0.18), (0.52, 0.17), (0.61, 0.20), (0.66, 0.28),
        (0.65, 0.38), (0.59, 0.48), (0.50, 0.58), (0.41, 0.68), (0.33, 0.77), (0.30, 0.81),
        (0.40, 0.80), (0.52, 0.79), (0.63, 0.79), (0.72, 0.80),
    ]
]


@dataclass(frozen=True)
class Demo:
    """How to show one widget: ``build()`` makes it (or a holder showing it), filled with demo data."""

    build: Callable[[], QWidget]
    title: str
    size: tuple[int, int]


def class_counts() -> ClassCountsWidget:
    widget = ClassCountsWidget()
    names = ["circle", "square", "triangle", "star", "heart", "hexagon", "arrow", "cross"]
    widget.set_counts(names, [120, 134, 98, 3, 110, 18, 127, 101])
    return widget


def class_thumbnails() -> ClassThumbnailsWidget:
    yy, xx = np.mgrid[0:28, 0:28]
    widget = ClassThumbnailsWidget()
    widget.set_thumbnails({
        f"class {k}": [((np.hypot(yy - 14, xx - 14) < 3 + k + i) * 255).astype(np.uint8) for i in range(6 - k % 3)]
        for k in range(5)
    })
    return widget


def confusion_matrix() -> ConfusionMatrixWidget:
    rng = np.random.default_rng(1)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse"]
    k = len(names)
    matrix = rng.integers(0, 12, size=(k, k))
    matrix[np.arange(k), np.arange(k)] = rng.integers(60, 110, size=k)
    matrix[3, 5], matrix[5, 3] = 31, 24  # cats and dogs get confused
    widget = ConfusionMatrixWidget()
    widget.set_matrix(matrix, names)
    widget.select_cell(3, 5)
    return widget


def draw_canvas() -> QWidget:
    """The canvas with a sample "2" and, beside it, the 28×28 image the model would get."""
    from workbench.core.image.digits import mnist_style

    window = QWidget()
    layout = QHBoxLayout(window)
    canvas = DrawCanvasWidget(window)
    preview = QLabel(window)
    preview.setFixedSize(140, 140)
    preview.setToolTip("What the model sees: mnist_style(render_image())")
    layout.addWidget(canvas, 1)
    layout.addWidget(preview, 0, Qt.AlignmentFlag.AlignTop)
    # Throttle like a real consumer: recompute at most every 50 ms, not on every mouse move.
    timer = QTimer(window, singleShot=True, interval=50)

    def refresh() -> None:
        digit = mnist_style(canvas.render_image())
        pixels = np.zeros((28, 28), np.uint8) if digit is None else digit[..., 0].astype(np.uint8)
        image = QImage(pixels.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
        preview.setPixmap(QPixmap.fromImage(image.scaled(140, 140)))

    timer.timeout.connect(refresh)
    canvas.drawing_changed.connect(timer.start)
    canvas.set_strokes(SAMPLE_TWO)
    return window


def hyperparameter_form() -> HyperParameterFormWidget:
    from workbench.core.templates.base import HyperParameter, training_hyperparameters

    form = HyperParameterFormWidget()
    form.set_specs(training_hyperparameters() + (
        HyperParameter("augment", True, "bool", "Augment the training images."),), {"epochs": 20})
    return form


def layer_table() -> LayerTableWidget:
    """A small transfer model: a frozen two-block base in phase 1, its top block unfrozen in phase 2."""

    def layer(name, kind, shape, params, depth=0, phase=(0, 0), trainable=False, nested=False, path=None):
        return {"name": name, "path": path or name, "depth": depth, "type": kind, "output_shape": shape,
                "params": params, "trainable": trainable, "nested": nested, "phase_params": list(phase)}

    base = [("block1_conv", "Conv2D", "(None, 30, 30, 32)", 896, (0, 0)),
            ("block1_pool", "MaxPooling2D", "(None, 15, 15, 32)", 0, (0, 0)),
            ("block2_conv", "Conv2D", "(None, 13, 13, 64)", 18_496, (0, 18_496)),
            ("block2_pool", "MaxPooling2D", "(None, 6, 6, 64)", 0, (0, 0))]
    layers = [layer("pixels", "InputLayer", "(None, 32, 32, 3)", 0, trainable=True),
              layer("base", "Functional", "(None, 6, 6, 64)", 19_392, phase=(0, 18_496), nested=True)]
    layers += [layer(name, kind, shape, params, 1, phase, path=f"base/{name}")
               for name, kind, shape, params, phase in base]
    layers += [layer("head_pool", "GlobalAveragePooling2D", "(None, 64)", 0, trainable=True),
               layer("head_output", "Dense", "(None, 10)", 650, phase=(650, 650), trainable=True)]
    widget = LayerTableWidget()
    widget.set_summary({
        "model_name": "demo_transfer", "layers": layers, "total_params": 20_042, "trainable_params": 650,
        "non_trainable_params": 19_392, "phases": [
            {"name": "head", "epochs": 8, "learning_rate": 1e-3, "trainable_params": 650, "frozen_params": 19_392,
             "trainable_layers": 1, "weighted_layers": 3},
            {"name": "fine_tune", "epochs": 6, "learning_rate": 1e-4, "trainable_params": 19_146,
             "frozen_params": 896, "trainable_layers": 2, "weighted_layers": 3}]})
    return widget


def level_meter() -> LevelMeterWidget:
    meter = LevelMeterWidget()
    meter.set_levels(-32.0, -18.0)
    meter.set_markers(-55.0, -40.0)
    return meter


def log_spin_box() -> QWidget:
    holder = QWidget()
    holder.setObjectName("logSpinBoxDemo")
    holder.setAccessibleName("Log spin box demo")
    layout = QFormLayout(holder)
    for name, value, low, high in (("learning rate", 1e-3, 1e-6, 1.0), ("weight decay", 5e-5, 1e-8, 1e-1)):
        box = LogSpinBox(low, high, holder)
        box.setObjectName(f"logSpinBox_{name.replace(' ', '_')}")
        box.setAccessibleName(name)
        box.setValue(value)
        layout.addRow(name, box)
    return holder


def per_class_table() -> PerClassTableWidget:
    table = PerClassTableWidget()
    table.set_rows([
        {"class": name, "precision": p, "recall": r, "f1": 2 * p * r / (p + r), "support": n}
        for name, p, r, n in (("cat", 0.91, 0.87, 120), ("dog", 0.85, 0.9, 131), ("fox", 0.97, 0.95, 48))
    ])
    return table


def probability_bars() -> QWidget:
    holder = QWidget()
    layout = QVBoxLayout(holder)
    names = [str(d) for d in range(10)]
    sure = ProbabilityBarsWidget(holder)
    sure.set_probabilities(names, [0.01, 0.0, 0.02, 0.0, 0.01, 0.0, 0.0, 0.93, 0.02, 0.01])
    unsure = ProbabilityBarsWidget(holder)
    unsure.setObjectName("probabilityBarsDemoUnsure")
    unsure.set_probabilities(["cat", "dog", "horse"], [0.45, 0.40, 0.15])
    layout.addWidget(sure, 3)
    layout.addWidget(unsure, 2)
    return holder


def spectrogram_view() -> SpectrogramViewWidget:
    """A static clip: a rising tone's harmonics with two words marked."""
    frames, n_mels = 120, 64
    t = np.arange(frames)[:, None]
    bands = np.arange(n_mels)[None, :]
    features = (-80.0 + 50.0 * np.exp(-((bands - (10 + t / 6)) ** 2) / 8)
                + 30.0 * np.exp(-((bands - (30 + t / 4)) ** 2) / 12))
    view = SpectrogramViewWidget("spectrogramDemo", "Spectrogram demo")
    view.set_spectrogram(features.astype(np.float32), 100.0)
    view.set_spans([(0.1, 0.45, "one"), (0.65, 1.1, "two")])
    return view


def thumbnail_strip() -> QWidget:
    yy, xx = np.mgrid[0:28, 0:28]
    digits = [((np.hypot(yy - 14, xx - 14) < 4 + i) * 255).astype(np.uint8) for i in range(9)]
    # Float RGB "photos": a gradient whose red channel differs per augmentation.
    ramp = np.linspace(0, 255, 64, dtype=np.float32)[None, :].repeat(48, axis=0)
    colour = [np.dstack([np.full_like(ramp, red), 255 - ramp, ramp]) for red in (40, 120, 200, 250)]
    holder = QWidget()
    layout = QVBoxLayout(holder)
    strip = ThumbnailStripWidget(holder)
    strip.set_images(digits, [f"{i} → {(i + 3) % 10} ({90 - 7 * i}%)" for i in range(9)])
    grid = ThumbnailStripWidget(holder, columns=4, thumb_size=96)
    grid.setObjectName("thumbnailGridDemo")
    grid.set_images(colour * 2, ["original", "flip", "rotate 10°", "brightness +20%"] * 2)
    layout.addWidget(QLabel("Misclassified (strip):"))
    layout.addWidget(strip)
    layout.addWidget(QLabel("Augmentation preview (grid, 4 columns):"))
    layout.addWidget(grid, 1)
    return holder


def training_curves() -> TrainingCurvesWidget:
    rng = np.random.default_rng(0)
    widget = TrainingCurvesWidget()
    epochs, steps = 12, 150
    for epoch in range(1, epochs + 1):
        for step in range(1, steps + 1):
            t = epoch - 1 + step / steps
            widget.add_batch_point({
                "epoch": epoch, "step": step, "steps_per_epoch": steps,
                "loss": 2.3 * math.exp(-t / 2.5) + 0.08 + abs(rng.normal(0, 0.12)),
                "accuracy": min(1.0, 1 - 0.9 * math.exp(-t / 2) + rng.normal(0, 0.04)),
            })
        widget.add_epoch_point({
            "epoch": epoch, "loss": 2.3 * math.exp(-epoch / 2.5) + 0.1,
            "accuracy": 1 - 0.9 * math.exp(-epoch / 2),
            "val_loss": 2.3 * math.exp(-epoch / 3) + 0.2,
            "val_accuracy": 0.95 - 0.85 * math.exp(-epoch / 2.2),
        })
    history = {
        "loss": [2.3 * math.exp(-e / 4) + 0.3 for e in range(1, 11)],
        "val_loss": [2.3 * math.exp(-e / 4) + 0.4 for e in range(1, 11)],
        "accuracy": [0.9 - 0.8 * math.exp(-e / 3) for e in range(1, 11)],
        "val_accuracy": [0.85 - 0.75 * math.exp(-e / 3) for e in range(1, 11)],
    }
    widget.set_overlays([("run 1 (lr 1e-4)", history)])
    widget.add_phase_marker(8, "fine-tune")  # a run in two phases: the head for 8 epochs, then fine-tuning
    return widget


#: Each widget class → its demo.
DEMOS: dict[type[QWidget], Demo] = {
    ClassCountsWidget: Demo(class_counts, "Samples per class", (720, 400)),
    ClassThumbnailsWidget: Demo(class_thumbnails, "Examples per class", (420, 320)),
    ConfusionMatrixWidget: Demo(confusion_matrix, "Confusion matrix", (720, 680)),
    DrawCanvasWidget: Demo(draw_canvas, "Draw canvas", (460, 320)),
    HyperParameterFormWidget: Demo(hyperparameter_form, "Hyperparameter form", (420, 360)),
    LayerTableWidget: Demo(layer_table, "Model layers", (820, 360)),
    LevelMeterWidget: Demo(level_meter, "Input level", (360, 60)),
    LogSpinBox: Demo(log_spin_box, "Log spin box", (320, 120)),
    PerClassTableWidget: Demo(per_class_table, "Per-class figures", (520, 200)),
    ProbabilityBarsWidget: Demo(probability_bars, "Class probabilities", (460, 640)),
    SpectrogramViewWidget: Demo(spectrogram_view, "Spectrogram", (640, 300)),
    ThumbnailStripWidget: Demo(thumbnail_strip, "Thumbnails", (640, 560)),
    TrainingCurvesWidget: Demo(training_curves, "Training curves", (900, 620)),
}


def demo_for_module(name: str) -> Demo:
    """The demo of the widget defined in ``workbench.gui.widgets.<name>``."""
    found = [demo for cls, demo in DEMOS.items() if cls.__module__ == f"workbench.gui.widgets.{name}"]
    if not found:
        known = sorted(cls.__module__.rsplit(".", 1)[1] for cls in DEMOS)
        raise SystemExit(f"Expected a widget module in {', '.join(known)}. Received: {name!r}")
    return found[0]


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print("\n".join(sorted(cls.__module__.rsplit(".", 1)[1] for cls in DEMOS)))
        raise SystemExit(0 if sys.argv[1:2] == ["--list"] else 2)
    demo = demo_for_module(sys.argv[1])
    raise SystemExit(run_demo(demo.build, title=demo.title, size=demo.size, argv=sys.argv[2:]))

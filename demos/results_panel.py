"""The Results panel alone: ``python -m demos.results_panel RUN_DIR [--export FMT] [--screenshot PATH]``
shows a run, opens its most confused cell and optionally exports the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QLabel

from demos.runner import run_panel_demo
from workbench.gui.panels.results_panel import ResultsPanel
from workbench.gui.state import AppState


def demo_panel(args) -> ResultsPanel:
    state = AppState()
    panel = ResultsPanel(state)
    if args.run_dir and panel.show_run(args.run_dir) and panel.evaluation:
        # Open the most confused cell, so the screenshot shows thumbnails.
        matrix = np.array(panel.evaluation["confusion_matrix"])
        np.fill_diagonal(matrix, -1)
        t, p = np.unravel_index(matrix.argmax(), matrix.shape)
        if matrix[t, p] > 0:
            panel.confusion_matrix.select_cell(int(t), int(p))
            panel.show_cell(int(t), int(p))
    if args.export and panel.model_path:
        import tempfile

        fmt, quantize = {"dynamic": ("tflite", "dynamic"), "int8": ("tflite", "int8")}.get(args.export, (args.export, "none"))
        suffix = {"keras": ".keras", "tflite": ".tflite"}.get(fmt, "")
        panel.export_to(str(Path(tempfile.mkdtemp()) / f"exported{suffix}"), fmt, quantize)
    return panel


def demo_arguments(parser) -> None:
    parser.add_argument("run_dir", nargs="?", help="a run folder (or its model.keras)")
    parser.add_argument("--export", choices=("keras", "savedmodel", "tflite", "dynamic", "int8"),
                        help="also export the model to a temporary folder and show the parity figure")


def demo_ready(panel: ResultsPanel, args) -> bool:
    evaluation = panel.evaluation
    samples_ready = evaluation is None or panel.thumbnails.count() > 0 or not evaluation.get("misclassified")
    export_ready = not args.export or bool(panel.findChild(QLabel, "resultsExportStatus").text())
    return samples_ready and export_ready


if __name__ == "__main__":
    raise SystemExit(run_panel_demo(demo_panel, title="Results", size=(1100, 820),
                                    add_arguments=demo_arguments, ready=demo_ready))

"""Drawn-digit acceptance figures: stroke digits replayed on the Draw tab with real mouse events.

Two sets of drawings, each drawn through real Qt mouse events on the DrawTestWidget's canvas
(offscreen), the answer the widget shows read back: the same render, MNIST-style preparation, traced
``model(x, training=False)`` call and latency measurement as a user gets.

- **team**: the 100 digits of bench/data/drawn_digits_eval.json (authored by
  bench/_make_drawn_digits.py, separate from the test replay digits). For calibration these renders
  are also classified after a plain resize to 28×28 (no MNIST-style step) by the same model.
- **pen**: the UCI pen-stroke digits of the writers the shipped model is never trained on (the
  Makefile's ``PEN_DIGITS_VAL_WRITERS``, 1,499 digits by 6 people), read from
  ../shared/data/pendigits and placed on the canvas as a person draws there (centred, 0.6 of the
  square tall); the mouse lands on whole pixels, as a real one does.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/drawn_digits.py [--model PATH] [--pen-limit N | --no-pen]

Prints per set: accuracy, per class, the misread digits (team: each with its variant; pen: the most
frequent confusions), latency (median and 95th percentile of prepare + predict, after the warm-up at
load); and the team set's resize-only accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "drawn_digits_eval.json"
PENDIGITS = ROOT.parent / "shared" / "data" / "pendigits" / "pendigits-orig.tra"
WINDOW_SIZE = (900, 640)


class _MouseBot:
    """The two qtbot calls tests.gui.strokes.replay_strokes needs, on QTest."""

    @staticmethod
    def mousePress(widget, button, modifier, position):  # noqa: N802 (qtbot API)
        from PySide6.QtTest import QTest

        QTest.mousePress(widget, button, modifier, position)

    @staticmethod
    def mouseRelease(widget, button, modifier, position):  # noqa: N802 (qtbot API)
        from PySide6.QtTest import QTest

        QTest.mouseRelease(widget, button, modifier, position)


def _wait_until(app, condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout_s:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.001)


def pen_entries(limit: int | None) -> list[dict]:
    """The held-out writers' pen digits as canvas drawings: ``{"label", "strokes", "note", "set": "pen"}``."""
    import re

    from workbench.core.image.pendigits import canvas_strokes, read_pendigits, split_by_writer
    from workbench.core.image.strokes import fit_strokes

    text = (ROOT / "Makefile").read_text()
    match = re.search(r"^PEN_DIGITS_VAL_WRITERS\s*:?=\s*(.*)$", text, re.MULTILINE)
    if not match:
        raise SystemExit("Expected PEN_DIGITS_VAL_WRITERS in the Makefile. Received: no such variable")
    writers = [int(w) for w in match.group(1).split(",")]
    held = split_by_writer(read_pendigits(PENDIGITS), writers)[1][:limit]
    return [{"label": d.label, "set": "pen", "note": f"writer {d.writer}, record {d.index}",
             "strokes": [[[float(x), float(y)] for x, y in s] for s in fit_strokes(canvas_strokes(d))]}
            for d in held]


def run(model: Path, data: Path, pen_limit: int | None = None, pen: bool = True) -> dict:
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from tests.gui.strokes import replay_strokes
    from workbench.gui.panels.live.draw_test_widget import DrawTestWidget
    from workbench.gui.workers.predictor_cache import PredictorCache

    entries = [{**e, "set": "team"} for e in json.loads(data.read_text(encoding="utf-8"))]
    if pen:
        entries += pen_entries(pen_limit)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    cache = PredictorCache()
    widget = DrawTestWidget(cache)
    widget.resize(*WINDOW_SIZE)
    widget.set_model(str(model))
    widget.show()
    try:
        _wait_until(app, lambda: widget.is_ready() or "Could not" in widget.message_text()
                    or "expects" in widget.message_text(), 180, "the model to load")
        if not widget.is_ready():
            raise SystemExit(widget.message_text())
        names = widget.class_names()
        rows, renders = [], []
        for entry in entries:
            widget.canvas.clear()
            replay_strokes(_MouseBot, widget.canvas, entry["strokes"])
            _wait_until(app, lambda: widget.is_settled() and widget.last_result() is not None, 30,
                        f"the prediction of a drawn {entry['label']}")
            result = widget.last_result()
            probs = np.asarray(result["probabilities"])
            rows.append({"label": str(entry["label"]), "predicted": names[int(np.argmax(probs))],
                         "confidence": float(probs.max()), "total_ms": float(result["total_ms"]),
                         "prepare_ms": float(result["prepare_ms"]), "predict_ms": float(result["predict_ms"]),
                         "note": entry.get("note", ""), "set": entry["set"]})
            if entry["set"] == "team":
                renders.append(widget.canvas.render_image())
        canvas_side = widget.canvas.paper_rect().width()
    finally:
        widget.shutdown()

    import cv2

    predictor = cache.get(str(model))
    resized = np.stack([cv2.resize(r, (28, 28), interpolation=cv2.INTER_AREA).astype(np.float32)[..., None]
                        for r in renders])
    plain = predictor.predict_arrays(resized)
    team = [row for row in rows if row["set"] == "team"]
    plain_correct = sum(names[int(np.argmax(p))] == row["label"] for p, row in zip(plain, team))
    return {"model": str(model), "rows": rows, "plain_correct": plain_correct, "canvas_side": canvas_side}


def report(summary: dict) -> None:
    print(f"model: {summary['model']}")
    print(f"canvas: {summary['canvas_side']:.0f}×{summary['canvas_side']:.0f} px drawing square, offscreen, "
          "real mouse events")
    for name, title in (("team", "team's drawings"), ("pen", "pen digits of unseen writers (UCI)")):
        rows = [r for r in summary["rows"] if r["set"] == name]
        if not rows:
            continue
        n = len(rows)
        correct = sum(r["predicted"] == r["label"] for r in rows)
        totals = np.array([r["total_ms"] for r in rows])
        prepares = np.array([r["prepare_ms"] for r in rows])
        predicts = np.array([r["predict_ms"] for r in rows])
        print(f"{title}: accuracy (Draw tab: MNIST-style + model): {correct}/{n} ({correct / n:.2%})")
        labels = sorted({r["label"] for r in rows})
        print("  per class: " + "  ".join(
            f"{c}:{sum(r['predicted'] == c for r in rows if r['label'] == c)}/{sum(r['label'] == c for r in rows)}"
            for c in labels))
        misread = [r for r in rows if r["predicted"] != r["label"]]
        if misread and name == "team":
            print("  misread:")
            for r in misread:
                print(f"    {r['label']} → {r['predicted']} ({r['confidence']:.0%})  {r['note']}")
        elif misread:
            pairs: dict[tuple[str, str], int] = {}
            for r in misread:
                pairs[(r["label"], r["predicted"])] = pairs.get((r["label"], r["predicted"]), 0) + 1
            top = sorted(pairs.items(), key=lambda item: -item[1])[:8]
            print("  most frequent misreadings: " + ", ".join(f"{t}→{p} ×{k}" for (t, p), k in top))
        print(f"  latency prepare + predict over {n}: median {np.median(totals):.1f} ms, "
              f"p95 {np.percentile(totals, 95):.1f} ms, max {totals.max():.1f} ms "
              f"(prepare median {np.median(prepares):.1f} ms, model median {np.median(predicts):.1f} ms)")
    team = sum(r["set"] == "team" for r in summary["rows"])
    print(f"calibration, same model on the team's drawings simply resized to 28×28 (no MNIST-style step): "
          f"{summary['plain_correct']}/{team}")


def main(argv: list[str] | None = None) -> int:
    from workbench.core.resources import resource_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="digits model (default: the shipped one)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="stroke digits JSON")
    parser.add_argument("--pen-limit", type=int, default=None, help="only the first N held-out pen digits")
    parser.add_argument("--no-pen", action="store_true", help="only the team's drawings")
    args = parser.parse_args(argv)
    model = args.model or resource_path("models", "digits.keras")
    if not Path(model).is_file():
        print(f"Expected a digits model. Received: {model} does not exist", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    report(run(Path(model), args.data, args.pen_limit, pen=not args.no_pen))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())

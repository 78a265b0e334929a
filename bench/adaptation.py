"""Adapting the shipped models to one person: accuracy on that person before and after, k examples per class.

- Pen digits: ``../shared/data/pendigits/pendigits-orig.tra``, 30 real writers. The file is shuffled;
  the writer is the second number of each record's ``.COMMENT`` (see
  :mod:`workbench.core.image.pendigits`), so a "person" is one writer, ~250 drawings. Strokes are
  rendered as the Draw tab's canvas renders them (:func:`workbench.core.image.strokes.render_strokes`
  at 280×280, the drawing placed as a person draws it by ``fit_strokes``) and prepared by the model's
  own ``Predictor.prepare_array``, as a saved drawing is. For each writer and k, k drawings per digit
  are drawn at random as the examples and the writer's other drawings are the test.
  Writers the model's training held (its sidecar lists them) are left out: they are no new person.
- The same writers with every drawing turned 45° (a tablet held askew): a style the model has not seen.
- Spoken digits: ``../shared/data/fsdd``, speaker george, whom the shipped model never heard (its
  training held him out). k recordings per digit as the examples, his other recordings the test,
  over ``--draws`` random draws.

Methods, on the same features (the input of the model's last layer) through the core's own functions
(:func:`workbench.core.adapt.fit_head`, exactly what ``workbench adapt`` writes into the new model):
``prototypes`` (class means mixed with the model's answer, the default) and ``finetune_head``.
Finally one real ``adapt_model`` per model (a folder of examples → a new ``.keras``) is timed and its
saved model re-read to check it reproduces the table's figure.

    .venv/bin/python bench/adaptation.py [--writers 30] [--rotated-writers 10] [--draws 20]

About a minute on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PENDIGITS = SHARED / "pendigits" / "pendigits-orig.tra"
FSDD = SHARED / "fsdd"
SPEAKER = "george"
KS = (1, 3, 5)
METHODS = ("prototypes", "finetune_head")
ROTATION_DEG = 45.0
CANVAS = 280


def _rotate(strokes: list[np.ndarray], degrees: float) -> list[np.ndarray]:
    angle = np.radians(degrees)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return [s @ turn.T for s in strokes]


def render_pen_digit(digit, degrees: float = 0.0) -> np.ndarray:
    """One pen digit as the canvas draws it: 280×280 uint8, white round pen on black."""
    from workbench.core.image.pendigits import canvas_strokes
    from workbench.core.image.strokes import fit_strokes, render_strokes

    strokes = canvas_strokes(digit)
    return render_strokes(fit_strokes(_rotate(strokes, degrees) if degrees else strokes), CANVAS)


def _features(predictor, inputs: np.ndarray) -> np.ndarray:
    from workbench.core.adapt import extract_features, feature_extractor

    return extract_features(feature_extractor(predictor.model), inputs)


def _head(predictor) -> tuple[np.ndarray, np.ndarray]:
    from workbench.core.adapt import classifier_head

    kernel, bias = classifier_head(predictor.model).get_weights()
    return np.asarray(kernel), np.asarray(bias)


def _episode(features, labels, train, test, kernel, bias) -> dict[str, float]:
    """Accuracy on ``test`` before and after adapting on ``train`` by each method."""
    from workbench.core.adapt import fit_head

    out = {"before": float((np.argmax(features[test] @ kernel + bias, 1) == labels[test]).mean())}
    for method in METHODS:
        new_kernel, new_bias, _ = fit_head(method, features[train], labels[train], kernel, bias)
        out[method] = float((np.argmax(features[test] @ new_kernel + new_bias, 1) == labels[test]).mean())
    return out


def _pick(labels: np.ndarray, members: np.ndarray, k: int, rng) -> tuple[np.ndarray, np.ndarray]:
    train = np.concatenate([rng.choice(members[labels[members] == c], k, replace=False)
                            for c in np.unique(labels[members])])
    return train, np.setdiff1d(members, train)


def pen_rows(predictor, digits, writers: list[int], degrees: float, title: str) -> list[dict]:
    started = time.perf_counter()
    chosen = [d for d in digits if d.writer in set(writers)]
    inputs = np.stack([predictor.prepare_array(render_pen_digit(d, degrees)) for d in chosen])
    features, labels = _features(predictor, inputs), np.array([d.label for d in chosen])
    owner = np.array([d.writer for d in chosen])
    kernel, bias = _head(predictor)
    rows = []
    for k in KS:
        episodes = []
        for writer in writers:
            rng = np.random.default_rng([writer, k])
            train, test = _pick(labels, np.flatnonzero(owner == writer), k, rng)
            episodes.append(_episode(features, labels, train, test, kernel, bias))
        rows.append(_row(title, k, episodes, f"{len(writers)} writers"))
    print(f"  ({title}: {len(chosen)} drawings rendered, prepared and run in {time.perf_counter() - started:.0f} s)",
          file=sys.stderr)
    return rows


def speech_rows(predictor, draws: int) -> list[dict]:
    files = sorted(FSDD.glob(f"*/*_{SPEAKER}_*.wav"))
    inputs = np.stack([predictor.prepare_file(f) for f in files])
    features, labels = _features(predictor, inputs), np.array([predictor.class_names.index(f.parent.name) for f in files])
    kernel, bias = _head(predictor)
    rows = []
    everyone = np.arange(len(files))
    for k in KS:
        episodes = [_episode(features, labels, *_pick(labels, everyone, k, np.random.default_rng([draw, k])), kernel, bias)
                    for draw in range(draws)]
        rows.append(_row(f"FSDD {SPEAKER} (held out)", k, episodes, f"{draws} draws"))
    return rows


def _row(title: str, k: int, episodes: list[dict], over: str) -> dict:
    row = {"set": title, "k": k, "over": over}
    for key in ("before", *METHODS):
        values = np.array([e[key] for e in episodes])
        row[key], row[f"{key}_worst"] = float(values.mean()), float(values.min())
    return row


def print_table(rows: list[dict]) -> None:
    print(f"\n{'set':<30}{'k/class':>8}  {'before':>15}  {'prototypes':>15}  {'finetune_head':>15}  "
          f"{'errors removed':>14}  over")
    for r in rows:
        cells = "  ".join(f"{r[m]:>7.1%} ({r[m + '_worst']:.0%})" for m in ("before", *METHODS))
        removed = 1 - (1 - r["prototypes"]) / max(1 - r["before"], 1e-9)
        print(f"{r['set']:<30}{r['k']:>8}  {cells}  {removed:>14.0%}  {r['over']}")
    print("mean accuracy on the person's other samples (worst person or draw in brackets); "
          "errors removed: by prototypes")


def end_to_end(model: Path, write_examples, test_inputs: np.ndarray, test_labels: np.ndarray, title: str) -> None:
    """A real ``adapt_model`` (folder → new .keras): time, its own figure, and the saved model on the test."""
    from workbench.core.adapt import adapt_model
    from workbench.core.inference import Predictor

    folder = Path(tempfile.mkdtemp(prefix="adapt-bench-"))
    try:
        write_examples(folder / "examples")
        started = time.perf_counter()
        result = adapt_model(model, folder / "examples", folder / "adapted.keras")
        seconds = time.perf_counter() - started
        adapted = Predictor.load(folder / "adapted.keras")
        after = float((np.argmax(adapted.predict_arrays(test_inputs), 1) == test_labels).mean())
        original = Predictor.load(model)
        before = float((np.argmax(original.predict_arrays(test_inputs), 1) == test_labels).mean())
        print(f"{title}: adapt_model on {result.num_examples} files took {seconds:.1f} s (model load included, "
              f"TensorFlow already imported); "
              f"its own check {result.before_accuracy:.0%} → {result.after_accuracy:.0%} "
              f"({result.folds}-fold); the saved model on the {len(test_labels)} other samples "
              f"{before:.1%} → {after:.1%}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def trained_pen_writers(sidecar: dict) -> list[int]:
    """The pen-digit writers a model's training data held (``workbench pen-digits`` records them)."""
    source = (((sidecar or {}).get("dataset") or {}).get("scan") or {}).get("source") or {}
    return list((source.get("split") or {}).get("train_writers") or [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=30, help="at most this many pen-digit writers (of those the model was not trained on)")
    parser.add_argument("--rotated-writers", type=int, default=10, help="writers for the 45° variant (0: skip)")
    parser.add_argument("--draws", type=int, default=20, help="random draws of george's examples per k")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from workbench.core.image.pendigits import read_pendigits
    from workbench.core.inference import Predictor
    from workbench.core.resources import resource_path

    digits_model, spoken_model = resource_path("models", "digits.keras"), resource_path("models", "spoken_digits.keras")
    digits = read_pendigits(PENDIGITS)
    drawing = Predictor.load(digits_model)
    # A writer the model was trained on is no "new person": keep only the writers its sidecar says
    # were held out of training (all 30 for a model trained without pen digits).
    trained_on = set(trained_pen_writers(drawing.sidecar))
    writers = sorted({d.writer for d in digits} - trained_on)
    if trained_on:
        print(f"pen-digit writers {', '.join(map(str, writers))}: the {len(writers)} held out of the model's training")
    rows = pen_rows(drawing, digits, writers[: args.writers], 0.0, "pen digits")
    if args.rotated_writers:
        rows += pen_rows(drawing, digits, writers[: args.rotated_writers], ROTATION_DEG,
                         f"pen digits turned {ROTATION_DEG:.0f}°")
    speech = Predictor.load(spoken_model)
    rows += speech_rows(speech, args.draws)
    print_table(rows)

    print()
    writer = writers[0]
    own = [d for d in digits if d.writer == writer]
    examples, rest = [], []
    for d in own:
        (examples if sum(e.label == d.label for e in examples) < 5 else rest).append(d)

    def write_drawings(folder: Path) -> None:
        for d in examples:
            (folder / str(d.label)).mkdir(parents=True, exist_ok=True)
            Image.fromarray(render_pen_digit(d, ROTATION_DEG)).save(folder / str(d.label) / f"draw_{d.index}.png")

    end_to_end(digits_model, write_drawings,
               np.stack([drawing.prepare_array(render_pen_digit(d, ROTATION_DEG)) for d in rest]),
               np.array([d.label for d in rest]), f"writer {writer}, turned {ROTATION_DEG:.0f}°, 5 per digit")
    files = sorted(FSDD.glob(f"*/*_{SPEAKER}_*.wav"))
    chosen = [f for f in files if int(f.stem.rsplit("_", 1)[1]) < 5]
    others = [f for f in files if f not in chosen]

    def write_clips(folder: Path) -> None:
        for f in chosen:
            (folder / f.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(f, folder / f.parent.name / f.name)

    end_to_end(spoken_model, write_clips, np.stack([speech.prepare_file(f) for f in others]),
               np.array([speech.class_names.index(f.parent.name) for f in others]),
               f"{SPEAKER}, recordings 0-4 of each digit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

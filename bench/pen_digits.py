"""Drawn-digit model on MNIST's held-out digits and on pen digits of writers it never saw.

Two figures for a digit model (default: the shipped ``resources/models/digits.keras``):

- **MNIST held-out**: the 10 % of ``mnist_train.npz`` that ``make models-digits`` keeps for
  validation (stratified, seed 7; the shipped model has always been validated on these 5,999 digits;
  ../shared/data has no MNIST test file);
- **pen digits of unseen writers**: the UCI pen digits of the writers in the Makefile's
  ``PEN_DIGITS_VAL_WRITERS`` (never trained on), their strokes rendered by the canvas's own renderer
  as a person would draw them on the Draw tab (centred, 0.6 of the square tall, the canvas's pen),
  then prepared by the model's ``Predictor.prepare_image`` — the Draw tab's path. Per class and per
  writer; ``--sizes`` repeats it with the digit drawn small and large (thick and thin strokes).

``--all-writers`` measures every writer in the file instead (fair only for a model that was not
trained on any pen digit, such as the MNIST-only model shipped before).

    .venv/bin/python bench/pen_digits.py [--model PATH] [--all-writers] [--sizes 0.35,0.85]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MNIST = SHARED / "mnist" / "mnist_train.npz"
PENDIGITS = SHARED / "pendigits" / "pendigits-orig.tra"


def makefile_variable(name: str) -> str:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(rf"^{name}\s*:?=\s*(.*)$", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"Expected {name} in the Makefile. Received: no such variable")
    return match.group(1).strip()


def _per_class(truth: np.ndarray, predicted: np.ndarray) -> str:
    return "  ".join(f"{c}:{(predicted[truth == c] == c).mean():.1%}" for c in range(10))


def run(model: Path, all_writers: bool, sizes: list[float]) -> None:
    from workbench.core.data.split import stratified_split
    from workbench.core.image.pendigits import canvas_strokes, read_pendigits, split_by_writer
    from workbench.core.image.pendigits_data import CANVAS_SIDE
    from workbench.core.image.strokes import PEN_WIDTH_RATIO, TYPICAL_HEIGHT, fit_strokes, render_strokes
    from workbench.core.inference import Predictor

    predictor = Predictor.load(model)
    print(f"model: {model}")
    names = [int(n) for n in predictor.class_names]

    data = np.load(MNIST)
    x, y = data["x_train"], data["y_train"].astype(int)
    _, val = stratified_split(y, 0.1, 7)
    start = time.perf_counter()
    inputs = np.stack([predictor.prepare_image(image) for image in x[val]])
    predicted = np.array(names)[predictor.predict_arrays(inputs).argmax(1)]
    truth = y[val]
    print(f"MNIST held-out (10 % stratified, seed 7): {(predicted == truth).mean():.2%} "
          f"({int((predicted != truth).sum())} wrong of {len(val)}; {time.perf_counter() - start:.0f} s)")
    print(f"  per class: {_per_class(truth, predicted)}")

    digits = read_pendigits(PENDIGITS)
    writers = [int(w) for w in makefile_variable("PEN_DIGITS_VAL_WRITERS").split(",")]
    held = digits if all_writers else split_by_writer(digits, writers)[1]
    who = "all 30 writers" if all_writers else f"held-out writers {','.join(map(str, writers))}"
    truth = np.array([d.label for d in held])
    writer_of = np.array([d.writer for d in held])
    for height in [TYPICAL_HEIGHT, *sizes]:
        start = time.perf_counter()
        inputs = np.stack([predictor.prepare_image(render_strokes(
            fit_strokes(canvas_strokes(d), height=height), CANVAS_SIDE, PEN_WIDTH_RATIO)) for d in held])
        predicted = np.array(names)[predictor.predict_arrays(inputs).argmax(1)]
        print(f"pen digits, {who}, drawn {height:.2f} of the {CANVAS_SIDE}-px canvas tall: "
              f"{(predicted == truth).mean():.2%} ({int((predicted != truth).sum())} wrong of {len(held)}; "
              f"{time.perf_counter() - start:.0f} s)")
        print(f"  per class: {_per_class(truth, predicted)}")
        if height == TYPICAL_HEIGHT:
            per_writer = {w: (predicted[writer_of == w] == truth[writer_of == w]).mean()
                          for w in sorted(set(writer_of))}
            print("  per writer: " + "  ".join(f"{w}:{a:.1%}" for w, a in per_writer.items()))
            confusions: dict[tuple[int, int], int] = {}
            for t, p in zip(truth, predicted):
                if t != p:
                    confusions[(t, p)] = confusions.get((t, p), 0) + 1
            top = sorted(confusions.items(), key=lambda item: -item[1])[:8]
            print("  most frequent misreadings: " + ", ".join(f"{t}→{p} ×{n}" for (t, p), n in top))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="digits model (default: the shipped one)")
    parser.add_argument("--all-writers", action="store_true", help="every writer, not only the held-out ones")
    parser.add_argument("--sizes", default="0.35,0.85",
                        help="other drawn heights to measure, as fractions of the canvas ('' for none)")
    args = parser.parse_args(argv)
    from workbench.core.resources import resource_path

    model = args.model or resource_path("models", "digits.keras")
    if not Path(model).is_file():
        print(f"Expected a digits model. Received: {model} does not exist", file=sys.stderr)
        return 2
    run(Path(model), args.all_writers, [float(s) for s in args.sizes.split(",") if s.strip()])
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())

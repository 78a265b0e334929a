"""Pen-stroke digits as training data for the drawn-digit model: rendered as the canvas draws them.

Each tablet digit (:mod:`workbench.core.image.pendigits`) goes the Draw tab's way to the model: its
strokes are placed in the canvas square (:func:`~workbench.core.image.strokes.fit_strokes`),
rendered by the canvas's own renderer (:func:`~workbench.core.image.strokes.render_strokes`, at the
canvas's default side :data:`CANVAS_SIDE`) and prepared by
:func:`~workbench.core.image.io.prepare_for_model` with ``mnist_style``, the function the Draw tab
calls. Training drawings are rendered ``renders`` times each, every time varied on the stroke
points (:mod:`workbench.core.image.stroke_augment`); validation drawings once, at the typical size,
unvaried.

:func:`build_digits_npz` writes the ``.npz`` that ``make models-digits`` trains on: MNIST's digits
(split as the shipped model always was: 10 % stratified, seed 7) plus the pen digits, split by
writer, with the held-out writers' digits in validation and, alone, in ``x_test`` so that
``workbench evaluate --data`` on the file measures exactly the unseen writers. The ``source`` entry
records how the file was made; training copies it into the model's sidecar.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.atomic import atomic_write_with
from workbench.core.errors import DatasetError
from workbench.core.image.io import prepare_for_model
from workbench.core.image.pendigits import PenDigit, canvas_strokes, read_pendigits, split_by_writer
from workbench.core.image.stroke_augment import StrokeAugmentation, augment_strokes
from workbench.core.image.strokes import PEN_WIDTH_RATIO, fit_strokes, render_strokes

#: The canvas's side when the Draw tab opens (DrawCanvasWidget.sizeHint): pen digits are rendered there.
CANVAS_SIDE = 280
#: The MNIST-style digit models' input.
DIGIT_SHAPE = (28, 28, 1)
_MNIST_STYLE = {"mnist_style": True}


def render_pen_digit(strokes: Sequence[np.ndarray], *, size: int = CANVAS_SIDE,
                     rng: np.random.Generator | None = None,
                     augmentation: StrokeAugmentation | None = None) -> np.ndarray:
    """The canvas image (uint8, ``size``²) of a drawing given in any unit with y down.

    Without ``rng`` the drawing is placed as people typically draw (centred, 0.6 of the square tall);
    with it, one random variant (``augmentation``'s ranges) is drawn.
    """
    placed = fit_strokes(strokes) if rng is None else augment_strokes(strokes, rng, augmentation)
    return render_strokes(placed, size, PEN_WIDTH_RATIO)


def pen_digit_inputs(digits: Iterable[PenDigit], *, renders: int = 1, rng: np.random.Generator | None = None,
                     augmentation: StrokeAugmentation | None = None, size: int = CANVAS_SIDE,
                     progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x uint8 (N·renders, 28, 28), y uint8): each digit rendered and prepared as the Draw tab does.

    With ``rng`` every render is a random variant; without it ``renders`` must be 1 (a typical,
    unvaried drawing).
    """
    digits = list(digits)
    if renders < 1 or (rng is None and renders != 1):
        raise ValueError(f"Expected renders >= 1 (exactly 1 without a random generator). Received: {renders}")
    images, labels = [], []
    total = len(digits) * renders
    for digit in digits:
        strokes = canvas_strokes(digit)
        for _ in range(renders):
            canvas = render_pen_digit(strokes, size=size, rng=rng, augmentation=augmentation)
            prepared = prepare_for_model(canvas, DIGIT_SHAPE, _MNIST_STYLE)
            images.append(np.rint(prepared[..., 0]).astype(np.uint8))  # as the training cache holds it
            labels.append(digit.label)
            if progress is not None and (len(images) % 500 == 0 or len(images) == total):
                progress(len(images), total)
    return (np.stack(images) if images else np.zeros((0, 28, 28), np.uint8)), np.array(labels, np.uint8)


def build_digits_npz(pendigits: str | Path, out: str | Path, *, val_writers: Iterable[int], renders: int = 4,
                     seed: int = 7, mnist: str | Path | None = None, mnist_val_split: float = 0.1,
                     augmentation: StrokeAugmentation | None = None, command: str | None = None,
                     progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Write the drawn-digit training set to ``out`` (.npz) and return its ``source`` record.

    Arrays: ``x_train``/``y_train`` = MNIST's training part, then ``renders`` varied renders of every
    training writer's digit; ``x_val``/``y_val`` = MNIST's validation part, then the held-out writers'
    digits once each; ``x_test``/``y_test`` = those held-out pen digits alone. Images are 28×28 uint8,
    labels uint8; ``source`` is a JSON string: the inputs, the split and the counts.
    """
    from workbench.core.data.scan import load_npz
    from workbench.core.data.split import stratified_split

    aug = augmentation or StrokeAugmentation()
    val_writers = sorted({int(w) for w in val_writers})
    digits = read_pendigits(pendigits)
    train_digits, val_digits = split_by_writer(digits, val_writers)
    rng = np.random.default_rng(seed)
    step = (lambda stage: (lambda done, total: progress(stage, done, total))) if progress else (lambda stage: None)
    x_pen, y_pen = pen_digit_inputs(train_digits, renders=renders, rng=rng, augmentation=aug,
                                    progress=step("render training writers"))
    x_held, y_held = pen_digit_inputs(val_digits, progress=step("render held-out writers"))
    parts_train, parts_val = [(x_pen, y_pen)], [(x_held, y_held)]
    source: dict[str, Any] = {
        "format": "workbench-pen-digits/1",
        "command": command,
        "pendigits": {"path": str(pendigits), "digits": len(digits),
                      "writers": sorted({d.writer for d in digits})},
        "split": {"method": "by writer", "val_writers": val_writers,
                  "train_writers": sorted({d.writer for d in train_digits}),
                  "train_digits": len(train_digits), "val_digits": len(val_digits)},
        "render": {"canvas_side": CANVAS_SIDE, "pen_width_ratio": PEN_WIDTH_RATIO,
                   "renders_per_training_digit": renders, "seed": seed, "augmentation": aug.to_dict(),
                   "validation": "once, unvaried: centred, 0.6 of the square tall"},
    }
    if mnist is not None:
        arrays = load_npz(mnist)
        x, y = arrays["x_train"], arrays["y_train"]
        if x.shape[1:] not in ((28, 28), (28, 28, 1)):
            raise DatasetError(f"Expected MNIST digits of 28×28 pixels. Received: {x.shape[1:]} in {mnist}")
        train_idx, val_idx = stratified_split(y, mnist_val_split, seed)
        x = x.reshape(len(x), 28, 28).astype(np.uint8)
        parts_train.insert(0, (x[train_idx], y[train_idx].astype(np.uint8)))
        parts_val.insert(0, (x[val_idx], y[val_idx].astype(np.uint8)))
        source["mnist"] = {"path": str(mnist), "val_split": mnist_val_split, "seed": seed, "method": "stratified",
                           "train": len(train_idx), "val": len(val_idx)}
    x_train, y_train = (np.concatenate(a) for a in zip(*parts_train))
    x_val, y_val = (np.concatenate(a) for a in zip(*parts_val))
    source["counts"] = {"train": int(len(y_train)), "val": int(len(y_val)), "test": int(len(y_held)),
                        "pen_train": int(len(y_pen)), "pen_test": int(len(y_held))}
    _save_npz(Path(out), x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, x_test=x_held,
              y_test=y_held, source=np.array(json.dumps(source)))
    return source


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a path
            np.savez_compressed(f, **arrays)

    atomic_write_with(path, write)

"""``workbench pen-digits``: render UNIPEN pen digits as the canvas draws them into a training .npz.

The data-preparation step of ``make models-digits``: it calls
:func:`workbench.core.image.pendigits_data.build_digits_npz` and prints what it wrote. The split is by
writer (``--val-writers``), never by digit, so the validation figure is one of unseen handwriting.
"""

from __future__ import annotations

import argparse
import sys

from workbench.core.errors import WorkbenchError
from workbench.core.sidecar import command_line


def cmd_pen_digits(args: argparse.Namespace) -> int:
    from workbench.core.image.pendigits_data import build_digits_npz

    try:
        writers = [int(w) for w in args.val_writers.split(",") if w.strip()]
    except ValueError:
        raise WorkbenchError(f"Expected --val-writers as writer numbers separated by commas, e.g. 5,10,15. "
                             f"Received: {args.val_writers!r}") from None
    if args.renders < 1:
        raise WorkbenchError(f"Expected --renders of at least 1. Received: {args.renders}")
    command = command_line()

    live = sys.stderr.isatty()

    def progress(stage: str, done: int, total: int) -> None:
        # A terminal sees the count move; a log gets one line per stage.
        if not args.quiet and (live or done == total):
            print(f"\r{stage}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)

    source = build_digits_npz(args.pendigits, args.out, val_writers=writers, renders=args.renders,
                              seed=args.seed, mnist=args.mnist, mnist_val_split=args.mnist_val_split,
                              command=command, progress=progress)
    counts, split = source["counts"], source["split"]
    print(f"wrote {args.out}: train {counts['train']} (pen renders {counts['pen_train']} of "
          f"{split['train_digits']} digits by {len(split['train_writers'])} writers), validation {counts['val']}, "
          f"test {counts['test']} (the pen digits of writers {','.join(map(str, split['val_writers']))})")
    return 0


def add_pen_digits_parser(sub) -> None:
    p = sub.add_parser("pen-digits", help="render UNIPEN pen-stroke digits as the Draw tab draws them into a "
                                          "training .npz (optionally with MNIST), split by writer")
    p.add_argument("pendigits", help="UNIPEN file, e.g. ../shared/data/pendigits/pendigits-orig.tra")
    p.add_argument("--out", required=True, help="the .npz to write (x_train, x_val, x_test: held-out writers)")
    p.add_argument("--val-writers", required=True, metavar="W1,W2",
                   help="writers held out of training (their digits are validation and test)")
    p.add_argument("--renders", type=int, default=4,
                   help="varied renders per training digit (size, slant, aspect, rotation, elastic, jitter)")
    p.add_argument("--mnist", help="also put MNIST's digits in (an .npz in the keras.datasets.mnist layout)")
    p.add_argument("--mnist-val-split", type=float, default=0.1, help="MNIST's validation fraction (stratified)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_pen_digits)

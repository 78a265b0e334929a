"""Training throughput: the article's plain Keras script versus ``workbench train``, in one process.

Same job: the article's network (mnist_cnn without the template's dropout, at its constant rate 0.001
— the template's own defaults differ, see bench/time_to_accuracy.py), same data
(../shared/data/mnist/mnist_train.npz), batch size 64, same epochs, 20% held out for validation in both.
The two alternate ``--pairs`` times (plain, workbench, plain, …) so load on the machine falls on both
alike; prints samples/s of each pair and the ratio of the medians, workbench / plain (≥ 1.0: no
overhead). Whole-process wall times, script against ``workbench train``: bench/time_to_accuracy.py
``--same-job``.

    .venv/bin/python bench/train_throughput.py [--epochs 1] [--pairs 3] [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist" / "mnist_train.npz"


def plain_keras(data: Path, epochs: int, batch_size: int) -> dict:
    """The article's script: numpy arrays scaled to 0..1, a Sequential model, ``model.fit``."""
    import keras

    with np.load(data) as d:
        x, y = d["x_train"].astype("float32")[..., None] / 255.0, d["y_train"]
    keras.utils.set_random_seed(42)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    t0 = time.perf_counter()
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_split=0.2, verbose=0)
    seconds = time.perf_counter() - t0
    num_train = int(len(x) * 0.8)
    return {"seconds": seconds, "samples_per_second": num_train * epochs / seconds,
            "val_accuracy": history.history["val_accuracy"][-1]}


def workbench_train(data: Path, epochs: int, batch_size: int) -> dict:
    """``workbench train`` in-process, JSON events captured; fit time from the epoch events."""
    import contextlib
    import io

    from workbench.cli import run_cli

    buffer = io.StringIO()
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(buffer):
        t0 = time.perf_counter()
        code = run_cli(["train", "--template", "mnist_cnn", "--data", str(data), "--epochs", str(epochs),
                        "--batch-size", str(batch_size), "--learning-rate", "0.001", "--lr-schedule", "constant",
                        "--dropout", "0", "--val-split", "0.2", "--out", out, "--json"])
        wall = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"workbench train failed with exit code {code}:\n{buffer.getvalue()[-2000:]}")
    events = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    started = next(e for e in events if e["event"] == "run_started")
    last_epoch = [e for e in events if e["event"] == "epoch_ended"][-1]
    seconds = last_epoch["elapsed"]
    return {"seconds": seconds, "wall_seconds": wall,
            "samples_per_second": started["num_train"] * epochs / seconds,
            "val_accuracy": last_epoch["val_accuracy"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=3, help="alternating plain/workbench pairs")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"Expected MNIST at {args.data}. Received: no such file", file=sys.stderr)
        return 2
    plains, ours = [], []
    for pair in range(args.pairs):
        plains.append(plain_keras(args.data, args.epochs, args.batch_size))
        ours.append(workbench_train(args.data, args.epochs, args.batch_size))
        print(f"pair {pair + 1}: plain {plains[-1]['samples_per_second']:.0f} samples/s, workbench "
              f"{ours[-1]['samples_per_second']:.0f} samples/s", flush=True)
    plain = statistics.median(p["samples_per_second"] for p in plains)
    mine = statistics.median(o["samples_per_second"] for o in ours)
    print(f"mnist_cnn, {args.epochs} epoch(s), batch {args.batch_size}, data {args.data}, {args.pairs} pair(s)")
    print(f"plain Keras script : median {plain:8.0f} samples/s  (val_acc {plains[-1]['val_accuracy']:.4f})")
    print(f"workbench train    : median {mine:8.0f} samples/s  (last wall {ours[-1]['wall_seconds']:.1f} s incl. "
          f"load/scan/evaluate, val_acc {ours[-1]['val_accuracy']:.4f})")
    print(f"ratio workbench / plain (medians): {mine / plain:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

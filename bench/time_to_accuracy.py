"""Time to a good model: the article's plain MNIST script against ``workbench train --template mnist_cnn``.

Whole process against whole process, as a user waits for them: each runs as its own Python process
(TensorFlow import, data loading, training, and for the workbench its validation, checkpoints, sidecar,
history and evaluation), timed from launch to exit. Both train on the same 50,000 digits of
``../shared/data/mnist/mnist_train.npz`` and are scored on the same 10,000 held-out digits (stratified,
seed 0) that neither sees while training — ../shared has no MNIST test file, so this plays its part.
The workbench uses its template's defaults (what the GUI's and the CLI's first run get, bfloat16
compute included on a CPU with AMX; ``WORKBENCH_CPU_BFLOAT16=0`` measures float32); its accuracy is
read afterwards from the saved ``model.keras`` (not timed).

The runs alternate (script, workbench, script, workbench, …) so that load on the machine falls on both
alike; the ratio is of the medians.

- time-to-accuracy ratio = script seconds / workbench seconds (≥ 2 is the goal), with both accuracies;
- ``--same-job``: the workbench runs the script's exact network, batch size (64), epochs (5), learning
  rate and no schedule (``--lr-schedule constant --dropout 0``) in float32 like the script
  (``--no-mixed-precision``: on a CPU with AMX the workbench's default is bfloat16), and the script
  holds out 20% for validation as the workbench does (``validation_split=0.2``), so the ratio is the
  pure overhead.

    .venv/bin/python bench/time_to_accuracy.py [--pairs 3] [--same-job]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist_train.npz"
PYTHON = sys.executable

#: The article's script (Keras' getting-started MNIST convnet), reading the bench's split.
SCRIPT = r"""
import sys
import numpy as np
import keras
data = np.load(sys.argv[1])
x_train, y_train = data["x_train"].astype("float32")[..., None] / 255.0, data["y_train"]
x_test, y_test = data["x_test"].astype("float32")[..., None] / 255.0, data["y_test"]
model = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.Flatten(),
    keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
validation_split = 0.2 if sys.argv[2:] == ["validate"] else 0.0
model.fit(x_train, y_train, epochs=5, batch_size=64, validation_split=validation_split, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"ACCURACY {accuracy:.6f}")
"""


def make_split(folder: Path) -> Path:
    """50,000 training digits and 10,000 held out, stratified (seed 0), as one .npz."""
    from workbench.core.data.split import stratified_split

    with np.load(MNIST) as d:
        x, y = d["x_train"], d["y_train"]
    train, test = stratified_split(y.astype(int), 10_000 / len(y), seed=0)
    path = folder / "mnist_50k_10k.npz"
    np.savez(path, x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test])
    return path


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"Expected {command[:3]} to succeed. Received exit {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def run_script(data: Path, env: dict[str, str], validate: bool = False) -> tuple[float, float]:
    seconds, out = timed([PYTHON, "-c", SCRIPT, str(data), *(["validate"] if validate else [])], env)
    accuracy = float(next(line.split()[1] for line in out.splitlines() if line.startswith("ACCURACY")))
    return seconds, accuracy


def run_workbench(data: Path, out: Path, extra: list[str], env: dict[str, str]) -> tuple[float, float]:
    seconds, _ = timed([str(Path(PYTHON).parent / "workbench"), "train", "--template", "mnist_cnn", "--data",
                        str(data), "--out", str(out), *extra], env)
    return seconds, held_out_accuracy(out / "model.keras", data)


def held_out_accuracy(model: Path, data: Path) -> float:
    from workbench.core.inference import Predictor

    predictor = Predictor.load(model)
    with np.load(data) as d:
        x, y = d["x_test"], d["y_test"]
    probabilities = predictor.predict_arrays(x[..., None].astype(np.float32))
    names = np.array([int(n) for n in predictor.class_names])
    return float((names[np.argmax(probabilities, axis=1)] == y).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="alternating script/workbench pairs")
    parser.add_argument("--same-job", action="store_true",
                        help="the workbench runs the script's exact job (batch 64, 5 epochs, constant rate)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    env = {**os.environ, "WORKBENCH_OFFLINE": "1"}
    extra = (["--epochs", "5", "--batch-size", "64", "--learning-rate", "0.001", "--lr-schedule", "constant",
              "--dropout", "0", "--no-mixed-precision"] if args.same_job else [])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = make_split(folder)
        script, bench = [], []
        for pair in range(args.pairs):
            script.append(run_script(data, env, validate=args.same_job))
            bench.append(run_workbench(data, folder / f"run{pair}", extra, env))
            print(f"pair {pair + 1}: script {script[-1][0]:.1f} s ({script[-1][1]:.2%}), workbench "
                  f"{bench[-1][0]:.1f} s ({bench[-1][1]:.2%})", flush=True)
    script_s = statistics.median(s for s, _ in script)
    bench_s = statistics.median(s for s, _ in bench)
    what = ("same job (script's network, batch 64, 5 epochs, constant rate, float32)" if args.same_job
            else "template defaults")
    print(f"workbench ({what}): median {bench_s:.1f} s, accuracy {statistics.median(a for _, a in bench):.2%} "
          f"(min {min(a for _, a in bench):.2%})")
    print(f"article script (5 epochs, batch 64): median {script_s:.1f} s, accuracy "
          f"{statistics.median(a for _, a in script):.2%} (min {min(a for _, a in script):.2%})")
    print(f"speed ratio script / workbench: {script_s / bench_s:.2f}x  (load average {os.getloadavg()[0]:.1f})")
    print(json.dumps({"script_seconds": script_s, "workbench_seconds": bench_s, "ratio": script_s / bench_s}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Memory growth over many training runs in one process: workbench versus a plain Keras loop.

A GUI session trains all day in one process, so what each run leaves behind adds up. Each variant
runs in a fresh subprocess (so variants do not pollute each other): one warm-up run, then ``--runs``
short runs on a tiny synthetic dataset (tests/helpers.py), alternating a completed run (``--epochs``)
and a run cancelled after its first batch. After every run: ``gc.collect()``, then the current RSS
(VmRSS in /proc/self/status). Prints per-run growth, the growth over the measured runs, the
least-squares slope in MB/run and the ratio of each variant's slope to the plain Keras loop's.

Variants:
  plain             build, compile, fit (cancel = stop_training after batch 1), del, in the main thread
  plain_clear       the same with keras.backend.clear_session() before each build
  workbench         core.training.train(TrainConfig(...)) in the main thread (what the CLI does)
  workbench_thread  train() in a fresh thread per run (what the GUI does: a new QThread per run)
  workbench_clear   as workbench_thread, clear_session() in the training thread before train()
  workbench_child   train() in a multiprocessing "spawn" child per run; RSS of the parent (the GUI)
  gui_worker        the GUI's TrainingController (QCoreApplication, offscreen), which trains in a
                    child process; RSS of the GUI process
  clear_safety      not a growth figure: a thread keeps predicting with (and reloading) a loaded
                    model while workbench_clear runs; reports errors and output drift, i.e. whether
                    the training worker may call the global clear_session() while the GUI predicts

    .venv/bin/python bench/memory_growth.py [--runs 20] [--epochs 2] [--variants plain,workbench,...]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("plain", "plain_clear", "workbench", "workbench_thread", "workbench_clear", "workbench_child",
            "gui_worker", "clear_safety")
DEFAULT_VARIANTS = VARIANTS
BATCH_SIZE = 8


def rss_mb() -> float:
    """Current resident set size of this process (VmRSS), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("VmRSS not found in /proc/self/status")


def make_dataset(root: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.helpers import write_image_dataset

    return write_image_dataset(root, {"a_hbar": 16, "b_vbar": 16, "c_blob": 16})


# ----------------------------------------------------------------------------------------------
# One run of each kind. ``cancel_early``: stop after the first batch (the GUI's Stop button).


def plain_run(data: str, epochs: int, cancel_early: bool, clear: bool) -> str:
    import keras

    from workbench.core.templates import get_template

    if clear:
        keras.backend.clear_session()
    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        data, color_mode="grayscale", image_size=(28, 28), batch_size=BATCH_SIZE, validation_split=0.2,
        subset="both", seed=1, verbose=False)
    model = get_template("simple_cnn").build(3, (28, 28, 1), {"dropout": 0.0})
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    class StopAfterFirstBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = True

    callbacks = [StopAfterFirstBatch()] if cancel_early else []
    model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks, verbose=0)
    del model, train_ds, val_ds
    return "cancelled" if cancel_early else "completed"


def workbench_run(data: str, out: str, epochs: int, cancel_early: bool) -> str:
    from workbench.core.training import CancelToken, TrainConfig, TrainingListeners, train

    cancel = CancelToken()
    listeners = TrainingListeners(batch_ended=(lambda _payload: cancel.cancel()) if cancel_early else
                                  (lambda _payload: None))
    config = TrainConfig(template="simple_cnn", data=data, out_dir=out,
                         hparams={"epochs": epochs, "batch_size": BATCH_SIZE, "seed": 1})
    return train(config, listeners, cancel).status


def workbench_run_in_thread(data: str, out: str, epochs: int, cancel_early: bool, clear: bool) -> str:
    """A fresh thread per run, as the GUI's TrainingController makes a fresh QThread per run."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            if clear:
                import keras

                keras.backend.clear_session()
            result["status"] = workbench_run(data, out, epochs, cancel_early)
        except BaseException as exc:  # reported, not swallowed
            result["status"] = f"error: {type(exc).__name__}: {exc}"

    thread = threading.Thread(target=target, name="trainingThread")
    thread.start()
    thread.join()
    return str(result["status"])


def _child_main(data: str, out: str, epochs: int, cancel_early: bool, queue) -> None:
    """The body of a spawned training process: train and report the status."""
    try:
        queue.put(workbench_run(data, out, epochs, cancel_early))
    except BaseException as exc:
        queue.put(f"error: {type(exc).__name__}: {exc}")


def workbench_run_in_child(data: str, out: str, epochs: int, cancel_early: bool) -> str:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child_main, args=(data, out, epochs, cancel_early, queue))
    process.start()
    status = queue.get()
    process.join()
    queue.close()
    queue.join_thread()
    return status


def gui_worker_run(data: str, out: str, epochs: int, cancel_early: bool) -> str:
    """One run through the GUI's TrainingController, as the Training panel starts it."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from workbench.core.training import TrainConfig
    from workbench.gui.workers.training_controller import TrainingController

    app = QCoreApplication.instance() or QCoreApplication([])
    controller = TrainingController()
    statuses: list[str] = []
    failures: list[str] = []
    controller.run_finished.connect(lambda payload: statuses.append(payload["status"]))
    controller.failed.connect(failures.append)
    if cancel_early:
        controller.batch_ended.connect(lambda _payload: controller.stop())
    loop = QEventLoop()
    controller.finished.connect(loop.quit)
    controller.start(TrainConfig(template="simple_cnn", data=data, out_dir=out,
                                 hparams={"epochs": epochs, "batch_size": BATCH_SIZE, "seed": 1}))
    loop.exec()
    controller.deleteLater()
    app.processEvents()
    return failures[0] if failures else (statuses[0] if statuses else "no result")


# ----------------------------------------------------------------------------------------------
# Diagnostics: what is still alive after a run.


def live_counts() -> dict[str, int]:
    import keras
    import tensorflow as tf
    from tensorflow.python.eager import context
    from tensorflow.python.ops import script_ops

    models = datasets = 0
    for obj in gc.get_objects():
        if isinstance(obj, keras.Model):
            models += 1
        elif isinstance(obj, tf.data.Dataset):
            datasets += 1
    return {"models": models, "datasets": datasets,
            "functions": len(context.context().list_function_names()), "py_funcs": script_ops._py_funcs.size()}


# ----------------------------------------------------------------------------------------------
# A variant, run in its own process; prints one JSON line per run.


def child(variant: str, data: str, runs: int, epochs: int, out_root: Path) -> None:
    import keras  # noqa: F401  (the import's memory is not a run's growth; the GUI has it loaded too)

    import workbench.core.training  # noqa: F401

    safety = _SafetyProbe(data, out_root) if variant == "clear_safety" else None
    gc.collect()
    print(json.dumps({"run": -1, "rss_mb": rss_mb()}), flush=True)
    for run in range(runs + 1):  # run 0 is the warm-up
        cancel_early = run % 2 == 1
        out = str(out_root / f"run{run:02d}")
        t0 = time.perf_counter()
        if variant in ("plain", "plain_clear"):
            status = plain_run(data, epochs, cancel_early, clear=variant == "plain_clear")
        elif variant == "workbench":
            status = workbench_run(data, out, epochs, cancel_early)
        elif variant == "workbench_thread":
            status = workbench_run_in_thread(data, out, epochs, cancel_early, clear=False)
        elif variant in ("workbench_clear", "clear_safety"):
            status = workbench_run_in_thread(data, out, epochs, cancel_early, clear=True)
        elif variant == "workbench_child":
            status = workbench_run_in_child(data, out, epochs, cancel_early)
        elif variant == "gui_worker":
            status = gui_worker_run(data, out, epochs, cancel_early)
        else:
            raise SystemExit(f"Expected one of {', '.join(VARIANTS)}. Received: {variant!r}")
        seconds = time.perf_counter() - t0
        gc.collect()
        print(json.dumps({"run": run, "status": status, "seconds": round(seconds, 2), "rss_mb": rss_mb(),
                          **live_counts()}), flush=True)
    if safety is not None:
        print(json.dumps({"safety": safety.stop()}), flush=True)


class _SafetyProbe:
    """The GUI's Test tab in miniature: a thread that predicts with a loaded model, reloading it now
    and then (Predictor.load builds layers, which uses Keras' global state), while training runs."""

    def __init__(self, data: str, out_root: Path) -> None:
        import numpy as np

        from workbench.core.inference import Predictor

        status = workbench_run(data, str(out_root / "probe"), 1, False)
        assert status == "completed", status
        self.model_path = out_root / "probe" / "model.keras"
        self.predictor = Predictor.load(self.model_path)
        rng = np.random.default_rng(0)
        self.x = rng.uniform(0, 255, (4, *self.predictor.input_shape)).astype("float32")
        self.reference = self.predictor.predict_arrays(self.x)
        self.calls = self.loads = 0
        self.errors: list[str] = []
        self.max_diff = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="livePredictThread", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from workbench.core.inference import Predictor

        predictor = self.predictor
        while not self._stop.is_set():
            try:
                if self.calls % 200 == 199:
                    predictor = Predictor.load(self.model_path)
                    self.loads += 1
                out = predictor.predict_arrays(self.x[: 1 + self.calls % 4])  # new shapes trace anew
                self.max_diff = max(self.max_diff, float(abs(out - self.reference[: len(out)]).max()))
            except Exception as exc:  # recorded: the point of the probe
                if len(self.errors) < 5:
                    self.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            self.calls += 1
            time.sleep(0.002)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {"calls": self.calls, "loads": self.loads, "errors": self.errors, "max_abs_diff": self.max_diff}


# ----------------------------------------------------------------------------------------------


def slope(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def run_variant(variant: str, data: Path, runs: int, epochs: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory(prefix=f"memory-{variant}-") as out:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--child", variant, "--data", str(data), "--runs", str(runs),
                               "--epochs", str(epochs), "--out", out],
                              capture_output=True, text=True, env=env, cwd=ROOT)
        wall = time.perf_counter() - t0
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0:
        raise SystemExit(f"variant {variant} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rows = [line for line in lines if "run" in line]
    safety = next((line["safety"] for line in lines if "safety" in line), None)
    return {"variant": variant, "rows": rows, "wall": wall, "safety": safety}


def summarise(result: dict) -> dict:
    rows = result["rows"]
    before = rows[0]["rss_mb"]
    warm = next(r for r in rows if r["run"] == 0)
    measured = [r for r in rows if r["run"] >= 1]
    rss = [r["rss_mb"] for r in measured]
    growth = rss[-1] - warm["rss_mb"]
    per_run = slope([r["run"] for r in measured], rss)
    seconds = sum(r["seconds"] for r in measured) / len(measured)
    return {"before": before, "after_warmup": warm["rss_mb"], "final": rss[-1], "growth": growth,
            "per_run": per_run, "seconds_per_run": seconds, "last": measured[-1],
            "deltas": [b - a for a, b in zip([warm["rss_mb"], *rss[:-1]], rss)],
            "statuses": sorted({r["status"] for r in measured})}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.runs, args.epochs, Path(args.out))
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        print(f"Expected variants among {', '.join(VARIANTS)}. Received: {', '.join(unknown)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="memory-data-") as tmp:
        data = make_dataset(Path(tmp) / "data")
        print(f"simple_cnn on 48 synthetic 28x28 images, batch {BATCH_SIZE}; 1 warm-up run + {args.runs} runs "
              f"alternating completed ({args.epochs} epochs) and cancelled after batch 1; RSS after gc.collect()")
        summaries = {}
        for variant in variants:
            result = run_variant(variant, data, args.runs, args.epochs)
            s = summaries[variant] = summarise(result)
            last = s["last"]
            print(f"\n{variant}: RSS {s['before']:.0f} MB after imports, {s['after_warmup']:.0f} after warm-up, "
                  f"{s['final']:.0f} after {args.runs} runs ({s['seconds_per_run']:.1f} s/run; statuses "
                  f"{', '.join(s['statuses'])}; {result['wall']:.0f} s wall)")
            print("  per-run growth (MB): " + " ".join(f"{d:+.1f}" for d in s["deltas"]))
            print(f"  growth over {args.runs} runs: {s['growth']:+.1f} MB   slope {s['per_run']:+.2f} MB/run   "
                  f"alive after the last run: {last['models']} models, {last['datasets']} datasets, "
                  f"{last['functions']} functions in the eager context, {last['py_funcs']} numpy_function entries")
            if result["safety"] is not None:
                safe = result["safety"]
                print(f"  live predictor thread during the runs: {safe['calls']} calls, {safe['loads']} reloads, "
                      f"{len(safe['errors'])} errors{': ' + '; '.join(safe['errors']) if safe['errors'] else ''}, "
                      f"largest output drift {safe['max_abs_diff']:.2e}")
        if "plain" in summaries:
            base = summaries["plain"]["per_run"]
            print(f"\nratio of slopes to plain Keras ({base:+.2f} MB/run):")
            for variant, s in summaries.items():
                ratio = s["per_run"] / base if abs(base) > 1e-6 else float("nan")
                print(f"  {variant:<17} {s['per_run']:+6.2f} MB/run  {s['growth']:+7.1f} MB over {args.runs} runs  "
                      f"ratio {ratio:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

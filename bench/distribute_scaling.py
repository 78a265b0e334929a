"""tf.distribute on this machine: one device vs mirrored over N logical CPU devices (the same job,
the same process), and a two-worker multi-worker run on localhost (two CLI processes).

The job: ``--samples`` digits of ../shared/data/mnist/mnist_train.npz (a fixed random subset),
``--template`` (mnist_cnn), ``--epochs`` epochs, batch 64 per replica, 20% validation. Mirrored and
multi-worker runs take a global batch of 64 × replicas and a learning rate × replicas. Wall time is
``train()`` called to returned (one device and mirrored), or launch to both processes' exit (two
workers, TensorFlow's import included). Prints one JSON object.

    .venv/bin/python bench/distribute_scaling.py [--samples 10000] [--epochs 2] [--seeds 1 2]
        [--replicas 2] [--skip-mirrored] [--skip-workers]

On a CPU, logical devices share the same cores, so mirrored is expected to be slower than one
device: it exists to check correctness here and to use several GPUs elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist" / "mnist_train.npz"


def subset(source: Path, count: int, out: Path) -> Path:
    with np.load(source) as data:
        pick = np.random.default_rng(0).permutation(len(data["y_train"]))[:count]
        np.savez(out, x_train=data["x_train"][pick], y_train=data["y_train"][pick])
    return out


def in_process(data: Path, args, folder: Path) -> dict:
    """One device and mirrored, alternating per seed, in this process (logical CPUs made first)."""
    from workbench.core.training import TrainConfig, train
    from workbench.core.training.distribute import configure_cpu_replicas, local_gpus

    if not local_gpus():
        configure_cpu_replicas(args.replicas)
    runs: dict[str, list[dict]] = {"none": [], "mirrored": []}
    for seed in args.seeds:
        for kind in ("none", "mirrored"):
            config = TrainConfig(template=args.template, data=str(data), distribute=kind,
                                 hparams={"epochs": args.epochs, "batch_size": 64, "seed": seed},
                                 out_dir=str(folder / f"{kind}-{seed}"))
            start = time.perf_counter()
            result = train(config)
            wall = time.perf_counter() - start
            sidecar = json.loads((result.run_dir / "model.json").read_text())
            runs[kind].append({"seed": seed, "val_accuracy": round(result.final_metrics["val_accuracy"], 4),
                               "wall_s": round(wall, 1), "train_s": result.final_metrics["train_seconds"],
                               "devices": sidecar["distribution"]["devices"],
                               "learning_rates": sidecar["distribution"]["learning_rates"]})
    return runs


def two_workers(data: Path, args, folder: Path) -> dict:
    sockets = [socket.socket() for _ in range(2)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    cluster = {"worker": [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]}
    for s in sockets:
        s.close()
    command = [sys.executable, "-m", "workbench", "train", "--template", args.template, "--data", str(data),
               "--epochs", str(args.epochs), "--batch-size", "64", "--seed", str(args.seeds[0]),
               "--out", str(folder / "two-workers"), "--distribute", "multi-worker", "--json"]
    start = time.perf_counter()
    processes = []
    for index in (0, 1):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                          env=env, cwd=ROOT))
    outputs = [p.communicate()[0] for p in processes]
    wall = time.perf_counter() - start
    results = [json.loads(line) for out in outputs for line in out.splitlines() if '"event": "result"' in line]
    chief = results[0] if results else {}
    return {"wall_s": round(wall, 1), "exit_codes": [p.returncode for p in processes],
            "status": [r.get("status") for r in results],
            "train_s": (chief.get("final_metrics") or {}).get("train_seconds"),
            "val_accuracy": (chief.get("final_metrics") or {}).get("val_accuracy")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--template", default="mnist_cnn")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--skip-mirrored", action="store_true")
    parser.add_argument("--skip-workers", action="store_true")
    args = parser.parse_args()
    report: dict = {"job": {"samples": args.samples, "template": args.template, "epochs": args.epochs,
                            "per_replica_batch": 64, "cpu_count": os.cpu_count(),
                            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}}
    with tempfile.TemporaryDirectory(prefix="bench-distribute-") as tmp:
        folder = Path(tmp)
        data = subset(args.data, args.samples, folder / "digits.npz")
        if not args.skip_workers:  # first: its processes must not compete with this one's training
            report["two_workers"] = two_workers(data, args, folder)
        if not args.skip_mirrored:
            report.update(in_process(data, args, folder))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

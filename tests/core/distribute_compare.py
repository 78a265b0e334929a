"""Train the same job on one device and mirrored on N logical CPU devices, in one fresh process.

Run as a script (the logical CPU devices must be made before TensorFlow initialises its devices,
which a test session has long done): ``python tests/core/distribute_compare.py DATA.npz OUT_DIR
[--replicas 2] [--template simple_cnn] [--epochs 2] [--seeds 1]``. Prints one JSON object:
``{"none": [{"seed", "val_accuracy", "seconds", "sidecar"}...], "mirrored": [...]}``, each run's
wall time from ``train()`` called to returned, its sidecar's ``distribution`` included.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--template", default="simple_cnn")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    args = parser.parse_args(argv)

    from workbench.core.training import TrainConfig, train
    from workbench.core.training.distribute import configure_cpu_replicas

    configure_cpu_replicas(args.replicas)  # first: before anything makes TensorFlow start its devices
    results: dict[str, list[dict]] = {"none": [], "mirrored": []}
    for seed in args.seeds:
        for kind in ("none", "mirrored"):
            config = TrainConfig(template=args.template, data=args.data, distribute=kind,
                                 hparams={"epochs": args.epochs, "batch_size": args.batch_size, "seed": seed},
                                 out_dir=str(Path(args.out) / f"{kind}-{seed}"))
            start = time.perf_counter()
            result = train(config)
            seconds = time.perf_counter() - start
            sidecar = json.loads((result.run_dir / "model.json").read_text())
            results[kind].append({"seed": seed, "status": result.status, "message": result.message,
                                  "val_accuracy": result.final_metrics.get("val_accuracy"),
                                  "seconds": round(seconds, 2), "distribution": sidecar.get("distribution")})
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

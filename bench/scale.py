"""Data bigger than memory: scan time, epoch throughput and peak RSS against the folder's size.

Builds its own folders from ../shared data (not committed; default ``build/scale``): the 60,000
digits of ``mnist_train.npz`` as PNG files in one folder per class, and a subset of the first
10,000 (``--modality audio``: the 2,500 FSDD clips hard-linked ``--sizes`` times over, e.g. 1 and 10,
trained with ``audio_spectrogram_cnn``). Then, for each size, in a fresh child process (so peaks do not mix) with an empty sample
cache: scans the folder (``scan_dataset``, every file decoded), trains the ``mnist_cnn`` template for
``--epochs`` epochs through the core ``train()`` with its default hyperparameters, and reports

  scan time, first-epoch throughput (files decoded into the disk cache), cached-epoch throughput
  (read from it), both in training samples per second from the epoch's first reported batch to its
  last (graph tracing and the validation pass left out),
  and the child's peak RSS (``ru_maxrss``), with the ratio of the largest size to the smallest.

With ``--second-run`` the child trains again with the cache left by the first run (a later run).
With ``--pipeline`` another fresh child only reads the training stream twice, without a model (the
input pipeline's own first-pass and cached-pass rates, which training on this CPU hides).

    .venv/bin/python bench/scale.py [--sizes 10000,60000] [--root build/scale] [--epochs 2] [--second-run]
    .venv/bin/python bench/scale.py --modality audio --sizes 1,10
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist" / "mnist_train.npz"
FSDD = ROOT.parent / "shared" / "data" / "fsdd"
TEMPLATES = {"image": "mnist_cnn", "audio": "audio_spectrogram_cnn"}


def build_folder(root: Path, size: int, data: Path = DEFAULT_DATA) -> Path:
    """``root/mnist_<size>/<digit>/<index>.png`` for the first ``size`` digits (made once)."""
    import cv2

    folder = root / f"mnist_{size}"
    done = folder / ".complete"
    if done.exists():
        return folder
    with np.load(data) as arrays:
        x, y = arrays["x_train"][:size], arrays["y_train"][:size]
    if len(x) < size:
        raise SystemExit(f"Expected at least {size} digits in {data}. Received: {len(x)}")
    shutil.rmtree(folder, ignore_errors=True)
    for digit in np.unique(y):
        (folder / str(digit)).mkdir(parents=True)
    for index, (image, label) in enumerate(zip(x, y)):
        cv2.imwrite(str(folder / str(label) / f"{index:05d}.png"), image)
    done.write_text("")
    return folder


def build_sound_folder(root: Path, copies: int, source: Path = FSDD) -> Path:
    """``root/fsdd_x<copies>/<digit>/<name>_c<k>.wav``: each FSDD clip ``copies`` times (hard links
    where the file system allows; every copy is scanned, decoded and cached as a file of its own)."""
    folder = root / f"fsdd_x{copies}"
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    for clip in sorted(source.glob("*/*.wav")):
        (folder / clip.parent.name).mkdir(parents=True, exist_ok=True)
        for k in range(copies):
            target = folder / clip.parent.name / f"{clip.stem}_c{k}.wav"
            try:
                os.link(clip, target)
            except OSError:
                shutil.copyfile(clip, target)
    done.write_text("")
    return folder


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def child(folder: Path, epochs: int, runs: int, template: str) -> dict:
    """Scan and train in this (fresh) process; the figures as a dict."""
    from workbench.core.data import sample_cache
    from workbench.core.data.scan import scan_dataset
    from workbench.core.training import TrainConfig, TrainingListeners, train

    t0 = time.perf_counter()
    report = scan_dataset(folder)
    scan_s = time.perf_counter() - t0
    figures: dict = {"files": report.num_samples, "scan_s": scan_s, "rss_after_scan_mb": peak_rss_mb(), "runs": []}
    for run in range(runs):
        batches: list[tuple[float, int, int, int]] = []  # (time, epoch, step, steps per epoch)
        info: dict = {}
        listeners = TrainingListeners(
            batch_ended=lambda e: batches.append((time.perf_counter(), e["epoch"], e["step"], e["steps_per_epoch"])),
            run_started=lambda event: info.update(event if isinstance(event, dict) else {}),
        )
        decodes = sample_cache.decode_count
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            result = train(TrainConfig(template=template, data=str(folder), hparams={"epochs": epochs},
                                       out_dir=str(Path(out) / "run"), scan=report), listeners)
            wall = time.perf_counter() - t0
        num_train = int(info.get("num_train") or round(report.num_samples * 0.8))
        rates = []
        for epoch in range(1, epochs + 1):
            seen = [b for b in batches if b[1] == epoch]
            (t_first, _, s_first, steps), (t_last, _, s_last, _) = seen[0], seen[-1]
            # From the epoch's first reported batch to its last: no tracing, no validation pass.
            rates.append(num_train * (s_last - s_first) / steps / max(t_last - t_first, 1e-9))
        figures["runs"].append({
            "status": result.status, "wall_s": wall, "num_train": num_train, "samples_per_s": rates,
            "val_accuracy": result.final_metrics.get("val_accuracy"),
            "decodes": sample_cache.decode_count - decodes, "peak_rss_mb": peak_rss_mb(),
        })
    figures["peak_rss_mb"] = peak_rss_mb()
    figures["cache"] = sample_cache.cache_usage()
    return figures


def pipeline_child(folder: Path, template: str, passes: int = 2) -> dict:
    """The training stream alone (no model): samples/s of each pass, peak RSS."""
    from workbench.core.data import sample_cache
    from workbench.core.data.pipeline import make_tf_dataset, split_dataset
    from workbench.core.data.scan import scan_dataset
    from workbench.core.templates import get_template

    spec = get_template(template)
    hp = spec.resolve_hparams({})
    shape = spec.input_shape_for(hp)
    preprocessing = spec.preprocessing_for(hp, shape)
    report = scan_dataset(folder, verify=False)
    split = split_dataset(report)
    ds = make_tf_dataset(split.train, shape, hp.get("batch_size", 64), training=True, seed=42,
                         preprocessing=preprocessing)
    rates, decodes = [], []
    for _ in range(passes):
        before, t0, seen = sample_cache.decode_count, time.perf_counter(), 0
        for _, y in ds:
            seen += len(y)
        rates.append(seen / (time.perf_counter() - t0))
        decodes.append(sample_cache.decode_count - before)
    return {"files": report.num_samples, "samples_per_s": rates, "decodes": decodes, "peak_rss_mb": peak_rss_mb()}


def run_child(folder: Path, epochs: int, runs: int, template: str, pipeline: bool = False) -> dict:
    with tempfile.TemporaryDirectory(dir=folder.parent) as cache:
        env = {**os.environ, "WORKBENCH_CACHE_DIR": cache, "TF_CPP_MIN_LOG_LEVEL": "2"}
        done = subprocess.run([sys.executable, __file__, "--child", str(folder), "--epochs", str(epochs),
                               "--runs", str(runs), "--template", template, *(["--pipeline"] if pipeline else [])],
                              env=env, capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modality", choices=sorted(TEMPLATES), default="image")
    parser.add_argument("--sizes", default=None, help="files (image; default 10000,60000) or copies of FSDD "
                        "(audio; default 1,10)")
    parser.add_argument("--root", type=Path, default=ROOT / "build" / "scale")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--second-run", action="store_true", help="train again on the cache the first run left")
    parser.add_argument("--pipeline", action="store_true", help="also time the input stream alone, twice")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--template", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        template = args.template or TEMPLATES[args.modality]
        figures = (pipeline_child(args.child, template) if args.pipeline
                   else child(args.child, args.epochs, args.runs, template))
        print(json.dumps(figures))
        return
    template = TEMPLATES[args.modality]
    sizes = [int(s) for s in (args.sizes or ("10000,60000" if args.modality == "image" else "1,10")).split(",")]
    results = {}
    for size in sizes:
        t0 = time.perf_counter()
        folder = build_folder(args.root, size) if args.modality == "image" else build_sound_folder(args.root, size)
        print(f"folder {folder} ready ({time.perf_counter() - t0:.1f} s)", flush=True)
        figures = run_child(folder, args.epochs, 2 if args.second_run else 1, template)
        size = figures["files"]
        results[size] = figures
        first = figures["runs"][0]
        rates = ", ".join(f"{r:,.0f}" for r in first["samples_per_s"])
        print(f"{size:>6} files: scan {figures['scan_s']:.1f} s ({size / figures['scan_s']:,.0f} files/s); "
              f"epochs {rates} samples/s (first decodes {first['decodes']:,} files, then cached); "
              f"val acc {first['val_accuracy']:.4f}; peak RSS {figures['peak_rss_mb']:,.0f} MB "
              f"(after scan {figures['rss_after_scan_mb']:,.0f} MB); cache {figures['cache'][1] / 2**20:.1f} MB",
              flush=True)
        for later in figures["runs"][1:]:
            rates = ", ".join(f"{r:,.0f}" for r in later["samples_per_s"])
            print(f"{'':>6}  second run: epochs {rates} samples/s, {later['decodes']} files decoded", flush=True)
        if args.pipeline:
            alone = run_child(folder, args.epochs, 1, template, pipeline=True)
            figures["pipeline"] = alone
            rates = ", ".join(f"{r:,.0f}" for r in alone["samples_per_s"])
            print(f"{'':>6}  input stream alone: passes {rates} samples/s ({alone['decodes']} decoded), "
                  f"peak RSS {alone['peak_rss_mb']:,.0f} MB", flush=True)
    sizes = sorted(results)
    if len(sizes) > 1:
        small, large = results[min(sizes)], results[max(sizes)]
        print(f"peak RSS {max(sizes)} / {min(sizes)} files: {large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x "
              f"({large['peak_rss_mb']:,.0f} / {small['peak_rss_mb']:,.0f} MB) for "
              f"{max(sizes) / min(sizes):.0f}x the files")
    print(json.dumps({str(k): v for k, v in results.items()}))


if __name__ == "__main__":
    main()

"""Video training figures on real footage: held-out-group accuracy of the video templates, time per
epoch, and decode throughput with and without the decode cache.

Data: ../shared/data/video/ucf101_actions (290 UCF101 clips, 3 classes, groups g08-g25; research use
only). Each fold holds out a set of groups (``--val-groups``: no clip of those people or scenes is
trained on) and trains the template with its defaults through the core ``train()``, as
``workbench train --template T --data ... --group-regex '_g(\\d+)_' --val-groups ...`` does. The
held-out accuracy is read from the LAST epoch (the best epoch, chosen on the held-out groups, would
flatter it; it is printed alongside). Epoch times: the first epoch (which decodes every clip into an
empty cache) and the median of the rest.

Decode throughput: every clip decoded at the template's frame size into an empty cache, then read
back from the cache, in frames of video per second (one thread).

    .venv/bin/python bench/video_training.py [--templates video_cnn_gru,video_cnn_lstm]
        [--folds 08,12,16,20 09,13,17,21 ...] [--default-split] [--epochs N] [--hparam K=V ...]
        [--augment K=V ...] [--decode-only]

About 2-6 minutes per fold on 2 CPU cores (64×64 frames, 16 per clip).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "video" / "ucf101_actions"
GROUP_REGEX = r"_g(\d+)_"
#: Three held-out sets of 4 groups (~22% of the clips each), spread over the groups g08-g25.
FOLDS = ("08,12,16,20", "09,14,19,24", "11,15,22,25")
TEMPLATES = ("video_cnn_gru", "video_cnn_lstm")


def decode_throughput(template: str) -> dict[str, float]:
    from workbench.core.data.scan import scan_dataset
    from workbench.core.templates import get_template
    from workbench.core.video import cache
    from workbench.core.video.clips import VideoConfig

    spec = get_template(template)
    hp = spec.default_hparams()
    shape = spec.input_shape_for(hp)
    config = VideoConfig.from_model(shape, spec.preprocessing_for(hp, shape))
    files = scan_dataset(DATA).files
    with tempfile.TemporaryDirectory() as folder:
        previous = os.environ.get("WORKBENCH_CACHE_DIR")
        os.environ["WORKBENCH_CACHE_DIR"] = folder
        try:
            figures = {}
            for name in ("decode", "cached"):
                start, frames = time.perf_counter(), 0
                for path in files:
                    frames += cache.cached_clip(path, config).num_frames
                figures[name] = frames / (time.perf_counter() - start)
            figures["frames"] = frames
            figures["clips"] = len(files)
        finally:
            if previous is None:
                os.environ.pop("WORKBENCH_CACHE_DIR", None)
            else:
                os.environ["WORKBENCH_CACHE_DIR"] = previous
    return figures


def fold(template: str, val_groups: str | None, out: Path, scan, args) -> dict:
    from workbench.cli import build_parser, train_config_from_args
    from workbench.core.training import TrainingListeners, train

    argv = ["train", "--template", template, "--data", str(DATA), "--group-regex", GROUP_REGEX,
            "--out", str(out)]
    if val_groups:
        argv += ["--val-groups", val_groups]
    if args.epochs:
        argv += ["--epochs", str(args.epochs)]
    for pair in args.hparam or []:
        argv += ["--hparam", pair]
    if args.augment:
        argv += ["--augment", *args.augment]
    config = train_config_from_args(build_parser().parse_args(argv))
    config.scan = scan
    times: list[float] = []
    last = [time.perf_counter()]

    def progress(e):
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now
        print(f"    epoch {e['epoch']:>2}/{e['epochs']}  train acc {e['accuracy']:.3f}  held-out acc "
              f"{e['val_accuracy']:.3f}  {times[-1]:5.1f} s", flush=True)

    started: dict = {}
    result = train(config, TrainingListeners(run_started=started.update, epoch_ended=progress))
    if result.status != "completed":
        raise SystemExit(f"{template} {val_groups}: {result.status}: {result.message}")
    history = result.history["val_accuracy"]
    return {"template": template, "groups": val_groups or "seeded 20%", "last": history[-1], "best": max(history),
            "epochs": len(history), "first_epoch_s": times[0],
            "epoch_s": statistics.median(times[1:]) if len(times) > 1 else times[0],
            "num_val": started.get("num_val")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", default=",".join(TEMPLATES))
    parser.add_argument("--folds", nargs="*", default=list(FOLDS), help="held-out group sets, e.g. 08,12,16,20")
    parser.add_argument("--default-split", action="store_true",
                        help="also the seeded 20%% group split that plain --group-regex gives")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--hparam", action="append")
    parser.add_argument("--augment", nargs="*")
    parser.add_argument("--decode-only", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"Expected the UCF101 clips in {DATA}. Received: no such folder")
    templates = [t for t in args.templates.split(",") if t]

    for template in templates:
        d = decode_throughput(template)
        print(f"decode ({template} frames): {d['clips']} clips, {d['frames']} frames: first read "
              f"{d['decode']:,.0f} frames/s, from the cache {d['cached']:,.0f} frames/s "
              f"({d['cached'] / d['decode']:.1f}×)", flush=True)
    if args.decode_only:
        return 0

    from workbench.core.data.scan import scan_dataset

    scan = scan_dataset(DATA)
    rows = []
    folds = list(args.folds) + ([None] if args.default_split else [])
    with tempfile.TemporaryDirectory() as runs:
        for template in templates:
            for groups in folds:
                print(f"{template}, held-out groups {groups or 'seeded 20%'}:", flush=True)
                rows.append(fold(template, groups, Path(runs) / f"{template}-{groups or 'default'}", scan, args))
    print()
    print(f"{'template':<16}{'held-out groups':<18}{'clips':>6}{'last':>8}{'best':>8}{'epochs':>8}"
          f"{'1st epoch':>11}{'epoch':>8}")
    for r in rows:
        print(f"{r['template']:<16}{r['groups']:<18}{r['num_val'] or '':>6}{r['last']:>8.3f}{r['best']:>8.3f}"
              f"{r['epochs']:>8}{r['first_epoch_s']:>10.1f}s{r['epoch_s']:>7.1f}s")
    for template in templates:
        last = [r["last"] for r in rows if r["template"] == template]
        if last:
            print(f"{template}: mean held-out accuracy (last epoch) {statistics.mean(last):.3f} over {len(last)} fold(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

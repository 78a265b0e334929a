"""Leave-one-speaker-out accuracy of the shipped spoken-digit recipe, and its prediction latency.

FSDD has 5 speakers. For each one, the shipped architecture and augmentation (read from the
Makefile's ``SPOKEN_DIGITS_FLAGS``, so this measures exactly what ``make models`` trains) are trained
on the other 4 speakers through the core ``train()`` with a group split that holds out that
speaker (``--val-groups``), and the held-out speaker's recordings are read by the model of the
LAST epoch. The last epoch, not the best: choosing the epoch on the held-out speaker would flatter
the figure (the best-epoch accuracy is printed alongside for comparison only).

Latency: one 1 s, 16 kHz recording (a real FSDD word resampled and padded with room silence, as
the microphone delivers it) through ``Predictor.prepare_waveform`` and the model, median of 50
calls after a warm-up; both the traced single-sample call the live tabs use (``LiveModel``) and
the plain ``Predictor.predict_arrays``.

    .venv/bin/python bench/spoken_digits_loso.py [--speakers george,theo] [--epochs N] [--model M] [--seed S]
        [--augment KEY=VALUE ...] [--hparam KEY=VALUE ...]

Needs ../shared/data/fsdd. About 3-5 minutes per speaker on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "fsdd"
SPEAKERS = ("george", "jackson", "nicolas", "theo", "yweweler")
GROUP_REGEX = "_([a-z]+)_"


def makefile_variable(name: str) -> str:
    """``NAME := value`` from the Makefile, with backslash continuations joined."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(rf"^{name}\s*:?=\s*(.*)$", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"Expected {name} in the Makefile. Received: no such variable")
    return match.group(1).strip()


def _override(flags: list[str], option: str, pairs: list[str]) -> list[str]:
    """``flags`` with ``pairs`` appended to the values of ``option`` (later keys win when parsed)."""
    if option not in flags:
        return [*flags, option, *pairs]
    end = flags.index(option) + 1
    while end < len(flags) and not flags[end].startswith("--"):
        end += 1
    return [*flags[:end], *pairs, *flags[end:]]


def fold(speaker: str, flags: list[str], out: Path, scan, epochs: int | None) -> dict:
    from workbench.cli import build_parser, train_config_from_args
    from workbench.core.training import TrainingListeners, train

    argv = ["train", "--template", makefile_variable("SPOKEN_DIGITS_TEMPLATE"), "--data", str(DATA),
            "--group-regex", GROUP_REGEX, *flags, "--val-groups", speaker, "--out", str(out / speaker)]
    if epochs:
        argv += ["--epochs", str(epochs)]
    config = train_config_from_args(build_parser().parse_args(argv))
    config.scan = scan
    start = time.perf_counter()
    progress = lambda e: print(f"    epoch {e['epoch']:>2}/{e['epochs']}  train acc {e['accuracy']:.3f}  "  # noqa: E731
                               f"{speaker} acc {e['val_accuracy']:.3f}  {time.perf_counter() - start:5.0f} s",
                               flush=True)
    result = train(config, TrainingListeners(epoch_ended=progress))
    if result.status != "completed":
        raise SystemExit(f"fold {speaker}: {result.status}: {result.message}")
    history = result.history["val_accuracy"]
    return {"speaker": speaker, "last": history[-1], "best": max(history), "seconds": time.perf_counter() - start,
            "model": result.model_path}


def latency(model_path: Path) -> dict[str, float]:
    from workbench.core.audio import read_audio, resample
    from workbench.core.inference import Predictor
    from workbench.core.inference.live import LiveModel

    predictor = Predictor.load(model_path)
    samples, rate = read_audio(sorted(DATA.glob("7/7_theo_*.wav"))[0])
    word = resample(samples, rate, 16000)
    rng = np.random.default_rng(0)
    recording = rng.normal(0, 0.002, 16000).astype(np.float32)  # a quiet room around the word
    recording[4000:4000 + word.size] += word[:12000]
    live = LiveModel(predictor)
    live.warm_up()
    figures = {}
    for name, call in (("live", lambda: live.predict_waveform(recording, 16000)),
                       ("predict_arrays", lambda: predictor.predict_arrays(
                           predictor.prepare_waveform(recording, 16000)[None]))):
        call()
        times = []
        for _ in range(50):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000.0)
        figures[name] = float(np.median(times))
    prepare = []
    for _ in range(50):
        start = time.perf_counter()
        predictor.prepare_waveform(recording, 16000)
        prepare.append((time.perf_counter() - start) * 1000.0)
    figures["prepare"] = float(np.median(prepare))
    label = predictor.class_names[int(np.argmax(live.predict_waveform(recording, 16000).probabilities))]
    figures["label"] = label
    return figures


def main() -> int:
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", default=",".join(SPEAKERS))
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs (quick iterations only)")
    parser.add_argument("--out", default=str(ROOT / "build" / "bench" / "spoken_digits_loso"))
    parser.add_argument("--model", help="model for the latency figure (default: the shipped one)")
    parser.add_argument("--seed", type=int, help="replace the recipe's seed, to see how much the figures vary")
    parser.add_argument("--augment", nargs="+", default=[], metavar="KEY=VALUE",
                        help="augmentation options that override the recipe's (to try a change before "
                        "putting it in the Makefile)")
    parser.add_argument("--hparam", nargs="+", default=[], metavar="KEY=VALUE",
                        help="hyperparameters that override the recipe's")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"Expected FSDD at {DATA} (see ../shared/data/README.md). Received: no such folder")
    from workbench.core.data import scan_dataset

    flags = shlex.split(makefile_variable("SPOKEN_DIGITS_FLAGS"))
    if args.seed is not None:
        if "--seed" not in flags:
            raise SystemExit("Expected --seed in SPOKEN_DIGITS_FLAGS to replace. Received: none")
        flags[flags.index("--seed") + 1] = str(args.seed)
    if args.augment:
        flags = _override(flags, "--augment", args.augment)
    for pair in args.hparam:  # the CLI takes one --hparam per value; the last of a key wins
        flags += ["--hparam", pair]
    print(f"recipe: --template {makefile_variable('SPOKEN_DIGITS_TEMPLATE')} {' '.join(flags)}", flush=True)
    scan = scan_dataset(DATA)
    results = []
    for speaker in [s.strip() for s in args.speakers.split(",") if s.strip()]:
        print(f"== held out: {speaker}", flush=True)
        results.append(fold(speaker, flags, Path(args.out), scan, args.epochs))
        r = results[-1]
        print(f"{speaker:<10} accuracy {r['last']:.1%}  (best epoch {r['best']:.1%})  {r['seconds']:.0f} s", flush=True)
    print("\nleave-one-speaker-out accuracy (last epoch; target ≥ 90% for each speaker)")
    for r in results:
        print(f"  {r['speaker']:<10} {r['last']:6.1%}   best epoch {r['best']:6.1%}   {r['seconds']:5.0f} s")
    print(f"  {'mean':<10} {np.mean([r['last'] for r in results]):6.1%}   "
          f"minimum {min(r['last'] for r in results):.1%}")
    shipped = ROOT / "resources" / "models" / "spoken_digits.keras"
    model = Path(args.model) if args.model else (shipped if shipped.exists() else results[-1]["model"])
    figures = latency(model)
    print(f"\nlatency of one prediction ({model.name}, 1 s at 16 kHz, median of 50): "
          f"prepare_waveform {figures['prepare']:.1f} ms; prepare + traced model call (LiveModel) "
          f"{figures['live']:.1f} ms; prepare + Predictor.predict_arrays {figures['predict_arrays']:.1f} ms "
          f"(target ≤ 200 ms); read '7' as '{figures['label']}'")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

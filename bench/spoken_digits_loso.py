"""Leave-one-speaker-out accuracy of the shipped spoken-digit recipe, and its prediction latency.

FSDD has 5 speakers. For each one, the shipped architecture and augmentation (read from the
Makefile's ``SPOKEN_DIGITS_FLAGS``, so this measures exactly what ``make models`` trains, with the
first of ``SPOKEN_DIGITS_SEEDS`` or ``--seed``; ``--ensemble`` joins several seeds' folds) are trained
on the other 4 speakers through the core ``train()`` with a group split that holds out that
speaker (``--val-groups``), and the held-out speaker's recordings are read by the model of the
LAST epoch. The last epoch, not the best: choosing the epoch on the held-out speaker would flatter
the figure (the best-epoch accuracy is printed alongside for comparison only).

Noise: each held-out recording is also read with broadband noise at ``--snr`` dB (default 10)
below its speech (``add_noise``: white by default, seeded per file), added to the raw waveform
before ``Predictor.prepare_waveform`` — the path the microphone takes — so the silence trimming,
the level normalisation and the front end all meet the noise as they would live. Clean and noisy
accuracy are printed per speaker (clean through ``Predictor.prepare_file``, as training validates).
``--evaluate MODEL`` skips training and reads the listed speakers with one saved model (e.g. the
shipped one, whose own unseen speaker is george); ``--reuse`` reads the fold models a previous run
left in ``--out``. ``--ensemble DIR DIR ...`` trains nothing either: for each speaker it joins the
last epochs of the folds those previous ``--out`` folders hold (e.g. one per ``--seed``) with
:func:`~workbench.core.ensemble.joined_model`, as ``workbench ensemble`` does, and reads the speaker
with each member and with the joined model.

Latency: one 1 s, 16 kHz recording (a real FSDD word resampled and padded with room silence, as
the microphone delivers it) through ``Predictor.prepare_waveform`` and the model, median of 50
calls after a warm-up; both the traced single-sample call the live tabs use (``LiveModel``) and
the plain ``Predictor.predict_arrays``.

    .venv/bin/python bench/spoken_digits_loso.py [--speakers george,theo] [--epochs N] [--model M] [--seed S]
        [--augment KEY=VALUE ...] [--hparam KEY=VALUE ...] [--snr 10] [--noise white|pink|brown]
        [--out DIR] [--reuse] [--evaluate MODEL] [--ensemble DIR DIR ...] [--no-latency]

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
    from workbench.core.sidecar import command_line
    from workbench.core.training import TrainingListeners, train

    argv = ["train", "--template", makefile_variable("SPOKEN_DIGITS_TEMPLATE"), "--data", str(DATA),
            "--group-regex", GROUP_REGEX, *flags, "--val-groups", speaker, "--out", str(out / speaker)]
    if epochs:
        argv += ["--epochs", str(epochs)]
    config = train_config_from_args(build_parser().parse_args(argv))
    config.scan = scan
    config.command = command_line(argv)  # what the fold is (not this script's own arguments)
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


def previous_fold(speaker: str, out: Path) -> dict:
    """A fold a previous run left in ``out`` (for ``--reuse``)."""
    from workbench.core.sidecar import read_sidecar

    model = out / speaker / "model.keras"
    if not (out / speaker / "last.keras").exists():
        raise SystemExit(f"Expected a finished fold in {out / speaker} (--reuse). Received: no last.keras there")
    history = read_sidecar(model)["history"]["val_accuracy"]
    return {"speaker": speaker, "last": history[-1], "best": max(history), "seconds": 0.0, "model": model}


def last_epoch_predictor(model_path: Path):
    """A Predictor on a run's ``last.keras`` (the last epoch), with the run's sidecar; the file itself
    when it is not a run folder's checkpoint."""
    import keras

    from workbench.core.inference import Predictor
    from workbench.core.sidecar import read_sidecar

    model_path = Path(model_path)
    last = model_path.parent / "last.keras"
    if model_path.name != "model.keras" or not last.exists():
        return Predictor.load(model_path)
    Predictor.load(model_path)  # for its side effects: registers the custom layers, checks the sidecar
    return Predictor(keras.models.load_model(last, compile=False), read_sidecar(model_path), model_path)


def speaker_files(speaker: str) -> list[Path]:
    return sorted(DATA.glob(f"*/*_{speaker}_*.wav"))


def read_speaker(predictor, speaker: str, snr_db: float, colour: str, seed: int) -> dict[str, float]:
    """Accuracy on ``speaker``'s recordings, clean and with noise at ``snr_db`` (see the module help)."""
    import zlib

    from workbench.core.audio import read_audio
    from workbench.core.audio.augment import add_noise

    files = speaker_files(speaker)
    labels = np.array([predictor.class_names.index(f.parent.name) for f in files])
    clean = np.stack([predictor.prepare_file(f) for f in files])
    noisy = []
    for f in files:
        samples, rate = read_audio(f)
        rng = np.random.default_rng([seed, zlib.crc32(f.name.encode())])  # the same noise for every model
        noisy.append(predictor.prepare_waveform(add_noise(samples, rate, snr_db, rng, colour), rate))
    figures = {}
    for name, arrays in (("clean", clean), ("noisy", np.stack(noisy))):
        figures[name] = float(np.mean(np.argmax(predictor.predict_arrays(arrays), axis=1) == labels))
    return figures


def read_ensembles(speakers: list[str], folders: list[Path], args) -> list[dict]:
    """Each speaker read by each member (the last epoch of its fold in each folder) and by them joined."""
    from workbench.core.ensemble import joined_model
    from workbench.core.inference import Predictor

    noise = f"{args.noise} noise at {args.snr:g} dB SNR"
    results = []
    for speaker in speakers:
        for folder in folders:
            previous_fold(speaker, folder)  # refuses a fold without its last epoch (last.keras)
        members = [last_epoch_predictor(folder / speaker / "model.keras") for folder in folders]
        for folder, member in zip(folders, members):
            figures = read_speaker(member, speaker, args.snr, args.noise, args.noise_seed)
            print(f"{speaker:<10} member {folder.name}: clean {figures['clean']:.1%}, {noise} {figures['noisy']:.1%}",
                  flush=True)
        joined = Predictor(joined_model(members), members[0].sidecar, members[0].path)
        results.append({"speaker": speaker, "last": float("nan"), "best": float("nan"), "seconds": 0.0,
                        **read_speaker(joined, speaker, args.snr, args.noise, args.noise_seed)})
        print(f"{speaker:<10} joined ({len(members)} members): clean {results[-1]['clean']:.1%}, "
              f"{noise} {results[-1]['noisy']:.1%}", flush=True)
    return results


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
    parser.add_argument("--seed", type=int, help="train with this seed instead of SPOKEN_DIGITS_SEEDS' first")
    parser.add_argument("--augment", nargs="+", default=[], metavar="KEY=VALUE",
                        help="augmentation options that override the recipe's (to try a change before "
                        "putting it in the Makefile)")
    parser.add_argument("--hparam", nargs="+", default=[], metavar="KEY=VALUE",
                        help="hyperparameters that override the recipe's")
    parser.add_argument("--snr", type=float, default=10.0, help="noise level below the speech, in dB (default 10)")
    parser.add_argument("--noise", default="white", choices=("white", "pink", "brown"), help="noise colour")
    parser.add_argument("--noise-seed", type=int, default=0, help="seed of the added noise (default 0)")
    parser.add_argument("--reuse", action="store_true", help="read the fold models a previous run left in --out")
    parser.add_argument("--evaluate", metavar="MODEL", help="no training: read the speakers with this model")
    parser.add_argument("--ensemble", nargs="+", metavar="DIR",
                        help="no training: join the folds of these previous --out folders and read each speaker")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency figure")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"Expected FSDD at {DATA} (see ../shared/data/README.md). Received: no such folder")
    from workbench.core.data import scan_dataset

    flags = shlex.split(makefile_variable("SPOKEN_DIGITS_FLAGS"))
    # The shipped model joins one run per seed of SPOKEN_DIGITS_SEEDS; a fold is one run, the first
    # seed's unless --seed says otherwise (--ensemble joins folds of several seeds).
    seed = args.seed if args.seed is not None else makefile_variable("SPOKEN_DIGITS_SEEDS").split()[0]
    flags += ["--seed", str(seed)]
    if args.augment:
        flags = _override(flags, "--augment", args.augment)
    for pair in args.hparam:  # the CLI takes one --hparam per value; the last of a key wins
        flags += ["--hparam", pair]
    speakers = [s.strip() for s in args.speakers.split(",") if s.strip()]
    noise = f"{args.noise} noise at {args.snr:g} dB SNR"
    results = []
    if args.ensemble:
        results = read_ensembles(speakers, [Path(d) for d in args.ensemble], args)
    elif args.evaluate:
        predictor = last_epoch_predictor(Path(args.evaluate))
        print(f"model: {args.evaluate} (trained without {predictor.sidecar.get('split', {}).get('val_groups', '?')})")
        for speaker in speakers:
            results.append({"speaker": speaker, "last": float("nan"), "best": float("nan"), "seconds": 0.0,
                            **read_speaker(predictor, speaker, args.snr, args.noise, args.noise_seed)})
            print(f"{speaker:<10} clean {results[-1]['clean']:.1%}  {noise} {results[-1]['noisy']:.1%}", flush=True)
    else:
        print(f"recipe: --template {makefile_variable('SPOKEN_DIGITS_TEMPLATE')} {' '.join(flags)}", flush=True)
        scan = scan_dataset(DATA)
        for speaker in speakers:
            print(f"== held out: {speaker}", flush=True)
            r = previous_fold(speaker, Path(args.out)) if args.reuse else fold(speaker, flags, Path(args.out), scan,
                                                                                 args.epochs)
            r.update(read_speaker(last_epoch_predictor(r["model"]), speaker, args.snr, args.noise, args.noise_seed))
            results.append(r)
            print(f"{speaker:<10} accuracy {r['last']:.1%}  (best epoch {r['best']:.1%})  {r['seconds']:.0f} s; "
                  f"last epoch read again: clean {r['clean']:.1%}, {noise} {r['noisy']:.1%}", flush=True)
    print(f"\nleave-one-speaker-out accuracy (last epoch; targets: clean ≥ 95%, {noise} ≥ 90%)")
    print(f"  {'speaker':<10} {'clean':>6}  {'noisy':>6}   best epoch (clean)   seconds")
    for r in results:
        print(f"  {r['speaker']:<10} {r['clean']:6.1%}  {r['noisy']:6.1%}   {r['best']:6.1%}   {r['seconds']:5.0f} s")
    print(f"  {'mean':<10} {np.mean([r['clean'] for r in results]):6.1%}  {np.mean([r['noisy'] for r in results]):6.1%}"
          f"   minimum clean {min(r['clean'] for r in results):.1%}, noisy {min(r['noisy'] for r in results):.1%}")
    if args.no_latency:
        return 0
    shipped = ROOT / "resources" / "models" / "spoken_digits.keras"
    model = Path(args.model or args.evaluate or (shipped if shipped.exists() else results[-1]["model"]))
    figures = latency(model)
    print(f"\nlatency of one prediction ({model.name}, 1 s at 16 kHz, median of 50): "
          f"prepare_waveform {figures['prepare']:.1f} ms; prepare + traced model call (LiveModel) "
          f"{figures['live']:.1f} ms; prepare + Predictor.predict_arrays {figures['predict_arrays']:.1f} ms "
          f"(target ≤ 200 ms); read '7' as '{figures['label']}'")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

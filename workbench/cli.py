"""The headless command line: ``workbench templates|scan|train|evaluate|predict|export``.

A thin front end over :mod:`workbench.core`; it imports no Qt. User errors print one line and exit
with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any, Sequence

from workbench.core.errors import TemplateError, WorkbenchError

EXIT_USAGE = 2


def _print_json(data: Any) -> None:
    print(json.dumps(data), flush=True)


def cmd_templates(args: argparse.Namespace) -> int:
    from workbench.core.templates import list_templates

    templates = list_templates()
    if args.json:
        _print_json([t.to_dict() for t in templates])
        return 0
    for t in templates:
        shape = "×".join(map(str, t.input_shape))
        note = "" if t.can_train else f"  (cannot train yet: {t.train_unavailable})"
        print(f"{t.id:<24} {t.modality:<6} {shape:<16} {t.title}{note}")
        print(f"{'':<24} {t.description}")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from workbench.core.data import scan_dataset

    report = scan_dataset(args.data)
    if args.json:
        _print_json(report.to_dict())
        return 0
    print(f"{report.path}: {report.kind}, {report.modality}, {report.num_samples} samples in "
          f"{len(report.class_names)} classes")
    width = max((len(c) for c in report.class_names), default=5)
    top = max(report.counts.values(), default=1) or 1
    for name, count in report.counts.items():
        print(f"  {name:<{width}} {count:>7}  {'█' * max(1, round(30 * count / top))}")
    if report.file_statistics and report.file_statistics.get("files"):
        audio = report.file_statistics
        rates = ", ".join(f"{rate} Hz ×{n}" for rate, n in audio["sample_rates"].items())
        print(f"  durations {audio['duration_min']:.2f} / {audio['duration_median']:.2f} / "
              f"{audio['duration_max']:.2f} s (min / median / max); sample rates: {rates}")
    for item in report.unreadable:
        print(f"  unreadable: {item['path']}: {item['reason']}")
    for warning in report.warnings:
        print(f"  warning: {warning}")
    return 0


def train_config_from_args(args: argparse.Namespace):
    """The :class:`TrainConfig` that ``workbench train`` arguments describe (benchmarks reuse it)."""
    from workbench.core.augmentation import augmentation_from_pairs
    from workbench.core.templates import get_template
    from workbench.core.training import TrainConfig

    spec = get_template(args.template)
    if not spec.can_train:  # said before the data is scanned or any hyperparameter is checked
        raise TemplateError(f"{spec.train_unavailable}. Received: --template {spec.id}")
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                 "optimizer": args.optimizer, "dropout": args.dropout, "seed": args.seed,
                 "lr_schedule": args.lr_schedule, "early_stopping_patience": args.patience}
    for pair in args.hparam or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise WorkbenchError(f"Expected --hparam key=value. Received: {pair!r}")
        overrides[key.strip()] = value.strip()
    spec.preprocessing_for(overrides)  # bad hyperparameters (or audio front end) fail before a long scan
    return TrainConfig(
        template=args.template, data=args.data, hparams=overrides,
        augmentation=augmentation_from_pairs(args.augment, spec.modality), val_split=args.val_split,
        group_regex=args.group_regex, out_dir=args.out,
        val_groups=[g.strip() for g in args.val_groups.split(",") if g.strip()] if args.val_groups else None,
        command="workbench " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from workbench.core.training import train
    from workbench.cli_progress import console_listeners

    config = train_config_from_args(args)
    listeners = console_listeners(json_lines=args.json)
    result = train(config, listeners)
    if args.json:
        _print_json({"event": "result", **result.to_dict()})
    else:
        metrics = result.final_metrics
        print(f"{result.status}: {result.message}")
        if metrics.get("val_accuracy") is not None:
            print(f"validation accuracy {metrics['val_accuracy']:.4f} (best epoch {metrics['best_epoch']})")
        print(f"run folder: {result.run_dir}")
    return 0 if result.status in ("completed", "stopped_early", "cancelled") else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.core.evaluation import evaluate_on_dataset
    from workbench.core.inference import Predictor

    report = evaluate_on_dataset(Predictor.load(args.model), args.data)
    if args.json:
        _print_json(report)
        return 0
    print(f"accuracy {report['accuracy']:.4f}   top-{report['top_k']} {report['top_k_accuracy']:.4f}   "
          f"macro F1 {report['macro_f1']:.4f}   ({report['num_samples']} samples)")
    print(f"{'class':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for row in report["per_class"]:
        print(f"{row['class']:<12}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>9}")
    names = report["class_names"]
    print("confusion matrix (rows = true, columns = predicted):")
    print(" " * 8 + "".join(f"{n[:6]:>7}" for n in names))
    for name, row in zip(names, report["confusion_matrix"]):
        print(f"{name[:7]:<8}" + "".join(f"{v:>7}" for v in row))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from workbench.core.inference import Predictor

    predictor = Predictor.load(args.model)
    if args.words:
        predictor.audio_config  # noqa: B018  (raises "Expected a sound model" for any other model)
        from workbench.core.inference.sound_files import predict_sound_file

        for path in args.files:
            result = predict_sound_file(predictor, path, top_k=args.top_k, display=False)
            if args.json:
                _print_json(result.to_dict())
                continue
            p = result.prediction
            print(f"{p.source} ({result.duration_s:.2f} s): " + ", ".join(f"{c} {prob:.1%}" for c, prob in p.top))
            for w in result.words:
                print(f"  {w.start_s:.2f}-{w.end_s:.2f} s: " + ", ".join(f"{c} {prob:.1%}" for c, prob in w.top))
        return 0
    for p in predictor.predict_files(args.files, top_k=args.top_k):
        if args.json:
            _print_json(p.to_dict())
        else:
            print(f"{p.source}: " + ", ".join(f"{c} {prob:.1%}" for c, prob in p.top))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from workbench.core.export import export_model

    result = export_model(args.model, args.format, args.out, quantize=args.quantize, data=args.data,
                          overwrite=args.overwrite)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(f"exported {result.format}{'' if result.quantize == 'none' else ' (' + result.quantize + ')'} "
              f"to {result.path} ({result.size_bytes / 1e6:.2f} MB)")
        print(f"parity on {result.parity_samples} real samples: largest probability difference "
              f"{result.parity_max_abs_diff:.2e}, top-1 agreement {result.top1_agreement:.0%}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="CNN Workbench. With no command, opens the app.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("templates", help="list the model templates")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("scan", help="report classes, counts, unreadable files and warnings of a dataset")
    p.add_argument("data", help="folder with one subfolder per class, pre-split folder, or .npz")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("train", help="train a template on a dataset; writes a run folder")
    p.add_argument("--template", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--optimizer")
    p.add_argument("--dropout", type=float)
    p.add_argument("--lr-schedule", help="constant, step, cosine or reduce_on_plateau")
    p.add_argument("--patience", type=int, help="early-stopping patience in epochs (0 = off)")
    p.add_argument("--hparam", action="append", metavar="KEY=VALUE", help="any other template hyperparameter")
    p.add_argument("--augment", nargs="*", metavar="KEY=VALUE",
                   help="images: e.g. rotation=10 zoom=0.1 horizontal_flip=true; "
                   "sound: e.g. time_shift=0.1 speed=0.1 gain_db=6 noise=0.5 freq_mask=8 time_mask=10")
    p.add_argument("--val-split", type=float, default=0.2)
    p.add_argument("--group-regex", help="regex on file names giving a group kept on one side of the split")
    p.add_argument("--val-groups", metavar="G1,G2",
                   help="with --group-regex: validate on exactly these groups, e.g. one held-out speaker")
    p.add_argument("--seed", type=int)
    p.add_argument("--out", help="run folder (default runs/<template>-<time>)")
    p.add_argument("--json", action="store_true", help="JSON lines of events instead of a progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="metrics and confusion matrix of a model on a dataset")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="top-k predictions for files")
    p.add_argument("--model", required=True)
    p.add_argument("files", nargs="+")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--words", action="store_true",
                   help="sound models: also find and read each word of a recording longer than the model's clip")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("export", help="export to .keras, SavedModel or TFLite with a parity check")
    p.add_argument("--model", required=True)
    p.add_argument("--format", default="keras", choices=("keras", "savedmodel", "tflite"))
    p.add_argument("--quantize", default="none", choices=("none", "dynamic", "int8"))
    p.add_argument("--data", help="dataset for parity samples and int8 calibration (default: the training data)")
    p.add_argument("--out", help="where to write (default: beside the model); an existing path must be an "
                                 "earlier export unless --overwrite")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out that was not written by 'workbench export'")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export)
    return parser


def run_cli(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"workbench {args.command}: interrupted", file=sys.stderr)
        return 130

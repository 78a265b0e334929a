"""The headless command line: ``workbench templates|layers|scan|train|evaluate|predict|export|adapt|ensemble``.

A thin front end over :mod:`workbench.core`; it imports no Qt. User errors print one line and exit
with status 2, never a traceback: a :class:`WorkbenchError`, an ``OSError`` of a path the user gave
(unwritable, under a file, existing, disk full), and a user error raised inside a TensorFlow input
pipeline. Anything else is a bug: one line and status 1, the traceback with ``--debug`` or
``WORKBENCH_DEBUG=1``.

Results go to stdout and nothing else does: progress goes to stderr (a bar while stderr is a terminal,
see :class:`~workbench.cli_progress.StderrProgress`), and TensorFlow's native start-up log lines are
kept off the terminal unless ``--verbose`` is given (:mod:`workbench.tf_quiet`).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import re
import shlex
import signal
import sys
import threading
from typing import Sequence

from workbench.cli_common import EXIT_BUG, EXIT_USAGE, hparam_pairs as _hparam_pairs, print_json as _print_json
from workbench.cli_inspect import DEFAULT_LAYER_CLASSES, cmd_layers, cmd_scan, cmd_templates
from workbench.core.errors import TemplateError, WorkbenchError
from workbench.core.sidecar import command_line

__all__ = ["EXIT_BUG", "EXIT_USAGE", "build_parser", "cmd_layers", "cmd_scan", "cmd_templates", "run_cli",
           "train_config_from_args"]


def train_config_from_args(args: argparse.Namespace):
    """The :class:`TrainConfig` that ``workbench train`` arguments describe (benchmarks reuse it)."""
    from workbench.core.augmentation import augmentation_from_pairs
    from workbench.core.templates import get_template
    from workbench.core.training import TrainConfig

    if not args.template or not args.data:
        missing = " and ".join(f"--{name}" for name in ("template", "data") if not getattr(args, name))
        raise WorkbenchError(f"Expected --template and --data (or --resume RUN_DIR). Received: no {missing}")
    spec = get_template(args.template)
    if not spec.can_train:  # said before the data is scanned or any hyperparameter is checked
        raise TemplateError(f"{spec.train_unavailable}. Received: --template {spec.id}")
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                 "optimizer": args.optimizer, "dropout": args.dropout, "seed": args.seed,
                 "lr_schedule": args.lr_schedule, "early_stopping_patience": args.patience}
    overrides.update(_hparam_pairs(args.hparam))
    spec.preprocessing_for(overrides)  # bad hyperparameters (or audio front end) fail before a long scan
    return TrainConfig(
        template=args.template, data=args.data, hparams=overrides,
        augmentation=augmentation_from_pairs(args.augment, spec.modality),
        val_split=DEFAULT_VAL_SPLIT if args.val_split is None else args.val_split,
        group_regex=args.group_regex, out_dir=args.out,
        val_groups=[g.strip() for g in args.val_groups.split(",") if g.strip()] if args.val_groups else None,
        command=command_line(),
        distribute=getattr(args, "distribute", None) or "none", cpu_replicas=getattr(args, "cpu_replicas", None),
        mixed_precision=getattr(args, "mixed_precision", None),
    )


DEFAULT_VAL_SPLIT = 0.2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process ended by Ctrl-C
# With --resume, the run's settings come from its sidecar: only --epochs (a new total) and --json apply.
_NOT_WITH_RESUME = ("template", "data", "batch_size", "learning_rate", "optimizer", "dropout", "lr_schedule",
                    "patience", "hparam", "augment", "val_split", "group_regex", "val_groups", "seed", "out",
                    "distribute", "cpu_replicas", "mixed_precision")


def cmd_train(args: argparse.Namespace) -> int:
    """Train (or ``--resume``) a run. The first Ctrl-C stops it after the current batch, keeping the
    run folder resumable (exit 130); a second one, or one before training starts, interrupts at once."""
    from workbench.cli_progress import console_listeners
    from workbench.core.training import CancelToken, resume, train

    if args.resume:
        given = [f"--{name.replace('_', '-')}" for name in _NOT_WITH_RESUME if getattr(args, name) is not None]
        if given:
            raise WorkbenchError(f"Expected only --epochs and --json with --resume (the run's settings come from its "
                                 f"sidecar). Received: {' '.join(given)}")
        start = lambda listeners, cancel: resume(args.resume, listeners, cancel, epochs=args.epochs,  # noqa: E731
                                                 command=command_line())
    else:
        config = train_config_from_args(args)
        start = lambda listeners, cancel: train(config, listeners, cancel)  # noqa: E731
    listeners = console_listeners(json_lines=args.json)
    cancel = CancelToken()
    with _ctrl_c_cancels(listeners, cancel):
        result = start(listeners, cancel)
    if args.json:
        _print_json({"event": "result", **result.to_dict()})
    else:
        metrics = result.final_metrics
        print(f"{result.status}: {result.message}")
        if metrics.get("val_accuracy") is not None:
            print(f"validation accuracy {metrics['val_accuracy']:.4f} (best epoch {metrics['best_epoch']})")
        print(f"run folder: {result.run_dir}")
    if cancel.cancelled and result.status == "cancelled":
        print(f"workbench train: interrupted after {_epochs_run(result)} complete epoch(s); continue with: "
              f"workbench train --resume {shlex.quote(str(result.run_dir))}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if result.status == "failed" and result.message.startswith("Expected"):
        # The user's disk or data, not a bug: one line on stderr, the usage exit status.
        print(f"workbench train: error: {result.message}", file=sys.stderr)
        return EXIT_USAGE
    return 0 if result.status in ("completed", "stopped_early", "cancelled") else 1


def _epochs_run(result) -> int:
    return int(result.final_metrics.get("epochs_run") or len(result.history.get("loss", [])))


@contextlib.contextmanager
def _ctrl_c_cancels(listeners, cancel):
    """While training runs, SIGINT sets ``cancel`` (the run ends cleanly at the next batch end); before
    the first batch, or the second time, it raises KeyboardInterrupt as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    started = threading.Event()
    announce = listeners.run_started

    def on_run_started(payload):
        started.set()
        announce(payload)

    def on_sigint(signum, frame):
        if cancel.cancelled or not started.is_set():
            raise KeyboardInterrupt
        cancel.cancel()

    listeners.run_started = on_run_started
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _note_unfinished_run(model_path: str) -> None:
    """One line on stderr when the model comes from a run that was interrupted or stopped (results
    stay on stdout, so --json output is unchanged)."""
    from workbench.core.training.runfolder import interrupted_note

    note = interrupted_note(model_path)
    if note:
        print(note, file=sys.stderr)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.core.data.scan import display_path, report_lines
    from workbench.core.evaluation import evaluate_on_dataset
    from workbench.core.inference import Predictor

    from workbench.cli_progress import StderrProgress

    predictor = Predictor.load(args.model)
    _note_unfinished_run(args.model)
    with StderrProgress() as progress:
        report = evaluate_on_dataset(predictor, args.data, progress=progress.update)
    if args.json:
        _print_json(report)
        return 0
    print(f"accuracy {report['accuracy']:.4f}   top-{report['top_k']} {report['top_k_accuracy']:.4f}   "
          f"macro F1 {report['macro_f1']:.4f}   ({report['num_samples']} samples)")
    print(f"{'class':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for row in report["per_class"]:
        print(f"{display_path(row['class']):<12}{row['precision']:>10.3f}{row['recall']:>10.3f}"
              f"{row['f1']:>10.3f}{row['support']:>9}")
    names = [display_path(n) for n in report["class_names"]]
    print("confusion matrix (rows = true, columns = predicted):")
    print(" " * 8 + "".join(f"{n[:6]:>7}" for n in names))
    for name, row in zip(names, report["confusion_matrix"]):
        print(f"{name[:7]:<8}" + "".join(f"{v:>7}" for v in row))
    for line in report_lines(report["dataset"]):  # every file left out, with its reason
        print(line)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from workbench.cli_predict import predict_command

    return predict_command(args)


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


def cmd_adapt(args: argparse.Namespace) -> int:
    """Adapt a model to a person's examples (folder per class); writes a new model, the original stays."""
    from workbench.core.adapt import adapt_model
    from workbench.core.data.scan import display_path

    if args.k is not None and args.k < 1:
        raise WorkbenchError(f"Expected --k of at least 1. Received: {args.k}")
    result = adapt_model(args.model, args.data, args.out, method=args.method, k=args.k, overwrite=args.overwrite,
                         command=command_line(["adapt", *_argv_of(args)]))
    if args.json:
        _print_json(result.to_dict())
        return 0
    print(f"adapted {display_path(result.source_model)} → {display_path(result.model_path)} "
          f"({result.method}, {result.num_examples} examples, {result.seconds:.1f} s)")
    print(result.summary())
    print(f"{'class':<12}{'examples':>9}{'before':>9}{'after':>9}")
    for row in result.per_class:
        print(f"{display_path(row['class']):<12}{row['examples']:>9}{row['before_correct']:>9}{row['after_correct']:>9}")
    for entry in result.skipped:
        print(f"skipped {display_path(entry['path'])}: {display_path(entry['reason'])}")
    return 0


def _argv_of(args: argparse.Namespace) -> list[str]:
    """The adapt options as typed (for the sidecar's record of the command)."""
    argv = ["--model", args.model, "--data", args.data, "--out", args.out, "--method", args.method]
    if args.k is not None:
        argv += ["--k", str(args.k)]
    return argv + (["--overwrite"] if args.overwrite else [])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="CNN Workbench. With no command, opens the app "
                                     "(workbench --safe-start: without restoring the last session).")
    from workbench import __version__

    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an unexpected error (also WORKBENCH_DEBUG=1)")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("templates", help="list the model templates")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("layers", help="the layers of a template's model or a saved .keras model: output shapes, "
                                      "parameters, and which layers train in each phase of a run")
    p.add_argument("target", metavar="TEMPLATE|MODEL.keras", help="a template id (`workbench templates`) or a "
                                                                 "saved model")
    p.add_argument("--classes", type=int, help=f"with a template: the number of classes (default "
                                               f"{DEFAULT_LAYER_CLASSES})")
    p.add_argument("--hparam", action="append", metavar="KEY=VALUE",
                   help="with a template: a hyperparameter, e.g. fine_tune_blocks=1")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_layers)

    p = sub.add_parser("scan", help="report classes, counts, unreadable files and warnings of a dataset")
    p.add_argument("data", help="folder with one subfolder per class, pre-split folder, or .npz")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("train", help="train a template on a dataset; writes a run folder")
    p.add_argument("--template", help="required unless --resume")
    p.add_argument("--data", help="required unless --resume")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an interrupted or cancelled run in its folder from its last finished epoch, "
                        "with its optimizer state; a completed run only with a larger --epochs")
    p.add_argument("--epochs", type=int, help="with --resume: the run's new total number of epochs")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--optimizer")
    p.add_argument("--dropout", type=float)
    p.add_argument("--lr-schedule", help="constant, step, cosine or reduce_on_plateau")
    p.add_argument("--patience", type=int, help="early-stopping patience in epochs (0 = off)")
    p.add_argument("--hparam", action="append", metavar="KEY=VALUE", help="any other template hyperparameter")
    p.add_argument("--augment", nargs="*", metavar="KEY=VALUE",
                   help="images: e.g. rotation=10 zoom=0.1 horizontal_flip=true; "
                   "sound: e.g. time_shift=0.1 speed=0.1 gain_db=6 noise=0.5 freq_mask=8 time_mask=10; "
                   "video: e.g. zoom=0.4 horizontal_flip=true speed=0.4. Without --augment a template's own "
                   "default applies (`workbench templates` lists it); `--augment none` turns it off")
    p.add_argument("--val-split", type=float, help=f"validation fraction (default {DEFAULT_VAL_SPLIT})")
    p.add_argument("--group-regex", help="regex on file names giving a group kept on one side of the split")
    p.add_argument("--val-groups", metavar="G1,G2",
                   help="with --group-regex: validate on exactly these groups, e.g. one held-out speaker")
    p.add_argument("--seed", type=int)
    p.add_argument("--out", help="a new or empty run folder (default runs/<template>-<time>)")
    p.add_argument("--json", action="store_true", help="JSON lines of events instead of a progress bar")
    p.add_argument("--distribute", choices=("none", "mirrored", "multi-worker"),
                   help="mirrored: all local GPUs (or --cpu-replicas CPU devices); multi-worker: the machines "
                        "TF_CONFIG names. Each replica takes --batch-size; the learning rate scales with them")
    p.add_argument("--cpu-replicas", type=int, metavar="N",
                   help="with --distribute mirrored on a machine without GPUs: N CPU devices (default 2)")
    p.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction, default=None,
                   help="reduced-precision compute with float32 weights, where the template allows it: float16 "
                        "on a GPU, bfloat16 on a CPU with bfloat16 matrix units (Intel AMX). Default: on for "
                        "such a CPU (2-3x faster there), off otherwise")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="metrics and confusion matrix of a model on a dataset")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="top-k predictions for files (unreadable files are named with the "
                                       "reason, the rest predicted; exit status 2 when any was unreadable); "
                                       "a video file is read window by window (by a video model) or 2 frames "
                                       "a second (by an image model), with one line per window")
    p.add_argument("--model", required=True)
    p.add_argument("files", nargs="+")
    p.add_argument("--top-k", type=int, default=3, help="how many classes to show per file (at least 1)")
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

    p = sub.add_parser("adapt", help="adapt a model to a person's own examples (a few drawings or recordings per "
                                     "class in a folder per class) in seconds; writes a new model, the original "
                                     "stays")
    p.add_argument("--model", required=True, help="the .keras model to start from (it is not changed)")
    p.add_argument("--data", required=True, help="folder with one subfolder per class of the model, at least 2 "
                                                 "examples in each")
    p.add_argument("--out", required=True, help="the new .keras file (its .json sidecar is written beside it)")
    p.add_argument("--method", default="prototypes", choices=("prototypes", "finetune_head"),
                   help="prototypes: class means of the examples mixed with the model's answer (default); "
                        "finetune_head: the last layer trained further on the examples")
    p.add_argument("--k", type=int, help="use at most this many examples per class (default: all)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier adapted model at --out")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_adapt)

    from workbench.cli_ensemble import add_ensemble_parser
    from workbench.cli_pen_digits import add_pen_digits_parser

    add_ensemble_parser(sub)
    add_pen_digits_parser(sub)  # data preparation for the shipped digit model (make models-digits)
    for command in sub.choices.values():  # also after the command: `workbench predict --verbose …`
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    return parser


VERBOSE_HELP = "show TensorFlow's own log lines (start-up notices, CUDA and oneDNN messages)"


def run_cli(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if args.verbose:
        from workbench.tf_quiet import set_verbose

        set_verbose(True)  # before any command imports TensorFlow
    try:
        return args.func(args)
    except WorkbenchError as exc:
        return _error_line(args.command, str(exc))
    except KeyboardInterrupt:
        print(f"workbench {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a path the user gave that the system refuses: their error, not ours
        return _error_line(args.command, _os_error_message(exc))
    except Exception as exc:
        wrapped = _wrapped_user_error(exc)
        if wrapped is not None:
            return _error_line(args.command, wrapped)
        if args.debug or os.environ.get("WORKBENCH_DEBUG", "") not in ("", "0"):
            raise
        first = next((line for line in str(exc).splitlines() if line.strip()), "")
        print(f"workbench {args.command}: internal error: {type(exc).__name__}: {_one_line(first)} "
              "(a bug: run with --debug or WORKBENCH_DEBUG=1 for the traceback and report it)", file=sys.stderr)
        return EXIT_BUG


def _error_line(command: str, message: str) -> int:
    print(f"workbench {command}: error: {_one_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def _one_line(text: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


def _os_error_message(exc: OSError) -> str:
    """``[Errno 28] No space left on device: '/x'`` → the reason and the path, in the house style."""
    reason = exc.strerror or str(exc)
    code = errno.errorcode.get(exc.errno, "") if exc.errno else ""
    paths = " → ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    return (f"Expected a file or folder that can be used. Received: {reason}"
            f"{f' ({code})' if code else ''}{f': {paths}' if paths else ''}")


def _wrapped_user_error(exc: BaseException) -> str | None:
    """The message of a :class:`WorkbenchError` raised where TensorFlow wraps it (an input pipeline's
    ``py_function`` turns ``DatasetError: Expected …`` into an ``UnknownError``); None for others."""
    if not type(exc).__module__.startswith("tensorflow"):
        return None
    names = "|".join(sorted(_subclass_names(WorkbenchError), key=len, reverse=True))
    match = re.search(rf"\b(?:{names}): (Expected .*?Received: [^\n]*)", str(exc))
    return match.group(1) if match else None


def _subclass_names(cls: type) -> set[str]:
    names = {cls.__name__}
    for sub in cls.__subclasses__():
        names |= _subclass_names(sub)
    return names

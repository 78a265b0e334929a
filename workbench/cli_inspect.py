"""``workbench templates``, ``workbench layers`` and ``workbench scan``: the commands that look at
templates, models and data folders without training."""

from __future__ import annotations

import argparse
import os
import shlex
from typing import Any

from workbench.cli_common import hparam_pairs, print_json
from workbench.core.errors import TemplateError, WorkbenchError


def cmd_templates(args: argparse.Namespace) -> int:
    from workbench.core.templates import list_templates

    templates = list_templates()
    if args.json:
        print_json([t.to_dict() for t in templates])
        return 0
    for t in templates:
        shape = "×".join(map(str, t.input_shape))
        note = "" if t.can_train else f"  (cannot train yet: {t.train_unavailable})"
        print(f"{t.id:<24} {t.modality:<6} {shape:<16} {t.title}{note}")
        print(f"{'':<24} {t.description}")
        if t.default_augmentation:
            recipe = " ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                              for k, v in t.default_augmentation.items())
            print(f"{'':<24} default augmentation (without --augment): {recipe}")
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    """The layer table of a template's model (what ``train`` would build) or of a saved ``.keras`` model,
    from the same core function as the Model panel's table."""
    from workbench.core.templates import get_template
    from workbench.core.templates.summary import summarize_model_file, summarize_template

    if args.target.endswith(".keras") or os.path.isfile(args.target):
        if args.hparam or args.classes is not None:
            raise WorkbenchError(f"Expected --classes and --hparam with a template id only. Received: a model "
                                 f"file, {args.target}")
        summary = summarize_model_file(args.target)
    else:
        spec = get_template(args.target)
        if args.classes is not None and args.classes < 2:
            raise TemplateError(f"Expected --classes of at least 2. Received: {args.classes}")
        summary = summarize_template(spec.id, args.classes or DEFAULT_LAYER_CLASSES, None,
                                     hparam_pairs(args.hparam))
    if args.json:
        print_json(summary)
        return 0
    for line in layer_table_lines(summary):
        print(line)
    return 0


DEFAULT_LAYER_CLASSES = 10  # the Model panel's count before a dataset is chosen


def layer_table_lines(summary: dict[str, Any]) -> list[str]:
    """The summary of :mod:`workbench.core.templates.summary` as text: one row per layer (a nested
    model's layers indented under it), a column per phase of a run in several phases (else
    "trainable"), then the parameter totals."""
    phases = summary.get("phases") or []
    multi = len(phases) > 1
    rows = []
    for layer in summary["layers"]:
        params = int(layer["params"])
        if multi:
            capable = int(layer.get("trainable_capable", params))
            marks = [("-" if not params else "frozen" if n == 0 else "trains" if n >= capable else f"partly {n:,}")
                     for n in layer["phase_params"]]
        else:
            marks = ["-" if not params else "trains" if layer["trainable"] else "frozen"]
        rows.append(["  " * int(layer["depth"]) + layer["name"], layer["type"], layer["output_shape"],
                     f"{params:,}", *marks])
    titles = ["layer", "type", "output shape", "parameters",
              *([f"{i + 1}:{p['name']}" for i, p in enumerate(phases)] if multi else ["trainable"])]
    widths = [max(len(str(r[c])) for r in [titles, *rows]) for c in range(len(titles))]

    def line(cells) -> str:
        return "  ".join(str(cell).rjust(w) if c == 3 else str(cell).ljust(w)
                         for c, (cell, w) in enumerate(zip(cells, widths))).rstrip()

    made = summary.get("source") or summary.get("template") or summary["model_name"]
    shape = "×".join(str(d) for d in summary.get("input_shape") or [])
    classes = f", {summary['num_classes']} classes" if summary.get("num_classes") else ""
    out = [f"{made}: model {summary['model_name']}, input {shape}, {summary.get('output', 'softmax')} output{classes}",
           line(titles), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    total = int(summary["total_params"])
    out.append(f"total parameters: {total:,}")
    if multi:
        for i, p in enumerate(phases):
            out.append(f"phase {i + 1} {p['name']} ({p['epochs']} epochs, learning rate {p['learning_rate']:g}): "
                       f"{p['trainable_params']:,} trainable in {p['trainable_layers']} of {p['weighted_layers']} "
                       f"layers with weights, {p['frozen_params']:,} frozen")
    else:
        out.append(f"trainable {summary['trainable_params']:,}, frozen {summary['non_trainable_params']:,}")
    return out


def cmd_scan(args: argparse.Namespace) -> int:
    from workbench.core.data import scan_dataset
    from workbench.core.data.scan import display_path
    from workbench.core.data.split import group_names, suggested_group_regex
    from workbench.cli_progress import StderrProgress

    with StderrProgress() as progress:  # a saved test split alone is reported too (it is what evaluate reads)
        report = scan_dataset(args.data, allow_test_only=True,
                              progress=lambda done, total: progress.update("reading", done, total))
    group_regex = suggested_group_regex(report)  # UCF101-style names: clips of one recording stay together
    num_groups = len(group_names(report.files, group_regex)) if group_regex else None
    if args.json:
        print_json({**report.to_dict(), "suggested_group_regex": group_regex, "suggested_groups": num_groups})
        return 0
    print(f"{display_path(report.path)}: {report.kind}, {report.modality}, {report.num_samples} samples in "
          f"{len(report.class_names)} classes")
    if report.kind == "npz" and "train" not in report.split_counts:
        print("  a saved test split alone (x_test, y_test): for workbench evaluate; training needs x_train, y_train")
    width = max((len(c) for c in report.class_names), default=5)
    top = max(report.counts.values(), default=1) or 1
    for name, count in report.counts.items():
        print(f"  {display_path(name):<{width}} {count:>7}  {'█' * max(1, round(30 * count / top))}")
    stats = report.file_statistics or {}
    if stats.get("files") and "duration_min" in stats:
        rates = [", ".join(f"{rate} Hz ×{n}" for rate, n in stats.get("sample_rates", {}).items()),
                 ", ".join(f"{rate} fps ×{n}" for rate, n in stats.get("frame_rates", {}).items())]
        named = [f"{what}: {text}" for what, text in zip(("sample rates", "frame rates"), rates) if text]
        print(f"  durations {stats['duration_min']:.2f} / {stats['duration_median']:.2f} / "
              f"{stats['duration_max']:.2f} s (min / median / max)" + "".join(f"; {n}" for n in named))
    if group_regex:
        print(f"  file names show groups: suggested split  --group-regex {shlex.quote(group_regex)}  "
              f"({num_groups} groups; no group on both sides)")
    for line in report.lines():
        print(f"  {line}")
    return 0

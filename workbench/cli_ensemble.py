"""``workbench ensemble``: join several trained classifiers into one model that reads as their average.

It calls :func:`workbench.core.ensemble.ensemble_models` and prints what it wrote: the members'
validation accuracy and the joined model's, measured on the same held-out samples when the members
share them. ``make models-spoken-digits`` joins its seeds' runs with it.
"""

from __future__ import annotations

import argparse

from workbench.cli_common import print_json
from workbench.core.sidecar import command_line


def cmd_ensemble(args: argparse.Namespace) -> int:
    import sys

    from workbench.core.data.scan import display_path
    from workbench.core.ensemble import ensemble_models

    argv = [*args.models, "--out", args.out, *(["--overwrite"] if args.overwrite else []),
            *(["--no-measure"] if not args.measure else [])]
    record = ensemble_models(args.models, args.out, overwrite=args.overwrite, measure=args.measure,
                             command=command_line(["ensemble", *argv]),
                             progress=None if args.json else lambda text: print(text, file=sys.stderr, flush=True))
    if args.json:
        print_json({"model_path": args.out, **record})
        return 0
    print(f"wrote {display_path(args.out)}: {len(record['members'])} members joined ({record['method']}); "
          f"computed once: {', '.join(record['shared_layers']) or 'nothing'}")
    for number, member in enumerate(record["members"], 1):
        accuracy = member["val_accuracy"]
        print(f"  member {number}: {display_path(member['model'])} (seed {member['seed']}), validation accuracy "
              f"{'–' if accuracy is None else f'{accuracy:.1%}'}")
    validation = record["validation"]
    if validation["measured"]:
        print(f"  joined: validation accuracy {validation['accuracy']:.1%} on the same {validation['samples']} samples")
    else:
        print(f"  joined: not measured ({validation['reason']})")
    return 0


def add_ensemble_parser(sub) -> None:
    p = sub.add_parser("ensemble", help="join two or more trained classifiers (e.g. one template trained with "
                                        "different seeds) into one model that reads as the mean of their answers")
    p.add_argument("models", nargs="+", help="the .keras models to join (same classes, input and preprocessing)")
    p.add_argument("--out", required=True, help="the new .keras file (its .json sidecar is written beside it)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier joined model at --out")
    p.add_argument("--no-measure", dest="measure", action="store_false",
                   help="do not read the members' validation samples with the joined model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ensemble)

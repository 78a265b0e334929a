"""Transfer-learning figures on real photos: validation accuracy and macro-F1 of a CNN trained from
scratch, the SqueezeNet base frozen (phase 1 only) and after phase-2 fine-tuning, and time per epoch.

Data: ../shared/data/clothing (3,409 phone photos, 10 imbalanced classes, pre-split into ``train/``
and ``validation/``). Each variant trains through the core ``train()`` as ``workbench train`` does
(``train_config_from_args``), so the template's defaults — phases, epochs, augmentation — are what a
bare ``workbench train --template T --data ../shared/data/clothing`` gets. Figures are read from the
LAST epoch's model (``last.keras``) on the validation folder (the best epoch, chosen on that folder,
would flatter it; its accuracy is printed alongside).

Variants:
  scratch     regularized_cnn from scratch, its defaults
  frozen      transfer_squeezenet, phase 1 only (--hparam fine_tune_epochs=0)
  finetuned   transfer_squeezenet, its defaults (both phases)

    .venv/bin/python bench/transfer_clothing.py [--variants scratch,frozen,finetuned] [--hparam K=V ...]
        [--augment K=V ...] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "clothing"
VARIANTS = {
    "scratch": ("regularized_cnn", []),
    "frozen": ("transfer_squeezenet", ["--hparam", "fine_tune_epochs=0"]),
    "finetuned": ("transfer_squeezenet", []),
}


def run_variant(name: str, out: Path, args) -> dict:
    import keras

    import workbench.core.image.layers  # noqa: F401  (custom layers for load_model)
    from workbench.cli import build_parser, train_config_from_args
    from workbench.core.data.scan import scan_dataset
    from workbench.core.evaluation import evaluate_model_on_subset, evaluation_subset
    from workbench.core.training import TrainingListeners, train

    template, extra = VARIANTS[name]
    argv = ["train", "--template", template, "--data", str(DATA), "--out", str(out), *extra]
    if args.epochs:
        argv += ["--epochs", str(args.epochs)]
    for pair in args.hparam or []:
        argv += ["--hparam", pair]
    if args.augment is not None:
        argv += ["--augment", *args.augment]
    config = train_config_from_args(build_parser().parse_args(argv))
    times: list[float] = []
    last = [time.perf_counter()]

    def progress(e):
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now
        print(f"    epoch {e['epoch']:>2}/{e['epochs']}  train acc {e['accuracy']:.3f}  val acc "
              f"{e['val_accuracy']:.3f}  {times[-1]:5.1f} s", flush=True)

    started: dict = {}
    result = train(config, TrainingListeners(run_started=started.update, epoch_ended=progress))
    if result.status != "completed":
        raise SystemExit(f"{name}: {result.status}: {result.message}")
    sidecar = json.loads((out / "model.json").read_text())
    class_names = sidecar["class_names"]
    model = keras.models.load_model(out / "last.keras", compile=False)
    subset = evaluation_subset(scan_dataset(DATA), class_names)  # the validation/ folder
    report = evaluate_model_on_subset(model, subset, class_names, tuple(sidecar["input_shape"]),
                                      model.output_shape[-1] == 1, 64, sidecar["preprocessing"])
    history = result.history["val_accuracy"]
    return {"variant": name, "template": template, "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
            "last_val": history[-1], "best_val": max(history), "epochs": len(history),
            "epoch_s": statistics.median(times), "augmentation": sidecar.get("augmentation"),
            "phases": [(p["name"], p["epochs"], p["learning_rate"]) for p in sidecar.get("phases", [])]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--hparam", action="append")
    parser.add_argument("--augment", nargs="*")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.variants.split(","):
            print(f"{name}:", flush=True)
            rows.append(run_variant(name.strip(), Path(folder) / name, args))
    print("\nvariant     template              val acc  macro-F1  (best epoch)  epochs  s/epoch")
    for r in rows:
        print(f"{r['variant']:<11} {r['template']:<20} {r['accuracy']:7.1%}  {r['macro_f1']:8.3f}  "
              f"({r['best_val']:.1%})      {r['epochs']:>4}  {r['epoch_s']:7.1f}   phases {r['phases']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

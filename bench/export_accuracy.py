"""What TFLite export and its quantisations cost in accuracy, on samples the model never trained on.

``workbench export`` checks 16 random samples of the training data; this bench reads a whole held-out
set. It exports ``--model`` to TFLite three ways (float32, dynamic-range, int8) with the project's
``export_model``, as ``workbench export --data`` does: int8 is calibrated on up to 100 random
samples of the folder it is given, here a folder of ``--calibration`` samples that are not held
out (default 100, so all of them). Then it runs every held-out sample through the Keras model and each
artefact, and prints per artefact: its size, its accuracy, its top-1 agreement with Keras and the
largest probability difference, next to the Keras model's own figures from the same run.

Default: the shipped spoken-digit model on the speaker it never heard (george, held out by
``make models-spoken-digits``), calibrated on the other four speakers' clips.

    .venv/bin/python bench/export_accuracy.py [--model M] [--data DIR] [--held-out REGEX]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "fsdd"
MODEL = ROOT / "resources" / "models" / "spoken_digits.keras"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(MODEL))
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--held-out", default=r"_george_", help="regex on file names: the held-out samples")
    parser.add_argument("--calibration", type=int, default=100,
                        help="samples not held out that int8 calibrates on (export_model reads up to 100)")
    args = parser.parse_args()

    from workbench.core.data.pipeline import Subset, subset_arrays
    from workbench.core.data.scan import scan_dataset
    from workbench.core.evaluation import evaluation_subset, output_to_probabilities
    from workbench.core.export import export_model, tflite_runner
    from workbench.core.inference import Predictor

    predictor = Predictor.load(args.model)
    subset = evaluation_subset(scan_dataset(args.data, verify=False), predictor.class_names)
    held = np.array([re.search(args.held_out, Path(i).name) is not None for i in subset.ids])
    if not held.any():
        print(f"no file of {args.data} matches --held-out {args.held_out!r}", file=sys.stderr)
        return 2
    pick = np.flatnonzero(held)
    test = Subset([subset.ids[i] for i in pick], subset.labels[pick], None)
    inputs = subset_arrays(test, predictor.input_shape, preprocessing=predictor.preprocessing).astype(np.float32)
    labels = np.asarray(test.labels)

    # Calibration reads the other speakers only: export_model draws from the folder it is given.
    with tempfile.TemporaryDirectory() as tmp:
        calibration_root = Path(tmp) / "calibration"
        rng = np.random.default_rng(0)
        for i in rng.permutation(np.flatnonzero(~held))[:args.calibration]:
            source = Path(subset.ids[i])
            target = calibration_root / source.parent.name / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)

        reference = predictor.predict_arrays(inputs)
        keras_accuracy = float((reference.argmax(1) == labels).mean())
        print(f"{Path(args.model).name}: {len(labels)} held-out samples ({args.held_out}), "
              f"int8 calibrated on {min(args.calibration, 100)} others")
        print(f"{'artefact':<22}{'size':>10}{'accuracy':>10}{'agreement':>11}{'max |Δp|':>10}{'export s':>10}")
        print(f"{'Keras (reference)':<22}{Path(args.model).stat().st_size / 1e6:>8.2f}MB{keras_accuracy:>10.1%}"
              f"{'':>11}{'':>10}{'':>10}")
        for quantize in ("none", "dynamic", "int8"):
            started = time.perf_counter()
            result = export_model(args.model, "tflite", out=Path(tmp) / f"model-{quantize}.tflite", quantize=quantize,
                                  data=str(calibration_root), parity_count=4)
            seconds = time.perf_counter() - started
            probabilities = output_to_probabilities(tflite_runner(result.path)(inputs), predictor.sigmoid)
            accuracy = float((probabilities.argmax(1) == labels).mean())
            agreement = float((probabilities.argmax(1) == reference.argmax(1)).mean())
            difference = float(np.abs(probabilities - reference).max())
            print(f"{'TFLite ' + quantize:<22}{result.size_bytes / 1e6:>8.2f}MB{accuracy:>10.1%}{agreement:>11.1%}"
                  f"{difference:>10.3f}{seconds:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Metrics of a model on labelled samples: accuracy, per-class precision/recall/F1, confusion
matrix, top-k accuracy and the misclassified samples with their confidence. All JSON-serialisable."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.core.errors import ModelFileError

MISCLASSIFIED_LIMIT = 500


def output_to_probabilities(outputs: np.ndarray, sigmoid: bool) -> np.ndarray:
    """Model outputs → (N, K) class probabilities; one sigmoid unit becomes [1 - p, p]."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if sigmoid:
        p = outputs.reshape(-1)
        return np.stack([1.0 - p, p], axis=1)
    return outputs


def evaluation_report(y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str],
                      sample_ids: list[str] | None = None, top_k: int | None = None) -> dict[str, Any]:
    """The full report for true labels ``y_true`` and predicted ``probabilities`` (N, K)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    k = len(class_names)
    top_k = top_k or min(3, k)
    y_pred = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, np.int64)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    per_class = []
    for i, name in enumerate(class_names):
        tp = confusion[i, i]
        predicted, actual = confusion[:, i].sum(), confusion[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append({"class": name, "precision": float(precision), "recall": float(recall),
                          "f1": float(f1), "support": int(actual)})
    ranked = np.argsort(-probabilities, axis=1)[:, :top_k] if len(probabilities) else np.zeros((0, top_k), int)
    in_top_k = (ranked == y_true[:, None]).any(axis=1) if len(y_true) else np.zeros(0, bool)
    wrong = np.flatnonzero(y_pred != y_true)
    confidences = probabilities[wrong, y_pred[wrong]] if len(wrong) else np.zeros(0)
    order = wrong[np.argsort(-confidences)][:MISCLASSIFIED_LIMIT]
    misclassified = [{
        "sample": sample_ids[i] if sample_ids else str(i),
        "index": int(i),
        "true": class_names[y_true[i]],
        "predicted": class_names[y_pred[i]],
        "confidence": float(probabilities[i, y_pred[i]]),
    } for i in order]
    n = len(y_true)
    return {
        "num_samples": int(n),
        "accuracy": float((y_pred == y_true).mean()) if n else 0.0,
        "top_k": int(top_k),
        "top_k_accuracy": float(in_top_k.mean()) if n else 0.0,
        "class_names": list(class_names),
        "per_class": per_class,
        "macro_f1": float(np.mean([c["f1"] for c in per_class])) if per_class else 0.0,
        "confusion_matrix": confusion.tolist(),
        "misclassified": misclassified,
        "num_misclassified": int(len(wrong)),
    }


def read_evaluation(path: str | Path) -> dict[str, Any]:
    """An ``evaluation.json`` checked against what :func:`evaluation_report` writes, so a damaged one
    gives a :class:`ModelFileError` with the reason instead of breaking whoever shows it."""
    import json

    def bad(reason: str) -> ModelFileError:
        return ModelFileError(f"Expected an evaluation written by workbench. Received: {path} ({reason})")

    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    if not isinstance(data, dict):
        raise bad(f"a JSON {type(data).__name__}, not an object")
    names = data.get("class_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise bad("class_names is not a list of class names")
    for key in ("accuracy", "top_k_accuracy", "macro_f1"):
        value = data.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise bad(f"{key} is not a fraction: {value!r}")
    for key in ("num_samples", "top_k"):
        if not _whole(data.get(key, 0)):
            raise bad(f"{key} is not a whole number: {data.get(key)!r}")
    matrix = data.get("confusion_matrix")
    if not isinstance(matrix, list) or len(matrix) != len(names) or not all(
            isinstance(row, list) and len(row) == len(names) and all(_whole(v) for v in row) for row in matrix):
        raise bad(f"confusion_matrix is not {len(names)}×{len(names)} counts")
    per_class = data.get("per_class", [])
    keys = {"class": str, "precision": (int, float), "recall": (int, float), "f1": (int, float), "support": int}
    if not isinstance(per_class, list) or not all(
            isinstance(row, dict) and all(isinstance(row.get(k), t) and not isinstance(row.get(k), bool)
                                          for k, t in keys.items()) for row in per_class):
        raise bad("per_class rows lack class, precision, recall, f1 or support")
    misclassified = data.get("misclassified", [])
    sample_keys = {"sample": str, "true": str, "predicted": str, "confidence": (int, float)}
    if not isinstance(misclassified, list) or not all(
            isinstance(m, dict) and all(isinstance(m.get(k), t) for k, t in sample_keys.items()) for m in misclassified):
        raise bad("misclassified is not a list of samples with sample, true, predicted and confidence")
    return data


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


#: Above this many batches a data set is read through one traced forward pass instead of eager calls.
TRACE_ABOVE_BATCHES = 8


def predict_in_batches(model, arrays: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """``model(x, training=False)`` over ``arrays`` in chunks (cheaper than ``predict`` for small sets;
    :func:`batch_forward` traces it for large ones)."""
    forward = batch_forward(model, -(-len(arrays) // batch_size))
    outputs = [np.asarray(forward(arrays[i:i + batch_size])) for i in range(0, len(arrays), batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros((0,))


def batch_forward(model, batches: int):
    """``x -> model(x, training=False)`` for reading ``batches`` batches.

    Eager calls cost Python time per layer and batch: the 9,999 validation digits of an MNIST run
    took 1.1-1.3 s eager against 0.5-0.6 s traced on 2 CPU cores (2.6 s eager at the end of a
    `workbench train`, profiled). A few batches are cheaper eager than traced, so small sets stay eager.
    """
    if batches <= TRACE_ABOVE_BATCHES:
        return lambda x: model(x, training=False)
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False), reduce_retracing=True)


def evaluate_model_on_subset(model, subset, class_names: list[str], input_shape: tuple[int, ...], sigmoid: bool,
                             batch_size: int = 256, preprocessing: dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate a Keras model on a data subset (see :mod:`workbench.core.data.pipeline`)."""
    from workbench.core.data.pipeline import make_tf_dataset

    forward = batch_forward(model, -(-len(subset) // batch_size))
    outputs = []
    for x, _ in make_tf_dataset(subset, input_shape, batch_size, preprocessing=preprocessing):
        outputs.append(np.asarray(forward(x)))
    probabilities = output_to_probabilities(np.concatenate(outputs), sigmoid)
    return evaluation_report(subset.labels, probabilities, class_names, subset.ids)


def evaluation_subset(report, class_names: list[str]):
    """The labelled samples of a scanned dataset to evaluate a model on, labelled in the model's classes.

    A plain folder is used whole; a pre-split folder or an npz gives its test split when it has one (an
    npz may hold its test split alone, ``x_test``/``y_test``).
    """
    from workbench.core.data.pipeline import Subset
    from workbench.core.data.scan import load_npz
    from workbench.core.errors import DatasetError

    unknown = sorted(set(report.class_names) - set(class_names))
    if unknown:
        raise DatasetError(f"Expected the dataset's classes to be among the model's ({', '.join(class_names)}). "
                           f"Received: unknown class(es) {', '.join(unknown)} in {report.path}")
    to_model = np.array([class_names.index(name) for name in report.class_names], dtype=np.int32)
    if report.kind == "npz":
        arrays = load_npz(report.path, require_train=False)
        subset = "test" if "x_test" in arrays else "train"
        lookup = {name: i for i, name in enumerate(report.class_names)}
        labels = np.array([lookup[str(v)] for v in arrays[f"y_{subset}"]], dtype=np.int32)
        x = arrays[f"x_{subset}"]
        return Subset([f"npz:x_{subset}[{i}]" for i in range(len(x))], to_model[labels], x)
    subsets = np.array(report.subsets)
    pick = "test" if "test" in subsets else ("val" if "val" in subsets else None)
    idx = np.flatnonzero(subsets == pick) if pick else np.arange(len(report.files))
    return Subset([report.files[i] for i in idx], to_model[report.labels[idx]])


def evaluate_on_dataset(predictor, data_path: str, batch_size: int = 256,
                        progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Evaluate a loaded :class:`~workbench.core.inference.Predictor` on a dataset path.

    ``result["dataset"]`` says what the scan could not read and skipped, with the reasons, and what the
    model's input does to the files (e.g. sound clips longer than its clip are cropped).
    ``progress(stage, done, total)``, when given, is told of the scan's files ("reading") and of the
    batches evaluated ("evaluating").
    """
    from workbench.core.data.pipeline import make_tf_dataset
    from workbench.core.data.scan import display_path, scan_dataset
    from workbench.core.errors import DatasetError, WorkbenchError
    from workbench.core.modality import refuse_other_modality

    report = scan_dataset(data_path, allow_test_only=True,
                          progress=None if progress is None else lambda done, total: progress("reading", done, total))
    noun = predictor.handler.noun
    refuse_other_modality(report.modality, predictor.modality, f"Expected {noun} files for this {noun} model",
                          display_path(report.path))
    subset = evaluation_subset(report, predictor.class_names)
    if not len(subset):
        raise DatasetError(f"Expected readable samples to evaluate on. Received: none in {display_path(report.path)} "
                           f"({len(report.unreadable)} unreadable file(s))")
    batches = -(-len(subset) // batch_size)
    forward = batch_forward(predictor.model, batches)
    outputs = []
    try:
        for x, _ in make_tf_dataset(subset, predictor.input_shape, batch_size, preprocessing=predictor.preprocessing):
            outputs.append(np.asarray(forward(x)))
            if progress is not None:
                progress("evaluating", len(outputs), batches)
    except WorkbenchError:
        raise
    except Exception as exc:  # a file that changed since the scan fails inside tf.data
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        said = [line.split("Error: ", 1)[-1] for line in lines if "Received: " in line]
        raise DatasetError(said[-1] if said else f"Expected every scanned file to decode. Received: "
                           f"{lines[0] if lines else type(exc).__name__}") from None
    probabilities = output_to_probabilities(np.concatenate(outputs), predictor.sigmoid)
    result = evaluation_report(subset.labels, probabilities, predictor.class_names, subset.ids)
    warnings = report.warnings + report.model_warnings(predictor.input_shape, predictor.preprocessing)
    result["dataset"] = {"path": report.path, "unreadable": report.unreadable, "skipped": report.skipped,
                         "warnings": warnings}
    return result

"""Adapt a trained classifier to one person's examples in seconds: "teach it my handwriting / my voice".

A few drawings or recordings per class (the Draw tab's collect mode and the Microphone tab's "Add to
dataset…" save them as ``<dataset>/<class>/...``) and :func:`adapt_model` writes a NEW model that reads
that person better, with its sidecar; the original model is never touched.

Only the classifier head changes, so the adapted model has exactly the original's layers (it loads,
predicts, exports and shows Grad-CAM like any model) and adapting takes seconds on a CPU. Every example
goes through the model's own preparation (:meth:`Predictor.prepare_file` for files: the training
pipeline's; :meth:`Predictor.prepare_array` for in-memory samples: the canvas's and the microphone's),
then through the model up to its last layer, a softmax ``Dense``, to give its features ``f``.

Methods (``bench/adaptation.py`` measures both on real writers and a real held-out speaker):

- ``"prototypes"`` (default): nearest class mean on the features, mixed with the model's own answer.
  With ``μ_c`` the mean features of the examples of class ``c`` and ``D`` the mean squared distance
  between two class means, the new logits are ``z_c(f) + w · (2 μ_c·f − |μ_c|²) / D``: the original
  logits plus ``w`` times minus the scaled squared distance to each class mean (``|f|²``, the same for
  every class, cancels in the softmax). That is one ``Dense`` layer with new weights
  ``W + 2wμᵀ/D`` and bias ``b − w|μ|²/D``. The weight of the examples grows with their number:
  ``w = 30 · k`` for ``k`` examples in the smallest class, at most 160 (measured: a weight of 20–40
  suits one example per class, 80–160 three or more).
- ``"finetune_head"``: the head's weights trained further on the examples (full-batch gradient
  descent on the cross-entropy from the original weights, a fixed number of steps).

The figure shown to the user: the original model's accuracy on the examples (it never saw them)
against the adapted head's accuracy under cross-validation, every example predicted by a head adapted
without it: ``folds`` = the fewest examples in a class (at most 10), fold ``j`` holding out the
``j``-th, ``j+folds``-th … example of every class, so each fold leaves out at least one example of
each class and learns from the rest.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.adapt_head import (  # noqa: F401  (the adaptation API, in one place)
    DEFAULT_METHOD,
    METHODS,
    MIN_PER_CLASS,
    classifier_head,
    cross_validated_predictions,
    extract_features,
    feature_extractor,
    finetune_head,
    fit_head,
    head_weights,
    prototype_head,
    prototype_weight,
)
from workbench.core.errors import DatasetError, ModelFileError, WorkbenchError
from workbench.core.sidecar import check_new_model_file, file_sha256

Progress = Callable[[int, int], None]


class AdaptCancelled(WorkbenchError):
    """The adaptation was cancelled before the new model was written."""


@dataclass
class AdaptResult:
    """What :func:`adapt_model` did: the new model, on which examples, and the before/after figure.

    ``before_accuracy``: the original model on the examples. ``after_accuracy``: the adapted head on
    the same examples, each predicted by a head adapted without it (``folds``-fold cross-validation).
    """

    model_path: str
    source_model: str
    method: str
    weight: float | None
    class_names: list[str]
    counts: dict[str, int]
    num_examples: int
    before_accuracy: float
    after_accuracy: float
    before_correct: int
    after_correct: int
    folds: int
    per_class: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for the user: "read 31 of 50 (62%) before, 47 of 50 (94%) after adapting"."""
        n = self.num_examples
        return (f"Your {n} examples: the original model read {self.before_correct} of {n} "
                f"({self.before_accuracy:.0%}), the adapted one {self.after_correct} of {n} "
                f"({self.after_accuracy:.0%}, each checked by a model adapted without it)")


# ----------------------------------------------------------------------------------------- examples
@dataclass
class Examples:
    """Prepared model inputs with their labels (indices into the model's classes) and provenance."""

    inputs: np.ndarray
    labels: np.ndarray
    files: list[str]
    skipped: list[dict[str, str]]
    source: str | None


def load_examples(predictor, examples: str | Path | tuple[Sequence[Any], Sequence[str]], *, k: int | None = None,
                  prepared: bool = False, progress: Progress | None = None, cancel: Any = None) -> Examples:
    """The examples as the model's inputs, by the model's own preparation.

    Args:
        examples: a folder with one subfolder per class (the layout collect mode and "Add to dataset…"
            write), or ``(samples, class_names)``: in-memory samples for :meth:`Predictor.prepare_array`
            (an image of any size; a waveform at the model's rate), or model inputs with ``prepared``.
        k: use at most the first ``k`` examples of each class (files in name order); None: all.

    Classes the model does not know are an error naming them; unreadable files are skipped and listed.
    """
    names = predictor.class_names
    index = {n: i for i, n in enumerate(names)}
    if k is not None and int(k) < 1:
        raise WorkbenchError(f"Expected k (examples per class) of at least 1. Received: {k}")
    if isinstance(examples, (str, Path)):
        return _load_folder(predictor, Path(examples), index, k, progress, cancel)
    try:
        samples, classes = examples
    except (TypeError, ValueError):
        raise WorkbenchError("Expected a folder of examples or (samples, class names). "
                             f"Received: {type(examples).__name__}") from None
    classes = [str(c) for c in classes]
    if len(samples) != len(classes):
        raise WorkbenchError(f"Expected one class name per sample. Received: {len(samples)} samples and "
                             f"{len(classes)} class names")
    _check_known(set(classes), index, "the examples")
    chosen = _first_k(classes, k)
    inputs = []
    for done, i in enumerate(chosen):
        _check_cancel(cancel)
        sample = np.asarray(samples[i], np.float32)
        inputs.append(sample if prepared else predictor.prepare_array(sample))
        if progress:
            progress(done + 1, len(chosen))
    stacked = np.stack(inputs).astype(np.float32) if inputs else np.zeros((0, *predictor.input_shape), np.float32)
    return Examples(stacked, np.array([index[classes[i]] for i in chosen], np.int64), [], [], None)


def _load_folder(predictor, folder: Path, index: dict[str, int], k: int | None, progress, cancel) -> Examples:
    pairs = folder_examples(folder, list(index), predictor.modality)
    chosen = _first_k([c for c, _ in pairs], k)
    inputs, labels, files, skipped = [], [], [], []
    for done, i in enumerate(chosen):
        _check_cancel(cancel)
        name, path = pairs[i]
        try:
            inputs.append(predictor.prepare_file(path))
        except WorkbenchError as exc:
            skipped.append({"path": str(path), "reason": str(exc)})
        else:
            labels.append(index[name])
            files.append(Path(path).relative_to(folder).as_posix())
        if progress:
            progress(done + 1, len(chosen))
    stacked = np.stack(inputs).astype(np.float32) if inputs else np.zeros((0, *predictor.input_shape), np.float32)
    return Examples(stacked, np.array(labels, np.int64), files, skipped, str(folder))


def folder_examples(folder: str | Path, class_names: Sequence[str], modality: str) -> list[tuple[str, str]]:
    """(class, file) of every example in a folder per class, by class then file name; a
    :class:`DatasetError` for a missing folder, files of another modality or classes the model lacks."""
    from workbench.core.data.scan import display_path, scan_dataset
    from workbench.core.modality import get_modality

    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"Expected a folder with one subfolder per class of examples. Received: "
                           f"{display_path(folder)} is not a folder")
    report = scan_dataset(folder, verify=False)
    if report.modality != modality:
        raise DatasetError(f"Expected {get_modality(modality).noun} examples for this {modality} model. "
                           f"Received: {report.modality} files in {display_path(folder)}")
    found = [report.class_names[int(label)] for label in report.labels]
    _check_known(set(found), {n: i for i, n in enumerate(class_names)}, display_path(folder))
    return sorted(zip(found, report.files))


def check_examples(model_path: str | Path, examples: str | Path | tuple[Sequence[Any], Sequence[str]],
                   k: int | None = None, min_per_class: int = MIN_PER_CLASS) -> dict[str, int]:
    """Counts per class of the examples :func:`adapt_model` would use, checked without loading the
    model (no TensorFlow): a :class:`DatasetError` names unknown classes and classes lacking examples."""
    from workbench.core.data.scan import display_path
    from workbench.core.sidecar import read_sidecar

    sidecar = read_sidecar(model_path)
    names = list(sidecar["class_names"])
    if isinstance(examples, (str, Path)):
        classes = [c for c, _ in folder_examples(examples, names, sidecar.get("modality") or "image")]
        where = display_path(examples)
    else:
        try:
            _samples, classes = examples
        except (TypeError, ValueError):
            raise WorkbenchError("Expected a folder of examples or (samples, class names). "
                                 f"Received: {type(examples).__name__}") from None
        classes, where = [str(c) for c in classes], "the examples"
        _check_known(set(classes), {n: i for i, n in enumerate(names)}, where)
    index = {n: i for i, n in enumerate(names)}
    labels = np.array([index[classes[i]] for i in _first_k(classes, k)], np.int64)
    return check_counts(labels, names, min_per_class, where)


def _first_k(classes: list[str], k: int | None) -> list[int]:
    if k is None:
        return list(range(len(classes)))
    seen: dict[str, int] = {}
    chosen = []
    for i, name in enumerate(classes):
        if seen.get(name, 0) < int(k):
            seen[name] = seen.get(name, 0) + 1
            chosen.append(i)
    return chosen


def _check_known(found: set[str], index: dict[str, int], where: str) -> None:
    unknown = sorted(found - set(index))
    if unknown:
        raise DatasetError(f"Expected only classes the model knows ({_names(list(index))}). Received: "
                           f"{_names(unknown)} in {where}; adapting cannot add classes: train a model on "
                           "them instead")


def check_counts(labels: np.ndarray, class_names: list[str], min_per_class: int = MIN_PER_CLASS,
                 where: str = "the examples") -> dict[str, int]:
    """Counts per class; a :class:`DatasetError` naming every class with fewer than ``min_per_class``."""
    counts = np.bincount(labels, minlength=len(class_names))
    lacking = [(name, int(n)) for name, n in zip(class_names, counts) if n < min_per_class]
    if lacking:
        none = [name for name, n in lacking if n == 0]
        few = [f"{n} of {name}" for name, n in lacking if n > 0]
        parts = ([f"none of {_names(none)}"] if none else []) + few
        raise DatasetError(f"Expected at least {min_per_class} examples of every class the model knows "
                           f"({_names(class_names)}), to learn from and to check the adapted model. Received: "
                           f"{'; '.join(parts)} in {where}")
    return {name: int(n) for name, n in zip(class_names, counts)}


def _names(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(str(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _check_cancel(cancel: Any) -> None:
    if cancel is not None and getattr(cancel, "cancelled", False):
        raise AdaptCancelled("Expected the adaptation to run to the end. Received: cancelled (no model written)")


# --------------------------------------------------------------------------------------- the model
def default_adapted_path(model_path: str | Path, folder: str | Path, now: float | None = None) -> Path:
    """``<folder>/<model stem>-adapted-<YYYYmmdd-HHMMSS>.keras``, with a number added if taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    stem = Path(model_path).stem
    target = Path(folder) / f"{stem}-adapted-{stamp}.keras"
    suffix = 1
    while target.exists() or target.with_suffix(".json").exists():
        target = Path(folder) / f"{stem}-adapted-{stamp}-{suffix}.keras"
        suffix += 1
    return target


def adaptation_base(model_path: str | Path) -> Path:
    """The model to adapt when a person adapts ``model_path`` again: its source model when it is an
    adapted model whose source is still there unchanged (so new examples replace the old ones instead
    of being stacked on them), else ``model_path`` itself."""
    from workbench.core.sidecar import ModelSidecar

    model_path = Path(model_path)
    try:
        record = ModelSidecar.read(model_path).adaptation or {}
    except WorkbenchError:
        return model_path
    source = record.get("source_model")
    if isinstance(source, str) and Path(source).is_file() and file_sha256(Path(source)) == record.get("source_model_sha256"):
        return Path(source)
    return model_path


def _feature_layer_name(model, head) -> str | None:
    """The layer whose output the head reads (its features), or None when it cannot be told."""
    for layer in model.layers:
        try:
            if layer.output is head.input:
                return layer.name
        except (AttributeError, ValueError):
            continue
    return None


def adapt_model(model_path: str | Path, examples: str | Path | tuple[Sequence[Any], Sequence[str]],
                out_path: str | Path, method: str = DEFAULT_METHOD, k: int | None = None, *,
                min_per_class: int = MIN_PER_CLASS, prepared: bool = False, overwrite: bool = False,
                command: str | None = None, progress: Progress | None = None, cancel: Any = None) -> AdaptResult:
    """Adapt the model at ``model_path`` to ``examples`` and write the result as a new ``out_path``.

    Args:
        model_path: a ``.keras`` classifier with its sidecar; it is read, never written.
        examples: a folder with one subfolder per class, or ``(samples, class_names)`` (see
            :func:`load_examples`). Every class the model knows needs ``min_per_class`` examples.
        out_path: the new ``.keras`` file; its sidecar (``.json``) is written beside it. Existing files are
            refused, except an earlier adapted model with ``overwrite``.
        method: one of :data:`METHODS` (see the module docstring).
        k: at most this many examples per class (the first in name order); None: all of them.
        progress: ``progress(done, total)`` while examples are prepared and the model is written.
        cancel: an object whose ``cancelled`` turns true to stop (:class:`AdaptCancelled`); checked
            between examples and before writing, so a cancelled run writes nothing.

    Returns:
        :class:`AdaptResult`, with the original's accuracy on the examples and the adapted one's
        (cross-validated).
    """
    from workbench.core.atomic import atomic_path
    from workbench.core.inference import Predictor
    from workbench.core.sidecar import ModelSidecar, library_versions, write_sidecar

    started = time.perf_counter()
    if method not in METHODS:
        raise WorkbenchError(f"Expected an adaptation method among {', '.join(METHODS)}. Received: {method!r}")
    if int(min_per_class) < MIN_PER_CLASS:
        raise WorkbenchError(f"Expected min_per_class of at least {MIN_PER_CLASS}. Received: {min_per_class}")
    model_path, out_path = Path(model_path), Path(out_path)
    check_new_model_file(out_path, [model_path], overwrite, kind="adapted model", command="adapt",
                         ours=lambda record: record.adaptation is not None)
    check_examples(model_path, examples, k, int(min_per_class))  # says what is missing before TensorFlow loads
    predictor = Predictor.load(model_path)
    if predictor.sigmoid:
        raise ModelFileError(f"Expected a softmax classifier to adapt. Received: a sigmoid (two-class) model, {model_path}")
    head = classifier_head(predictor.model, model_path)
    if not head.use_bias:  # both methods move the bias; a head without one would need rebuilding
        raise ModelFileError(f"Expected a softmax Dense head with a bias, to adapt it. Received: layer {head.name!r} "
                             f"of {model_path} has none (use_bias=False)")
    source_digest = file_sha256(model_path)
    loaded = load_examples(predictor, examples, k=k, prepared=prepared, cancel=cancel,
                           progress=(lambda done, total: progress(done, total + 3)) if progress else None)
    where = loaded.source or "the examples"
    counts = check_counts(loaded.labels, predictor.class_names, int(min_per_class), where)
    total = len(loaded.labels) + 3
    _check_cancel(cancel)
    extractor = feature_extractor(predictor.model, head)
    features = extract_features(extractor, loaded.inputs)
    kernel, bias = head_weights(head)
    original = np.argmax(features @ kernel + bias, axis=1)
    if progress:
        progress(total - 2, total)
    predicted, folds = cross_validated_predictions(method, features, loaded.labels, kernel, bias)
    new_kernel, new_bias, weight = fit_head(method, features, loaded.labels, kernel, bias)
    if progress:
        progress(total - 1, total)
    _check_cancel(cancel)
    head.set_weights([new_kernel, new_bias])
    before_ok, after_ok = original == loaded.labels, predicted == loaded.labels
    per_class = [{"class": name, "examples": int((loaded.labels == c).sum()),
                  "before_correct": int(before_ok[loaded.labels == c].sum()),
                  "after_correct": int(after_ok[loaded.labels == c].sum())}
                 for c, name in enumerate(predictor.class_names)]
    result = AdaptResult(
        model_path=str(out_path), source_model=str(model_path), method=method, weight=weight,
        class_names=list(predictor.class_names), counts=counts, num_examples=int(len(loaded.labels)),
        before_accuracy=float(before_ok.mean()), after_accuracy=float(after_ok.mean()),
        before_correct=int(before_ok.sum()), after_correct=int(after_ok.sum()), folds=folds,
        per_class=per_class, skipped=loaded.skipped)

    record = ModelSidecar.read(model_path)
    source_title = record.title
    record.title = f"{record.title or model_path.stem} (adapted)"
    record.status = "adapted"
    record.created = time.strftime("%Y-%m-%dT%H:%M:%S")
    record.export = None  # not an export: `workbench export` must never take it for one it may replace
    record.versions = library_versions()
    record.adaptation = {
        "method": method,
        "weight": weight,
        "source_model": str(model_path.resolve()),
        "source_model_sha256": source_digest,
        "source_title": source_title,
        "head_layer": head.name,
        "feature_layer": _feature_layer_name(predictor.model, head),
        "examples": {"path": loaded.source, "counts": counts, "k": k, "files": loaded.files,
                     "skipped": [s["path"] for s in loaded.skipped]},
        "evaluation": {"method": f"{folds}-fold cross-validation over the examples", "folds": folds,
                       "before_accuracy": result.before_accuracy, "after_accuracy": result.after_accuracy,
                       "num_examples": result.num_examples},
        "command": command or "adapt_model(" + ", ".join(
            shlex.quote(str(v)) for v in (model_path, loaded.source or "<arrays>", out_path, method)) + ")",
    }
    _check_cancel(cancel)
    with atomic_path(out_path, ".keras") as tmp:
        predictor.model.save(tmp)
    write_sidecar(out_path, record)
    if progress:
        progress(total, total)
    result.seconds = round(time.perf_counter() - started, 3)
    return result

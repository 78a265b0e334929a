"""Splits of a scan report, and their tf.data pipelines and arrays from the samples' modality.

The split is modality-free. Decoding, caching and augmentation belong to the modality the
preprocessing record names (``kind``): :mod:`workbench.core.image.dataset` decodes images with the
function that prepares files for prediction and streams them through the on-disk sample cache
(:mod:`workbench.core.data.sample_cache`: decoded once, for every epoch and later runs, never the whole
folder in memory), :mod:`workbench.core.audio.dataset` fixed-length waveforms, cached in memory after
the first epoch, :mod:`workbench.core.video.dataset` clips through the video clip cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.data.scan import ScanReport, load_npz
from workbench.core.data.split import group_split, split_counts, stratified_split
from workbench.core.errors import DatasetError
from workbench.core.modality import modality_of_preprocessing


@dataclass
class Subset:
    """One side of a split: sample ids (file paths or ``npz:x_train[i]``) and labels."""

    ids: list[str]
    labels: np.ndarray
    arrays: np.ndarray | None = None  # raw arrays for npz data, aligned with ids

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class DataSplit:
    train: Subset
    val: Subset | None
    test: Subset | None
    info: dict[str, Any] = field(default_factory=dict)


def split_dataset(
    report: ScanReport, *, val_fraction: float = 0.2, group_regex: str | None = None, seed: int = 42,
    val_groups: list[str] | None = None,
) -> DataSplit:
    """Split the scanned samples into train / validation (/ test) without decoding anything.

    ``val_groups`` (with ``group_regex``) names the groups to validate on — e.g. one held-out
    speaker — instead of drawing ``val_fraction`` of the groups at random.
    """
    if len(report.class_names) < 2:
        raise DatasetError(
            f"Expected at least 2 classes to train a classifier. Received: {len(report.class_names)} "
            f"({', '.join(report.class_names) or 'none'}) in {report.path}"
        )
    if val_groups and not group_regex:
        raise DatasetError(f"Expected a group regex together with validation groups. Received: val_groups "
                           f"{', '.join(val_groups)} without --group-regex")
    info: dict[str, Any] = {"val_fraction": val_fraction, "group_regex": group_regex, "seed": seed}
    if val_groups:
        info["val_groups"] = list(val_groups)
    if report.kind == "npz":
        if group_regex:
            raise DatasetError(f"Expected a folder of files for a group split. Received: the array file {report.path}")
        arrays = load_npz(report.path)
        lookup = {name: i for i, name in enumerate(report.class_names)}

        def whole(subset: str) -> Subset:
            labels = np.array([lookup[str(v)] for v in arrays[f"y_{subset}"]], dtype=np.int32)
            return Subset([f"npz:x_{subset}[{i}]" for i in range(len(labels))], labels, arrays[f"x_{subset}"])

        if "x_val" in arrays:
            # The file fixes its validation split (e.g. held-out writers), as pre-split folders do.
            train, val = whole("train"), whole("val")
            info["method"] = "pre-split arrays"
        else:
            train_idx, val_idx = stratified_split(report.labels, val_fraction, seed)
            ids = [f"npz:x_train[{i}]" for i in range(len(report.labels))]
            x = arrays["x_train"]
            train = Subset([ids[i] for i in train_idx], report.labels[train_idx], x[train_idx])
            val = Subset([ids[i] for i in val_idx], report.labels[val_idx], x[val_idx]) if len(val_idx) else None
            info["method"] = "stratified"
        test = whole("test") if "x_test" in arrays else None
    else:
        files, labels, subsets = report.files, report.labels, np.array(report.subsets)
        if report.kind == "presplit" and "val" in set(report.subsets):
            pick = lambda name: Subset([files[i] for i in np.flatnonzero(subsets == name)], labels[subsets == name])
            train, val = pick("train"), pick("val")
            test = pick("test") if "test" in set(report.subsets) else None
            info["method"] = "pre-split folders"
        else:
            pool = np.flatnonzero(subsets != "test")
            pool_files = [files[i] for i in pool]
            if group_regex:
                tr, va = group_split(pool_files, labels[pool], group_regex, val_fraction, seed, val_groups)
                info["method"] = "group"
            else:
                tr, va = stratified_split(labels[pool], val_fraction, seed)
                info["method"] = "stratified"
            train = Subset([pool_files[i] for i in tr], labels[pool][tr])
            val = Subset([pool_files[i] for i in va], labels[pool][va]) if len(va) else None
            test_idx = np.flatnonzero(subsets == "test")
            test = Subset([files[i] for i in test_idx], labels[test_idx]) if len(test_idx) else None
    info["counts"] = {
        name: split_counts(sub.labels, np.arange(len(sub)), report.class_names)
        for name, sub in (("train", train), ("val", val), ("test", test))
        if sub is not None
    }
    info["num_train"], info["num_val"] = len(train), len(val) if val else 0
    info["num_test"] = len(test) if test else 0
    info["warnings"] = split_warnings(info, val_fraction)
    return DataSplit(train, val, test, info)


def split_warnings(info: dict[str, Any], val_fraction: float) -> list[str]:
    """What a split leaves unmeasured: no validation split at all, or classes missing on one side."""
    counts = info["counts"]
    warnings: list[str] = []
    if not info["num_val"]:
        why = ("the validation fraction is 0" if val_fraction == 0
               else "no class has 2 or more samples, so none can be held out")
        warnings.append(f"No validation split ({why}): accuracy is measured on the training samples and the "
                        "best epoch is chosen by training accuracy, which flatters the model.")
    else:
        missing = [name for name, n in counts["val"].items() if n == 0]
        if missing:
            warnings.append(f"Classes with no validation sample (their accuracy is not measured): "
                            f"{', '.join(missing)}.")
    untrained = [name for name, n in counts["train"].items() if n == 0]
    if untrained:
        warnings.append(f"Classes with no training sample (the model cannot learn them): {', '.join(untrained)}.")
    return warnings


def data_notes(report: ScanReport, split: DataSplit, input_shape: tuple[int, ...],
               preprocessing: dict[str, Any] | None, limit: int | None = 20) -> list[str]:
    """The lines a training log shows about its data before the first epoch: the unreadable files
    with their reasons (the first ``limit``), what the scan skipped, its warnings, what the model's
    input does to the files (e.g. long sound clips cropped) and what the split leaves unmeasured."""
    notes = report.lines(limit)
    notes += [f"warning: {w}" for w in report.model_warnings(input_shape, preprocessing)]
    notes += [f"warning: {w}" for w in split.info.get("warnings", [])]
    return notes


def subset_arrays(subset: Subset, input_shape: tuple[int, ...], limit: int | None = None,
                  preprocessing: dict[str, Any] | None = None) -> np.ndarray:
    """Decode (up to ``limit``) samples of a subset to float32 arrays, as the pipeline would."""
    count = len(subset) if limit is None else min(limit, len(subset))
    arrays = subset.arrays[:count] if subset.arrays is not None else None
    return modality_of_preprocessing(preprocessing).sample_arrays(
        subset.ids[:count], arrays, tuple(input_shape), preprocessing or {})


def make_tf_dataset(
    subset: Subset,
    input_shape: tuple[int, ...],
    batch_size: int,
    *,
    training: bool = False,
    augmentation: Any = None,  # the modality's augmentation spec
    seed: int = 42,
    preprocessing: dict[str, Any] | None = None,
):
    """A batched ``tf.data.Dataset`` of (float32 model inputs, int32 labels), augmented when ``training``."""
    return modality_of_preprocessing(preprocessing).tf_dataset(
        subset.ids, np.asarray(subset.labels, dtype=np.int32), subset.arrays, tuple(int(d) for d in input_shape),
        batch_size, training=training, augmentation=augmentation, seed=seed, preprocessing=preprocessing or {})

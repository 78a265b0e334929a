"""tf.data pipelines from a scan report: parallel decode, cache, shuffle, batch, augment, prefetch.

Images are decoded by :func:`workbench.core.data.images.load_image_for_model` — the same function
that prepares files for prediction — and cached as uint8 after the first epoch. Sound files go
through :mod:`workbench.core.audio.dataset` (fixed-length waveforms, cached likewise) when the
preprocessing says ``kind: audio``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.audio.config import AudioConfig
from workbench.core.augmentation import AugmentationSpec, make_augmenter
from workbench.core.data.images import load_image_for_model, prepare_for_model
from workbench.core.data.scan import ScanReport, load_npz
from workbench.core.data.split import group_split, split_counts, stratified_split
from workbench.core.errors import DatasetError

SHUFFLE_BUFFER = 10_000


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
        train_idx, val_idx = stratified_split(report.labels, val_fraction, seed)
        ids = [f"npz:x_train[{i}]" for i in range(len(report.labels))]
        x = arrays["x_train"]
        train = Subset([ids[i] for i in train_idx], report.labels[train_idx], x[train_idx])
        val = Subset([ids[i] for i in val_idx], report.labels[val_idx], x[val_idx]) if len(val_idx) else None
        test = None
        if "x_test" in arrays:
            lookup = {name: i for i, name in enumerate(report.class_names)}
            y_test = np.array([lookup[str(v)] for v in arrays["y_test"]], dtype=np.int32)
            test = Subset([f"npz:x_test[{i}]" for i in range(len(y_test))], y_test, arrays["x_test"])
        info["method"] = "stratified"
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
    return DataSplit(train, val, test, info)


def subset_arrays(subset: Subset, input_shape: tuple[int, ...], limit: int | None = None,
                  preprocessing: dict[str, Any] | None = None) -> np.ndarray:
    """Decode (up to ``limit``) samples of a subset to float32 arrays, as the pipeline would."""
    count = len(subset) if limit is None else min(limit, len(subset))
    if _is_audio(preprocessing):
        from workbench.core.audio.dataset import check_input_shape, clip_arrays

        config = AudioConfig.from_preprocessing(preprocessing)
        check_input_shape(input_shape, config)
        return clip_arrays(subset.ids[:count], config)
    if subset.arrays is not None:
        return np.stack([np.rint(prepare_for_model(subset.arrays[i], input_shape, preprocessing))
                         for i in range(count)])
    return np.stack([np.rint(load_image_for_model(subset.ids[i], input_shape, preprocessing)) for i in range(count)])


def make_tf_dataset(
    subset: Subset,
    input_shape: tuple[int, ...],
    batch_size: int,
    *,
    training: bool = False,
    augmentation: Any = None,  # AugmentationSpec for images, AudioAugmentationSpec for sound
    seed: int = 42,
    preprocessing: dict[str, Any] | None = None,
):
    """A batched ``tf.data.Dataset`` of (float32 raw pixels — or waveforms for audio —, int32 labels)."""
    import tensorflow as tf

    shape = tuple(int(d) for d in input_shape)
    labels = np.asarray(subset.labels, dtype=np.int32)
    if _is_audio(preprocessing):
        from workbench.core.audio.dataset import audio_tf_dataset, check_input_shape

        config = AudioConfig.from_preprocessing(preprocessing)
        check_input_shape(shape, config)
        return audio_tf_dataset(subset.ids, labels, config, batch_size, training=training,
                                augmentation=augmentation, seed=seed)
    if subset.arrays is not None:
        images = _prepare_array_batch(subset.arrays, shape, preprocessing)
        ds = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        def decode(path):
            return np.rint(load_image_for_model(path.decode(), shape, preprocessing)).astype(np.uint8)

        def tf_decode(path, label):
            image = tf.numpy_function(decode, [path], tf.uint8, stateful=False)
            image.set_shape(shape)
            return image, label

        ds = tf.data.Dataset.from_tensor_slices((np.array(subset.ids), labels))
        ds = ds.map(tf_decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).cache()
    if training:
        ds = ds.shuffle(min(len(subset), SHUFFLE_BUFFER), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
    augment = make_augmenter(augmentation, seed) if training and isinstance(augmentation, AugmentationSpec) else None
    if augment is not None:
        ds = ds.map(lambda x, y: (augment(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _prepare_array_batch(arrays: np.ndarray, shape: tuple[int, ...],
                         preprocessing: dict[str, Any] | None = None) -> np.ndarray:
    """uint8 arrays of ``shape``; reshaped in one go when only the channel axis is missing."""
    if preprocessing and preprocessing.get("mnist_style"):
        return np.stack([np.rint(prepare_for_model(a, shape, preprocessing)).astype(np.uint8) for a in arrays])
    if arrays.shape[1:] == shape:
        return arrays.astype(np.uint8, copy=False)
    if arrays.ndim == 3 and arrays.shape[1:] + (1,) == shape:
        return arrays[..., None].astype(np.uint8, copy=False)
    return np.stack([np.rint(prepare_for_model(a, shape)).astype(np.uint8) for a in arrays])


def _is_audio(preprocessing: dict[str, Any] | None) -> bool:
    return bool(preprocessing) and preprocessing.get("kind") == "audio"

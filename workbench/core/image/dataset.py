"""tf.data pipelines for image folders and image arrays: shuffle, decode or read from the disk cache, augment.

Files are decoded by :func:`workbench.core.image.io.load_image_for_model` — the same function that
prepares files for prediction — and kept as uint8 in the on-disk sample cache
(:mod:`workbench.core.data.sample_cache`) by the first epoch; later epochs and later runs with the same
files and preprocessing read them from there. A folder streams from disk: only a few batches are in
memory at a time, whatever its size. ``.npz`` arrays (already in memory) go through
:func:`prepare_for_model`, the canvas's and the camera's preparation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.data.sample_cache import SampleStore, sample_dataset
from workbench.core.image.augment import AugmentationSpec, make_augmenter
from workbench.core.image.io import load_image_for_model, prepare_for_model

#: Bumped when what :func:`load_image_for_model` makes of a file changes, so cached images are decoded again.
DECODE_VERSION = 1


def image_arrays(ids: list[str], arrays: np.ndarray | None, input_shape: tuple[int, ...],
                 preprocessing: dict[str, Any] | None) -> np.ndarray:
    """Prepared images (N, H, W, C) rounded as the uint8 training cache holds them."""
    if arrays is not None:
        return np.stack([np.rint(prepare_for_model(a, input_shape, preprocessing)) for a in arrays[:len(ids)]])
    return np.stack([np.rint(load_image_for_model(i, input_shape, preprocessing)) for i in ids])


def image_tf_dataset(ids: list[str], labels: np.ndarray, arrays: np.ndarray | None, input_shape: tuple[int, ...],
                     batch_size: int, *, training: bool = False, augmentation: Any = None, seed: int = 42,
                     preprocessing: dict[str, Any] | None = None):
    """A batched ``tf.data.Dataset`` of (float32 raw pixels 0..255, int32 labels)."""
    import tensorflow as tf

    shape = tuple(int(d) for d in input_shape)
    labels = np.asarray(labels, dtype=np.int32)
    if arrays is not None:
        # Arrays are in memory already: shuffle the indices (all of them, each epoch) and gather
        # whole batches, rather than shuffling and batching 784-byte images one element at a time.
        images = tf.constant(_prepare_array_batch(arrays, shape, preprocessing))
        label_tensor = tf.constant(labels)
        ds = tf.data.Dataset.range(len(labels))
        if training:
            ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size).map(lambda index: (tf.gather(images, index), tf.gather(label_tensor, index)))
    else:
        ds = sample_dataset(image_store(ids, shape, preprocessing), ids, labels, batch_size, training=training,
                            seed=seed)
    ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
    augment = make_augmenter(augmentation, seed) if training and isinstance(augmentation, AugmentationSpec) else None
    if augment is not None:
        ds = ds.map(lambda x, y: (augment(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def image_store(ids: list[str], shape: tuple[int, ...], preprocessing: dict[str, Any] | None) -> SampleStore:
    """The files ``ids`` prepared for a model input of ``shape`` as uint8, through the disk cache."""
    def decode(path: str) -> np.ndarray:
        return np.rint(load_image_for_model(path, shape, preprocessing)).astype(np.uint8)

    settings = {"modality": "image", "decode": DECODE_VERSION, "preprocessing": dict(preprocessing or {})}
    return SampleStore(ids, shape, np.uint8, settings, decode)


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

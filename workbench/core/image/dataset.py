"""tf.data pipelines for image folders and image arrays: parallel decode, cache, shuffle, augment.

Files are decoded by :func:`workbench.core.image.io.load_image_for_model` — the same function that
prepares files for prediction — and cached as uint8 after the first epoch; ``.npz`` arrays go through
:func:`prepare_for_model`, the canvas's and the camera's preparation.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from workbench.core.image.augment import AugmentationSpec, make_augmenter
from workbench.core.image.io import load_image_for_model, prepare_for_model

SHUFFLE_BUFFER = 10_000


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
        ds = tf.data.Dataset.from_tensor_slices((_prepare_array_batch(arrays, shape, preprocessing), labels))
    else:
        def decode(path):  # bytes as the OS gave the name: file names need not be valid UTF-8
            return np.rint(load_image_for_model(os.fsdecode(path), shape, preprocessing)).astype(np.uint8)

        def tf_decode(path, label):
            image = tf.numpy_function(decode, [path], tf.uint8, stateful=False)
            image.set_shape(shape)
            return image, label

        paths = tf.constant([os.fsencode(i) for i in ids], dtype=tf.string, shape=(len(ids),))
        ds = tf.data.Dataset.from_tensor_slices((paths, labels))
        ds = ds.map(tf_decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).cache()
    if training:
        ds = ds.shuffle(min(len(labels), SHUFFLE_BUFFER), seed=seed, reshuffle_each_iteration=True)
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

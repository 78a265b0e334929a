"""tf.data pipelines for video folders: decode once (disk cache) → window → F frames → augment.

Each clip is decoded once, at the model's frame size and colour, into the on-disk cache
(:mod:`workbench.core.video.cache`); every epoch — and every later run with the same settings —
reads it from there. A training epoch takes one window of each clip (a random one of the windows
along a long clip, or a randomly stretched one with the speed augmentation), validation and
evaluation the window in the middle of the clip; :func:`prepare_frames` samples either to F frames.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from workbench.core.video.cache import DecodedClip, cached_clip
from workbench.core.video.clips import VideoConfig, centre_span, jitter_span, span_indices, window_spans

SHUFFLE_BUFFER = 10_000


def clip_input(clip: DecodedClip, config: VideoConfig, span: tuple[float, float]) -> np.ndarray:
    """The model input (F, H, W, C) uint8 of the frames of ``clip`` in ``span`` (seconds)."""
    return clip.frames[span_indices(clip.times, span[0], span[1], config.frames)]


def training_span(clip: DecodedClip, config: VideoConfig, rng: np.random.Generator, speed: float = 0.0):
    """One of the clip's windows at random; with ``speed``, a window stretched by up to that fraction
    placed anywhere."""
    if speed:
        return jitter_span(clip.duration, config.window_s, speed, rng)
    spans = window_spans(clip.duration, config.window_s, config.hop_s)
    return spans[int(rng.integers(len(spans)))]


def load_clip_for_model(path: str | Path, config: VideoConfig) -> np.ndarray:
    """A file → the model input (F, H, W, C) float32 0..255, as validation reads it: the middle window."""
    clip = cached_clip(path, config)
    return clip_input(clip, config, centre_span(clip.duration, config.window_s)).astype(np.float32)


def clip_arrays(paths: list[str], config: VideoConfig) -> np.ndarray:
    """(len(paths), F, H, W, C) float32 inputs, decoded (or read from the cache) on a few threads."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        clips = list(pool.map(lambda p: load_clip_for_model(p, config), paths))
    return np.stack(clips) if clips else np.zeros((0, *config.input_shape), np.float32)


def video_tf_dataset(ids: list[str], labels: np.ndarray, config: VideoConfig, batch_size: int, *,
                     training: bool = False, augmentation=None, seed: int = 42):
    """A batched ``tf.data.Dataset`` of (float32 clips (B, F, H, W, C) 0..255, int32 labels)."""
    import tensorflow as tf

    from workbench.core.video.augment import VideoAugmentationSpec, augment_frames

    spec = augmentation if isinstance(augmentation, VideoAugmentationSpec) else VideoAugmentationSpec()
    shape = config.input_shape

    def load(path, draw):  # bytes as the OS gave the name: file names need not be valid UTF-8
        clip = cached_clip(os.fsdecode(path), config)
        if training:
            span = training_span(clip, config, np.random.default_rng(int(draw) & 0x7FFFFFFFFFFFFFFF), spec.speed)
        else:
            span = centre_span(clip.duration, config.window_s)
        return clip_input(clip, config, span)

    def tf_load(path, label, draw):
        frames = tf.numpy_function(load, [path, draw], tf.uint8, stateful=False)
        frames.set_shape(shape)
        return frames, label

    paths = tf.constant([os.fsencode(i) for i in ids], dtype=tf.string, shape=(len(ids),))
    ds = tf.data.Dataset.from_tensor_slices((paths, np.asarray(labels, np.int32)))
    if training:
        ds = ds.shuffle(min(len(ids), SHUFFLE_BUFFER), seed=seed, reshuffle_each_iteration=True)
    # One draw per clip from a seeded stream that differs every epoch: reproducible runs, fresh windows.
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True) if training \
        else tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).repeat()
    ds = tf.data.Dataset.zip((ds, draws)).map(lambda xy, d: tf_load(xy[0], xy[1], d),
                                               num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
    if training and spec.frames_enabled:
        seeds = tf.data.Dataset.random(seed=seed + 1, rerandomize_each_iteration=True).batch(2)
        augment = tf.autograph.experimental.do_not_convert(
            lambda xy, s: (augment_frames(xy[0], s, spec), xy[1]))
        ds = tf.data.Dataset.zip((ds, seeds)).map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)

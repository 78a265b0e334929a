"""tf.data pipelines for sound folders: decode → resample → fixed-length clip, cached, augmented.

Each file is decoded once by :func:`load_clip_for_model` — the function :meth:`Predictor.prepare_file`
uses — and the clip is kept as a float32 waveform in the on-disk sample cache
(:mod:`workbench.core.data.sample_cache`, keyed by every setting of the clip and each file's path,
size and modification time), so later epochs and later runs read it back instead of decoding, and a
folder larger than memory streams from disk batch by batch. Later epochs only shuffle, batch and
augment. The log-mel features are computed inside the model, by the same layer at training and at
prediction.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from workbench.core.audio.clips import prepare_clip
from workbench.core.audio.config import AudioConfig
from workbench.core.audio.io import load_audio
from workbench.core.data.sample_cache import SampleStore, sample_dataset
from workbench.core.errors import DatasetError

#: Bumped when what :func:`load_clip_for_model` makes of a file changes, so cached clips are decoded again.
DECODE_VERSION = 1


def load_clip_for_model(path: str | Path, config: AudioConfig) -> np.ndarray:
    """Read ``path`` and prepare it exactly as the training pipeline does: (num_samples,) float32."""
    return prepare_clip(load_audio(path, config.sample_rate), config)


def clip_arrays(paths: list[str], config: AudioConfig) -> np.ndarray:
    """(len(paths), num_samples) prepared clips, decoded on a few threads (decoders release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        clips = list(pool.map(lambda p: load_clip_for_model(p, config), paths))
    return np.stack(clips) if clips else np.zeros((0, config.num_samples), np.float32)


def clip_store(ids: list[str], config: AudioConfig) -> SampleStore:
    """The files ``ids`` prepared as the model's clips, through the disk cache."""
    settings = {"modality": "audio", "decode": DECODE_VERSION, "config": dataclasses.asdict(config)}
    return SampleStore(ids, (config.num_samples,), np.float32, settings, lambda p: load_clip_for_model(p, config))


def check_input_shape(input_shape: tuple[int, ...], config: AudioConfig) -> None:
    if tuple(int(d) for d in input_shape) != (config.num_samples,):
        raise DatasetError(
            f"Expected an audio model input of {config.num_samples} samples ({config.duration:g} s at "
            f"{config.sample_rate} Hz). Received: input shape {tuple(input_shape)}")


def audio_tf_dataset(ids: list[str], labels: np.ndarray, config: AudioConfig, batch_size: int, *,
                     training: bool = False, augmentation=None, seed: int = 42):
    """A batched ``tf.data.Dataset`` of (float32 waveforms (B, num_samples), int32 labels)."""
    import tensorflow as tf

    ds = sample_dataset(clip_store(ids, config), ids, np.asarray(labels, np.int32), batch_size,
                        training=training, seed=seed)
    if training and augmentation is not None and getattr(augmentation, "waveform_enabled", False):
        from workbench.core.audio.augment import augment_waveforms

        # One seed pair per batch from a seeded stream that differs every epoch: reproducible runs,
        # fresh draws each pass, and stateless ops that are safe in parallel map calls.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        # Plain TF ops with Python branches on the (fixed) spec: nothing for autograph to convert.
        augment = tf.autograph.experimental.do_not_convert(
            lambda xy, s: (augment_waveforms(xy[0], s, augmentation), xy[1]))
        ds = tf.data.Dataset.zip((ds, seeds)).map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)

"""The sound modality: what the engine asks of sound, answered in one place.

Light to import (numpy only until a method runs). Sound models take the prepared waveform; the
log-mel front end is a layer inside the model, so every input path sees the same features.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.audio.augment import AudioAugmentationSpec
from workbench.core.audio.config import AudioConfig

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".mp3"})


def _config(input_shape: tuple[int, ...], preprocessing: dict[str, Any]) -> AudioConfig:
    from workbench.core.audio.dataset import check_input_shape

    config = AudioConfig.from_preprocessing(preprocessing)
    check_input_shape(tuple(input_shape), config)
    return config


class AudioModality:
    name = "audio"
    noun = "sound"
    extensions = AUDIO_EXTENSIONS
    augmentation_spec = AudioAugmentationSpec
    can_train = True
    train_unavailable = ""
    #: The log-mel front end computes spectrograms inside the model, which float16 would coarsen.
    mixed_precision = False

    def verify_file(self, path: str) -> tuple[str | None, dict[str, Any] | None]:
        from workbench.core.audio.inspect import inspect_audio_file

        return inspect_audio_file(path)

    def file_statistics(self, infos: list[dict[str, Any]]) -> dict[str, Any] | None:
        from workbench.core.audio.inspect import audio_statistics

        return audio_statistics(infos)

    def describe_files(self, stats: dict[str, Any] | None, infos: list[dict[str, Any]]) -> list[str]:
        """Lines on the clips' sample rates and durations (for the Model panel and ``workbench scan``)."""
        from workbench.core.audio.proposal import describe_sound_files

        return describe_sound_files(stats, infos)

    def propose_hparams(self, infos: list[dict[str, Any]], spec, hp: dict[str, Any]):
        """Sample rate, clip length and frames these clips suggest (see :mod:`workbench.core.audio.proposal`)."""
        from workbench.core.audio.proposal import propose_sound_hparams

        return propose_sound_hparams(infos, spec, hp)

    def fit_warnings(self, infos: list[dict[str, Any]], input_shape: tuple[int, ...],
                     preprocessing: dict[str, Any]) -> list[str]:
        """What a model of ``input_shape`` does to these files: clips longer than its clip are cropped."""
        from workbench.core.audio.inspect import clip_fit_warnings

        config = AudioConfig.from_preprocessing(preprocessing)
        return clip_fit_warnings(infos, config.duration, config.trim_silence)

    def load_file(self, path: str | Path, input_shape: tuple[int, ...], preprocessing: dict[str, Any]) -> np.ndarray:
        from workbench.core.audio.dataset import load_clip_for_model

        return load_clip_for_model(path, _config(input_shape, preprocessing))

    def prepare_array(self, array: np.ndarray, input_shape: tuple[int, ...],
                      preprocessing: dict[str, Any]) -> np.ndarray:
        """A waveform already at the model's sample rate → the model's clip (trimmed, levelled, fitted)."""
        from workbench.core.audio.clips import prepare_clip

        return prepare_clip(np.asarray(array, np.float32), _config(input_shape, preprocessing))

    def front_end_config(self, preprocessing: dict[str, Any]) -> AudioConfig:
        """The clip length, rate and log-mel settings a sound model was trained with."""
        return AudioConfig.from_preprocessing(preprocessing)

    def prepare_recording(self, samples: np.ndarray, sample_rate: int, input_shape: tuple[int, ...],
                          preprocessing: dict[str, Any]) -> np.ndarray:
        """A recording at any rate (the microphone's) → the model's clip, as training prepared files."""
        from workbench.core.audio.io import resample

        config = _config(input_shape, preprocessing)
        return self.prepare_array(resample(samples, int(sample_rate), config.sample_rate), input_shape, preprocessing)

    def sample_arrays(self, ids: list[str], arrays: np.ndarray | None, input_shape: tuple[int, ...],
                      preprocessing: dict[str, Any]) -> np.ndarray:
        from workbench.core.audio.dataset import clip_arrays

        config = _config(input_shape, preprocessing)
        if arrays is not None:
            return np.stack([self.prepare_array(a, input_shape, preprocessing) for a in arrays[:len(ids)]])
        return clip_arrays(list(ids), config)

    def tf_dataset(self, ids, labels, arrays, input_shape, batch_size, *, training, augmentation, seed, preprocessing):
        from workbench.core.audio.dataset import audio_tf_dataset

        if arrays is not None:
            raise NotImplementedError("Sound datasets are read from folders of files, not from arrays")
        return audio_tf_dataset(ids, labels, _config(input_shape, preprocessing), batch_size, training=training,
                                augmentation=augmentation, seed=seed)

    def sidecar_preprocessing(self, preprocessing: dict[str, Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
        return dict(preprocessing)  # the front end's config already says everything about the input

    def configure_model(self, model, augmentation: Any) -> list[str]:
        from workbench.core.audio.augment import configure_spec_augment

        if augmentation.spectrogram_enabled and not configure_spec_augment(model, augmentation):
            return [f"Model '{model.name}' has no SpecAugment layer: the frequency warp and the time/frequency "
                    "masks are not applied."]
        return []

    def register_layers(self) -> None:
        import workbench.core.audio.frontend  # noqa: F401  (LogMelSpectrogram)
        import workbench.core.audio.layers  # noqa: F401  (SpecAugment)

    def float_front_end_layers(self, model) -> list[str]:
        """The log-mel front end: quantised to 8 bits it would lose the spectrum's ~90 dB of range."""
        from workbench.core.audio.frontend import LogMelSpectrogram

        return [layer.name for layer in model.layers if isinstance(layer, LogMelSpectrogram)]


AUDIO = AudioModality()

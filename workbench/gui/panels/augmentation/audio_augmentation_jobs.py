"""Background job of the sound augmentation preview: real clips, augmented as training would.

No Qt here: :func:`render_audio_preview` runs on a TaskRunner thread. The clips are prepared by
``load_clip_for_model`` (the training pipeline's decode, trim, normalise and fit), the waveform
changes by ``augment_audio_samples`` (the function training maps over its batches), and the
spectrograms by the model's own log-mel front end, with the frequency warp and masks of the model's
``SpecAugment`` layer applied to them — what the network is shown in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.audio.augment import AudioAugmentationSpec, augment_audio_samples, spec_augment_spectrograms
from workbench.core.audio.config import AudioConfig
from workbench.core.data.scan import ScanCancelled, ScanReport
from workbench.core.errors import DatasetError

PREVIEW_CLIPS = 2
PREVIEW_VERSIONS = 3


@dataclass(frozen=True, eq=False)  # compared by identity: a ScanReport holds numpy arrays
class AudioSampleSource:
    """Where preview clips come from: a scanned sound dataset, the template's front end and a seed."""

    report: ScanReport
    preprocessing: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    count: int = PREVIEW_CLIPS

    @property
    def config(self) -> AudioConfig:
        return AudioConfig.from_preprocessing(self.preprocessing)


@dataclass
class AudioAugmentationPreview:
    """Prepared clips and their augmented versions, as waveforms and as the model's spectrograms.

    Attributes:
        originals: (k, samples) float32 clips as training reads them, at ``config.sample_rate``.
        augmented: (k, n, samples) waveforms after the waveform changes.
        original_features: (k, frames, n_mels) log-mel of the originals.
        augmented_features: (k, n, frames, n_mels) log-mel of the versions, with the masks drawn.
        names: the file name and class of each clip.
    """

    originals: np.ndarray
    augmented: np.ndarray
    original_features: np.ndarray
    augmented_features: np.ndarray
    names: list[str]
    spec: AudioAugmentationSpec
    source: AudioSampleSource

    @property
    def sample_rate(self) -> int:
        return self.source.config.sample_rate


def pick_clips(source: AudioSampleSource, cancel=None) -> tuple[np.ndarray, list[str]]:
    """``source.count`` random readable clips of different classes where possible, prepared as
    training prepares them: ((k, samples) float32, their "class · file" names)."""
    from workbench.core.audio.dataset import load_clip_for_model

    report, config = source.report, source.config
    rng = np.random.default_rng(source.seed)
    order = rng.permutation(len(report.files))
    # One clip per class first: two clips of the same word show less.
    first_of_class, rest, classes = [], [], set()
    for i in order:
        label = int(report.labels[i])
        (rest if label in classes else first_of_class).append(i)
        classes.add(label)
    clips, names = [], []
    for i in first_of_class + rest:
        if cancel is not None and cancel.cancelled:
            raise ScanCancelled("Clip loading cancelled")
        try:
            clip = load_clip_for_model(report.files[i], config)
        except DatasetError:  # changed since the scan: try another one
            continue
        if not np.any(clip):
            continue  # silence shows nothing
        clips.append(clip)
        names.append(f"{report.class_names[int(report.labels[i])]} · {Path(report.files[i]).name}")
        if len(clips) == source.count:
            break
    if not clips:
        raise DatasetError(f"Expected readable sound files to preview augmentation. Received: none in {report.path}")
    return np.stack(clips).astype(np.float32), names


def render_audio_preview(
    spec: AudioAugmentationSpec,
    source: AudioSampleSource,
    clips: tuple[np.ndarray, list[str]] | None = None,
    versions: int = PREVIEW_VERSIONS,
    *,
    progress=None,
    cancel=None,
) -> AudioAugmentationPreview:
    """Augment the clips (picked from ``source`` when None) with the training code path.

    The seed is the sample seed, so moving a control scales the same random draws rather than
    reshuffling them; "New samples" changes both.
    """
    from workbench.core.audio.frontend import log_mel

    originals, names = clips if clips is not None else pick_clips(source, cancel)
    config = source.config
    augmented = augment_audio_samples(originals, spec, n=versions, seed=source.seed)
    k, n, length = augmented.shape
    original_features = log_mel(originals, config)
    features = log_mel(augmented.reshape(k * n, length), config)
    if spec.spectrogram_enabled:
        features = spec_augment_spectrograms(features, spec, config, seed=source.seed)
    return AudioAugmentationPreview(originals, augmented, original_features,
                                    features.reshape(k, n, *features.shape[1:]), names, spec, source)

"""Background job of the video augmentation preview: real clips, augmented as training would.

No Qt here: :func:`render_video_preview` runs on a TaskRunner thread. Each clip is read as training
reads it (the modality's ``load_file``: the decode cache, the middle window sampled to the template's
frames, size and colour), and its versions are made by ``augment_clips`` — training's speed jitter
and its per-clip crop, mirror, brightness and contrast.
:func:`frame_strip` lays a clip's frames side by side for the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.data.scan import ScanCancelled, ScanReport
from workbench.core.errors import DatasetError

PREVIEW_CLIPS = 2
PREVIEW_VERSIONS = 3
#: Frames of a clip shown in a strip (spread over the clip): enough to see motion, speed and flips.
STRIP_FRAMES = 8
STRIP_GAP = 2


@dataclass(frozen=True, eq=False)  # compared by identity: a ScanReport holds numpy arrays
class VideoSampleSource:
    """Where preview clips come from: a scanned video dataset, the template's input and a seed."""

    report: ScanReport
    input_shape: tuple[int, int, int, int]  # (frames, height, width, channels)
    preprocessing: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    count: int = PREVIEW_CLIPS


@dataclass
class VideoAugmentationPreview:
    """Prepared clips and their augmented versions, float32 0..255.

    Attributes:
        originals: (k, F, H, W, C) clips as training reads them.
        augmented: (k, n, F, H, W, C) versions made by ``augment_clips``.
        names: "class · file" of each clip.
    """

    originals: np.ndarray
    augmented: np.ndarray
    names: list[str]
    spec: Any
    source: VideoSampleSource


def pick_clips(source: VideoSampleSource, cancel=None) -> tuple[np.ndarray, list[str]]:
    """``source.count`` random readable clips, of different classes where possible, prepared as
    training prepares them: ((k, F, H, W, C) float32, their "class · file" names)."""
    from workbench.core.modality import get_modality

    report = source.report
    modality = get_modality(report.modality)
    rng = np.random.default_rng(source.seed)
    order = rng.permutation(len(report.files))
    # One clip per class first: two clips of the same action show less.
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
            clip = modality.load_file(report.files[i], source.input_shape, source.preprocessing)
        except DatasetError:  # changed since the scan: try another one
            continue
        clips.append(np.asarray(clip, np.float32))
        names.append(f"{report.class_names[int(report.labels[i])]} · {Path(report.files[i]).name}")
        if len(clips) == source.count:
            break
    if not clips:
        raise DatasetError(f"Expected readable video files to preview augmentation. Received: none in {report.path}")
    return np.stack(clips), names


def render_video_preview(
    spec,
    source: VideoSampleSource,
    clips: tuple[np.ndarray, list[str]] | None = None,
    versions: int = PREVIEW_VERSIONS,
    *,
    progress=None,
    cancel=None,
) -> VideoAugmentationPreview:
    """Augment the clips (picked from ``source`` when None) with the training code path.

    The seed is the sample seed, so moving a slider scales the same random draws rather than
    reshuffling them; "New samples" changes both.
    """
    from workbench.core.video.augment import augment_clips

    originals, names = clips if clips is not None else pick_clips(source, cancel)
    augmented = np.asarray(augment_clips(originals, spec, n=versions, seed=source.seed), np.float32)
    return VideoAugmentationPreview(originals, augmented, names, spec, source)


def strip_indices(num_frames: int, count: int = STRIP_FRAMES) -> list[int]:
    """The frames a strip shows: ``count`` spread evenly from the first to the last."""
    if num_frames <= 0:
        return []
    return sorted({int(i) for i in np.linspace(0, num_frames - 1, min(count, num_frames)).round()})


def frame_strip(clip: np.ndarray, indices: list[int], gap: int = STRIP_GAP) -> np.ndarray:
    """Frames ``indices`` of (F, H, W, C) ``clip`` side by side, ``gap`` pixels apart: (H, W', C) uint8."""
    frames = [np.clip(np.asarray(clip[i], np.float32), 0, 255).round().astype(np.uint8) for i in indices]
    if not frames:
        return np.zeros((1, 1, 1), np.uint8)
    height, _width, channels = frames[0].shape
    spacer = np.full((height, gap, channels), 255, np.uint8)  # a light line between frames
    parts = [part for frame in frames for part in (frame, spacer)][:-1]
    return np.concatenate(parts, axis=1)

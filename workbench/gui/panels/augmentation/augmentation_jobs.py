"""Background job of the Augmentation panel: pick real samples and augment them as training would.

No Qt here: :func:`render_preview` runs on a TaskRunner thread. TensorFlow is imported (through
``augment_samples``) only there, and only once something is switched on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.image.augment import AugmentationSpec, augment_samples
from workbench.core.image.io import load_image_for_model, prepare_for_model
from workbench.core.data.scan import ScanCancelled, ScanReport, load_npz
from workbench.core.errors import DatasetError

PREVIEW_SAMPLES = 4
PREVIEW_VERSIONS = 8


@dataclass(frozen=True, eq=False)  # compared by identity: a ScanReport holds numpy arrays
class SampleSource:
    """Where preview samples come from: a scanned dataset, the template's input and a seed."""

    report: ScanReport
    input_shape: tuple[int, int, int]
    seed: int
    preprocessing: dict[str, Any] = field(default_factory=dict)  # the template's, as training uses it
    count: int = PREVIEW_SAMPLES


@dataclass
class AugmentationPreview:
    """Originals ``(k, H, W, C)`` and ``versions`` augmentations of each ``(k, n, H, W, C)``, 0..255."""

    originals: np.ndarray
    augmented: np.ndarray
    spec: AugmentationSpec
    source: SampleSource


def pick_samples(source: SampleSource, cancel=None) -> np.ndarray:
    """``source.count`` random readable images, prepared to ``source.input_shape`` as training does.

    Training decodes to uint8 before augmenting (the tf.data cache), so the samples are rounded too.
    """
    report, shape, preprocessing = source.report, source.input_shape, source.preprocessing
    rng = np.random.default_rng(source.seed)
    if report.kind == "npz":
        x = load_npz(report.path)["x_train"]
        rows = rng.choice(len(x), size=min(source.count, len(x)), replace=False)
        return np.stack([np.rint(prepare_for_model(x[i], shape, preprocessing)) for i in rows])
    samples: list[np.ndarray] = []
    for i in rng.permutation(len(report.files)):
        if cancel is not None and cancel.cancelled:
            raise ScanCancelled("Sample loading cancelled")
        try:
            samples.append(np.rint(load_image_for_model(report.files[i], shape, preprocessing)))
        except DatasetError:  # changed since the scan: try another one
            continue
        if len(samples) == source.count:
            break
    if not samples:
        raise DatasetError(f"Expected readable images to preview augmentation. Received: none in {report.path}")
    return np.stack(samples)


def render_preview(
    spec: AugmentationSpec,
    source: SampleSource,
    samples: np.ndarray | None = None,
    versions: int = PREVIEW_VERSIONS,
    *,
    progress=None,
    cancel=None,
) -> AugmentationPreview:
    """Augment ``samples`` (picked from ``source`` when None) with the training code path.

    The augmentation seed is the sample seed, so dragging a slider scales the same random draws
    instead of reshuffling them; "New samples" changes both.
    """
    if samples is None:
        samples = pick_samples(source, cancel)
    augmented = augment_samples(samples, spec, n=versions, seed=source.seed)
    return AugmentationPreview(samples, augmented, spec, source)

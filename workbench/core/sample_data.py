"""Where sample datasets can be found: public sources (with how to lay them out for the workbench) and
copies already on this computer. The start page lists both; nothing here downloads anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: A folder holding datasets laid out as in ``../shared/data`` (``mnist/folders_small``, ``fsdd``, …).
SAMPLE_DATA_ENV = "WORKBENCH_SAMPLE_DATA"
_CHECKOUT_SAMPLE_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # beside a source checkout


@dataclass(frozen=True)
class SampleSource:
    """A public dataset the workbench trains on, and how to lay it out."""

    title: str
    modality: str
    url: str
    how: str


PUBLIC_SOURCES = (
    SampleSource("MNIST handwritten digits", "image", "https://keras.io/api/datasets/mnist/",
                 "keras.datasets.mnist.load_data() saves ~/.keras/datasets/mnist.npz: open it with “Open .npz…”."),
    SampleSource("Free Spoken Digit Dataset", "sound", "https://github.com/Jakobovski/free-spoken-digit-dataset",
                 "Sort the recordings into one folder per digit; the group regex _([a-z]+)_ keeps each "
                 "speaker on one side of the split."),
    SampleSource("Clothing dataset (small)", "image", "https://github.com/alexeygrigorev/clothing-dataset-small",
                 "train/ and validation/ folders with one sub-folder per class: choose the top folder."),
    SampleSource("UCF101 action videos", "video", "https://www.crcv.ucf.edu/data/UCF101.php",
                 "Copy a few action folders (one per class) into a new folder; the group regex _g(\\d+)_ keeps "
                 "each group of clips together."),
)

#: Datasets looked for under each sample-data folder: (path below it, title).
KNOWN_LAYOUTS = (
    ("mnist/folders_small", "Handwritten digits, 1,000 images (images)"),
    ("mnist/mnist_train.npz", "MNIST, 60,000 digits (.npz)"),
    ("fsdd", "Spoken digits (sound)"),
    ("clothing", "Clothing photos, 10 classes (images)"),
    ("video/ucf101_actions", "UCF101 actions (video)"),
)


def sample_data_roots() -> list[Path]:
    """The folders that may hold sample datasets: ``$WORKBENCH_SAMPLE_DATA``, then ``../shared/data``
    beside a source checkout."""
    roots = [Path(p).expanduser() for p in os.environ.get(SAMPLE_DATA_ENV, "").split(os.pathsep) if p]
    return [*roots, _CHECKOUT_SAMPLE_DATA]


def local_sample_datasets(roots: list[Path] | None = None, home: Path | None = None) -> list[tuple[str, Path]]:
    """(title, path) of the sample datasets found on this computer: the known layouts under each of
    ``roots`` (default :func:`sample_data_roots`) and Keras' cached MNIST under ``home``."""
    found: list[tuple[str, Path]] = []
    for root in sample_data_roots() if roots is None else roots:
        for relative, title in KNOWN_LAYOUTS:
            path = root / relative
            if _exists(path):
                found.append((title, path))
    keras_mnist = (home or Path.home()) / ".keras" / "datasets" / "mnist.npz"
    if _exists(keras_mnist) and all(path.resolve() != keras_mnist.resolve() for _title, path in found):
        found.append(("MNIST from the Keras cache (.npz)", keras_mnist))
    return found


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a drive that is not mounted, a path the system refuses
        return False

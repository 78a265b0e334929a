"""The modality registry: one object per kind of data owns everything that differs between them.

Scan, pipeline, trainer, evaluation, predictor and export ask :func:`get_modality` for the object of a
dataset's, template's or sidecar's modality and call it; they never branch on the modality's name.
Adding a modality (video is the third) means adding a package with a :class:`Modality` object and
registering it — the engine is not edited. The pattern is napari's one-dict dispatch
(``layer_to_controls``) and Keras' registries.

The built-in modalities are imported on first use, so listing templates or scanning images never
imports the sound code. A third party registers its own with :func:`register_modality`.
"""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from workbench.core.errors import DatasetError

#: The built-in modalities and where their objects live ("module:attribute"), imported lazily.
BUILTIN_MODALITIES = {
    "image": "workbench.core.image.modality:IMAGE",
    "audio": "workbench.core.audio.modality:AUDIO",
    "video": "workbench.core.video.modality:VIDEO",
}

DEFAULT_MODALITY = "image"


@runtime_checkable
class Modality(Protocol):
    """What the engine needs to know about one kind of data.

    Attributes:
        name: the registry key, stored in templates, scan reports and sidecars ("image", "audio", ...).
        noun: how messages and the GUI name one sample ("image", "sound", "video").
        extensions: lower-case file suffixes (with the dot) that belong to this modality.
        augmentation_spec: the frozen dataclass of its augmentation options (``from_dict``,
            ``from_pairs``, ``to_dict``, ``enabled``).
        can_train: whether folders of this modality can be trained on yet; ``train_unavailable``
            says why not when it is False.

    Optional: ``mixed_precision = False`` on a modality whose models must compute in float32 (sound:
    the spectrogram front end is inside the model); absent means True.
    """

    name: str
    noun: str
    extensions: frozenset[str]
    augmentation_spec: type
    can_train: bool
    train_unavailable: str

    def verify_file(self, path: str) -> tuple[str | None, dict[str, Any] | None]:
        """``(None, info)`` when ``path`` decodes (``info``: per-file statistics or None), else
        ``(reason, None)``. Runs on scan worker threads."""

    def file_statistics(self, infos: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Dataset statistics from the ``info`` of every readable file (durations, rates, ...)."""

    def load_file(self, path: str | Path, input_shape: tuple[int, ...],
                  preprocessing: dict[str, Any]) -> np.ndarray:
        """Decode a file into one model input, exactly as the training pipeline does."""

    def prepare_array(self, array: np.ndarray, input_shape: tuple[int, ...],
                      preprocessing: dict[str, Any]) -> np.ndarray:
        """One in-memory sample (an ``.npz`` row, a canvas, a camera frame) → one model input."""

    def sample_arrays(self, ids: list[str], arrays: np.ndarray | None, input_shape: tuple[int, ...],
                      preprocessing: dict[str, Any]) -> np.ndarray:
        """Model inputs for a list of samples (files, or the aligned in-memory ``arrays``)."""

    def tf_dataset(self, ids: list[str], labels: np.ndarray, arrays: np.ndarray | None,
                   input_shape: tuple[int, ...], batch_size: int, *, training: bool, augmentation: Any,
                   seed: int, preprocessing: dict[str, Any]):
        """A batched ``tf.data.Dataset`` of (float32 model inputs, int32 labels), augmented when
        ``training``."""

    def sidecar_preprocessing(self, preprocessing: dict[str, Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
        """What the sidecar records about the inputs of a model built on ``input_shape``."""

    def configure_model(self, model, augmentation: Any) -> list[str]:
        """Set the in-model augmentation of a freshly built model; returns notes for the run log
        (e.g. options the template cannot apply)."""

    def register_layers(self) -> None:
        """Import the modules whose custom Keras layers saved models of this modality contain."""

    def float_front_end_layers(self, model) -> list[str]:
        """Names of layers that quantised exports keep in float (a feature front end)."""


_registry: dict[str, Modality] = {}


def register_modality(modality: Modality, *, replace: bool = False) -> None:
    """Add ``modality`` to the registry under ``modality.name``."""
    if not isinstance(modality, Modality):
        raise TypeError(f"Expected an object with the Modality protocol's attributes and methods. "
                        f"Received: {type(modality).__name__}")
    if modality.name in _registry and not replace:
        raise ValueError(f"Expected a new modality name. Received: {modality.name!r} is already registered")
    _registry[modality.name] = modality


def get_modality(name: str | None) -> Modality:
    """The registered modality ``name`` (the default, images, for None or "")."""
    name = name or DEFAULT_MODALITY
    if name not in _registry and name in BUILTIN_MODALITIES:
        module, _, attribute = BUILTIN_MODALITIES[name].partition(":")
        register_modality(getattr(importlib.import_module(module), attribute), replace=True)
    try:
        return _registry[name]
    except KeyError:
        raise DatasetError(f"Expected a modality in {', '.join(modality_names())}. Received: {name!r}") from None


def modality_names() -> list[str]:
    """Every known modality: the built-ins first, then registered ones."""
    return list(dict.fromkeys([*BUILTIN_MODALITIES, *_registry]))


def all_modalities() -> list[Modality]:
    return [get_modality(name) for name in modality_names()]


def modality_of_preprocessing(preprocessing: dict[str, Any] | None) -> Modality:
    """The modality a template's or sidecar's preprocessing record belongs to (its ``kind``)."""
    return get_modality((preprocessing or {}).get("kind"))


def modality_of_sidecar(sidecar: dict[str, Any]) -> Modality:
    return get_modality(sidecar.get("modality"))


def refuse_other_modality(received: str, expected: str, expectation: str, path: object) -> None:
    """The one check that a dataset is of the modality a template or model takes; ``expectation``
    says who expects what (the first half of the "Expected … Received: …" message)."""
    if received != expected:
        raise DatasetError(f"{expectation}. Received: {received} files in {path}")


def accepted_extensions() -> frozenset[str]:
    """Every file suffix some modality reads."""
    return frozenset().union(*(m.extensions for m in all_modalities()))


def modality_of_file(path: str | Path) -> str | None:
    """The name of the modality whose extensions include the file's suffix, or None."""
    suffix = Path(path).suffix.lower()
    return next((m.name for m in all_modalities() if suffix in m.extensions), None)


def detect_modality(files: list[str]) -> str:
    """The most common modality among ``files`` (the default, images, when there are none)."""
    counts = Counter(m for m in map(modality_of_file, files) if m)
    return counts.most_common(1)[0][0] if counts else DEFAULT_MODALITY

"""Augmentation options of any modality: ``--augment key=value`` parsing and the spec for a modality.

Each modality owns its spec class (images: :class:`workbench.core.image.augment.AugmentationSpec`,
sound: :class:`workbench.core.audio.augment.AudioAugmentationSpec`); this module finds it through the
modality registry, so the CLI, the trainer and project files never name a modality.
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.modality import get_modality


def parse_pairs(pairs: list[str] | None) -> dict[str, str]:
    """``["rotation=10", "flip=true"]`` (the CLI's ``--augment``) → ``{"rotation": "10", ...}``."""
    values: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise WorkbenchError(f"Expected --augment options as key=value. Received: {pair!r}")
        values[key.strip()] = value.strip()
    return values


def augmentation_spec_class(modality: str):
    """The augmentation spec class for a template's or dataset's modality."""
    return get_modality(modality).augmentation_spec


def augmentation_from_pairs(pairs: list[str] | None, modality: str):
    """``--augment key=value`` pairs parsed into the spec for ``modality``; ``none`` (or no pairs) is an
    empty spec, i.e. no augmentation, and ``None`` (no ``--augment`` at all) stays None: the template's
    default then applies."""
    if pairs is None:
        return None
    if [p.strip().lower() for p in pairs] == ["none"]:
        pairs = []
    return augmentation_spec_class(modality).from_pairs(pairs)


def augmentation_from_dict(values: dict[str, Any] | None, modality: str | None = None):
    """A spec from its ``to_dict`` form; the dict's own ``modality`` key wins over ``modality``."""
    values = dict(values or {})
    return augmentation_spec_class(values.get("modality") or modality or "image").from_dict(values)


def parse_bool(value: Any) -> bool:
    """``true/false``, ``1/0``, ``yes/no``, ``on/off``; anything else is a ValueError, not a silent False."""
    lowered = str(value).strip().lower()
    if lowered not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(value)
    return lowered in ("1", "true", "yes", "on")



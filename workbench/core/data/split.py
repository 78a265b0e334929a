"""Seeded train/validation splits: stratified by class, or by group (speaker, person, source video).

Never "the last N% of class-sorted data": that would put whole classes in validation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import DatasetError
from workbench.core.modality import get_modality


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val): each class contributes ``val_fraction`` of its samples, chosen at random."""
    _check_fraction(val_fraction)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, val = [], []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        n_val = int(round(len(members) * val_fraction))
        if val_fraction > 0 and len(members) >= 2:
            n_val = min(max(n_val, 1), len(members) - 1)
        val.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def group_of(path: str, pattern: re.Pattern[str]) -> str | None:
    """The group of a file: the regex's first capturing group (or whole match) on the file name."""
    match = pattern.search(Path(path).name)
    if match is None:
        return None
    return match.group(1) if match.groups() else match.group(0)


def group_split(
    files: list[str], labels: np.ndarray, group_regex: str, val_fraction: float, seed: int,
    val_groups: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) such that no group is on both sides.

    Groups are shuffled with ``seed`` and moved to validation until it holds about ``val_fraction``
    of the samples — or, when ``val_groups`` names them, exactly those groups are validation (a
    leave-one-speaker-out fold).
    """
    _check_fraction(val_fraction)
    try:
        pattern = re.compile(group_regex)
    except re.error as exc:
        raise DatasetError(f"Expected a valid regular expression for groups. Received: {group_regex!r} ({exc})")
    groups = [group_of(f, pattern) for f in files]
    missing = [Path(f).name for f, g in zip(files, groups) if g is None]
    if missing:
        raise DatasetError(
            f"Expected every file name to match the group regex {group_regex!r}. "
            f"Received: {len(missing)} that do not, e.g. {', '.join(missing[:3])}"
        )
    unique = sorted(set(groups))
    if len(unique) < 2:
        raise DatasetError(
            f"Expected at least 2 groups to split by. Received: {len(unique)} group ({', '.join(unique)})"
        )
    group_array = np.array(groups)
    if val_groups:
        wanted = sorted(set(val_groups))
        missing_groups = [g for g in wanted if g not in unique]
        if missing_groups or len(wanted) == len(unique):
            raise DatasetError(
                f"Expected validation groups among the groups found ({', '.join(unique)}), leaving at least "
                f"one for training. Received: {', '.join(wanted)}")
        is_val = np.isin(group_array, wanted)
        return np.flatnonzero(~is_val), np.flatnonzero(is_val)
    rng = np.random.default_rng(seed)
    order = [unique[i] for i in rng.permutation(len(unique))]
    target = val_fraction * len(files)
    chosen: set[str] = set()
    taken = 0
    for group in order:
        if taken >= target or len(chosen) == len(unique) - 1:
            break
        chosen.add(group)
        taken += int((group_array == group).sum())
    is_val = np.isin(group_array, list(chosen))
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def suggested_group_regex(report: Any) -> str | None:
    """The group regex a scanned dataset's file names call for (UCF101's ``_g(\\d+)_``), or None.

    The report's modality is asked (its optional ``suggested_group_regex``); None for modalities
    without that capability, for ``.npz`` arrays, and for pre-split folders whose validation folder
    already fixes the split.
    """
    if getattr(report, "kind", None) == "npz":
        return None
    if getattr(report, "kind", None) == "presplit" and "val" in set(getattr(report, "subsets", []) or []):
        return None
    try:
        suggest = getattr(get_modality(getattr(report, "modality", None)), "suggested_group_regex", None)
    except DatasetError:  # a modality nobody registered: nothing to suggest
        return None
    return suggest(report) if suggest is not None else None


def group_names(files: list[str], group_regex: str) -> list[str]:
    """The distinct groups ``group_regex`` finds in the file names, sorted (names without one are left out)."""
    pattern = re.compile(group_regex)
    return sorted({g for g in (group_of(f, pattern) for f in files) if g is not None})


def split_counts(labels: np.ndarray, indices: np.ndarray, class_names: list[str]) -> dict[str, int]:
    counts = np.bincount(np.asarray(labels)[indices], minlength=len(class_names))
    return {name: int(n) for name, n in zip(class_names, counts)}


def _check_fraction(val_fraction: float) -> None:
    if not 0.0 <= val_fraction < 1.0:
        raise DatasetError(f"Expected a validation fraction in [0, 1). Received: {val_fraction}")

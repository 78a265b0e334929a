"""Versioned JSON files (model sidecars, projects): a ``"format": "<kind>/<version>"`` tag, migrations
that bring an older file forward one version at a time, and paths stored relative to the file.

A file format is a kind (``"workbench-model"``) plus a list of migrations: ``migrations[i]`` turns a
version ``i + 1`` record into a version ``i + 2`` one, so the current version is
``len(migrations) + 1`` and adding a version means appending one function. A file of a newer version
than this release knows is refused with a message naming both versions.

Paths: in memory a record holds usable paths (absolute, or relative to the working folder); on disk a
path is stored relative to the folder of the file holding it when the two share a folder below the
file-system root (``../../data/mnist.npz``, with ``/`` on every system), so a folder moved or copied
together with its data still finds it. Paths with nothing in common but the root (or on another
drive) stay absolute.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from workbench.core.errors import WorkbenchError

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def format_tag(kind: str, version: int) -> str:
    return f"{kind}/{version}"


def parse_version(tag: Any, kind: str, current: int, what: str, source: object,
                  error: type[WorkbenchError] = WorkbenchError) -> int:
    """The version in ``tag`` (``"workbench-model/1"`` → 1); ``error`` for another kind or a newer version."""
    prefix = f"{kind}/"
    number = tag[len(prefix):] if isinstance(tag, str) and tag.startswith(prefix) else ""
    if not number.isdigit() or int(number) < 1:
        raise error(f"Expected a {what} with \"format\": \"{kind}/<version>\" (this release writes "
                    f"{format_tag(kind, current)}). Received: format {tag!r} in {source}")
    version = int(number)
    if version > current:
        from workbench import __version__

        raise error(f"Expected a {what} of format version {current} or older (workbench {__version__} reads "
                    f"{kind}/1 to {format_tag(kind, current)}). Received: version {version} ({tag}) in {source}, "
                    f"written by a newer workbench: upgrade workbench to open it")
    return version


def migrate(data: Mapping[str, Any], version: int, migrations: Sequence[Migration]) -> dict[str, Any]:
    """``data`` of ``version`` brought to the current version (``len(migrations) + 1``), step by step,
    on a copy (the caller's dict is left as it was)."""
    data = copy.deepcopy(dict(data))
    for step in migrations[version - 1:]:
        data = step(data)
    return data


def is_absolute(path: str) -> bool:
    """Absolute on this system or on another one (``/data``, ``C:\\data``, ``\\\\server\\share``)."""
    return PurePosixPath(path).is_absolute() or bool(PureWindowsPath(path).drive) or Path(path).is_absolute()


def store_path(path: Any, folder: str | Path) -> Any:
    """``path`` as stored in a file in ``folder``: relative to it where they share a folder below the
    root, else absolute. Non-strings and empty strings are returned unchanged."""
    if not isinstance(path, str) or not path:
        return path
    if is_absolute(path) and not Path(path).is_absolute():
        return path  # another system's absolute path (a Windows drive on Linux): nothing to relate it to
    target, base = Path(path).expanduser().resolve(), Path(folder).resolve()
    try:
        common = Path(os.path.commonpath([target, base]))
    except ValueError:  # different drives
        return str(target)
    if common == Path(common.anchor):
        return str(target)
    return Path(os.path.relpath(target, base)).as_posix()


def resolve_path(path: Any, folder: str | Path) -> Any:
    """A path read from a file in ``folder``, made usable: relative paths are joined to the folder."""
    if not isinstance(path, str) or not path or is_absolute(path):
        return path
    return os.path.normpath(Path(folder).resolve() / path)

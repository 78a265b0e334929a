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
import numbers
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


def migrate(data: Mapping[str, Any], version: int, migrations: Sequence[Migration], what: str = "file",
            source: object = "a file", error: type[WorkbenchError] = WorkbenchError) -> dict[str, Any]:
    """``data`` of ``version`` brought to the current version (``len(migrations) + 1``), step by step,
    on a copy (the caller's dict is left as it was).

    A migration reads whatever the file holds; when a hand-edited or damaged file makes a step fail
    (a list where an object belongs), ``error`` says so instead of a TypeError from inside the step.
    """
    try:
        data = copy.deepcopy(dict(data))
        for step in migrations[version - 1:]:
            data = step(data)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError) as exc:
        raise error(f"Expected a {what} of version {version} with the usual structure. Received: "
                    f"{type(exc).__name__} ({exc}) while bringing it forward, in {source}") from None
    return data


def describe(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for the "Received: …" of a message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def is_path_text(value: Any) -> bool:
    """Whether ``value`` can be a path read from a file: a string without NUL characters (the
    operating system refuses those, and ``Path.exists`` raises on them)."""
    return isinstance(value, str) and "\x00" not in value


def is_number(value: Any) -> bool:
    """A real number that is not a bool (JSON ``true`` is not a number here); NumPy's count too."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_whole_number(value: Any) -> bool:
    """An integer that is not a bool; NumPy's count too."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_scalar(value: Any) -> bool:
    """A JSON string, number, boolean or null (no list or object)."""
    return value is None or isinstance(value, (str, int, float, bool))


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
    try:
        expanded = Path(path).expanduser()
    except RuntimeError:  # "~someone" with no such user: kept as written
        expanded = Path(path)
    target, base = expanded.resolve(), Path(folder).resolve()
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

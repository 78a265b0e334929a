"""RecentPaths: a newest-first list of paths kept in QSettings (recent projects, recent datasets)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

MAX_RECENT = 10
MAX_PATH = 4096  # longer than any path the system accepts


class RecentPaths:
    """The paths stored under one QSettings key, newest first, at most ``limit`` of them."""

    def __init__(self, key: str, limit: int = MAX_RECENT) -> None:
        self.key = key
        self.limit = limit

    def paths(self) -> list[str]:
        """The stored paths; a hand-edited, damaged or missing value reads as an empty list, and
        entries that cannot be paths (not text, NUL characters, absurdly long) are left out."""
        try:
            value = QSettings().value(self.key, [])
        except Exception:  # noqa: BLE001 - a value PySide cannot convert: as if none were stored
            return []
        # QSettings gives a str for a one-item list in INI files, and None/"" for an empty one.
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            return []
        paths = [v for v in value if isinstance(v, str) and v and "\x00" not in v and len(v) <= MAX_PATH]
        return list(dict.fromkeys(paths))[:self.limit]

    def remember(self, path: str) -> list[str]:
        """Move ``path`` to the front of the list and store it; returns the new list."""
        paths = ([path] + [p for p in self.paths() if p != path])[:self.limit]
        QSettings().setValue(self.key, paths)
        return paths

    def forget(self, path: str) -> list[str]:
        """Remove ``path`` from the list and store it; returns the new list."""
        paths = [p for p in self.paths() if p != path]
        QSettings().setValue(self.key, paths)
        return paths

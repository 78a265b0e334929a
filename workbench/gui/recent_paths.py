"""RecentPaths: a newest-first list of paths kept in QSettings (recent projects, recent datasets)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

MAX_RECENT = 10


class RecentPaths:
    """The paths stored under one QSettings key, newest first, at most ``limit`` of them."""

    def __init__(self, key: str, limit: int = MAX_RECENT) -> None:
        self.key = key
        self.limit = limit

    def paths(self) -> list[str]:
        """The stored paths; a hand-edited or missing value reads as an empty list."""
        value = QSettings().value(self.key, [])
        # QSettings gives a str for a one-item list in INI files, and None/"" for an empty one.
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in (value or []) if v and str(v)][:self.limit]

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

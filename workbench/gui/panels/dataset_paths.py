"""Dataset paths the Data panel gets besides its dialogs: the recent list and drag and drop.

The recent list is kept in QSettings under ``data/recent`` (newest first, at most 10).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QSettings

RECENT_KEY = "data/recent"
MAX_RECENT = 10


def recent_paths() -> list[str]:
    """The stored paths, newest first; a hand-edited or missing value reads as an empty list."""
    value = QSettings().value(RECENT_KEY, [])
    # QSettings gives a str for a one-item list in INI files, and None/"" for an empty one.
    if isinstance(value, str):
        value = [value] if value else []
    return [str(v) for v in (value or []) if str(v)][:MAX_RECENT]


def remember_path(path: str) -> list[str]:
    """Move ``path`` to the front of the list and store it; returns the new list."""
    paths = [path] + [p for p in recent_paths() if p != path]
    QSettings().setValue(RECENT_KEY, paths[:MAX_RECENT])
    return paths[:MAX_RECENT]


def forget_path(path: str) -> list[str]:
    """Remove ``path`` from the list and store it; returns the new list."""
    paths = [p for p in recent_paths() if p != path]
    QSettings().setValue(RECENT_KEY, paths)
    return paths


def dropped_dataset_path(mime: QMimeData | None) -> str | None:
    """The local folder or .npz file in a drag's data, or None when it holds neither."""
    if mime is None or not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.is_dir() or (path.is_file() and path.suffix.lower() == ".npz"):
                return str(path)
    return None

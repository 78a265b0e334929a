"""Dataset paths the Data panel gets besides its dialogs: the recent list and drag and drop."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData

from workbench.gui import settings_keys
from workbench.gui.recent_paths import RecentPaths

#: Datasets opened before, newest first.
recent_datasets = RecentPaths(settings_keys.RECENT_DATASETS)


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

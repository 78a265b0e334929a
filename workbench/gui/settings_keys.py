"""Every QSettings key the GUI reads or writes, in one place.

QSettings is the app's memory between launches (window layout, recent files, microphone choices,
collect folders). Keeping the keys here shows at a glance what is remembered, and two modules can
never pick the same key for different things. Values are plain strings, numbers or string lists;
:data:`SCHEMA` says what each may hold, and :func:`discard_invalid` removes what does not fit before
the window reads any of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

# The main window.
WINDOW_GEOMETRY = "window/geometry"  # QByteArray from saveGeometry()
WINDOW_STATE = "window/state"  # QByteArray from saveState(): docks and toolbars
RUNS_COLLAPSED = "window/runs_collapsed"  # "true" when the Runs dock is collapsed to its title bar
RUNS_HEIGHT = "window/runs_height"  # the Runs dock's height when expanded, in pixels
WINDOW_TAB = "window/tab"  # the tab shown last, written by earlier releases (the window now opens on the start page)

# Projects (ProjectController).
LAST_PROJECT = "project/last"  # path of the project open at the last close ("" = unsaved)
RECENT_PROJECTS = "projects/recent"  # newest first
SESSION_PROJECT = "session/project"  # JSON of the unsaved project's choices, restored on launch

# The Data panel.
RECENT_DATASETS = "data/recent"  # folders and .npz files, newest first

# The Training panel.
# Logical CPU devices TensorFlow starts with in the app, saved with the last mirrored choice on a machine
# without a GPU; read at start-up only where training runs in the app's own process (see tf_loader).
TRAINING_CPU_REPLICAS = "training/cpu_replicas"

# The Test panel's live inputs.
DRAW_COLLECT_DIR = "draw/collect_dir"  # dataset folder collected drawings go into
MICROPHONE_DEVICE = "microphone/device"  # name of the input device chosen last
MICROPHONE_MODE = "microphone/mode"  # "push", "auto" or "continuous"
MICROPHONE_THRESHOLD_DB = "microphone/threshold_db"  # trigger level above the noise floor
MICROPHONE_COLLECT_DIR = "microphone/collect_dir"  # dataset folder recorded clips go into
CAMERA_SOURCE = "camera/source"  # the Camera tab's last source: a camera index, a video file or a stream URL


# --- what each key may hold ----------------------------------------------------------------------------
# Settings are a file the user (or another release) may have edited, so every value is checked before
# anything reads it: a value of the wrong kind is removed and reported, never an obstacle to starting.

def _is_text(value: Any) -> bool:
    return isinstance(value, str) and "\x00" not in value and len(value) <= MAX_TEXT


def _is_whole(value: Any, low: int = -(2**31), high: int = 2**31 - 1) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            return False
    return isinstance(value, int) and low <= value <= high


def _is_bytes(value: Any) -> bool:
    return isinstance(value, (QByteArray, bytes, bytearray))


def _is_path_list(value: Any) -> bool:
    # INI files give a str for a one-item list and None or "" for an empty one.
    if value is None or _is_text(value):
        return True
    return isinstance(value, (list, tuple)) and all(_is_text(v) for v in value)


def _is_session(value: Any) -> bool:
    """JSON text of an object (its fields are checked as a project's when it is restored)."""
    if value is None or value == "":
        return True
    if not isinstance(value, str):
        return False
    try:
        return isinstance(json.loads(value), dict)
    except (ValueError, RecursionError):
        return False


MAX_TEXT = 4096  # longer than any path the system accepts

#: key → (what it holds, in words; a check of a stored value)
SCHEMA: dict[str, tuple[str, Callable[[Any], bool]]] = {
    WINDOW_GEOMETRY: ("saved window geometry", _is_bytes),
    WINDOW_STATE: ("saved window state", _is_bytes),
    WINDOW_TAB: ("a tab number", lambda v: _is_whole(v, 0, 100)),
    RUNS_COLLAPSED: ("true or false", lambda v: v is None or isinstance(v, bool) or str(v).lower() in ("true", "false")),
    RUNS_HEIGHT: ("a height in pixels", lambda v: _is_whole(v, 0, 100_000)),
    LAST_PROJECT: ("a project path", lambda v: v is None or _is_text(v)),
    RECENT_PROJECTS: ("a list of project paths", _is_path_list),
    SESSION_PROJECT: ("the last session's project as JSON", _is_session),
    RECENT_DATASETS: ("a list of dataset paths", _is_path_list),
    TRAINING_CPU_REPLICAS: ("a number of CPU replicas from 1 to 64", lambda v: _is_whole(v, 1, 64)),
    DRAW_COLLECT_DIR: ("a folder", lambda v: v is None or _is_text(v)),
    MICROPHONE_DEVICE: ("a device name", lambda v: v is None or _is_text(v)),
    MICROPHONE_MODE: ("a mode name", lambda v: v is None or _is_text(v)),
    MICROPHONE_THRESHOLD_DB: ("a level in dB", _is_whole),
    MICROPHONE_COLLECT_DIR: ("a folder", lambda v: v is None or _is_text(v)),
    CAMERA_SOURCE: ("a camera index, video file or stream URL", lambda v: v is None or _is_text(v)),
}

#: The keys that bring back the last session (skipped by ``workbench --safe-start``).
SESSION_KEYS = (WINDOW_GEOMETRY, WINDOW_STATE, WINDOW_TAB, RUNS_COLLAPSED, RUNS_HEIGHT, LAST_PROJECT, SESSION_PROJECT)


def discard_invalid(settings: QSettings) -> list[str]:
    """Remove every stored value that does not match :data:`SCHEMA`; one message per removed value.

    Reading a value can itself fail on a damaged file (PySide raises for types it cannot convert);
    such a key is removed too."""
    messages = []
    for key, (expected, check) in SCHEMA.items():
        if not settings.contains(key):
            continue
        try:
            value = settings.value(key)
            ok = check(value)
        except Exception as exc:  # noqa: BLE001 - a damaged settings file must never stop the app
            value, ok = f"unreadable ({type(exc).__name__}: {exc})", False
        if not ok:
            settings.remove(key)
            shown = repr(value)
            messages.append(f"Expected {expected} in setting {key}. Received: "
                            f"{shown if len(shown) <= 60 else shown[:59] + '…'} (ignored and cleared)")
    return messages

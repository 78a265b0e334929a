"""Every QSettings key the GUI reads or writes, in one place.

QSettings is the app's memory between launches (window layout, recent files, microphone choices,
collect folders). Keeping the keys here shows at a glance what is remembered, and two modules can
never pick the same key for different things. Values are plain strings, numbers or string lists.
"""

from __future__ import annotations

# The main window.
WINDOW_GEOMETRY = "window/geometry"  # QByteArray from saveGeometry()
WINDOW_STATE = "window/state"  # QByteArray from saveState(): docks and toolbars
WINDOW_TAB = "window/tab"  # index of the tab shown last

# Projects (ProjectController).
LAST_PROJECT = "project/last"  # path of the project open at the last close ("" = unsaved)
RECENT_PROJECTS = "projects/recent"  # newest first
SESSION_PROJECT = "session/project"  # JSON of the unsaved project's choices, restored on launch

# The Data panel.
RECENT_DATASETS = "data/recent"  # folders and .npz files, newest first

# The Test panel's live inputs.
DRAW_COLLECT_DIR = "draw/collect_dir"  # dataset folder collected drawings go into
MICROPHONE_DEVICE = "microphone/device"  # name of the input device chosen last
MICROPHONE_MODE = "microphone/mode"  # "push", "auto" or "continuous"
MICROPHONE_THRESHOLD_DB = "microphone/threshold_db"  # trigger level above the noise floor
MICROPHONE_COLLECT_DIR = "microphone/collect_dir"  # dataset folder recorded clips go into

"""Find files shipped in ``resources/``, from a checkout or from an installed wheel.

In a checkout the folder sits next to the ``workbench`` package; the wheel force-includes it as
``workbench/resources``. This is the only place that knows about both layouts.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """Return the resources folder, whichever layout is installed."""
    for candidate in (_PACKAGE_DIR / "resources", _PACKAGE_DIR.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "Expected a 'resources' folder inside the workbench package or next to it. "
        f"Received: none under {_PACKAGE_DIR}"
    )


def resource_path(*parts: str) -> Path:
    """Return the path of a shipped resource, e.g. ``resource_path("models", "digits.keras")``."""
    return resources_dir().joinpath(*parts)


def shipped_models() -> list[Path]:
    """Return the shipped ``.keras`` models that have a sidecar next to them."""
    models = resources_dir() / "models"
    if not models.is_dir():
        return []
    return sorted(p for p in models.glob("*.keras") if p.with_suffix(".json").is_file())

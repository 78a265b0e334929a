"""Where the tests find things outside the repository.

``SHARED_DATA`` is the real data shared by the project (``../shared/data`` relative to the repository
root, see its README). Integration tests read it from there and never copy it into the repository.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
MNIST_FOLDERS_SMALL = SHARED_DATA / "mnist" / "folders_small"
MNIST_NPZ = SHARED_DATA / "mnist" / "mnist_train.npz"


def require_shared(path: Path) -> Path:
    """``path`` if it exists; otherwise an AssertionError saying what is missing (CI has the data)."""
    assert path.exists(), (
        f"Shared test data is missing: {path}. Integration tests need the project's real data at "
        f"{SHARED_DATA} (see its README); it is not downloaded by the tests."
    )
    return path

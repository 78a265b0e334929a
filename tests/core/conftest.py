"""Fixtures for the core tests: tiny synthetic image datasets in temporary folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import write_image_dataset


@pytest.fixture
def image_dataset(tmp_path: Path) -> Path:
    """3 classes × 20 noisy 28×28 grayscale PNGs (horizontal bar, vertical bar, blob)."""
    return write_image_dataset(tmp_path / "data")


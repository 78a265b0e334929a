"""Cancelling a scan of a large folder is prompt: while the files are listed, and while they are
checked only the few files submitted ahead are decoded, not the rest of the folder."""

from __future__ import annotations

import pytest

from tests.helpers import write_image_dataset
from workbench.core.data.scan import ScanCancelled, scan_dataset
from workbench.core.image.modality import ImageModality


class Token:
    def __init__(self, after_polls: int | None = None) -> None:
        self.polls = 0
        self.after_polls = after_polls
        self.flag = after_polls == 0

    @property
    def cancelled(self) -> bool:
        self.polls += 1
        return self.flag or (self.after_polls is not None and self.polls > self.after_polls)


@pytest.fixture
def checked(monkeypatch):
    files: list[str] = []
    real = ImageModality.verify_file
    monkeypatch.setattr(ImageModality, "verify_file", lambda self, path: (files.append(path), real(self, path))[1])
    return files


def test_cancel_while_listing_decodes_nothing(tmp_path, checked):
    root = write_image_dataset(tmp_path / "d", {"a": 5, "b": 5}, size=8)
    with pytest.raises(ScanCancelled, match="listing"):
        scan_dataset(root, cancel=Token(after_polls=0))
    assert checked == []


def test_cancel_while_checking_stops_within_the_window_submitted_ahead(tmp_path, checked):
    root = write_image_dataset(tmp_path / "d", {"a": 150, "b": 150}, size=8)
    token = Token()
    reports: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        reports.append((done, total))
        token.flag = True

    with pytest.raises(ScanCancelled, match="after 65"):
        scan_dataset(root, progress=progress, cancel=token, workers=2)
    assert reports == [(64, 300)]
    assert len(checked) <= 65 + 2 * 16  # the files submitted ahead, not the whole folder

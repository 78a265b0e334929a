"""The decode cache: a clip is decoded once — not again in later epochs, nor in a later run — and
the cache follows the file's content and the decode settings."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("cv2")

from tests.helpers import write_video_dataset  # noqa: E402
from workbench.core.video import cache  # noqa: E402
from workbench.core.video.clips import VideoConfig  # noqa: E402
from workbench.core.video.dataset import clip_arrays, video_tf_dataset  # noqa: E402

CONFIG = VideoConfig.from_model((4, 12, 12, 3), {"window_s": 1.0})


@pytest.fixture
def clips(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    root = write_video_dataset(tmp_path / "v", {"a": 3, "b": 3}, size=16, frames=8)
    return sorted(str(p) for p in root.rglob("*.avi"))


def decodes(action) -> int:
    before = cache.decode_count
    action()
    return cache.decode_count - before


def test_later_epochs_and_later_runs_decode_nothing(clips, tmp_path):
    labels = np.array([0, 0, 0, 1, 1, 1])

    def epochs(count: int = 2, training: bool = True):
        ds = video_tf_dataset(clips, labels, CONFIG, 4, training=training, seed=0)
        for _ in range(count):
            batches = [x.numpy() for x, _ in ds]
            assert sum(len(b) for b in batches) == len(clips)
            assert batches[0].shape[1:] == CONFIG.input_shape

    assert decodes(epochs) == len(clips)  # the first epoch decodes each clip once; the second none
    assert decodes(epochs) == 0  # a later run (a new pipeline) reads the cache
    assert decodes(lambda: epochs(1, training=False)) == 0  # validation too
    assert decodes(lambda: clip_arrays(clips, CONFIG)) == 0
    assert len(list((tmp_path / "cache" / "video").glob("*.npz"))) == len(clips)
    assert not list((tmp_path / "cache" / "video").glob(".*tmp*"))  # written atomically, nothing left over


def test_cache_follows_content_and_settings(clips, tmp_path):
    first = clip_arrays(clips[:1], CONFIG)
    copy = tmp_path / "renamed.avi"
    shutil.copyfile(clips[0], copy)
    assert decodes(lambda: np.testing.assert_array_equal(clip_arrays([str(copy)], CONFIG), first)) == 0
    other = VideoConfig.from_model((4, 10, 10, 1), {"window_s": 1.0})  # another size and colour
    assert decodes(lambda: clip_arrays(clips[:1], other)) == 1
    shutil.copyfile(clips[-1], copy)  # same name, new content
    assert decodes(lambda: clip_arrays([str(copy)], CONFIG)) == 1


def test_a_damaged_entry_is_decoded_again_and_an_unwritable_cache_costs_only_speed(clips, tmp_path, monkeypatch):
    expected = clip_arrays(clips[:1], CONFIG)
    [entry] = (tmp_path / "cache" / "video").glob("*.npz")
    entry.write_bytes(b"not an npz")
    assert decodes(lambda: np.testing.assert_array_equal(clip_arrays(clips[:1], CONFIG), expected)) == 1
    assert decodes(lambda: clip_arrays(clips[:1], CONFIG)) == 0  # replaced by a good entry
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(blocker))  # the cache folder cannot be made
    assert decodes(lambda: np.testing.assert_array_equal(clip_arrays(clips[:1], CONFIG), expected)) == 1


def test_the_cache_lives_under_the_user_cache_folder_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKBENCH_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "workbench" / "video"
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine" / "video"

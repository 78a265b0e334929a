"""The decode cache: a clip is decoded once — not again in later epochs, nor in a later run — and
the cache follows the file's content and the decode settings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2")

from tests.helpers import write_video_dataset  # noqa: E402
from workbench.core.errors import WorkbenchError  # noqa: E402
from workbench.core.video import cache  # noqa: E402
from workbench.core.video.clips import VideoConfig  # noqa: E402
from workbench.core.video.dataset import clip_arrays, video_tf_dataset  # noqa: E402

CONFIG = VideoConfig.from_model((4, 12, 12, 3), {"window_s": 1.0})


@pytest.fixture
def clips(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(cache.LIMIT_ENV, raising=False)
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


# --- The size limit ----------------------------------------------------------------------------------
ENTRY_BYTES = 4534  # one clip of the fixture at CONFIG, as written (checked below)
OLD = 1_000_000_000  # a modification time long ago (2001), in seconds


def entry(path: str) -> Path:
    return cache.cache_dir() / f"{cache.cache_key(path, CONFIG)}.npz"


def limit_to(monkeypatch, nbytes: int) -> None:
    monkeypatch.setenv(cache.LIMIT_ENV, repr(nbytes / 2**20))
    assert cache.cache_limit() == nbytes


def write(path: str, age_rank: int | None = None) -> None:
    """Cache ``path`` (decoding it), then date its entry ``OLD + age_rank`` so the order of use does not
    rest on the file system's clock resolution."""
    assert decodes(lambda: cache.cached_clip(path, CONFIG)) == 1
    if age_rank is not None and entry(path).exists():
        os.utime(entry(path), (OLD + age_rank, OLD + age_rank))


def present(clips) -> list[int]:
    return [i for i, path in enumerate(clips) if entry(path).exists()]


def test_pruning_keeps_the_cache_under_its_limit_and_drops_the_least_recently_used_first(clips, monkeypatch):
    limit_to(monkeypatch, 3 * ENTRY_BYTES + 100)  # room for three entries
    for i, path in enumerate(clips):
        write(path, age_rank=i)
        count, used = cache.cache_usage()
        assert used <= cache.cache_limit() and count == min(i + 1, 3)
        assert entry(path).stat().st_size == ENTRY_BYTES
    assert present(clips) == [3, 4, 5]
    assert decodes(lambda: [cache.cached_clip(p, CONFIG) for p in clips[3:]]) == 0
    assert decodes(lambda: cache.cached_clip(clips[0], CONFIG)) == 1


def test_the_entry_just_written_is_kept_and_one_too_large_for_the_limit_is_not_written(clips, monkeypatch):
    limit_to(monkeypatch, ENTRY_BYTES + 10)  # room for one
    write(clips[0])
    future = entry(clips[0]).stat().st_mtime + 3600  # used "later" (another machine's clock, say)
    os.utime(entry(clips[0]), (future, future))
    write(clips[1])
    assert present(clips) == [1]  # the one just written stays, though by its time it is the older
    limit_to(monkeypatch, ENTRY_BYTES - 10)
    write(clips[2])
    assert present(clips) == [1]  # decoded, not cached: it could never fit
    assert decodes(lambda: cache.cached_clip(clips[2], CONFIG)) == 1


def test_a_cache_hit_makes_an_entry_recently_used(clips, monkeypatch):
    limit_to(monkeypatch, 3 * ENTRY_BYTES + 100)
    for i in range(3):
        write(clips[i], age_rank=i)
    assert decodes(lambda: cache.cached_clip(clips[0], CONFIG)) == 0  # a hit: clips[0] is now the newest
    assert entry(clips[0]).stat().st_mtime > OLD + 10
    write(clips[3])
    assert present(clips) == [0, 2, 3]  # clips[1] was the least recently used


def test_only_the_caches_own_files_are_counted_and_deleted(clips, monkeypatch):
    folder = cache.cache_dir()
    folder.mkdir(parents=True)
    name = f"{'0' * 32}-v1-12x12x3-16fps.npz"
    foreign = {"notes.txt": b"x" * 100_000, "weights.npz": b"y" * 50_000, f"{'0' * 31}-v1-12x12x3-16fps.npz": b"z",
               f"{name}.bak": b"w", f".{name}.abcd1234.tmp.npz": b"a write in progress"}
    for file, data in foreign.items():
        (folder / file).write_bytes(data)
        os.utime(folder / file, (OLD, OLD) if file != f".{name}.abcd1234.tmp.npz" else None)
    (folder / "sub").mkdir()
    stale = folder / f".{name}.zz_9y8x7.tmp.npz"  # left by a write killed long ago
    stale.write_bytes(b"half an entry")
    os.utime(stale, (OLD, OLD))
    limit_to(monkeypatch, 2 * ENTRY_BYTES + 100)
    for i in range(4):
        write(clips[i], age_rank=i + 1)
    assert present(clips) == [2, 3]  # the foreign files' 150 kB neither count nor go
    assert cache.cache_usage() == (2, 2 * ENTRY_BYTES)
    assert not stale.exists()
    assert cache.clear_cache() == (2, 2 * ENTRY_BYTES)
    assert cache.cache_usage() == (0, 0) and present(clips) == []
    assert {f: (folder / f).read_bytes() for f in foreign} == foreign and (folder / "sub").is_dir()
    assert cache.clear_cache() == (0, 0)


def test_pruning_tolerates_entries_another_process_deletes_meanwhile(clips, monkeypatch):
    limit_to(monkeypatch, 2 * ENTRY_BYTES + 100)
    write(clips[0], age_rank=1)
    write(clips[1], age_rank=2)
    listed = cache._entries(cache.cache_dir())
    gone = cache.cache_dir() / f"{'f' * 32}-v1-12x12x3-16fps.npz"  # listed, then deleted by someone else
    monkeypatch.setattr(cache, "_entries", lambda folder: [*listed, (gone, 10**9, 0)])
    assert cache.prune(cache.cache_dir(), cache.cache_limit()) == 2 * ENTRY_BYTES  # its bytes are gone too
    assert present(clips) == [0, 1]


def test_a_limit_of_zero_decodes_every_time_and_leaves_the_cache_alone(clips, monkeypatch):
    monkeypatch.setenv(cache.LIMIT_ENV, "0")
    assert decodes(lambda: [cache.cached_clip(clips[0], CONFIG) for _ in range(2)]) == 2
    assert decodes(lambda: clip_arrays(clips[:2], CONFIG)) == 2
    assert not cache.cache_dir().exists()
    monkeypatch.delenv(cache.LIMIT_ENV)
    write(clips[0], age_rank=0)
    monkeypatch.setenv(cache.LIMIT_ENV, "0")
    assert decodes(lambda: cache.cached_clip(clips[0], CONFIG)) == 1  # not read either: the cache is off
    assert present(clips) == [0] and entry(clips[0]).stat().st_mtime == OLD


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", "2GB", "1,5"])
def test_a_bad_limit_says_what_was_expected(clips, monkeypatch, value):
    monkeypatch.setenv(cache.LIMIT_ENV, value)
    expected = rf"Expected {cache.LIMIT_ENV} to be a size in MiB.*Received: {value!r}"
    with pytest.raises(WorkbenchError, match=expected):
        cache.cache_limit()
    with pytest.raises(WorkbenchError, match=expected):
        cache.cached_clip(clips[0], CONFIG)


def test_the_limit_defaults_to_2_gib(monkeypatch):
    monkeypatch.delenv(cache.LIMIT_ENV, raising=False)
    assert cache.cache_limit() == 2 << 30
    for value, expected in [("", 2 << 30), (" 512 ", 512 << 20), ("0.5", 1 << 19), ("0", 0)]:
        monkeypatch.setenv(cache.LIMIT_ENV, value)
        assert cache.cache_limit() == expected

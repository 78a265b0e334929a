"""The on-disk cache of decoded samples: decoded once (not again in a later epoch nor a later run),
keyed by the files and the settings, never read half-written, size-limited, and only its own files
deleted."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from workbench.core.data import sample_cache
from workbench.core.data.sample_cache import SampleStore

SHAPE = (4, 3)


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Twelve small files whose 'decoded sample' is their first byte repeated."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(sample_cache.LIMIT_ENV, raising=False)
    root = tmp_path / "data"
    root.mkdir()
    paths = []
    for i in range(12):
        path = root / f"{i:02d}.bin"
        path.write_bytes(bytes([10 + i]) * 8)
        paths.append(str(path))
    return paths[::-1]  # not in path order: the entry does not depend on the order


def decode(path: str) -> np.ndarray:
    return np.full(SHAPE, Path(path).read_bytes()[0], np.uint8)


def store(paths, settings=None) -> SampleStore:
    return SampleStore(paths, SHAPE, np.uint8, settings or {"size": 4}, decode)


def load(made: SampleStore, paths, positions) -> np.ndarray:
    """What the tf.data stream asks a store for: the batch's paths and their ranks in the entry."""
    positions = np.asarray(positions)
    return made.load(np.array([os.fsencode(paths[p]) for p in positions], dtype=object),
                     SampleStore.ranks(paths)[positions])


def decodes(action) -> int:
    before = sample_cache.decode_count
    action()
    return sample_cache.decode_count - before


def expected(paths, positions) -> np.ndarray:
    return np.stack([decode(paths[p]) for p in positions])


def folder_files(tmp_path) -> list[str]:
    return sorted(os.listdir(tmp_path / "cache" / "samples"))


def test_a_second_pass_and_a_second_run_read_the_cache(files, tmp_path):
    first = store(files)
    assert first.status == "new"
    order = np.random.default_rng(0).permutation(len(files))
    assert decodes(lambda: load(first, files, order[:5])) == 5
    assert first.status == "writing"
    assert decodes(lambda: np.testing.assert_array_equal(load(first, files, order), expected(files, order))) == 7
    assert first.status == "complete"
    assert decodes(lambda: np.testing.assert_array_equal(load(first, files, order), expected(files, order))) == 0
    other = files[::-1]  # a later run, its split in another order
    again = store(other)
    assert again.status == "hit" and again.entry == first.entry
    assert decodes(lambda: np.testing.assert_array_equal(load(again, other, order), expected(other, order))) == 0
    assert [f for f in folder_files(tmp_path) if not f.endswith(".samples")] == []  # no temporary file left


def test_the_key_follows_the_settings_and_the_files(files):
    base = store(files)
    load(base, files, range(12))
    assert base.status == "complete" and store(files).status == "hit"
    assert store(files, {"size": 5}).status == "new"  # other preprocessing: another entry
    assert store(files[:-1]).status == "new"  # one file fewer
    stat = os.stat(files[0])
    Path(files[0]).write_bytes(b"\x63" * 9)  # edited: new size and time
    os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    edited = store(files)
    assert edited.status == "new" and edited.entry != base.entry
    assert load(edited, files, [0])[0, 0, 0] == 0x63


def test_a_half_written_or_damaged_cache_is_never_read_and_is_cleaned(files, tmp_path):
    killed = store(files)
    load(killed, files, range(6))  # the run dies half-way through its first epoch...
    temp = Path(killed._temp)
    entry = killed.entry
    folder = entry.parent
    dead = folder / f".{entry.name}.99999999-0badf00d.part"  # ...in a process that is gone
    os.link(temp, dead)
    old = folder / f".{entry.name}.1-0badcafe.part"  # a process that cannot be checked, quiet for long
    old.write_bytes(b"x")
    os.utime(old, (1e9, 1e9))
    foreign = {"notes.txt": b"keep", f"{entry.stem}.samples.bak": b"keep too"}
    for name, data in foreign.items():
        (folder / name).write_bytes(data)
    del killed
    assert not temp.exists()  # a store dropped before its entry was complete deletes its own file
    entry.write_bytes(b"WBSAMPLE" + b"\0" * 100)  # and a damaged entry with the right name
    fresh = store(files)
    assert fresh.status == "new" and not entry.exists()  # the damaged entry was not taken as a hit
    assert decodes(lambda: np.testing.assert_array_equal(load(fresh, files, range(12)), expected(files, range(12)))) == 12
    assert not dead.exists() and not old.exists()
    assert store(files).status == "hit"
    assert {n: (folder / n).read_bytes() for n in foreign} == foreign


def test_the_cache_keeps_under_its_limit_least_recently_used_first(files, tmp_path, monkeypatch):
    entry_bytes = 4096 + 12 * 12
    monkeypatch.setenv(sample_cache.LIMIT_ENV, repr((2 * entry_bytes + 10) / 2**20))  # room for two entries
    entries = []
    for size in (1, 2, 3):
        made = store(files, {"size": size})
        load(made, files, range(12))
        entries.append(made.entry)
        os.utime(made.entry, (1e9 + size, 1e9 + size))
        del made
    assert [e.exists() for e in entries] == [False, True, True]
    assert sample_cache.cache_usage() == (2, 2 * entry_bytes)
    monkeypatch.setenv(sample_cache.LIMIT_ENV, repr((entry_bytes - 10) / 2**20))
    assert store(files, {"size": 9}).status == "off"  # too large for the limit: decoded every time
    monkeypatch.setenv(sample_cache.LIMIT_ENV, "0")
    off = store(files)
    assert off.status == "off" and decodes(lambda: load(off, files, range(12))) == 12


def test_an_unwritable_cache_costs_only_speed(files, tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(blocker))
    unwritable = store(files)
    np.testing.assert_array_equal(load(unwritable, files, range(12)), expected(files, range(12)))
    assert unwritable.status == "off"


def test_image_folders_stream_through_the_cache(tmp_path, monkeypatch):
    import cv2

    from workbench.core.image.dataset import image_tf_dataset

    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    ids, labels = [], []
    for label in range(3):
        (tmp_path / str(label)).mkdir()
        for i in range(7):
            path = tmp_path / str(label) / f"{i}.png"
            cv2.imwrite(str(path), np.full((10, 12), label * 50 + i, np.uint8))
            ids.append(str(path))
            labels.append(label)

    def epoch(ds):
        xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
        return np.concatenate(xs), np.concatenate(ys)

    train = image_tf_dataset(ids, np.array(labels), None, (8, 8, 1), 4, training=True, seed=1)
    passes = []
    assert decodes(lambda: passes.append(epoch(train))) == 21
    assert decodes(lambda: passes.append(epoch(train))) == 0
    for x, y in passes:
        assert sorted(y.tolist()) == sorted(labels)
        np.testing.assert_array_equal(x[:, 0, 0, 0] // 50, y)  # each image with its own label
    assert passes[0][1].tolist() != passes[1][1].tolist()  # shuffled again each epoch
    val = image_tf_dataset(ids, np.array(labels), None, (8, 8, 1), 4)
    assert decodes(lambda: np.testing.assert_array_equal(epoch(val)[1], labels)) == 0  # a new run: in order, cached
    bigger = image_tf_dataset(ids, np.array(labels), None, (9, 9, 1), 4)
    assert decodes(lambda: epoch(bigger)) == 21  # another input size: decoded again


def test_sound_folders_stream_through_the_cache(tmp_path, monkeypatch):
    import soundfile

    from workbench.core.audio.config import AudioConfig
    from workbench.core.audio.dataset import audio_tf_dataset

    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    rate, ids, labels = 8000, [], []
    for label, hz in enumerate((300.0, 1200.0)):
        (tmp_path / str(label)).mkdir()
        for i in range(5):
            t = np.arange(int(rate * (0.3 + 0.05 * i))) / rate
            path = tmp_path / str(label) / f"{i}.wav"
            soundfile.write(path, 0.5 * np.sin(2 * np.pi * hz * t), rate)
            ids.append(str(path))
            labels.append(label)
    config = AudioConfig(sample_rate=rate, duration=0.5, frames=32)

    def epoch(ds):
        xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
        return np.concatenate(xs), np.concatenate(ys)

    train = audio_tf_dataset(ids, np.array(labels), config, 4, training=True, seed=3)
    first: list = []
    assert decodes(lambda: first.append(epoch(train))) == 10
    assert decodes(lambda: epoch(train)) == 0
    x, y = first[0]
    assert x.shape == (10, config.num_samples) and sorted(y.tolist()) == sorted(labels)
    # Each clip keeps its label: the low tone crosses zero less often than the high one.
    crossings = (np.diff(np.sign(x), axis=1) != 0).sum(axis=1)
    assert all(c < 500 for c in crossings[y == 0]) and all(c > 500 for c in crossings[y == 1])
    longer = audio_tf_dataset(ids, np.array(labels), AudioConfig(sample_rate=rate, duration=0.6, frames=32), 4)
    assert decodes(lambda: epoch(longer)) == 10  # another clip length: decoded again


def test_a_failed_write_costs_only_speed(files, monkeypatch):
    made = store(files)
    load(made, files, range(3))
    temp = Path(made._temp)

    def full_disk(fd, data, offset):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sample_cache, "_write_at", full_disk)
    np.testing.assert_array_equal(load(made, files, range(12)), expected(files, range(12)))
    assert made.status == "off" and not temp.exists()
    assert sample_cache.cache_usage() == (0, 0)

"""The on-disk cache of decoded clips: a clip is decoded once, for every epoch and every later run.

A clip is decoded to the model's frame size and colour (and at most :attr:`VideoConfig.cache_fps`
frames a second) and kept as an uncompressed ``.npz`` under ``$WORKBENCH_CACHE_DIR/video``
(default ``$XDG_CACHE_HOME/workbench/video`` or ``~/.cache/workbench/video``), named by a hash of
the file's content and the decode settings: a renamed copy hits the cache, an edited file does not.
Entries are written atomically; one that cannot be read is decoded again. An unwritable cache folder
costs speed, never a run.

The cache holds at most :func:`cache_limit` bytes (2 GiB, or ``$WORKBENCH_VIDEO_CACHE_MB`` MiB; 0
turns the cache off: clips are decoded every time, nothing is read or written). When a write may have
taken the folder past that (a process measures it at its first write, then when its own writes add up
past the limit, and at least once a minute), the least recently used entries are deleted until it is
under the limit (a hit refreshes an entry's modification time); the entry just written is kept, and a
clip too large for the limit on its own is not kept. Only the cache's own entries (and
temporary files that writes killed over an hour ago left behind) are ever deleted: nothing else in the
folder is touched or counted. Several processes may share the folder and prune it at the same time.
The folder helpers are shared with the sample cache (:mod:`workbench.core.data.sample_cache`).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.core.data.sample_cache import (
    cache_root,
    list_entries,
    prune_entries,
    remove_file,
    remove_stale_temps,
    size_limit,
    touch,
)
from workbench.core.video.clips import VideoConfig, convert_frame

#: Bumped when what an entry holds changes, so old entries are never read as new ones.
CACHE_VERSION = 1
_HASH_CHUNK = 1 << 20

#: The environment variable that sets the cache's size limit, in MiB (0: no cache).
LIMIT_ENV = "WORKBENCH_VIDEO_CACHE_MB"
DEFAULT_LIMIT_MB = 2048
#: An entry's name (what :func:`cache_key` makes, any version) and a write's temporary file
#: (:func:`workbench.core.atomic.atomic_path`): the only files the cache ever deletes.
_ENTRY_NAME = re.compile(r"[0-9a-f]{32}-v\d+-\d+x\d+x\d+-[0-9.e+-]+fps\.npz")
_TEMP_NAME = re.compile(r"\.(?P<entry>.+)\.[^.]+\.tmp\.npz")
#: A temporary file older than this was left by a killed write (a write takes seconds).
STALE_TEMP_S = 3600.0
#: How often the folder is measured again while this process's own writes keep it under the limit
#: (other processes may be writing to it too).
_RESCAN_S = 60.0

_lock = threading.Lock()
_hashes: dict[tuple[str, int, int], str] = {}
_prune_lock = threading.Lock()
#: Per cache folder: (the entries' bytes at the last measurement plus this process's writes since,
#: when it was measured).
_estimates: dict[str, tuple[int, float]] = {}
#: Clips decoded from their files in this process (tests and benchmarks read it).
decode_count = 0


@dataclass
class DecodedClip:
    """A clip at the model's frame size: ``frames`` (T', H, W, C) uint8 at ``times`` (seconds) of a
    clip of ``num_frames`` frames at ``fps`` (``duration`` seconds)."""

    frames: np.ndarray
    times: np.ndarray
    fps: float
    num_frames: int

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def cache_dir() -> Path:
    """Where decoded clips are kept."""
    return cache_root("video")


def cache_limit() -> int:
    """The cache's size limit in bytes: ``$WORKBENCH_VIDEO_CACHE_MB`` MiB (default 2048; 0: no cache)."""
    return size_limit(LIMIT_ENV, DEFAULT_LIMIT_MB, "video cache")


def cache_usage() -> tuple[int, int]:
    """(entries, bytes) of the decoded clips in the cache folder (nothing else there is counted)."""
    entries = _entries(cache_dir())
    return len(entries), sum(size for _, size, _ in entries)


def clear_cache() -> tuple[int, int]:
    """Delete every entry (and leftover temporary files of killed writes); nothing else in the folder.
    Returns the (entries, bytes) deleted."""
    folder = cache_dir()
    _remove_stale_temps(folder)
    count = total = 0
    for path, size, _ in _entries(folder):
        if remove_file(path):
            count += 1
            total += size
    with _lock:
        _estimates.pop(os.fspath(folder), None)
    return count, total


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 of the file's content (remembered per path, size and modification time)."""
    stat = os.stat(path)
    key = (os.fspath(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        known = _hashes.get(key)
    if known:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    value = digest.hexdigest()
    with _lock:
        _hashes[key] = value
    return value


def cache_key(path: str | os.PathLike, config: VideoConfig) -> str:
    settings = f"v{CACHE_VERSION}-{config.height}x{config.width}x{config.channels}-{config.cache_fps:.4g}fps"
    return f"{file_hash(path)[:32]}-{settings}"


def decode_clip(path: str | os.PathLike, config: VideoConfig) -> DecodedClip:
    """Decode ``path`` at the model's size and colour, keeping at most ``config.cache_fps`` frames a
    second (no cache involved)."""
    global decode_count
    from workbench.core.video.io import decode_frames

    kept: list[int] = []
    seen = [0]

    def keep(index: int, fps: float) -> bool:
        seen[0] = index + 1
        rate = min(fps, config.cache_fps)
        if index == 0 or int(index * rate / fps) != int((index - 1) * rate / fps):
            kept.append(index)
            return True
        return False

    frames, fps = decode_frames(path, lambda f: convert_frame(f, config.height, config.width, config.channels), keep)
    with _lock:
        decode_count += 1
    return DecodedClip(frames, np.asarray(kept[:len(frames)], np.float64) / fps, fps, seen[0])


def cached_clip(path: str | os.PathLike, config: VideoConfig) -> DecodedClip:
    """The decoded clip from the cache, decoding (and caching) it the first time; with a limit of 0
    (``WORKBENCH_VIDEO_CACHE_MB=0``) it is decoded every time and the cache is not touched."""
    limit = cache_limit()
    if limit == 0:
        return decode_clip(path, config)
    try:
        entry = cache_dir() / f"{cache_key(path, config)}.npz"
    except OSError:
        return decode_clip(path, config)  # the decoder says what is wrong with the file
    clip = _read_entry(entry)
    if clip is not None:
        touch(entry)
        return clip
    clip = decode_clip(path, config)
    if clip.frames.nbytes + clip.times.nbytes <= limit:  # else it could never fit
        size = _write_entry(entry, clip)
        if size is not None:
            _after_write(entry, size, limit)
    return clip


def _read_entry(entry: Path) -> DecodedClip | None:
    try:
        with np.load(entry, allow_pickle=False) as data:
            return DecodedClip(data["frames"], data["times"], float(data["fps"]), int(data["num_frames"]))
    except FileNotFoundError:
        return None
    except Exception:  # a damaged or foreign entry: decode again and replace it
        return None


def _write_entry(entry: Path, clip: DecodedClip) -> int | None:
    """Write ``entry`` atomically; its size, or None when it could not be written."""
    from workbench.core.atomic import atomic_path

    try:
        with atomic_path(entry) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, frames=clip.frames, times=clip.times, fps=np.float64(clip.fps),
                         num_frames=np.int64(clip.num_frames))
            size = os.stat(tmp).st_size
    except OSError:
        return None  # an unwritable or full cache folder: the next epoch decodes again
    return size


def _after_write(entry: Path, size: int, limit: int) -> None:
    """Prune the folder when this write may have taken it past ``limit`` (or it was last measured
    over :data:`_RESCAN_S` ago, or never by this process); remove the entry if it alone exceeds it."""
    if size > limit:
        remove_file(entry)
        return
    folder = os.fspath(entry.parent)
    now = time.monotonic()
    with _lock:
        known = _estimates.get(folder)
        if known is not None and known[0] + size <= limit and now - known[1] < _RESCAN_S:
            _estimates[folder] = (known[0] + size, known[1])
            return
    total = prune(entry.parent, limit, keep=entry)
    with _lock:
        _estimates[folder] = (total, now)


def prune(folder: Path, limit: int, keep: Path | None = None) -> int:
    """Delete the least recently used entries of ``folder`` until they hold at most ``limit`` bytes,
    never ``keep``; and temporary files older than :data:`STALE_TEMP_S`. Returns the bytes left.
    Files another process deletes meanwhile are taken as deleted."""
    with _prune_lock:  # one pruning at a time in this process; other processes may prune too
        _remove_stale_temps(folder)
        return prune_entries(_entries(folder), limit, keep)


def _entries(folder: Path) -> list[tuple[Path, int, int]]:
    """(path, bytes, modification time in ns) of each entry in ``folder``."""
    return list_entries(folder, _ENTRY_NAME)


def _remove_stale_temps(folder: Path) -> None:
    cutoff = time.time() - STALE_TEMP_S
    remove_stale_temps(folder, lambda m, item: bool(_ENTRY_NAME.fullmatch(m["entry"]))
                       and item.stat(follow_symlinks=False).st_mtime < cutoff, _TEMP_NAME)

"""The on-disk cache of decoded samples: a dataset streams from disk and is decoded once, for every
epoch and every later run with the same files and settings.

A list of samples (one side of a split) that decode to fixed-size arrays — images at the model's
size, sound clips of a fixed length — is kept as one entry: a file of fixed-size records under
``$WORKBENCH_CACHE_DIR/samples`` (default ``$XDG_CACHE_HOME/workbench/samples`` or
``~/.cache/workbench/samples``). Its name is a hash of the decode settings, the record's shape and
type, and each file's path, size and modification time (in path order, so the split's order does not
matter): an edited, added or removed file, or a changed setting, makes a new entry.

:func:`sample_dataset` makes the ``tf.data`` stream: the sample *indices* are shuffled (a full
permutation, a few bytes a sample), batched, and each batch is read from the entry or, the first
time, decoded and written into it. Nothing holds the whole dataset in memory: a batch and
tf.data's prefetch are all there is, whatever the folder's size (a cached batch is read through a
memory map of the entry made for that batch alone; a later pass is served by the system's file
cache: ~25-50k MNIST samples/s here, far above what training consumes, so no in-memory copy is
kept even for small datasets). The records are written into a
hidden temporary file (``.<entry>.<pid>-<token>.part``) as the first pass decodes them; only when
every record is there is its header written and the file renamed to the entry's name, so a run
killed half-way leaves a temporary file that is never read and that the next run deletes (when its
process is gone, or when it was not written to for :data:`STALE_TEMP_S`), never a half entry. An entry whose header or size
is wrong is deleted and rebuilt.

The cache holds at most :func:`cache_limit` bytes (4 GiB, or ``$WORKBENCH_SAMPLE_CACHE_MB`` MiB; 0
turns it off: every epoch decodes again). A list too large for the limit on its own (or for the
free disk space) is not cached. When an entry is completed the least recently used entries are
deleted until the folder is under the limit (opening an entry refreshes its modification time).
Only the cache's own entries and temporary files are ever deleted. An unwritable cache folder or a
full disk costs speed, never a run.

The folder helpers (:func:`cache_root`, :func:`size_limit`, :func:`list_entries`,
:func:`prune_entries`, :func:`remove_stale_temps`) are shared with the video clip cache
(:mod:`workbench.core.video.cache`).
"""

from __future__ import annotations

import hashlib
import json
import math
import mmap
import os
import re
import secrets
import shutil
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.core.errors import WorkbenchError

_MB = 1 << 20

# --- Shared folder helpers (samples and video clips) -------------------------------------------


def cache_root(name: str) -> Path:
    """The cache folder ``name``: ``$WORKBENCH_CACHE_DIR/<name>``, else under the user's cache folder."""
    root = os.environ.get("WORKBENCH_CACHE_DIR")
    if root:
        return Path(root).expanduser() / name
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "workbench" / name


def size_limit(env: str, default_mb: float, what: str) -> int:
    """A size limit in bytes from the environment variable ``env`` (MiB; default ``default_mb``)."""
    text = os.environ.get(env, "").strip()
    if not text:
        return int(default_mb * _MB)
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = math.nan
    if not math.isfinite(megabytes) or megabytes < 0:
        raise WorkbenchError(f"Expected {env} to be a size in MiB: a number of at least 0 "
                             f"(0 turns the {what} off). Received: {text!r}")
    return int(megabytes * _MB)


def list_entries(folder: Path, pattern: re.Pattern[str]) -> list[tuple[Path, int, int]]:
    """(path, bytes, modification time in ns) of each file of ``folder`` whose name matches ``pattern``."""
    found = []
    try:
        with os.scandir(folder) as listing:
            for item in listing:
                if not pattern.fullmatch(item.name):
                    continue
                try:
                    if not item.is_file(follow_symlinks=False):
                        continue
                    stat = item.stat(follow_symlinks=False)
                except OSError:
                    continue  # deleted meanwhile
                found.append((Path(item.path), stat.st_size, stat.st_mtime_ns))
    except OSError:
        return []  # no cache folder (yet), or one that cannot be read
    return found


def prune_entries(entries: list[tuple[Path, int, int]], limit: int, keep: Path | None = None) -> int:
    """Delete the least recently used of ``entries`` until they hold at most ``limit`` bytes, never
    ``keep``; returns the bytes left. Files another process deletes meanwhile count as deleted."""
    total = sum(size for _, size, _ in entries)
    for path, size, _ in sorted(entries, key=lambda e: (e[2], e[0].name)):
        if total <= limit:
            break
        if keep is not None and path.name == keep.name:
            continue
        if remove_file(path):
            total -= size
    return total


def remove_stale_temps(folder: Path, is_stale: Callable[[re.Match[str], os.DirEntry], bool],
                       pattern: re.Pattern[str]) -> None:
    """Delete the files of ``folder`` named by ``pattern`` for which ``is_stale(match, entry)``."""
    try:
        with os.scandir(folder) as listing:
            temps = [(m, item) for item in listing if (m := pattern.fullmatch(item.name))]
    except OSError:
        return
    for match, item in temps:
        try:
            if item.is_file(follow_symlinks=False) and is_stale(match, item):
                remove_file(Path(item.path))
        except OSError:
            continue


def remove_file(path: Path) -> bool:
    """Delete ``path``: True once it is gone (by us or by another process pruning too), False when it
    cannot be deleted."""
    try:
        path.unlink()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def touch(path: Path) -> None:
    """Mark ``path`` as just used (its modification time is what pruning goes by)."""
    try:
        os.utime(path)
    except OSError:
        pass  # pruned meanwhile, or a read-only cache: only the order of pruning suffers


# --- The sample cache ---------------------------------------------------------------------------

#: Bumped when the entry format changes, so old entries are never read as new ones.
CACHE_VERSION = 1
LIMIT_ENV = "WORKBENCH_SAMPLE_CACHE_MB"
DEFAULT_LIMIT_MB = 4096
#: A temporary file not written to for this long was left by a run that was killed or stopped
#: before its first pass ended (a first pass writes to it every batch).
STALE_TEMP_S = 900.0
#: Free disk space left beside a new entry.
FREE_MARGIN = 256 * _MB
_MAGIC = b"WBSAMPLE"
_HEADER_BYTES = 4096
_ENTRY_NAME = re.compile(r"[0-9a-f]{40}\.samples")
_TEMP_NAME = re.compile(r"\.(?P<entry>[0-9a-f]{40}\.samples)\.(?P<pid>\d+)-[0-9a-f]+\.part")
_BINARY = getattr(os, "O_BINARY", 0)

_count_lock = threading.Lock()
_prune_lock = threading.Lock()
#: Samples decoded through a :class:`SampleStore` in this process (tests and benchmarks read it).
decode_count = 0


def cache_dir() -> Path:
    """Where decoded samples are kept."""
    return cache_root("samples")


def cache_limit() -> int:
    """The cache's size limit in bytes: ``$WORKBENCH_SAMPLE_CACHE_MB`` MiB (default 4096; 0: no cache)."""
    return size_limit(LIMIT_ENV, DEFAULT_LIMIT_MB, "sample cache")


def cache_usage() -> tuple[int, int]:
    """(entries, bytes) in the cache folder (nothing else there is counted)."""
    entries = list_entries(cache_dir(), _ENTRY_NAME)
    return len(entries), sum(size for _, size, _ in entries)


def clear_cache() -> tuple[int, int]:
    """Delete every entry and the temporary files of finished runs; nothing else in the folder.
    Returns the (entries, bytes) deleted."""
    folder = cache_dir()
    _remove_stale_temps(folder)
    count = total = 0
    for path, size, _ in list_entries(folder, _ENTRY_NAME):
        if remove_file(path):
            count += 1
            total += size
    return count, total


def prune(folder: Path, limit: int, keep: Path | None = None) -> int:
    """Delete stale temporary files and the least recently used entries of ``folder`` until they hold
    at most ``limit`` bytes (never ``keep``). Returns the bytes left."""
    with _prune_lock:
        _remove_stale_temps(folder)
        return prune_entries(list_entries(folder, _ENTRY_NAME), limit, keep)


def _remove_stale_temps(folder: Path) -> None:
    """Delete the temporary files of first passes that are over: their process has ended, or they
    were last written :data:`STALE_TEMP_S` ago."""
    cutoff = time.time() - STALE_TEMP_S

    def stale(match: re.Match[str], item: os.DirEntry) -> bool:
        pid = int(match["pid"])
        return (pid != os.getpid() and not _process_alive(pid)) or item.stat(follow_symlinks=False).st_mtime < cutoff

    remove_stale_temps(folder, stale, _TEMP_NAME)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process, or no way to tell: the age decides
    return True


def samples_key(ids: list[str], shape: tuple[int, ...], dtype: Any, settings: dict[str, Any]) -> str:
    """The entry name's hash: settings, record shape and type, and each file's path, size and
    modification time, in path order."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(json.dumps({"version": CACHE_VERSION, "shape": list(shape), "dtype": np.dtype(dtype).str,
                              "settings": settings}, sort_keys=True, default=str).encode())
    for path in sorted(os.fsencode(i) for i in ids):
        try:
            stat = os.stat(path)
            signature = f"\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        except OSError:
            signature = b"\0missing\n"  # decoding it will say what is wrong
        digest.update(path + signature)
    return digest.hexdigest()


class SampleStore:
    """The decoded samples of ``ids`` (each ``decode(id)`` → an array of ``shape`` and ``dtype``),
    read from their cache entry, or decoded and written into it the first time.

    ``status`` says which: ``"hit"`` (a complete entry was found), ``"new"`` (none yet: the first
    load starts one), ``"writing"`` (the first pass fills it), ``"complete"`` (it was just filled), or
    ``"off"`` (no cache: every load decodes). Files are opened for each batch, never held open, and
    the store keeps no per-sample Python objects: :func:`sample_dataset` passes each batch's paths
    and ranks (places in the entry) from tensors, so a store TensorFlow keeps alive after its
    dataset is gone (``numpy_function`` registers its callable for the process's lifetime) costs a
    few bytes a sample.
    """

    def __init__(self, ids: list[str], shape: tuple[int, ...], dtype: Any, settings: dict[str, Any],
                 decode: Callable[[str], np.ndarray]) -> None:
        self.count = len(ids)
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.decode = decode
        self.record_bytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        self.data_bytes = self.record_bytes * self.count
        self._lock = threading.Lock()
        self._written: np.ndarray | None = None  # while writing: which ranks are in the temporary file
        self._done = 0
        self._temp: Path | None = None
        self._finalizer: weakref.finalize | None = None
        self.status = "off"
        self.entry: Path | None = None
        self._limit = cache_limit()
        if not self.count or self._limit == 0 or self.data_bytes + _HEADER_BYTES > self._limit:
            return
        self.entry = cache_dir() / f"{samples_key(ids, self.shape, self.dtype, settings)}.samples"
        if self._valid_entry():
            self.status = "hit"
            touch(self.entry)
        else:
            self.status = "new"

    def __len__(self) -> int:
        return self.count

    @staticmethod
    def ranks(ids: list[str]) -> np.ndarray:
        """Each sample's place in the entry (the order of the paths)."""
        order = sorted(range(len(ids)), key=lambda i: os.fsencode(ids[i]))
        ranks = np.empty(len(ids), np.int64)
        ranks[order] = np.arange(len(ids))
        return ranks

    def _header(self) -> bytes:
        meta = json.dumps({"version": CACHE_VERSION, "key": self.entry.stem, "count": self.count,
                           "shape": list(self.shape), "dtype": self.dtype.str}).encode()
        return (_MAGIC + len(meta).to_bytes(4, "little") + meta).ljust(_HEADER_BYTES, b"\0")

    def _valid_entry(self) -> bool:
        """Whether the entry exists with the right header and size; a damaged one is deleted."""
        try:
            fd = os.open(self.entry, os.O_RDONLY | _BINARY)
        except OSError:
            return False
        try:
            valid = (os.fstat(fd).st_size == _HEADER_BYTES + self.data_bytes
                     and _read_at(fd, _HEADER_BYTES, 0) == self._header())
        except OSError:
            valid = False
        finally:
            os.close(fd)
        if not valid:
            remove_file(self.entry)  # damaged, or written by something else: rebuilt by the first pass
        return valid

    def _start(self) -> None:
        """Make the temporary file the first pass writes into (status ``writing``), or give up (``off``)."""
        entry = self.entry
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_temps(entry.parent)
            if shutil.disk_usage(entry.parent).free < self.data_bytes + FREE_MARGIN:
                self.status = "off"
                return
            temp = entry.parent / f".{entry.name}.{os.getpid()}-{secrets.token_hex(4)}.part"
            fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
        except OSError:
            self.status = "off"  # an unwritable cache folder: decode every time
            return
        try:
            os.ftruncate(fd, _HEADER_BYTES + self.data_bytes)  # sparse: filled as samples are decoded
        except OSError:
            os.close(fd)
            remove_file(temp)
            self.status = "off"
            return
        os.close(fd)
        self._temp = temp
        # A store dropped before its first pass ended deletes its file (at the latest when the process ends).
        self._finalizer = weakref.finalize(self, remove_file, temp)
        self._written = np.zeros(self.count, bool)
        self.status = "writing"

    # -- loading ----------------------------------------------------------------------------

    def load(self, paths: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """The samples of ``paths`` (bytes, as the OS gave the names) at ``ranks`` in the entry,
        shape (len(paths), *shape): read from the entry, or decoded (and written into it)."""
        ranks = np.asarray(ranks, np.int64)
        if self.status == "new":
            with self._lock:
                if self.status == "new":
                    self._start()
        if self.status in ("hit", "complete"):
            out = self._read_entry(ranks)
            if out is not None:
                return out
        if self.status == "writing":
            return self._load_writing(paths, ranks)
        return np.stack([self._decode(p) for p in paths]) if len(paths) else self._empty()

    def _empty(self) -> np.ndarray:
        return np.zeros((0, *self.shape), self.dtype)

    def _read_entry(self, ranks: np.ndarray) -> np.ndarray | None:
        """The records at ``ranks`` through a memory map of the entry opened for this batch only (so
        nothing of it stays in this process's memory); None when it is gone (pruned meanwhile)."""
        try:
            fd = os.open(self.entry, os.O_RDONLY | _BINARY)
        except OSError:
            self.status = "off"
            return None
        try:
            with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
                records = np.frombuffer(mapped, self.dtype, count=self.data_bytes // self.dtype.itemsize,
                                        offset=_HEADER_BYTES).reshape(self.count, *self.shape)
                out = records[ranks]  # a copy
                del records
            return out
        except (OSError, ValueError):
            self.status = "off"
            return None
        finally:
            os.close(fd)

    def _load_writing(self, paths: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        out = np.empty((len(paths), *self.shape), self.dtype)
        written = self._written
        try:
            fd = os.open(self._temp, os.O_RDWR | _BINARY)
        except (OSError, TypeError):  # deleted as stale meanwhile, or given up by another batch
            self.status = "off"
            fd = None
        fresh: list[int] = []
        try:
            for j, (path, rank) in enumerate(zip(paths, ranks.tolist())):
                if fd is not None and written is not None and written[rank]:
                    try:
                        data = _read_at(fd, self.record_bytes, _HEADER_BYTES + rank * self.record_bytes)
                    except OSError:
                        data = b""
                    if len(data) == self.record_bytes:
                        out[j] = np.frombuffer(data, self.dtype).reshape(self.shape)
                        continue
                out[j] = self._decode(path)
                if fd is None:
                    continue
                try:
                    _write_at(fd, out[j].tobytes(), _HEADER_BYTES + rank * self.record_bytes)
                except OSError:  # a full disk: no cache for this store; the batch is decoded all the same
                    self._give_up()
                    os.close(fd)
                    fd, fresh = None, []
                    continue
                fresh.append(rank)
        finally:
            if fd is not None:
                os.close(fd)
        if fresh:
            self._mark(fresh)
        return out

    def _decode(self, path: bytes | str) -> np.ndarray:
        global decode_count
        array = np.asarray(self.decode(os.fsdecode(path)))
        if array.shape != self.shape:
            raise WorkbenchError(f"Expected a decoded sample of shape {self.shape}. Received: {array.shape}")
        with _count_lock:
            decode_count += 1
        return array

    def _mark(self, ranks: list[int]) -> None:
        with self._lock:
            if self.status != "writing" or self._written is None:
                return
            new = ~self._written[ranks]
            self._written[ranks] = True
            self._done += int(new.sum())
            if self._done == self.count:
                self._finish()

    def _finish(self) -> None:
        """Every record is written: header, flush, rename to the entry's name, prune the folder."""
        try:
            fd = os.open(self._temp, os.O_RDWR | _BINARY)
            try:
                _write_at(fd, self._header(), 0)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(self._temp, self.entry)
        except OSError:
            self._give_up()
            return
        self._finalizer.detach()
        self._temp, self._written = None, None
        self.status = "complete"
        prune(self.entry.parent, self._limit, keep=self.entry)

    def _give_up(self) -> None:
        """A write failed (a full disk, the file deleted): no cache for this store."""
        self.status = "off"
        self._written = None
        if self._temp is not None:
            remove_file(self._temp)

    def close(self) -> None:
        """Stop caching: an unfinished temporary file is deleted; later loads decode."""
        with self._lock:
            self._give_up()


def _read_at(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows has no pread (one fd per batch)
    return os.read(fd, size)


def _write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        if hasattr(os, "pwrite"):
            written = os.pwrite(fd, view, offset)
        else:  # pragma: no cover - Windows has no pwrite (one fd per batch)
            os.lseek(fd, offset, os.SEEK_SET)
            written = os.write(fd, view)
        view, offset = view[written:], offset + written


def sample_dataset(store: SampleStore, ids: list[str], labels: np.ndarray, batch_size: int, *,
                   training: bool = False, seed: int = 42):
    """A batched ``tf.data.Dataset`` of (samples of the store's dtype, int32 labels) streamed through
    ``store``: indices shuffled each epoch when ``training`` (all of them, not a buffer of samples),
    batched, then each batch read (or decoded and cached) on tf.data's parallel threads. The paths,
    their ranks in the entry and the labels live in the dataset's graph, freed with it."""
    import tensorflow as tf

    count = len(ids)
    paths_t = tf.constant([os.fsencode(i) for i in ids], dtype=tf.string, shape=(count,))
    ranks_t = tf.constant(SampleStore.ranks(ids), dtype=tf.int64, shape=(count,))
    labels_t = tf.constant(np.asarray(labels, np.int32).reshape(count))
    out_dtype = tf.as_dtype(store.dtype)
    shape = store.shape

    def load(positions):
        batch = tf.numpy_function(store.load, [tf.gather(paths_t, positions), tf.gather(ranks_t, positions)],
                                  out_dtype, stateful=False)
        batch.set_shape((None, *shape))
        return batch, tf.gather(labels_t, positions)

    ds = tf.data.Dataset.range(count)
    if training and count:
        ds = ds.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

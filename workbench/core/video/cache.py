"""The on-disk cache of decoded clips: a clip is decoded once, for every epoch and every later run.

A clip is decoded to the model's frame size and colour (and at most :attr:`VideoConfig.cache_fps`
frames a second) and kept as an uncompressed ``.npz`` under ``$WORKBENCH_CACHE_DIR/video``
(default ``$XDG_CACHE_HOME/workbench/video`` or ``~/.cache/workbench/video``), named by a hash of
the file's content and the decode settings: a renamed copy hits the cache, an edited file does not.
Entries are written atomically; one that cannot be read is decoded again. An unwritable cache folder
costs speed, never a run.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.core.video.clips import VideoConfig, convert_frame

#: Bumped when what an entry holds changes, so old entries are never read as new ones.
CACHE_VERSION = 1
_HASH_CHUNK = 1 << 20

_lock = threading.Lock()
_hashes: dict[tuple[str, int, int], str] = {}
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
    root = os.environ.get("WORKBENCH_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "video"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "workbench" / "video"


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
    """The decoded clip from the cache, decoding (and caching) it the first time."""
    try:
        entry = cache_dir() / f"{cache_key(path, config)}.npz"
    except OSError:
        return decode_clip(path, config)  # the decoder says what is wrong with the file
    clip = _read_entry(entry)
    if clip is not None:
        return clip
    clip = decode_clip(path, config)
    _write_entry(entry, clip)
    return clip


def _read_entry(entry: Path) -> DecodedClip | None:
    try:
        with np.load(entry, allow_pickle=False) as data:
            return DecodedClip(data["frames"], data["times"], float(data["fps"]), int(data["num_frames"]))
    except FileNotFoundError:
        return None
    except Exception:  # a damaged or foreign entry: decode again and replace it
        return None


def _write_entry(entry: Path, clip: DecodedClip) -> None:
    from workbench.core.atomic import atomic_path

    try:
        with atomic_path(entry) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, frames=clip.frames, times=clip.times, fps=np.float64(clip.fps),
                     num_frames=np.int64(clip.num_frames))
    except OSError:
        pass  # an unwritable or full cache folder: the next epoch decodes again

"""A fixed-size numpy ring buffer for one audio channel, written by a real-time callback.

PortAudio calls its callback on its own high-priority thread, every few milliseconds. Anything slow
there (allocating, logging, numpy maths, waiting on the GIL for long) loses samples, so the
callback does one thing: :meth:`AudioRingBuffer.write`, which copies the block into preallocated
memory (at most two slice assignments) and advances an integer, under a lock that readers hold only
for a copy of their own. Readers never wait for the writer for longer than such a copy.
"""

from __future__ import annotations

import threading

import numpy as np


class AudioRingBuffer:
    """The last ``capacity`` samples of a stream, plus a read cursor for :meth:`drain`."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"Expected a capacity of at least one sample. Received: {capacity}")
        self._data = np.zeros(int(capacity), np.float32)
        self._lock = threading.Lock()
        self._written = 0  # samples written since creation (or clear)
        self._drained = 0  # the write count at the last drain()
        self._last_block = 0  # length of the last write, for level()

    @property
    def capacity(self) -> int:
        return self._data.size

    @property
    def total_written(self) -> int:
        """Samples written since creation: a monotonic sample clock for the stream."""
        return self._written

    def write(self, block: np.ndarray) -> None:
        """Append ``block`` (1-D, any float dtype; may be a strided view). Real-time safe."""
        n = block.shape[0]
        cap = self._data.size
        with self._lock:
            if n >= cap:  # only the newest ``cap`` samples can be kept, ending at the new position
                end = (self._written + n) % cap
                tail = block[n - cap:]
                self._data[end:] = tail[:cap - end]
                self._data[:end] = tail[cap - end:]
                self._written += n
                self._last_block = cap
                return
            start = self._written % cap
            first = min(n, cap - start)
            self._data[start:start + first] = block[:first]
            if first < n:
                self._data[:n - first] = block[first:]
            self._written += n
            self._last_block = n

    def read_latest(self, count: int) -> np.ndarray:
        """A copy of the newest ``count`` samples (fewer if fewer were ever written)."""
        with self._lock:
            return self._copy_tail(min(int(count), self._written, self._data.size))

    def drain(self) -> np.ndarray:
        """A copy of every sample written since the previous drain (at most ``capacity``)."""
        with self._lock:
            count = min(self._written - self._drained, self._data.size)
            self._drained = self._written
            return self._copy_tail(count)

    def last_block(self) -> np.ndarray:
        """A copy of the samples of the most recent write."""
        with self._lock:
            return self._copy_tail(min(self._last_block, self._written))

    def clear(self) -> None:
        with self._lock:
            self._written = self._drained = self._last_block = 0

    def _copy_tail(self, count: int) -> np.ndarray:
        if count <= 0:
            return np.zeros(0, np.float32)
        cap = self._data.size
        end = self._written % cap
        start = end - count
        if start >= 0:
            return self._data[start:end].copy()
        return np.concatenate((self._data[start:], self._data[:end]))

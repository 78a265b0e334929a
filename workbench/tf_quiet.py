"""Keep TensorFlow's native start-up log lines off the user's terminal (``--verbose`` shows them).

Importing TensorFlow 2.21 makes its C++ libraries write, once per library (so twice), before absl's
logging is set up::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:… port.cc:153] oneDNN custom operations are on. …
    I0000 00:00:… cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.

``TF_CPP_MIN_LOG_LEVEL`` does not reach these lines (absl writes them straight to file descriptor 2,
whatever the level), so the first ``import tensorflow`` in the process runs with descriptor 2 sent to a
temporary file; afterwards descriptor 2 is restored and what was written meanwhile is written back,
less the native log lines below ``TF_CPP_MIN_LOG_LEVEL`` (and absl's "All log messages before …"
notice). Python's own warnings and errors written during the import therefore still appear, just after
it; an exception of the import propagates as usual. Later native lines (e.g. "failed call to cuInit"
at the first operation) are TensorFlow's ordinary logging, which ``TF_CPP_MIN_LOG_LEVEL`` (3 unless
the user set it) silences.

:func:`install` runs when :mod:`workbench` is imported: it sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless the
environment already has a value (the user's value is kept, and the filter then drops only lines below
it), and puts an import hook on ``sys.meta_path`` that wraps the first import of ``tensorflow``
wherever it happens (the command line, the app's background loader, a core module's lazy import).
:func:`set_verbose` (``workbench --verbose``) undoes both before TensorFlow is imported.

The descriptor is the process's: while the import runs (a few seconds, in the app on a background
thread) anything another thread writes to descriptor 2 is held back and written after it, not lost.
Only a crash during the import itself would lose what was held back; ``--verbose`` shows it.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
import threading
from typing import Iterator

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
QUIET_LEVEL = "3"
#: A native log line: severity letter, MMDD, time, thread id, ``file.cc:line]``.
NATIVE_LINE = re.compile(rb"^([IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\] ")
ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}

#: The user's own ``TF_CPP_MIN_LOG_LEVEL`` (None when unset), read before :func:`install` sets one.
_user_level: str | None = os.environ.get(LEVEL_VARIABLE)
_verbose = False
_lock = threading.Lock()


def install() -> None:
    """Quiet TensorFlow's start-up (see the module docstring); idempotent, and a no-op once TensorFlow
    is imported or after :func:`set_verbose`."""
    if _verbose:
        return
    if _user_level is None:
        os.environ.setdefault(LEVEL_VARIABLE, QUIET_LEVEL)
    with _lock:
        if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _QuietFinder())


def set_verbose(verbose: bool = True) -> None:
    """``verbose``: TensorFlow logs as it would on its own (the hook is removed and the level the user
    set, if any, restored); else :func:`install`. Takes effect only before TensorFlow is imported."""
    global _verbose
    _verbose = verbose
    if not verbose:
        install()
        return
    _remove_finder()
    if _user_level is None:
        if os.environ.get(LEVEL_VARIABLE) == QUIET_LEVEL:
            del os.environ[LEVEL_VARIABLE]
    else:
        os.environ[LEVEL_VARIABLE] = _user_level


def is_verbose() -> bool:
    return _verbose


def _remove_finder() -> None:
    with _lock:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietFinder)]


def min_level() -> int:
    """The native severity below which start-up lines are dropped (0 = none dropped)."""
    try:
        return max(0, int(os.environ.get(LEVEL_VARIABLE, "0")))
    except ValueError:
        return 0


def filter_native_lines(data: bytes, level: int) -> bytes:
    """``data`` less the native log lines of a severity below ``level`` (I=0, W=1, E=2, F=3) and,
    when any level applies, absl's "All log messages before absl::InitializeLog()" notice."""
    if level <= 0:
        return data
    kept = []
    for line in data.splitlines(keepends=True):
        match = NATIVE_LINE.match(line)
        if match and _SEVERITY[match.group(1)] < level:
            continue
        if line.rstrip(b"\r\n") == ABSL_PREAMBLE:
            continue
        kept.append(line)
    return b"".join(kept)


class _held_stderr:
    """Send descriptor 2 to a temporary file; on exit restore it and write back what was written,
    filtered by :func:`filter_native_lines`. Does nothing when descriptor 2 cannot be duplicated."""

    def __enter__(self) -> "_held_stderr":
        self.saved = self.held = None
        try:
            _flush_python_stderr()
            self.held = tempfile.TemporaryFile()
            self.saved = os.dup(2)
            os.dup2(self.held.fileno(), 2)
        except OSError:
            self._close()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.saved is None:
            return
        try:
            _flush_python_stderr()
            os.dup2(self.saved, 2)
            self.held.seek(0)
            rest = filter_native_lines(self.held.read(), min_level())
            for chunk in _chunks(rest):
                os.write(2, chunk)
        except OSError:
            pass
        finally:
            self._close()

    def _close(self) -> None:
        if self.saved is not None:
            os.close(self.saved)
            self.saved = None
        if self.held is not None:
            self.held.close()
            self.held = None


def _chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def _flush_python_stderr() -> None:
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of ``tensorflow`` inside :class:`_held_stderr`."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        # From here on the module (and TensorFlow's own code) sees its real loader.
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._loader
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._loader
        with _held_stderr():
            self._loader.exec_module(module)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: for the top-level ``tensorflow`` it asks the other finders and wraps the
    loader they give in :class:`_QuietLoader`; it removes itself at that first import."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or path is not None:
            return None
        _remove_finder()
        if _verbose:
            return None
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _QuietLoader(spec.loader)
        return spec

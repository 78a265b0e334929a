"""CameraSource: a webcam, a video file or a network stream, read on its own thread.

One interface over ``cv2.VideoCapture`` for three kinds of source: a device index (``0``), a video
file (``clip.avi``: plays at its own frame rate, looping or ending) and a stream URL
(``rtsp://…``, ``http://…``). The capture thread opens the source, reads frames as they come and
keeps only the newest one (readers never see a backlog: a slow reader simply skips frames), plus,
when asked, a ring of the last few seconds of frames with their timestamps for video models and
"add the last seconds as a clip". The ring is bounded by age and by count, so memory stays flat
however long the camera runs.

Frames are RGB ``uint8`` arrays, a new array per frame that is never written again, so readers on
other threads can hold on to them without copies or locks.

Errors are :class:`CameraUnavailable` with messages that say what happened: no camera at that index,
a camera that exists but will not open (busy, or no permission), a file that does not exist or is no
video, a stream that does not answer, and a camera that stops sending frames while running (after
``failure_limit`` failed reads in a row the source stops and keeps the error in :attr:`error`).

OpenCV is imported lazily, so the rest of the app works on a machine without a camera or OpenCV.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import WorkbenchError

DEFAULT_FAILURE_LIMIT = 30  # failed reads in a row before a live source is given up (~1 s at 30 fps)
FAILED_READ_WAIT_S = 0.03
FIRST_FRAME_TRIES = 20  # a camera may need a few reads after opening before it delivers a frame
PROBE_INDICES = 4  # list_cameras() tries this many indices where devices cannot be listed
LINUX_PROBE_LIMIT = 16
FALLBACK_FILE_FPS = 25.0  # a file whose container names no rate plays at this one
MAX_HISTORY_FRAMES = 600  # hard cap of the ring of recent frames, whatever the rate
STREAM_TIMEOUT_MS = 5000
OPEN_TIMEOUT_S = 10.0
NO_CAMERA_HELP = ('Connect a webcam and press Refresh, or use a recording instead: choose "Video file…" as '
                  "the source (any .avi/.mp4 plays as if it were a camera) or enter a stream URL.")


class CameraUnavailable(WorkbenchError):
    """A camera, video file or stream that cannot be opened, or that stopped sending frames."""


@dataclass(frozen=True)
class Frame:
    """One captured frame."""

    image: np.ndarray  #: (H, W, 3) RGB uint8; never written after capture
    index: int  #: 1 for the first frame since :meth:`CameraSource.start`, counting on across loops
    timestamp: float  #: ``time.perf_counter()`` when the frame was captured (paced files: when due)


@dataclass(frozen=True)
class CameraInfo:
    """A camera that :func:`list_cameras` could open."""

    index: int
    width: int = 0
    height: int = 0

    @property
    def label(self) -> str:
        size = f" ({self.width}×{self.height})" if self.width and self.height else ""
        return f"Camera {self.index}{size}"


def parse_source(source: int | str | Path) -> int | str:
    """A device index for ``0`` / ``"0"``, else the text (a path or URL) as given."""
    if isinstance(source, bool):
        raise CameraUnavailable(f"Expected a camera index, a video file or a stream URL. Received: {source!r}")
    if isinstance(source, int):
        return source
    text = str(source).strip()
    if text.isdigit():
        return int(text)
    if not text:
        raise CameraUnavailable("Expected a camera index, a video file or a stream URL. Received: nothing")
    return text


def source_kind(source: int | str | Path) -> str:
    """``"device"``, ``"stream"`` (anything with ``://``) or ``"file"``."""
    parsed = parse_source(source)
    if isinstance(parsed, int):
        return "device"
    return "stream" if "://" in parsed else "file"


def describe_source(source: int | str | Path) -> str:
    """How messages name a source: "camera 0", "video file clip.avi", "stream rtsp://…"."""
    parsed, kind = parse_source(source), source_kind(source)
    if kind == "device":
        return f"camera {parsed}"
    return f"video file {Path(parsed).name}" if kind == "file" else f"stream {parsed}"


def _cv2():
    import cv2

    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # probing prints warnings otherwise
    except AttributeError:
        pass
    return cv2


def open_capture(source: int | str) -> Any:
    """``cv2.VideoCapture`` for a parsed source (streams with a bounded open and read timeout)."""
    cv2 = _cv2()
    if isinstance(source, int):
        return cv2.VideoCapture(source)
    if "://" in source and cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        return cv2.VideoCapture(source, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS,
                                                         cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS])
    return cv2.VideoCapture(source)


def _linux_device_indices() -> list[int] | None:
    """The N of every /dev/videoN on Linux (None elsewhere: devices cannot be listed there)."""
    if not sys.platform.startswith("linux"):
        return None
    found = []
    for path in Path("/dev").glob("video*"):
        suffix = path.name[len("video"):]
        if suffix.isdigit() and int(suffix) < LINUX_PROBE_LIMIT:
            found.append(int(suffix))
    return sorted(found)


def list_cameras(max_index: int = PROBE_INDICES,
                 opener: Callable[[int | str], Any] | None = None) -> list[CameraInfo]:
    """The cameras that open, by index. Quick: on Linux only existing ``/dev/videoN`` are tried
    (none on a machine without a camera, so nothing is opened at all); elsewhere indices
    ``0 … max_index-1``. A camera in use by another program may be missing from the list."""
    indices = _linux_device_indices() if opener is None else None
    if indices is None:
        indices = list(range(max_index))
    opener = opener or open_capture
    cameras = []
    for index in indices:
        capture = opener(index)
        try:
            if capture.isOpened():
                cv2 = _cv2()
                cameras.append(CameraInfo(index, int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
                                          int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)))
        finally:
            capture.release()
    return cameras


def to_rgb(image: np.ndarray) -> np.ndarray:
    """A frame as OpenCV reads it (BGR, BGRA or grey) → a new RGB uint8 array."""
    cv2 = _cv2()
    if image.ndim == 2 or image.shape[-1] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[-1] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class EventRate:
    """Events per second over a sliding window of recent event times (feed FPS, predictions/s)."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = float(window_s)
        self._times: deque[float] = deque()

    def add(self, when: float | None = None) -> None:
        now = time.perf_counter() if when is None else when
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    def rate(self, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(now - self._times[0], 1e-6)

    def clear(self) -> None:
        self._times.clear()


class CameraSource:
    """A camera, file or stream read on a background thread; :meth:`latest` is the newest frame.

    Args:
        source: a device index (``0``), a video file path or a stream URL.
        loop: a video file starts again at its end (else the source ends: :attr:`state` "ended").
        pace: sleep so frames come at the file's own rate (default: for files only; cameras and
            streams deliver at their own pace anyway).
        history_s: keep the frames of the last ``history_s`` seconds (0: only the newest).
        failure_limit: failed reads in a row after which a camera or stream counts as lost.
        opener: makes the capture object for a parsed source (tests pass fakes); default
            :func:`open_capture`.
    """

    def __init__(self, source: int | str | Path, *, loop: bool = True, pace: bool | None = None,
                 history_s: float = 0.0, failure_limit: int = DEFAULT_FAILURE_LIMIT,
                 opener: Callable[[int | str], Any] | None = None) -> None:
        self.source = parse_source(source)
        self.kind = source_kind(self.source)
        self.description = describe_source(self.source)
        self.loop = bool(loop)
        self.pace = self.kind == "file" if pace is None else bool(pace)
        self.failure_limit = max(1, int(failure_limit))
        self._opener = opener or open_capture
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._thread: threading.Thread | None = None
        self._latest: Frame | None = None
        self._history: deque[Frame] = deque()
        self._history_s = 0.0
        self._history_cap = 0
        self._state = "stopped"
        self._error: CameraUnavailable | None = None
        self.nominal_fps = 0.0  #: the rate the capture reports (the file's rate for files; 0 unknown)
        self.width = self.height = 0
        self.frames_captured = 0
        self.loops = 0
        self.set_history(history_s)

    # ---------------------------------------------------------------------------------- control
    @property
    def state(self) -> str:
        """"stopped", "opening", "running", "ended" (a file played once) or "failed" (see :attr:`error`)."""
        return self._state

    @property
    def running(self) -> bool:
        return self._state in ("opening", "running")

    @property
    def error(self) -> CameraUnavailable | None:
        """Why the source could not open or stopped, else None."""
        return self._error

    def start(self, wait: bool = True, timeout_s: float = OPEN_TIMEOUT_S) -> None:
        """Open the source and start capturing (does nothing when already running).

        Args:
            wait: block until the first frame was read; raise :class:`CameraUnavailable` (and stop)
                when the source cannot be opened. Without waiting, the thread opens it and a
                failure shows in :attr:`state` and :attr:`error`: a GUI never blocks on a slow camera.
        """
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._opened.clear()
            self._latest, self._error, self._state = None, None, "opening"
            self._history.clear()
            self.frames_captured = self.loops = 0
            self._thread = threading.Thread(target=self._run, name=f"CameraSource({self.description})",
                                            daemon=True)
            self._thread.start()
        if not wait:
            return
        if not self._opened.wait(timeout_s):
            self.stop()
            raise CameraUnavailable(f"Expected {self.description} to deliver a first frame within "
                                    f"{timeout_s:g} s. Received: no frame")
        if self._error is not None:
            error = self._error
            self.stop()
            raise error

    def stop(self) -> None:
        """Stop capturing and join the thread (idempotent); the last frame and error are kept."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        with self._lock:
            if self._state in ("opening", "running"):
                self._state = "stopped"
            self._lock.notify_all()

    close = stop

    def __enter__(self) -> CameraSource:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------- reading
    def latest(self) -> Frame | None:
        """The newest frame (None before the first)."""
        return self._latest

    def wait_for_frame(self, after_index: int = 0, timeout_s: float = 1.0) -> Frame | None:
        """The newest frame once its index is above ``after_index``; None on timeout or when stopped."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._latest is None or self._latest.index <= after_index:
                left = deadline - time.monotonic()
                if left <= 0 or self._state not in ("opening", "running"):
                    return None
                self._lock.wait(left)
            return self._latest

    def set_history(self, seconds: float) -> None:
        """Keep the frames of the last ``seconds`` (0: none) from now on; bounded in count too."""
        seconds = max(0.0, float(seconds))
        rate = max(self.nominal_fps or 0.0, 30.0) * 1.5  # room for cameras faster than they claim
        with self._lock:
            self._history_s = seconds
            self._history_cap = min(MAX_HISTORY_FRAMES, int(math.ceil(seconds * rate)) + 2) if seconds else 0
            while len(self._history) > self._history_cap:
                self._history.popleft()

    @property
    def history_s(self) -> float:
        return self._history_s

    def recent_frames(self, seconds: float | None = None) -> list[Frame]:
        """The kept frames no older than ``seconds`` before the newest (all kept frames for None),
        oldest first."""
        with self._lock:
            frames = list(self._history)
        if seconds is None or not frames:
            return frames
        newest = frames[-1].timestamp
        return [f for f in frames if newest - f.timestamp <= seconds + 1e-9]

    # ---------------------------------------------------------------------------- capture thread
    def _open(self) -> tuple[Any, np.ndarray]:
        """Open the capture and read its first frame, or raise CameraUnavailable saying why."""
        source, kind = self.source, self.kind
        if kind == "file" and not Path(source).is_file():
            raise CameraUnavailable(f"No video file at {source}: choose an existing .avi/.mp4 file. "
                                    f"Received: {source} does not exist")
        capture = self._opener(source)
        if not capture.isOpened():
            capture.release()
            raise self._open_failure()
        for _ in range(FIRST_FRAME_TRIES if kind != "file" else 1):
            ok, image = capture.read()
            if ok and image is not None:
                return capture, image
            if self._stop.wait(FAILED_READ_WAIT_S):
                break
        capture.release()
        if kind == "file":
            raise CameraUnavailable(f"Expected a video file with readable frames. Received: {source} "
                                    "opened but no frame could be decoded (damaged, or a codec OpenCV lacks)")
        raise CameraUnavailable(f"{self.description.capitalize()} opened but sent no frames: another program "
                                f"may be using it. Close other apps that use the camera and press Refresh. "
                                f"Received: no frame in {FIRST_FRAME_TRIES} reads")

    def _open_failure(self) -> CameraUnavailable:
        source = self.source
        if self.kind == "file":
            return CameraUnavailable(f"Expected a video file OpenCV can read (.avi, .mp4, .mkv, …). "
                                     f"Received: {source} could not be opened")
        if self.kind == "stream":
            return CameraUnavailable(f"Could not open the stream {source}: check the address, and that the "
                                     f"camera is on and reachable from this computer. Received: no answer")
        devices = _linux_device_indices()
        if devices is not None and source not in devices:
            return CameraUnavailable(f"No camera found at index {source} (there is no /dev/video{source}). "
                                     f"{NO_CAMERA_HELP} Received: camera index {source}")
        if devices is not None:
            return CameraUnavailable(
                f"Camera {source} exists but could not be opened: another program may be using it, or this "
                f"user may not be allowed to (on Linux: add yourself to the 'video' group and log in again). "
                f"Received: /dev/video{source} did not open")
        return CameraUnavailable(f"No camera found at index {source}, or it is in use by another program. "
                                 f"{NO_CAMERA_HELP} Received: camera index {source} did not open")

    def _run(self) -> None:
        try:
            capture, image = self._open()
        except CameraUnavailable as exc:
            self._finish("failed", exc)
            return
        except Exception as exc:  # an OpenCV error of its own: still the user's camera problem
            self._finish("failed", CameraUnavailable(f"Could not open {self.description}. Received: {exc}"))
            return
        try:
            self._capture_loop(capture, image)
        except Exception as exc:
            self._finish("failed", CameraUnavailable(f"{self.description.capitalize()} failed while reading. "
                                                     f"Received: {type(exc).__name__}: {exc}"))
        finally:
            capture.release()
            self._opened.set()

    def _capture_loop(self, capture: Any, image: np.ndarray) -> None:
        cv2 = _cv2()
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.nominal_fps = fps if 0.0 < fps < 1000.0 else (FALLBACK_FILE_FPS if self.kind == "file" else 0.0)
        self.height, self.width = image.shape[:2]
        self.set_history(self._history_s)  # the cap depends on the rate, known only now
        period = 1.0 / self.nominal_fps if self.pace and self.nominal_fps else 0.0
        due = time.perf_counter()
        frames_this_pass, failures = 1, 0
        self._publish(image, due)
        with self._lock:
            if self._state == "opening":
                self._state = "running"
        self._opened.set()
        while not self._stop.is_set():
            ok, image = capture.read()
            if not ok or image is None:
                if self.kind == "file":
                    if not self.loop:
                        self._finish("ended", None)
                        return
                    if frames_this_pass == 0 or not self._rewind(capture):
                        self._finish("failed", CameraUnavailable(
                            f"Expected {self.description} to play again from its start. Received: no frame "
                            f"after rewinding"))
                        return
                    frames_this_pass = 0
                    self.loops += 1
                    continue
                failures += 1
                if failures >= self.failure_limit:
                    self._finish("failed", CameraUnavailable(
                        f"The camera stopped sending frames ({self.description}: {failures} reads failed in a "
                        f"row): it may have been unplugged or taken by another program. Press Refresh to open "
                        f"it again. Received: {failures} failed reads"))
                    return
                self._stop.wait(FAILED_READ_WAIT_S)
                continue
            failures = 0
            frames_this_pass += 1
            if period:
                due += period
                delay = due - time.perf_counter()
                if delay > 0:
                    if self._stop.wait(delay):
                        return
                elif delay < -period:
                    due = time.perf_counter()  # fell behind (a slow decode): go on at the rate, no burst
            self._publish(image, time.perf_counter())

    def _rewind(self, capture: Any) -> bool:
        cv2 = _cv2()
        return bool(capture.set(cv2.CAP_PROP_POS_FRAMES, 0))

    def _publish(self, image: np.ndarray, timestamp: float) -> None:
        frame = Frame(to_rgb(image), self.frames_captured + 1, timestamp)
        with self._lock:
            self.frames_captured = frame.index
            self._latest = frame
            if self._history_cap:
                self._history.append(frame)
                while len(self._history) > self._history_cap or (
                        timestamp - self._history[0].timestamp > self._history_s + 1e-9):
                    self._history.popleft()
            self._lock.notify_all()

    def _finish(self, state: str, error: CameraUnavailable | None) -> None:
        with self._lock:
            self._state, self._error = state, error
            self._lock.notify_all()
        self._opened.set()


"""CameraController: the GUI-thread side of the camera (open, poll the newest frame, report).

The :class:`~workbench.core.sources.camera.CameraSource` reads on its own thread and keeps only the
newest frame (and, for video models, a bounded ring of the last seconds). A ``QTimer`` here, at
about 33 Hz, takes the newest frame when there is a new one and says so in ``frame_ready``: the
owner draws it and hands it to the prediction worker. Frames that came and went between two ticks
are never seen, so nothing queues up anywhere. The source's failures (a camera unplugged, a file
that ended) come back through the same tick as ``failed`` / ``ended``; the source is opened without
waiting, so a slow camera never blocks the window.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from workbench.core.sources.camera import CameraSource, EventRate, Frame

TICK_MS = 30  # ~33 Hz: a little faster than a 30 fps camera, so no frame waits a whole tick twice


class CameraController(QObject):
    """Owns the open :class:`CameraSource` and the poll timer.

    Signals:
        opened(dict): the first frame arrived: ``description``, ``width``, ``height``, ``fps`` (nominal).
        frame_ready(object): a new newest :class:`Frame` (plain data: an RGB array, index, timestamp).
        failed(str): the source could not open or stopped sending frames (it is closed).
        ended(): a video file played to its end (loop off).
    """

    opened = Signal(object)
    frame_ready = Signal(object)
    failed = Signal(str)
    ended = Signal()

    def __init__(self, parent: QObject | None = None,
                 source_factory: Callable[..., CameraSource] = CameraSource) -> None:
        super().__init__(parent)
        self._factory = source_factory
        self._source: CameraSource | None = None
        self._history_s = 0.0
        self._last_index = 0
        self._announced = False
        self._latest: Frame | None = None
        self._rate = EventRate()
        self._timer = QTimer(self)
        self._timer.setObjectName("cameraPollTimer")
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_tick)

    # ------------------------------------------------------------------------------------ public
    @property
    def source(self) -> CameraSource | None:
        return self._source

    @property
    def running(self) -> bool:
        return self._source is not None and self._source.running

    def open(self, source: int | str, loop: bool = True) -> None:
        """Close any open source and start ``source`` (index, file or URL); reports come by signal."""
        self.close()
        self._source = self._factory(source, loop=loop, history_s=self._history_s)
        self._last_index, self._announced, self._latest = 0, False, None
        self._rate.clear()
        self._source.start(wait=False)
        self._timer.start()

    def close(self) -> None:
        """Stop the poll timer and the source (its thread is joined)."""
        self._timer.stop()
        source, self._source = self._source, None
        if source is not None:
            source.stop()

    shutdown = close

    def set_history(self, seconds: float) -> None:
        """Keep the last ``seconds`` of frames (for video models and clips); 0 keeps only the newest."""
        self._history_s = max(0.0, float(seconds))
        if self._source is not None:
            self._source.set_history(self._history_s)

    def recent_frames(self, seconds: float | None = None) -> list[Frame]:
        return self._source.recent_frames(seconds) if self._source is not None else []

    def latest_frame(self) -> Frame | None:
        """The newest frame handed out (kept after the source closes)."""
        return self._latest

    def feed_fps(self) -> float:
        """New frames handed out per second, over the last two seconds."""
        return self._rate.rate()

    # ----------------------------------------------------------------------------------- private
    @Slot()
    def _on_tick(self) -> None:
        source = self._source
        if source is None:
            return
        frame = source.latest()
        if frame is not None and frame.index != self._last_index:
            self._last_index = frame.index
            self._latest = frame
            self._rate.add()
            if not self._announced:
                self._announced = True
                self.opened.emit({"description": source.description, "width": source.width,
                                  "height": source.height, "fps": source.nominal_fps, "kind": source.kind})
            self.frame_ready.emit(frame)
        state = source.state
        if state == "failed":
            message = str(source.error or "The camera stopped.")
            self.close()
            self.failed.emit(message)
        elif state == "ended":
            self._timer.stop()
            self.ended.emit()

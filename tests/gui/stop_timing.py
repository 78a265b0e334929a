"""Timing a Stop click in the GUI tests, with what is needed to explain a slow one.

A slow Stop is rare and has been seen only in CI, so the first failure must say where the time went:
every thread's Python stack once Stop has taken ``dump_after_s`` (written to the captured stderr,
which pytest shows with the failure), and when the controller's log lines and ``run_finished``
reached the GUI thread, relative to the click.
"""

from __future__ import annotations

import faulthandler
import time


class StopTiming:
    def __init__(self, controller) -> None:
        self.clicked = 0.0
        self._events: list[tuple[float, str]] = []
        controller.log.connect(lambda line: self._events.append((time.perf_counter(), f"log '{line[:70]}'")))
        controller.run_finished.connect(lambda payload: self._events.append(
            (time.perf_counter(), f"run_finished ({payload.get('status')})")))

    def timeline(self) -> str:
        """What reached the GUI thread after the click, with times relative to it."""
        return "; ".join(f"{at - self.clicked:+.2f} s {what}" for at, what in self._events if at >= self.clicked)

    def click(self, qtbot, finished_signal, stop_button, *, dump_after_s: float = 1.5,
              timeout_ms: int = 30_000) -> float:
        """Click ``stop_button``, wait for ``finished_signal`` and return the seconds in between."""
        faulthandler.dump_traceback_later(dump_after_s)  # stands in for pytest's per-test watchdog here
        try:
            with qtbot.waitSignal(finished_signal, timeout=timeout_ms):
                self.clicked = time.perf_counter()
                stop_button.click()
            elapsed = time.perf_counter() - self.clicked
        finally:
            faulthandler.cancel_dump_traceback_later()
        return elapsed

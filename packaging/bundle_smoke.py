"""Smoke test of the app as a user starts it: ``workbench --smoke-test`` in the PyInstaller bundle.

    xvfb-run -a dist/workbench/workbench --smoke-test      # the bundle (packaging/bundle_smoke_test.sh)
    xvfb-run -a .venv/bin/python packaging/bundle_smoke.py  # the same from a checkout or any install

It starts the real app (``run_app``, as a safe start: no last session), waits until the main window is
on screen, clicks the start page's "Draw a digit", waits for the shipped digit model, draws digits on
the Draw tab's canvas with real mouse events (hard-coded strokes, a copy of two hand-drawn digits of
``tests/data/strokes/digits_replay.json``: the bundle holds no tests), reads the prediction the tab
shows, closes the window and lets the app return from its event loop. It prints one line per step
(times in seconds since the process started) and exits 0 only when every digit was read right and the
app closed by itself; 1 when a digit was read wrong, 2 when a step timed out or failed.

Runs against the user's settings folder: the shell script points HOME/XDG_* at a temporary folder.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

#: (label, strokes in 0..1 of the canvas's drawing square), from tests/data/strokes/digits_replay.json.
DIGITS = [
    (3, [[[0.388, 0.253], [0.408, 0.23], [0.439, 0.213], [0.462, 0.199], [0.493, 0.185], [0.522, 0.177],
          [0.549, 0.175], [0.583, 0.181], [0.606, 0.188], [0.633, 0.205], [0.65, 0.219], [0.669, 0.253],
          [0.679, 0.274], [0.678, 0.31], [0.668, 0.332], [0.661, 0.363], [0.641, 0.385], [0.622, 0.413],
          [0.594, 0.429], [0.561, 0.447], [0.54, 0.464], [0.515, 0.474], [0.478, 0.482], [0.511, 0.484],
          [0.541, 0.487], [0.564, 0.497], [0.598, 0.509], [0.627, 0.522], [0.637, 0.538], [0.656, 0.562],
          [0.671, 0.585], [0.677, 0.615], [0.677, 0.649], [0.671, 0.679], [0.66, 0.706], [0.641, 0.734],
          [0.632, 0.765], [0.608, 0.783], [0.577, 0.804], [0.552, 0.813], [0.522, 0.822], [0.491, 0.826],
          [0.46, 0.824], [0.441, 0.819], [0.408, 0.808], [0.387, 0.787], [0.361, 0.776], [0.338, 0.756]]]),
    (7, [[[0.33, 0.2], [0.358, 0.202], [0.392, 0.197], [0.422, 0.199], [0.452, 0.203], [0.487, 0.199],
          [0.513, 0.2], [0.546, 0.201], [0.585, 0.199], [0.608, 0.194], [0.637, 0.189], [0.667, 0.189],
          [0.657, 0.22], [0.645, 0.244], [0.631, 0.277], [0.624, 0.305], [0.613, 0.331], [0.598, 0.356],
          [0.595, 0.378], [0.58, 0.415], [0.566, 0.44], [0.558, 0.463], [0.544, 0.49], [0.531, 0.519],
          [0.522, 0.549], [0.514, 0.573], [0.51, 0.609], [0.499, 0.633], [0.489, 0.665], [0.485, 0.688],
          [0.481, 0.731], [0.468, 0.755], [0.471, 0.781], [0.469, 0.807], [0.46, 0.84]]]),
]

WINDOW_TIMEOUT_S = 60.0
MODEL_TIMEOUT_S = 300.0  # TensorFlow's first import from a cold disk cache is slow
PREDICTION_TIMEOUT_S = 30.0
POLL_MS = 10


def seconds_since_launch() -> float:
    """Seconds since this process started (Linux: /proc; elsewhere since this module was imported)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22, starttime, in clock ticks after boot
        with open("/proc/uptime", encoding="ascii") as uptime:
            now = float(uptime.read().split()[0])
        return now - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED


_IMPORTED = time.monotonic()


def say(message: str) -> None:
    print(f"smoke [{seconds_since_launch():6.2f} s] {message}", flush=True)


class SmokeDriver:
    """Steps through the smoke test from a timer inside the app's own event loop."""

    def __init__(self, app) -> None:
        from PySide6.QtCore import QTimer

        self.app = app
        self.failure: tuple[int, str] | None = None
        self.passed = False
        self.results: list[str] = []
        self._steps = self._run()
        self._wait_until = 0.0
        self._timer = QTimer()
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    # A step yields a (condition, timeout_s, what) to wait for; the timer resumes it once it holds.
    def _tick(self) -> None:
        try:
            if self._wait_until and not self._condition():
                if time.monotonic() > self._wait_until:
                    raise TimeoutError(f"timed out after {self._timeout:.0f} s waiting for {self._what}")
                return
            self._condition, self._timeout, self._what = next(self._steps)
            self._wait_until = time.monotonic() + self._timeout
        except StopIteration:
            self._timer.stop()
        except Exception as exc:  # noqa: BLE001 - reported, and the window still closes
            traceback.print_exc()
            self._fail(2, f"{type(exc).__name__}: {exc}")

    def _fail(self, code: int, message: str) -> None:
        self._timer.stop()
        if self.failure is None:
            self.failure = (code, message)
        say(f"FAILED: {message}")
        self._close()

    def _close(self) -> None:
        window = self._main_window()
        if window is not None:
            draw = getattr(getattr(window, "test_panel", None), "draw", None)
            window.close()
            if window.isVisible():  # closing was refused: leave anyway, this is a test
                if draw is not None:
                    draw.shutdown()
                self.app.quit()
        else:
            self.app.quit()

    @staticmethod
    def _main_window():
        from PySide6.QtWidgets import QApplication, QMainWindow

        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow)), None)

    def _run(self):
        from PySide6.QtWidgets import QCommandLinkButton

        window = None

        def window_on_screen() -> bool:
            nonlocal window
            window = self._main_window()
            handle = window.windowHandle() if window is not None else None
            return bool(window is not None and window.isVisible() and handle is not None and handle.isExposed())

        yield window_on_screen, WINDOW_TIMEOUT_S, "the main window"
        say(f"main window on screen: {window.windowTitle()!r} (start-up time)")

        button = window.findChild(QCommandLinkButton, "startDrawDigitButton")
        if button is None or not button.isEnabled():
            raise RuntimeError("the start page has no enabled 'Draw a digit' button (shipped model missing?)")
        model = button.property("modelPath")
        button.click()
        draw = window.test_panel.draw
        yield (lambda: draw.is_ready() or "could not" in draw.message_text().lower()), MODEL_TIMEOUT_S, \
            "the digit model to load"
        if not draw.is_ready():
            raise RuntimeError(f"the digit model did not load: {draw.message_text()}")
        say(f"digit model ready: {model}")

        for label, strokes in DIGITS:
            draw.canvas.clear()
            yield (lambda: draw.is_settled()), PREDICTION_TIMEOUT_S, "the cleared canvas"
            _replay(draw.canvas, strokes)
            yield (lambda: draw.is_settled() and draw.prediction_text() != ""), PREDICTION_TIMEOUT_S, \
                f"the prediction of the drawn {label}"
            shown = draw.prediction_text()
            verdict = "ok" if shown.split(" ", 1)[0] == str(label) else "WRONG"
            self.results.append(verdict)
            latency = " ".join(draw.latency_text().split())
            say(f"drew a {label}: the Draw tab shows {shown!r} ({latency}) {verdict}")
        if "WRONG" in self.results:
            self._fail(1, "a drawn digit was read wrong")
            return
        for line in check_libraries():
            say(line)
        self.passed = True
        say("closing the window")
        self._close()


def check_libraries():
    """What the app loads only when asked (the Microphone tab, sound files soundfile cannot read) and
    a frozen build could miss: yields a line per library loaded; raises when one cannot be loaded."""
    import importlib.util

    import sounddevice  # PortAudio: OSError when the library cannot be found

    yield (f"PortAudio: {sounddevice.get_portaudio_version()[1]} ({_loaded('libportaudio')}, "
           f"ALSA: {_loaded('libasound')})")
    import librosa  # lazy loader: the .pyi stubs; numba's cache: the .py sources

    librosa.load, librosa.feature.melspectrogram  # noqa: B018 - attribute access does the lazy imports
    yield f"librosa {librosa.__version__}: loads"
    if getattr(sys, "frozen", False):
        present = [name for name in ("demos", "tests", "bench") if importlib.util.find_spec(name) is not None]
        if present:
            raise RuntimeError(f"the bundle holds code that should stay out: {present}")
        yield "demos/, tests/, bench/: not in the bundle"


def _loaded(library: str) -> str:
    """The file of the shared library ``library`` this process has loaded (Linux), or "?"."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split()[-1] for line in maps if f"/{library}." in line}
    except OSError:
        return "?"
    return ", ".join(sorted(paths)) or "not loaded"


def _replay(canvas, strokes) -> None:
    """Draw ``strokes`` with a left press, held moves and a release, as real mouse events."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    square = canvas.paper_rect()
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for stroke in strokes:
        points = [QPointF(square.left() + x * square.width(), square.top() + y * square.height()) for x, y in stroke]
        QTest.mousePress(canvas, left, none, points[0].toPoint())
        for point in points[1:]:
            move = QMouseEvent(QEvent.Type.MouseMove, point, canvas.mapToGlobal(point), Qt.MouseButton.NoButton,
                               left, none)
            QApplication.sendEvent(canvas, move)
        QTest.mouseRelease(canvas, left, none, points[-1].toPoint())


def main(argv: list[str] | None = None) -> int:
    say("process started; importing Qt")
    from PySide6.QtCore import QTimer

    from workbench.gui.app import create_application, run_app

    program = sys.argv[0] if sys.argv else "workbench"
    app = create_application([program])
    holder: dict[str, SmokeDriver] = {}
    QTimer.singleShot(0, lambda: holder.setdefault("driver", SmokeDriver(app)))
    code = run_app([program], safe_start=True)  # the app's own start-up, event loop and shut-down
    driver = holder.get("driver")
    if driver is None:
        say("FAILED: the event loop never ran the smoke test")
        return 2
    if code != 0:
        say(f"FAILED: the app's event loop returned {code}")
        return 2
    if driver.failure is not None:
        return driver.failure[0]
    if not driver.passed:
        say("FAILED: the app's event loop ended before the smoke test finished")
        return 2
    say(f"PASSED: {len(driver.results)} drawn digits read right; the app closed cleanly")
    return 0


if __name__ == "__main__":
    try:
        import workbench  # noqa: F401 - an installed package (a wheel, an editable install) comes first
    except ImportError:  # a bare checkout
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    raise SystemExit(main(sys.argv[1:]))

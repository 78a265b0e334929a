"""Fixtures every GUI test shares: one factory that builds panels, tabs and windows and tears them
down, and a check that fails a test which leaves a thread running.

- ``make_widget(factory, *args, show=False, size=None, **kwargs)`` builds ``factory(*args, **kwargs)``,
  hands it to qtbot, optionally shows it (waiting until it is exposed), and at teardown calls its
  ``shutdown()`` (panels, tabs) and closes it if still visible (windows: ``closeEvent`` shuts down).
- ``thread_leak_check`` (automatic) records every QThread started during the test — TaskRunners,
  live-prediction and training threads alike — and fails the test if one still runs after the
  test's objects were torn down, naming the threads; they are then stopped so later tests are not
  affected. Qt's ``QThread.start`` is wrapped for the test's duration to see them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

#: How long a thread may take to end after its owner's shutdown (a TaskRunner quits at once).
THREAD_END_GRACE_MS = 2000


@pytest.fixture(autouse=True)
def thread_leak_check(request: pytest.FixtureRequest):
    """Fail the test when a QThread it started is still running after teardown."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield  # no Qt in this test: nothing to watch (and Qt need not be importable)
        return
    from PySide6.QtCore import QThread

    started: list[QThread] = []
    original = QThread.start

    def start(thread: QThread, *args, **kwargs):
        started.append(thread)
        return original(thread, *args, **kwargs)

    QThread.start = start
    try:
        yield started
    finally:
        QThread.start = original
    running = []
    for thread in started:
        try:
            if thread.isRunning() and not thread.wait(THREAD_END_GRACE_MS):
                running.append(thread)
        except RuntimeError:  # the C++ thread object is gone: it ended and was deleted
            continue
    names = [thread.objectName() or repr(thread) for thread in running]
    for thread in running:  # do not let one leak hang or disturb the tests after it
        thread.quit()
        thread.wait(30_000)
    if names:
        pytest.fail(f"Expected every thread to end with its owner. Received: still running: {', '.join(names)}",
                    pytrace=False)


@pytest.fixture
def make_widget(qtbot) -> Callable[..., Any]:
    """Build GUI objects that are shut down and closed after the test (see the module docstring)."""
    made: list[Any] = []

    def make(factory: Callable[..., Any], *args, show: bool = False, size: tuple[int, int] | None = None,
             **kwargs) -> Any:
        widget = factory(*args, **kwargs)
        qtbot.addWidget(widget)
        made.append(widget)
        if size is not None:
            widget.resize(*size)
        if show:
            widget.show()
            qtbot.waitExposed(widget)
        return widget

    yield make
    for widget in reversed(made):
        shutdown = getattr(widget, "shutdown", None)
        if shutdown is not None:
            shutdown()
        if widget.isVisible():
            widget.close()

"""Shared test setup: headless Qt by default, settings isolated from the real user's, and GUI tests
stopped up front (with the reason) when the installed Qt binding is known to crash the interpreter.

Kept free of TensorFlow (and of Qt at import time) so the core tests stay fast and still run in a
job where Qt is not installed.
"""

from __future__ import annotations

import functools
import os
import platform
import sys

import pytest


#: Test files that hold wall-clock figures (a Stop within 2 s, a microphone stream's timing, a
#: camera's pace). ``make test`` runs them on their own after the parallel part, so that another
#: worker's training cannot make them miss (marker ``serial``). The kill -9 tests need no such care:
#: a busier machine only makes the writes they aim at last longer.
SERIAL_FILES = frozenset({
    "tests/core/test_camera_source.py",
    "tests/gui/test_main_window.py",
    "tests/gui/panels/test_training_panel.py",
    "tests/hardware/test_microphone_tab.py",
    "tests/hardware/test_virtual_microphone.py",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the serial files, and keep each file on one pytest-xdist worker.

    Under ``-n N --dist loadgroup`` a file is one group, so its module-scoped fixtures (a trained
    model, a generated data set) are built once, not once per worker that gets some of its tests.
    """
    root = config.rootpath
    for item in items:
        try:
            relative = item.path.relative_to(root).as_posix()
        except ValueError:  # a test file outside the project (pytest given another path)
            relative = item.path.as_posix()
        if relative in SERIAL_FILES:
            item.add_marker(pytest.mark.serial)
        item.add_marker(pytest.mark.xdist_group(relative))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--headed",
        action="store_true",
        default=False,
        help="show Qt windows on the real display instead of the offscreen platform",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Qt reads QT_QPA_PLATFORM when the QApplication is built (pytest-qt's qapp fixture, later),
    # so setting it here, before any test runs, is early enough. setdefault keeps an explicit
    # choice such as QT_QPA_PLATFORM=xcb from the environment.
    if not config.getoption("--headed"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Tests never touch the network: pretrained keras.applications weights come from files the tests
    # make, and a missing one is an error instead of a download (workbench/core/image/backbones.py).
    os.environ["WORKBENCH_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point QSettings (and XDG config/data lookups) at a fresh folder for every test."""
    root = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "cache"))
    try:
        from PySide6.QtCore import QCoreApplication, QSettings
    except ImportError:  # the core-only job runs without Qt; the env vars above still apply
        yield root
        return
    saved = (QCoreApplication.organizationName(), QCoreApplication.applicationName())
    QCoreApplication.setOrganizationName("cnn-workbench-tests")
    QCoreApplication.setApplicationName("cnn-workbench-tests")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(root / "qsettings"))
    yield root
    QCoreApplication.setOrganizationName(saved[0])
    QCoreApplication.setApplicationName(saved[1])


@functools.cache
def _qt_binding_problem() -> str | None:
    """Say why the installed Qt binding cannot run GUI code, or None when it is fine.

    PySide6 6.12.0 on Python 3.11 returns None from every void method without taking a reference
    to it. None is not immortal before Python 3.12, so after a few thousand Qt calls its count
    reaches zero and the interpreter aborts ("none_dealloc"), mid-test or at exit, losing the
    results. Probing the behaviour (not the version number) catches any build with the same bug.
    """
    if sys.version_info >= (3, 12):  # None is immortal there; the lost references do no harm
        return None
    try:
        from PySide6 import QtCore, __version__
    except ImportError:
        return None
    probe = QtCore.QObject()
    before = sys.getrefcount(None)
    for _ in range(100):
        probe.setObjectName("probe")
    lost = before - sys.getrefcount(None)
    if lost < 50:
        return None
    return (
        f"PySide6 {__version__} on Python {platform.python_version()} drops a reference to None on "
        f"every void call ({lost} lost in 100 calls), so any GUI process aborts after a few thousand "
        "Qt calls. Install another PySide6 (e.g. pyside6-essentials 6.11.x) or use Python >= 3.12."
    )


@pytest.fixture(autouse=True)
def _usable_qt_binding(request: pytest.FixtureRequest) -> None:
    """Fail GUI tests with the reason up front instead of letting the interpreter abort later."""
    uses_qt = request.node.get_closest_marker("gui") is not None or any(
        name in request.fixturenames for name in ("qtbot", "qapp")
    )
    if uses_qt and (problem := _qt_binding_problem()):
        pytest.fail(problem, pytrace=False)

"""The app always starts: damaged settings, a damaged last project or session are reported in the
status bar (no dialog), ignored and cleared; ``--safe-start`` restores nothing; opening a damaged
project keeps the open one; the Runs and Results panels skip a damaged run. Hypothesis fills every
settings key with arbitrary values and the window must still build and close."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMessageBox

from tests.core.test_damaged_files import SOUND_SIDECAR, VALID_PROJECT, damaged
from workbench.core.project import Project
from workbench.gui import settings_keys

pytestmark = pytest.mark.gui

BAD_VALUES = {
    settings_keys.WINDOW_GEOMETRY: "not bytes",
    settings_keys.WINDOW_STATE: 12,
    settings_keys.WINDOW_TAB: "third",
    settings_keys.LAST_PROJECT: ["a", "b"],
    settings_keys.RECENT_PROJECTS: 5,
    settings_keys.SESSION_PROJECT: "[1, 2",
    settings_keys.RECENT_DATASETS: {"a": 1},
    settings_keys.DRAW_COLLECT_DIR: 3.5,
    settings_keys.MICROPHONE_DEVICE: ["mic"],
    settings_keys.MICROPHONE_MODE: 7,
    settings_keys.MICROPHONE_THRESHOLD_DB: 10**12,
    settings_keys.MICROPHONE_COLLECT_DIR: "a\x00b",
}

DAMAGED_PROJECTS = {
    "list": [1, 2],
    "types": {**VALID_PROJECT, "format": "workbench-project/2", "hparams": [1], "runs": "runs"},
    "hparam-value": {**VALID_PROJECT, "format": "workbench-project/2", "hparams": {"epochs": "many"}},
    "augmentation-range": {**VALID_PROJECT, "format": "workbench-project/2", "augmentation": {"rotation": 1e9}},
    "training-choice": {**VALID_PROJECT, "format": "workbench-project/2", "training": {"distribute": "multi-worker"}},
}


@pytest.fixture
def no_dialogs(monkeypatch):
    """Fail on any message box (a modal dialog at start-up hangs the app); records warnings."""
    shown = []

    def refuse(*args, **kwargs):
        raise AssertionError(f"Expected no dialog. Received: {args[1:]}")

    monkeypatch.setattr(QMessageBox, "exec", refuse)
    monkeypatch.setattr(QMessageBox, "critical", refuse)
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kwargs: shown.append(args[1:]))
    return shown


@pytest.fixture
def window_factory(make_widget, tmp_path):
    from workbench.gui.main_window import MainWindow

    def make(**kwargs):
        window = make_widget(MainWindow, **kwargs)
        window.training_panel.runs_root = str(tmp_path / "runs")
        window.ask_stop_training = lambda: True
        return window

    return make


def write_project(path: Path, content) -> str:
    path.write_text(json.dumps(content))
    return str(path)


def test_bad_values_for_every_setting_are_reported_and_cleared(qtbot, window_factory, no_dialogs):
    store = QSettings()
    for key, value in BAD_VALUES.items():
        store.setValue(key, value)
    store.sync()
    window = window_factory()
    for key in BAD_VALUES:
        assert any(f"setting {key}." in m for m in window.startup_messages), (key, window.startup_messages)
        assert not QSettings().contains(key), key
    assert "ignored and cleared" in window.statusBar().currentMessage()
    assert window.projects.path == "" and window.tabs.currentIndex() == 0
    assert no_dialogs == []


def test_a_hand_damaged_settings_file_still_starts(qtbot, window_factory, no_dialogs, isolated_settings):
    store = QSettings()
    store.setValue(settings_keys.WINDOW_TAB, 1)
    store.sync()
    path = Path(store.fileName())
    path.write_text(path.read_text() + "\n[window]\ntab=@Variant(\\0\\0\\0\\x7f\\0garbage)\ngeometry=@ByteArray(\\xff\n"
                    "[session]\nproject={\"format\": \"workbench-project/2\", \"val_fraction\": \"x\"}\n"
                    "[projects]\nrecent=@Invalid()\n")
    window = window_factory()
    assert window.projects.path == ""
    assert no_dialogs == []


@pytest.mark.parametrize("name", list(DAMAGED_PROJECTS))
def test_a_damaged_last_project_is_reported_without_a_dialog_and_cleared(qtbot, window_factory, no_dialogs,
                                                                         tmp_path, name):
    store = QSettings()
    store.setValue(settings_keys.LAST_PROJECT, write_project(tmp_path / "last.wbproj", DAMAGED_PROJECTS[name]))
    store.sync()
    window = window_factory()
    message = window.statusBar().currentMessage()
    assert "The last project could not be opened: " in message and "Received: " in message
    assert not QSettings().contains(settings_keys.LAST_PROJECT)
    assert window.projects.path == "" and window.state.template_id == Project().template
    assert no_dialogs == []


@pytest.mark.parametrize("name", list(DAMAGED_PROJECTS))
def test_a_damaged_last_session_is_reported_and_cleared(qtbot, window_factory, no_dialogs, name):
    QSettings().setValue(settings_keys.SESSION_PROJECT, json.dumps(DAMAGED_PROJECTS[name]))
    window = window_factory()
    assert "could not be restored" in window.statusBar().currentMessage() or "setting session/project" in \
        window.statusBar().currentMessage()
    assert not QSettings().contains(settings_keys.SESSION_PROJECT)
    assert no_dialogs == []


def test_a_session_of_an_earlier_release_still_restores(qtbot, window_factory):
    old = {"dataset": "", "val_fraction": 0.3, "group_regex": "", "template": "simple_cnn",
           "hparams": {"epochs": 4}, "augmentation": {}, "audio_augmentation": {}, "runs": [], "extra": {}}
    QSettings().setValue(settings_keys.SESSION_PROJECT, json.dumps(old))  # asdict() of the project
    window = window_factory()
    assert window.state.template_id == "simple_cnn" and window.state.hparams == {"epochs": 4}
    assert window.startup_messages == []


def test_safe_start_restores_nothing_of_the_last_session(qtbot, window_factory, tmp_path):
    project = Project(template="simple_cnn", hparams={"epochs": 4})
    path = project.save(tmp_path / "good.wbproj")
    store = QSettings()
    store.setValue(settings_keys.LAST_PROJECT, str(path))
    store.setValue(settings_keys.WINDOW_TAB, 2)
    window = window_factory(restore_session=False)
    assert window.projects.path == "" and window.state.template_id == Project().template
    assert window.tabs.currentIndex() == 0
    assert "Safe start" in window.statusBar().currentMessage()
    again = window_factory()  # the session is still there for a normal start
    assert again.projects.path == str(path.resolve())


def test_the_command_line_flag_starts_the_app_safely(monkeypatch):
    import workbench.gui.app as app
    from workbench.__main__ import main

    calls = []
    monkeypatch.setattr(app, "run_app", lambda argv=None, safe_start=False: calls.append(safe_start) or 0)
    assert main(["--safe-start"]) == 0 and main([]) == 0
    assert calls == [True, False]


def test_a_window_that_breaks_while_restoring_starts_without_the_session(qtbot, window_factory, monkeypatch,
                                                                         no_dialogs):
    from workbench.gui.project_controller import ProjectController

    def broken(self):
        raise RuntimeError("a bug in a panel")

    monkeypatch.setattr(ProjectController, "restore_session", broken)
    QSettings().setValue(settings_keys.WINDOW_TAB, 2)
    window = window_factory()
    assert "RuntimeError: a bug in a panel" in window.statusBar().currentMessage()
    assert not QSettings().contains(settings_keys.WINDOW_TAB)


@pytest.mark.parametrize("name", list(DAMAGED_PROJECTS))
def test_opening_a_damaged_project_keeps_the_open_one(qtbot, window_factory, no_dialogs, tmp_path, name):
    window = window_factory()
    good = Project(template="simple_cnn", hparams={"epochs": 4}, val_fraction=0.3).save(tmp_path / "good.wbproj")
    assert window.open_project(str(good))
    assert not window.open_project(write_project(tmp_path / "bad.wbproj", DAMAGED_PROJECTS[name]))
    assert len(no_dialogs) == 1 and "Received: " in no_dialogs[0][1]
    assert window.projects.path == str(good.resolve())
    assert window.state.template_id == "simple_cnn" and window.state.hparams == {"epochs": 4}
    assert window.state.val_fraction == pytest.approx(0.3)


def test_the_runs_and_results_panels_skip_a_damaged_run(qtbot, window_factory, tmp_path):
    window = window_factory()
    runs = []
    for name, content in {"list": [1, 2], "types": {**SOUND_SIDECAR, "input_shape": "28"},
                          "odd-values": {**SOUND_SIDECAR, "hyperparameters": {"learning_rate": "fast"},
                                         "final_metrics": {"val_accuracy": "best"}},
                          "good": SOUND_SIDECAR}.items():
        run = tmp_path / name
        run.mkdir()
        (run / "model.json").write_text(json.dumps(content))
        (run / "model.keras").write_bytes(b"")
        runs.append(str(run))
    window.runs_panel.set_runs(runs)
    assert window.runs_panel.run_count() == 2
    assert window.results_panel.show_run(runs[0]) is False


# -- generated settings -----------------------------------------------------------------------------------

# QSettings stores what a QVariant holds: integers within 64 bits.
setting_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
                            st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
setting_values = st.one_of(
    st.recursive(setting_scalars, lambda children: st.lists(children, max_size=3)
                 | st.dictionaries(st.text(max_size=6), children, max_size=3), max_leaves=8),
    st.binary(max_size=64).map(QByteArray),
    st.lists(st.text(max_size=10), max_size=3),
    damaged(VALID_PROJECT).map(json.dumps),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(values=st.fixed_dictionaries({}, optional={key: setting_values for key in settings_keys.SCHEMA}))
def test_generated_settings_never_stop_the_window(qtbot, no_dialogs, values):
    from workbench.gui.main_window import MainWindow

    store = QSettings()
    store.clear()
    for key, value in values.items():
        store.setValue(key, value)
    store.sync()
    started = time.perf_counter()
    window = MainWindow()
    try:
        window.ask_stop_training = lambda: True
        for key in settings_keys.SCHEMA:
            if QSettings().contains(key):
                expected, check = settings_keys.SCHEMA[key]
                assert check(QSettings().value(key)), (key, expected)
    finally:
        window.close()
        window.deleteLater()
    assert time.perf_counter() - started < 30
    assert no_dialogs == []


def test_a_window_that_cannot_be_built_with_the_session_is_built_without_it(qtbot, monkeypatch, no_dialogs):
    import workbench.gui.app as app

    real = settings_keys.discard_invalid
    calls = []

    def breaks_once(store):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("damaged beyond reading")
        return real(store)

    monkeypatch.setattr(settings_keys, "discard_invalid", breaks_once)
    QSettings().setValue(settings_keys.WINDOW_TAB, 2)
    window = app.build_window()
    qtbot.addWidget(window)
    try:
        assert "RuntimeError: damaged beyond reading" in window.statusBar().currentMessage()
        assert not QSettings().contains(settings_keys.WINDOW_TAB) and window.tabs.currentIndex() == 0
    finally:
        window.ask_stop_training = lambda: True
        window.close()


def test_an_unexpected_error_never_opens_a_blocking_dialog(qtbot, monkeypatch, no_dialogs, caplog):
    import workbench.gui.app as app

    try:
        raise ValueError("unexpected")
    except ValueError as exc:
        error = (type(exc), exc, exc.__traceback__)
    app._excepthook(*error)  # before the event loop runs (at start-up): logged only
    assert app._open_error_boxes == [] and "ValueError: unexpected" in caplog.text
    monkeypatch.setattr(app, "_loop_running", True)
    app._excepthook(*error)  # while it runs: a box that does not block
    assert len(app._open_error_boxes) == 1
    box = app._open_error_boxes[0]
    assert box.isVisible() and "unexpected" in box.text()
    box.close()
    assert app._open_error_boxes == []


def test_saving_a_project_where_it_cannot_be_written_says_so(qtbot, window_factory, no_dialogs, tmp_path):
    window = window_factory()
    (tmp_path / "file").write_text("mine")
    assert not window.save_project("/proc/workbench-no-such-folder/p.wbproj")
    assert not window.save_project(str(tmp_path / "file" / "p.wbproj"))
    assert len(no_dialogs) == 2 and all("Expected a project file that can be written" in d[1] for d in no_dialogs)
    assert window.projects.path == "" and (tmp_path / "file").read_text() == "mine"

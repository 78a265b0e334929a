"""The Training tab's choice of devices: one device or mirrored, CPU replicas, mixed precision, the
scaled batch and learning rate said before Start, the device that trains said once the run starts,
and the choice kept in the project and (for the app's own TensorFlow) in the settings.

No TensorFlow here: the devices are handed to the panel as the window's loader would, and the run is
replayed by the fake controller.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton, QSpinBox

from demos.fake_training_controller import FakeTrainingController
from workbench.core.errors import WorkbenchError
from workbench.gui import settings_keys
from workbench.gui.panels.training_panel import TrainingPanel
from workbench.gui.project_controller import ProjectController
from workbench.gui.state import AppState

pytestmark = pytest.mark.gui

NO_GPU = {"gpus": [], "cpu_devices": 1, "note": ""}
TWO_GPUS = {"gpus": ["GPU:0 (Test GPU)", "GPU:1 (Test GPU)"], "cpu_devices": 1, "note": ""}


@pytest.fixture
def panel(make_widget, tmp_path):
    state = AppState()
    state.set_template("simple_cnn")
    state.set_hparams({"batch_size": 32, "epochs": 1})
    made = make_widget(TrainingPanel, state, FakeTrainingController(steps_per_epoch=2, batch_size=32))
    made.runs_root = str(tmp_path / "runs")
    made.distribution.in_process = False  # each run in a child process of its own (the default)
    return made


def _child(panel, kind, name):
    widget = panel.findChild(kind, name)
    assert widget is not None, name
    return widget


def _choose(panel, key: str) -> None:
    combo = _child(panel, QComboBox, "trainStrategyCombo")
    combo.setCurrentIndex(combo.findData(key))
    combo.activated.emit(combo.currentIndex())  # as a click on the item does


def test_mirrored_on_cpu_says_the_scaled_batch_and_rate_before_start_and_the_devices_after(panel, qtbot):
    state, plan = panel._state, _child(panel, QLabel, "trainPlanLabel")
    assert "command line" in _child(panel, QComboBox, "trainStrategyCombo").toolTip()  # multi-worker: CLI only
    assert plan.text() == "Will train on one device — batch 32, learning rate 0.001"
    _choose(panel, "mirrored")
    state.dataset_path = "synthetic"
    assert "TensorFlow is loading" in panel.start_blocker()  # how many replicas is not known yet
    panel.set_local_devices(NO_GPU)
    replicas = _child(panel, QSpinBox, "trainCpuReplicasSpin")
    assert replicas.isVisibleTo(panel) and replicas.isEnabled()
    replicas.setValue(3)
    assert state.distribution() == {"distribute": "mirrored", "cpu_replicas": 3, "mixed_precision": None}
    assert plan.text() == ("Will train on 3 × CPU (mirrored) — global batch 96 (32 per replica), "
                           "learning rate 0.003 (3 × 0.001)")
    mixed = _child(panel, QCheckBox, "trainMixedPrecisionCheck")
    assert not mixed.isEnabled() and not mixed.isChecked() and "needs a GPU or a CPU with bfloat16" in mixed.toolTip()

    configs = []
    panel.controller.run_started.connect(lambda _info: configs.append(panel.controller._config))
    with qtbot.waitSignal(panel.controller.run_started, timeout=5_000):
        assert panel.start()
    # Not chosen: the core applies the machine's default (float32 on a CPU without bfloat16 units).
    assert (configs[0].distribute, configs[0].cpu_replicas, configs[0].mixed_precision) == ("mirrored", 3, None)
    assert panel.device_text() == "Training on 3 × CPU (mirrored) — global batch 96, learning rate 0.003 (3 × 0.001)"
    assert not _child(panel, QComboBox, "trainStrategyCombo").isEnabled()  # a run keeps its devices
    panel.controller.stop_and_wait()
    assert _child(panel, QComboBox, "trainStrategyCombo").isEnabled()


def test_with_gpus_mirrored_uses_them_all_and_mixed_precision_follows_the_template(panel):
    state = panel._state
    panel.set_local_devices(TWO_GPUS)
    assert not _child(panel, QSpinBox, "trainCpuReplicasSpin").isVisibleTo(panel)  # replicas are the GPUs
    _choose(panel, "mirrored")
    mixed = _child(panel, QCheckBox, "trainMixedPrecisionCheck")
    assert mixed.isEnabled()
    mixed.setChecked(True)
    assert _child(panel, QLabel, "trainPlanLabel").text().startswith(
        "Will train on 2 × GPU (Test GPU) (mirrored), mixed precision (float16) — global batch 64 (32 per replica)")
    state.dataset_path = "synthetic"
    config = state.train_config(gpus=panel.distribution.gpus())
    assert (config.distribute, config.cpu_replicas, config.mixed_precision) == ("mirrored", None, True)
    state.set_template("audio_cnn")  # its spectrogram front end is in the model: float32 only
    assert not mixed.isEnabled() and not mixed.isChecked() and "float32 only" in mixed.toolTip()
    assert state.mixed_precision  # the choice is kept for a template that allows it
    assert state.train_config(gpus=2).mixed_precision is False


def test_on_a_cpu_with_bfloat16_units_mixed_precision_is_on_until_the_user_clears_it(panel):
    state, plan = panel._state, _child(panel, QLabel, "trainPlanLabel")
    panel.set_local_devices({**NO_GPU, "cpu_bfloat16": True})
    mixed = _child(panel, QCheckBox, "trainMixedPrecisionCheck")
    assert mixed.isEnabled() and mixed.isChecked() and "bfloat16" in mixed.toolTip()
    assert plan.text() == "Will train on CPU:0, mixed precision (bfloat16) — batch 32, learning rate 0.001"
    assert state.mixed_precision is None  # shown as the machine's default, not yet a choice
    state.dataset_path = "synthetic"
    assert state.train_config(gpus=0, cpu_bfloat16=True).mixed_precision is None
    mixed.setChecked(False)
    assert state.mixed_precision is False and "mixed precision" not in plan.text()
    assert state.train_config(gpus=0, cpu_bfloat16=True).mixed_precision is False
    mixed.setChecked(True)
    assert state.train_config(gpus=0, cpu_bfloat16=True).mixed_precision is True
    assert state.train_config(gpus=0, cpu_bfloat16=False).mixed_precision is False  # a project moved elsewhere


def test_the_started_run_names_its_compute_dtype():
    from workbench.gui.panels.training_panel import device_text

    started = {"device": "CPU:0", "strategy": "none", "mixed_precision": True, "compute_dtype": "bfloat16"}
    assert device_text(started) == "Training on CPU:0, mixed precision (bfloat16)"
    assert device_text({**started, "mixed_precision": False}) == "Training on CPU:0"


def test_more_cpu_replicas_than_the_apps_tensorflow_has_apply_after_a_restart(panel):
    # Where runs train in the app's own process (a frozen build), its TensorFlow keeps the CPU devices
    # it started with: another count is saved for the next start, and Start says why it waits.
    panel.distribution.in_process = True
    panel._state.dataset_path = "synthetic"
    panel.set_local_devices({**NO_GPU, "cpu_devices": 2})
    _choose(panel, "mirrored")
    assert panel.start_blocker() == ""  # the two devices it started with
    _child(panel, QSpinBox, "trainCpuReplicasSpin").setValue(4)
    assert "applies after a restart" in panel.start_blocker()
    assert not _child(panel, QPushButton, "trainStartButton").isEnabled()
    assert "restart" in _child(panel, QLabel, "trainStartBlockedLabel").text()
    assert int(QSettings().value(settings_keys.TRAINING_CPU_REPLICAS)) == 4
    assert panel.start() is False and "applies after a restart" in panel.error_text()
    _choose(panel, "none")
    assert panel.start_blocker() == ""


def test_the_choice_is_saved_with_the_project(qtbot, tmp_path):
    state = AppState()
    projects = ProjectController(state)
    state.set_distribution("mirrored", cpu_replicas=4, mixed_precision=True)
    path = projects.save(str(tmp_path / "p.wbproj"))
    other = AppState()
    reopened = ProjectController(other)
    reopened.open(path)
    reopened.apply_to_state()
    assert other.distribution() == {"distribute": "mirrored", "cpu_replicas": 4, "mixed_precision": True}
    state.set_distribution(mixed_precision=None)  # back to the machine's default: saved as null
    reopened.open(projects.save(str(tmp_path / "default.wbproj")))
    reopened.apply_to_state()
    assert other.distribution()["mixed_precision"] is None
    damaged = tmp_path / "damaged.wbproj"
    damaged.write_text(open(path).read().replace('"mirrored"', '"multi-worker"'))
    with pytest.raises(WorkbenchError, match="Expected training.distribute in 'none' or 'mirrored'"):
        reopened.open(str(damaged))


def test_startup_makes_the_saved_cpu_replicas_only_where_the_app_trains(monkeypatch, qapp):
    from workbench.gui.tf_loader import configure_startup_cpu_replicas, startup_cpu_replicas

    QSettings().setValue(settings_keys.TRAINING_CPU_REPLICAS, 3)
    monkeypatch.delenv("WORKBENCH_TRAIN_IN_PROCESS", raising=False)
    assert startup_cpu_replicas() is None  # each run's child process makes its own devices
    monkeypatch.setenv("WORKBENCH_TRAIN_IN_PROCESS", "1")
    assert startup_cpu_replicas() == 3
    monkeypatch.setenv("WORKBENCH_CPU_REPLICAS", "two")  # never stops the app: said instead
    assert "Expected WORKBENCH_CPU_REPLICAS to be a whole number" in configure_startup_cpu_replicas(None)

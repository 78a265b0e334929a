from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QLineEdit, QListWidget, QSpinBox, QWidget

from tests.helpers import untrainable_template
from workbench.core.templates import get_template, list_templates
from workbench.gui.panels.model_panel import ModelPanel
from workbench.gui.state import AppState
from workbench.gui.widgets.layer_table_widget import LayerTableWidget
from workbench.gui.widgets.log_spin_box import LogSpinBox

pytestmark = pytest.mark.gui

EDITOR_TYPES = {"int": QSpinBox, "float": QDoubleSpinBox, "choice": QComboBox, "bool": QCheckBox, "path": QLineEdit}
BUILD_TIMEOUT_MS = 120_000  # the first build imports TensorFlow


@pytest.fixture
def state():
    return AppState()


@pytest.fixture
def panel(make_widget, state):
    return make_widget(ModelPanel, state)


def _select(panel: ModelPanel, template_id: str) -> None:
    templates = panel.findChild(QListWidget, "modelTemplateList")
    row = next(r for r in range(templates.count())
               if templates.item(r).data(Qt.ItemDataRole.UserRole) == template_id)
    templates.setCurrentRow(row)


def test_form_has_one_field_per_hyperparameter_of_each_template(panel, state):
    templates = panel.findChild(QListWidget, "modelTemplateList")
    assert templates.count() == len(list_templates())
    for spec in list_templates():
        _select(panel, spec.id)
        assert state.template_id == spec.id
        assert panel.form.names() == [hp.name for hp in spec.hyperparameters]
        for hp in spec.hyperparameters:
            editor = panel.findChild(QWidget, f"modelHparam_{hp.name}")
            assert isinstance(editor, EDITOR_TYPES[hp.kind]), hp.name
            assert editor.toolTip() == hp.help
            assert editor.accessibleName()
        assert panel.form.values() == spec.default_hparams()
        assert spec.title in panel.findChild(QLabel, "modelTemplateTitle").text()


def test_a_template_that_cannot_train_yet_says_so_up_front(make_widget, state):
    assert [spec.id for spec in list_templates() if not spec.can_train] == []  # every built-in trains
    with untrainable_template() as declared:
        panel = make_widget(ModelPanel, state)  # lists the templates registered when it is built
        note = panel.findChild(QLabel, "modelTemplateUnavailable")
        assert not note.isVisibleTo(panel)  # mnist_cnn, the default, trains
        _select(panel, declared.id)
        assert note.isVisibleTo(panel)
        assert "Cannot train yet" in note.text() and declared.train_unavailable in note.text()
        templates = panel.findChild(QListWidget, "modelTemplateList")
        assert "cannot train yet" in templates.currentItem().text()
        _select(panel, "simple_cnn")
        assert not note.isVisibleTo(panel) and note.text() == ""


def test_changing_the_epochs_field_updates_state(panel, state, qtbot):
    epochs = panel.findChild(QSpinBox, "modelHparam_epochs")
    with qtbot.waitSignal(state.hparams_changed, timeout=1000):
        epochs.setValue(3)
    assert state.hparams == {"epochs": 3}
    # Typing and pressing Enter is one change (keyboard tracking is off), not one per digit.
    epochs.selectAll()
    received = []
    state.hparams_changed.connect(received.append)
    qtbot.keyClicks(epochs, "12")
    assert received == []
    qtbot.keyClick(epochs, Qt.Key.Key_Return)
    assert received == [{"epochs": 12}]


def test_state_changes_update_the_form_without_echo(panel, state):
    received = []
    state.hparams_changed.connect(received.append)
    state.set_hparams({"epochs": 7, "optimizer": "sgd"})
    assert panel.findChild(QSpinBox, "modelHparam_epochs").value() == 7
    assert panel.findChild(QComboBox, "modelHparam_optimizer").currentText() == "sgd"
    assert received == [{"epochs": 7, "optimizer": "sgd"}]  # the form did not write back


def test_a_project_load_keeps_only_the_new_templates_names(panel, state):
    state.set_hparams({"epochs": 4, "lstm_units": 64})
    state.set_template("video_cnn_lstm")
    assert panel.findChild(QSpinBox, "modelHparam_lstm_units").value() == 64
    state.set_template("mnist_cnn")  # mnist_cnn has no lstm_units: dropped, epochs kept
    assert state.hparams == {"epochs": 4}
    _select(panel, "simple_cnn")  # a user's choice starts from the template's defaults
    assert state.template_id == "simple_cnn" and state.hparams == {}


def test_learning_rate_is_edited_on_a_log_scale(panel, state, qtbot):
    rate = panel.findChild(QDoubleSpinBox, "modelHparam_learning_rate")
    assert isinstance(rate, LogSpinBox)
    assert rate.text() == "0.001"
    rate.stepBy(1)
    assert state.hparams["learning_rate"] == pytest.approx(0.002)
    rate.stepBy(-2)
    assert state.hparams["learning_rate"] == pytest.approx(0.0005)
    rate.lineEdit().selectAll()
    qtbot.keyClicks(rate, "3e-5")
    qtbot.keyClick(rate, Qt.Key.Key_Return)
    assert state.hparams["learning_rate"] == pytest.approx(3e-5)
    assert rate.text() == "3e-05"


def test_summary_is_the_model_that_will_train(panel, state, qtbot):
    table = panel.findChild(LayerTableWidget, "modelLayerTable")
    qtbot.waitUntil(lambda: panel.summary is not None, timeout=BUILD_TIMEOUT_MS)
    model = get_template("mnist_cnn").build(10, None, {})
    assert [row["Layer"] for row in table.rows()] == [layer.name for layer in model.layers]
    assert [row["Type"] for row in table.rows()][2] == "Conv2D"
    assert panel.summary["total_params"] == model.count_params()
    assert f"{model.count_params():,}" in panel.findChild(QLabel, "layerTableTotals").text()
    assert "no dataset" in panel.findChild(QLabel, "modelSummaryStatus").text()

    # The dataset's class count and the hyperparameters reach the summary (debounced: one rebuild).
    with qtbot.waitSignal(panel.summary_shown, timeout=BUILD_TIMEOUT_MS) as blocker:
        state.set_dataset("/data/three", SimpleNamespace(class_names=["a", "b", "c"]))
        panel.findChild(QDoubleSpinBox, "modelHparam_dropout").setValue(0.5)
    summary = blocker.args[0]
    assert summary["num_classes"] == 3
    assert summary["layers"][-1]["output_shape"] == "(None, 3)"
    assert "dropout" in [layer["name"] for layer in summary["layers"]]
    assert "3 classes of the dataset" in panel.findChild(QLabel, "modelSummaryStatus").text()


def test_a_two_phase_template_shows_what_each_phase_trains(panel, state, qtbot):
    table = panel.layer_table
    with qtbot.waitSignal(panel.summary_shown, timeout=BUILD_TIMEOUT_MS,
                          check_params_cb=lambda s: s["template"] == "transfer_squeezenet"):
        _select(panel, "transfer_squeezenet")
        panel.findChild(QSpinBox, "modelHparam_image_size").setValue(64)
        panel.findChild(QSpinBox, "modelHparam_fine_tune_blocks").setValue(1)
    rows = {row["Layer"]: row for row in table.rows()}
    assert table.column_titles()[-2:] == ["1: head", "2: fine_tune"]
    assert rows["fire9_expand3x3"]["2: fine_tune"] == "trains"
    assert rows["fire8_expand3x3"]["2: fine_tune"] == "frozen"
    assert rows["fire9_expand3x3"]["1: head"] == "frozen"
    assert rows["squeezenet_v1_1"]["depth"] == 0 and rows["fire9_expand3x3"]["depth"] == 1
    model = get_template("transfer_squeezenet").build(10, (64, 64, 3), {"image_size": 64})
    assert sum(int(r["Parameters"].replace(",", "")) for r in table.rows() if r["depth"] == 0) == model.count_params()
    assert "2 phases: head, then fine_tune" in panel.findChild(QLabel, "modelSummaryStatus").text()

    # The form's fine_tune_blocks changes which blocks phase 2 trains.
    with qtbot.waitSignal(panel.summary_shown, timeout=BUILD_TIMEOUT_MS):
        panel.findChild(QSpinBox, "modelHparam_fine_tune_blocks").setValue(2)
    rows = {row["Layer"]: row for row in table.rows()}
    assert rows["fire8_expand3x3"]["2: fine_tune"] == "trains"
    assert rows["fire7_expand3x3"]["2: fine_tune"] == "frozen"
    phase_two = panel.summary["phases"][1]
    assert f"{phase_two['trainable_params']:,} trainable in {phase_two['trainable_layers']} of" in table.totals_text()


def test_a_saved_model_can_be_shown(panel, qtbot, tmp_path):
    model = get_template("simple_cnn").build(4, None, {})
    path = tmp_path / "model.keras"
    model.save(path)
    qtbot.waitUntil(lambda: panel.summary is not None, timeout=BUILD_TIMEOUT_MS)  # the template's first
    with qtbot.waitSignal(panel.summary_shown, timeout=BUILD_TIMEOUT_MS) as blocker:
        panel.show_model_file(str(path))
    assert blocker.args[0]["source"] == str(path)
    assert [row["Layer"] for row in panel.layer_table.rows()] == [layer.name for layer in model.layers]
    assert panel.layer_table.column_titles()[-1] == "Trainable"
    assert str(path) in panel.findChild(QLabel, "modelSummaryStatus").text()


def test_importing_the_panels_leaves_tensorflow_unloaded():
    import subprocess
    import sys

    code = ("import sys\n"
            "import workbench.gui.panels.model_panel, workbench.gui.panels.training_panel, "
            "workbench.gui.panels.results_panel\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def _double_click(qtbot, table: LayerTableWidget, path: str) -> None:
    item = table.item_for_path(path)
    table.tree.scrollToItem(item)
    rect = table.tree.visualItemRect(item)
    qtbot.mouseClick(table.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_double_clicking_a_backbone_layer_chooses_where_phase_two_starts(make_widget, state, qtbot):
    panel = make_widget(ModelPanel, state, show=True, size=(1360, 760))  # shown: the clicks land on rows
    table = panel.layer_table
    with qtbot.waitSignal(panel.summary_shown, timeout=BUILD_TIMEOUT_MS,
                          check_params_cb=lambda s: s["template"] == "transfer_squeezenet"):
        _select(panel, "transfer_squeezenet")
        panel.findChild(QSpinBox, "modelHparam_image_size").setValue(64)
        panel.findChild(QSpinBox, "modelHparam_fine_tune_blocks").setValue(1)
    assert "Double-click a backbone layer to fine-tune from it in phase 2" in table.hint_text()
    before = panel.summary["phases"][1]["trainable_params"]

    # fire8 is the second block from the top: phase 2 then trains fire8 and fire9.
    with qtbot.waitSignal(panel.summary_shown, timeout=BUILD_TIMEOUT_MS) as blocker:
        _double_click(qtbot, table, "squeezenet_v1_1/fire8_squeeze1x1")
    assert panel.findChild(QSpinBox, "modelHparam_fine_tune_blocks").value() == 2
    assert state.hparams == {"image_size": 64, "fine_tune_blocks": 2}  # what the project saves
    assert blocker.args[0]["fine_tune"]["value"] == 2
    rows = {row["Layer"]: row for row in table.rows()}
    for part in ("squeeze1x1", "expand1x1", "expand3x3"):
        assert rows[f"fire8_{part}"]["2: fine_tune"] == rows[f"fire9_{part}"]["2: fine_tune"] == "trains"
        assert rows[f"fire7_{part}"]["2: fine_tune"] == "frozen"
    after = panel.summary["phases"][1]
    assert after["trainable_params"] == before + sum(
        r["params"] for r in panel.summary["layers"] if r["name"].startswith("fire8_"))
    assert f"{after['trainable_params']:,} trainable" in table.totals_text()
    assert "top 2 of the backbone's 9 blocks" in table.hint_text()

    # A row outside the backbone's blocks (the head, the input) changes nothing.
    received = []
    state.hparams_changed.connect(received.append)
    for path in ("head_output", "pixels"):
        _double_click(qtbot, table, path)
    qtbot.wait(50)
    assert received == [] and state.hparams == {"image_size": 64, "fine_tune_blocks": 2}
    assert not panel.findChild(QTimer, "modelSummaryDebounceTimer").isActive()

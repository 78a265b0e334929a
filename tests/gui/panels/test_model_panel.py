from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QGroupBox, QLabel, QLineEdit, QListWidget, QPushButton, QSpinBox, QWidget,
)

from tests.audio_helpers import write_tone_dataset
from tests.helpers import untrainable_template
from workbench.core.data.scan import scan_dataset
from workbench.core.templates import get_template, list_templates
from workbench.core.templates.size import estimate_model_size
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
        epochs.setValue(7)  # mnist_cnn's default is 3
    assert state.hparams == {"epochs": 7}
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


def test_each_template_keeps_its_own_edits(panel, state):
    state.set_template("video_cnn_lstm")  # as a project load sets them: the template, then its values
    state.set_hparams({"epochs": 4, "lstm_units": 64})
    assert panel.findChild(QSpinBox, "modelHparam_lstm_units").value() == 64
    _select(panel, "simple_cnn")  # another template starts from its own defaults
    assert state.template_id == "simple_cnn" and state.hparams == {}
    epochs = get_template("simple_cnn").default_hparams()["epochs"]
    assert panel.findChild(QSpinBox, "modelHparam_epochs").value() == epochs
    _select(panel, "video_cnn_lstm")  # and back: the edits come back
    assert state.hparams == {"epochs": 4, "lstm_units": 64}
    assert panel.findChild(QSpinBox, "modelHparam_lstm_units").value() == 64


def test_learning_rate_is_edited_on_a_log_scale(panel, state, qtbot):
    _select(panel, "simple_cnn")  # its default rate: 0.001
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


@pytest.fixture(scope="module")
def sound_scan(tmp_path_factory):
    """Tones at 8 kHz: what the scan of a folder of short recordings reports."""
    root = write_tone_dataset(tmp_path_factory.mktemp("tones") / "data", per_class=3, sample_rates=(8000,))
    return scan_dataset(root)


def test_with_sound_loaded_the_sound_templates_come_first_and_the_others_say_why(make_widget, state, qtbot,
                                                                                 sound_scan):
    panel = make_widget(ModelPanel, state, show=True)
    note = panel.findChild(QLabel, "modelFitLabel")
    assert not note.isVisibleTo(panel)  # mnist_cnn and no data: nothing to say
    state.set_dataset(sound_scan.path, sound_scan)
    audio = [s.id for s in list_templates() if s.modality == "audio"]
    assert panel.listed_templates()[:len(audio)] == audio
    templates = panel.findChild(QListWidget, "modelTemplateList")
    mnist = next(templates.item(r) for r in range(templates.count())
                 if templates.item(r).data(Qt.ItemDataRole.UserRole) == "mnist_cnn")
    assert "needs image data" in mnist.text() and "expects image data" in mnist.toolTip()
    header = panel.findChild(QLabel, "modelFitHeader").text()
    assert f"For the loaded sound data: {len(audio)} templates first" in header
    # The chosen template does not fit: said here, before Start, with a way out.
    assert note.isVisibleTo(panel)
    assert "expects image data" in note.text() and "sound files" in note.text()
    switch = panel.findChild(QPushButton, "modelFitSwitchButton")
    qtbot.wait(10)
    qtbot.mouseClick(switch, Qt.MouseButton.LeftButton)
    assert state.template_id in audio and not note.isVisibleTo(panel)
    assert templates.currentItem().data(Qt.ItemDataRole.UserRole) == state.template_id


def test_the_scan_proposes_sound_settings_accepted_with_one_click(make_widget, state, qtbot, sound_scan):
    panel = make_widget(ModelPanel, state, show=True)  # laid out: the button is clicked where it is drawn
    state.set_dataset(sound_scan.path, sound_scan)
    state.set_template("audio_cnn")
    box = panel.findChild(QGroupBox, "modelProposalBox")
    qtbot.wait(10)  # the box's new lines laid out
    assert box.isVisibleTo(panel)
    facts = panel.findChild(QLabel, "modelDataFactsLabel").text()
    assert "8,000 Hz" in facts and "Durations" in facts  # the scan's sample rates and durations
    proposal = panel.guidance.proposal
    assert proposal.changes["sample_rate"] == 8000 and "duration" in proposal.changes
    assert "sample_rate 16000 → 8000" in panel.findChild(QLabel, "modelProposalLabel").text()
    qtbot.mouseClick(panel.findChild(QPushButton, "modelProposalApplyButton"), Qt.MouseButton.LeftButton)
    assert {k: state.hparams[k] for k in proposal.changes} == proposal.changes
    assert panel.findChild(QSpinBox, "modelHparam_sample_rate").value() == 8000
    assert panel.guidance.proposal.empty  # accepted: nothing left to propose
    assert not panel.findChild(QPushButton, "modelProposalApplyButton").isVisibleTo(panel)


def test_a_shipped_recipe_is_a_one_click_preset(make_widget, state, qtbot, sound_scan):
    panel = make_widget(ModelPanel, state, show=True)
    state.set_dataset(sound_scan.path, sound_scan)
    button = panel.findChild(QPushButton, "modelRecipeButton_spoken_digits")
    qtbot.wait(10)
    assert button.isEnabled() and not panel.findChild(QPushButton, "modelRecipeButton_digits").isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert state.template_id == "audio_cnn"
    assert {k: state.hparams[k] for k in ("sample_rate", "duration", "frames", "epochs")} == \
        {"sample_rate": 8000, "duration": 0.8, "frames": 96, "epochs": 30}
    assert state.audio_augmentation.freq_warp == 0.1 and state.audio_augmentation.time_mask == 8


def test_the_model_size_is_said_and_a_large_one_is_flagged(panel):
    label = panel.findChild(QLabel, "modelSizeLabel")
    base = {"template": "regularized_cnn", "model_name": "regularized_cnn", "input_shape": [150, 150, 3],
            "output": "softmax", "layers": [], "phases": [], "total_params": 0, "trainable_params": 0,
            "non_trainable_params": 0, "fine_tune": None}
    panel._on_summary_built({**base, "size": estimate_model_size(120_000, 120_000, "adam")})
    assert label.isVisibleTo(panel) and label.property("messageKind") == "info"
    assert "120 k parameters" in label.text() and "MB" in label.text()
    panel._on_summary_built({**base, "size": estimate_model_size(44_900_000, 44_900_000, "adam")})
    assert label.property("messageKind") == "warning"
    assert "44.9 M parameters" in label.text() and "539 MB" in label.text() and "Large model" in label.text()

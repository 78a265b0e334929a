from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QWidget

from workbench.core.templates.base import HyperParameter, training_hyperparameters
from workbench.gui.widgets.hyperparameter_form_widget import HyperParameterFormWidget, pretty_name
from workbench.gui.widgets.log_spin_box import LogSpinBox
from workbench.gui.widgets.per_class_table_widget import PerClassTableWidget

pytestmark = pytest.mark.gui

SPECS = training_hyperparameters() + (HyperParameter("augment", True, "bool", "Augment."),)


@pytest.fixture
def form(qtbot):
    widget = HyperParameterFormWidget(object_prefix="hp_")
    qtbot.addWidget(widget)
    widget.set_specs(SPECS)
    return widget


def test_values_round_trip_with_their_types(form):
    assert form.values() == {hp.name: hp.default for hp in SPECS}
    wanted = {"epochs": 3, "learning_rate": 2.5e-4, "optimizer": "sgd", "dropout": 0.3, "augment": False}
    form.set_values(wanted)
    values = form.values()
    assert {k: values[k] for k in wanted} == wanted
    assert type(values["epochs"]) is int and type(values["learning_rate"]) is float
    assert values["seed"] == 42  # names not given fall back to their defaults


def test_only_user_edits_emit(form, qtbot):
    received = []
    form.values_changed.connect(received.append)
    form.set_values({"epochs": 9})
    assert received == []
    form.findChild(QCheckBox, "hp_augment").setChecked(False)
    form.findChild(QComboBox, "hp_optimizer").setCurrentText("rmsprop")
    assert [r["augment"] for r in received] == [False, False]
    assert received[-1]["optimizer"] == "rmsprop" and received[-1]["epochs"] == 9
    assert all(form.findChild(QWidget, f"hp_{hp.name}").toolTip() == hp.help for hp in SPECS)


def test_log_spin_box_steps_on_a_1_2_5_ladder_within_range(qtbot):
    box = LogSpinBox(1e-6, 1.0)
    qtbot.addWidget(box)
    box.setValue(1e-3)
    seen = []
    for _ in range(4):
        box.stepBy(1)
        seen.append(box.value())
    assert seen == pytest.approx([2e-3, 5e-3, 1e-2, 2e-2])
    box.setValue(1e-6)
    box.stepBy(-1)
    assert box.value() == pytest.approx(1e-6) and box.text() == "1e-06"
    box.setValue(0.5)
    box.stepBy(3)
    assert box.value() == 1.0


def test_per_class_table_shows_three_decimals(qtbot):
    table = PerClassTableWidget()
    qtbot.addWidget(table)
    table.set_rows([{"class": "cat", "precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 7}])
    assert [table.item(0, c).text() for c in range(5)] == ["cat", "0.500", "1.000", "0.667", "7"]


def test_labels_read_as_words_with_decibels_spelled_db():
    assert [pretty_name(name) for name in ("learning_rate", "top_db", "band_mean", "dbscan")] == [
        "Learning rate", "Top dB", "Band mean", "Dbscan"]

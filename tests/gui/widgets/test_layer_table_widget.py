from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from workbench.core.templates import get_template
from workbench.core.templates.summary import summarize_template
from workbench.gui.widgets.layer_table_widget import LayerTableWidget

pytestmark = pytest.mark.gui

HPARAMS = {"image_size": 64, "fine_tune_blocks": 1}
PHASE_2 = "2: fine_tune"


@pytest.fixture(scope="module")
def squeezenet():
    return summarize_template("transfer_squeezenet", 3, None, HPARAMS)


@pytest.fixture
def table(qtbot):
    widget = LayerTableWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_the_backbone_blocks_and_what_phase_two_trains(table, squeezenet):
    table.set_summary(squeezenet)
    assert table.column_titles() == ["Layer", "Type", "Output shape", "Parameters", "1: head", PHASE_2]
    rows = {row["Layer"]: row for row in table.rows()}
    base = table.tree.topLevelItem([r["Layer"] for r in table.rows() if r["depth"] == 0].index("squeezenet_v1_1"))
    assert base.childCount() > 30 and base.isExpanded()  # the backbone's layers are its children
    blocks = {name.split("_")[0] for name, row in rows.items() if row["depth"] == 1 and row["Type"] == "Conv2D"}
    assert blocks == {"conv1", *(f"fire{i}" for i in range(2, 10))}
    for part in ("squeeze1x1", "expand1x1", "expand3x3"):
        assert (rows[f"fire9_{part}"]["1: head"], rows[f"fire9_{part}"][PHASE_2]) == ("frozen", "trains")
        assert (rows[f"fire8_{part}"]["1: head"], rows[f"fire8_{part}"][PHASE_2]) == ("frozen", "frozen")
    assert rows["fire9_concat"][PHASE_2] == "—"
    assert rows["head_output"]["1: head"] == rows["head_output"][PHASE_2] == "trains"
    assert rows["squeezenet_v1_1"][PHASE_2] == "partly (197,184)"
    assert rows["squeezenet_v1_1"]["path"] == "squeezenet_v1_1"
    assert rows["fire9_squeeze1x1"]["path"] == "squeezenet_v1_1/fire9_squeeze1x1"

    model = get_template("transfer_squeezenet").build(3, (64, 64, 3), HPARAMS)
    top = sum(int(r["Parameters"].replace(",", "")) for r in table.rows() if r["depth"] == 0)
    assert top == model.count_params()
    totals = table.totals_text()
    assert f"Total parameters: {model.count_params():,}" in totals
    head = model.get_layer("head_output").count_params()
    assert f"Phase 1: head (8 epochs at learning rate 0.001): {head:,} trainable in 1 of 26 layers" in totals
    phase_two = squeezenet["phases"][1]
    assert f"{phase_two['trainable_params']:,} trainable in 4 of 26" in totals
    assert f"{phase_two['frozen_params']:,} frozen" in totals

    # What only phase 2 trains is tinted differently from what trains throughout.
    column = table.column_titles().index(PHASE_2)
    tree = table.tree
    items = {tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())}
    fire9 = next(base.child(i) for i in range(base.childCount()) if base.child(i).text(0) == "fire9_expand3x3")
    fire8 = next(base.child(i) for i in range(base.childCount()) if base.child(i).text(0) == "fire8_expand3x3")
    unfrozen, throughout = fire9.background(column).color(), items["head_output"].background(column).color()
    assert unfrozen.alpha() > 0 and throughout.alpha() > 0 and unfrozen.rgb() != throughout.rgb()
    assert fire8.background(column).style() == Qt.BrushStyle.NoBrush


def test_a_model_in_one_phase_has_a_trainable_column(table):
    table.set_summary(summarize_template("mnist_cnn", 10))
    assert table.column_titles()[-1] == "Trainable"
    rows = {row["Layer"]: row for row in table.rows()}
    assert rows["conv1"]["Trainable"] == "trains" and rows["pool1"]["Trainable"] == "—"
    assert table.totals_text().endswith("(all trainable)")
    table.clear()
    assert table.rows() == [] and table.totals_text() == ""

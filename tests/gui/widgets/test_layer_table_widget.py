from __future__ import annotations

import numpy as np
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
    widget.resize(900, 600)
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
    head_layers = [layer for layer in model.layers if layer.trainable_weights and not layer.name.startswith("squeezenet")]
    head = sum(int(np.prod(w.shape)) for layer in head_layers for w in layer.trainable_weights)
    weighted = 25 + len(head_layers)  # the base's convolutions (conv1, 8 fire modules of 3) and the head's
    assert (f"Phase 1: head (8 epochs at learning rate 0.001): {head:,} trainable in {len(head_layers)} of "
            f"{weighted} layers") in totals
    phase_two = squeezenet["phases"][1]
    assert f"{phase_two['trainable_params']:,} trainable in {len(head_layers) + 3} of {weighted}" in totals
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


def _double_click(qtbot, table: LayerTableWidget, path: str) -> None:
    item = table.item_for_path(path)
    table.tree.scrollToItem(item)
    rect = table.tree.visualItemRect(item)
    assert rect.isValid()
    # A real double-click: a click, then the second press Qt reports as a double-click.
    qtbot.mouseClick(table.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_each_backbone_layer_knows_the_block_phase_two_trains_it_from(squeezenet):
    blocks = {row["name"]: row["block"] for row in squeezenet["layers"]}
    assert squeezenet["fine_tune"] == {"hyperparameter": "fine_tune_blocks", "blocks": 9, "value": 1, "enabled": True}
    assert blocks["fire9_squeeze1x1"] == blocks["fire9_concat"] == 1  # weightless layers go with their block
    assert blocks["fire8_expand3x3"] == 2 and blocks["fire2_squeeze1x1"] == 8 and blocks["conv1"] == 9
    assert blocks["pool5"] == 5  # the pooling after fire5 goes with the block before it
    for outside in ("pixels", "caffe_preprocess", "squeezenet_v1_1", "bgr_caffe", "head_norm", "head_output"):
        assert blocks[outside] is None, outside
    # What each count trains in phase 2 is what the rows say: fine_tune_blocks = k trains blocks 1..k.
    three = summarize_template("transfer_squeezenet", 3, None, {**HPARAMS, "fine_tune_blocks": 3})
    for row in three["layers"]:
        if row["block"] and row["trainable_capable"]:
            assert bool(row["phase_params"][1]) == (row["block"] <= 3), row["name"]
    assert summarize_template("mnist_cnn", 10)["fine_tune"] is None


def test_double_clicking_a_backbone_layer_asks_to_fine_tune_from_its_block(table, squeezenet, qtbot):
    table.set_summary(squeezenet)
    assert "Double-click a backbone layer to fine-tune from it in phase 2" in table.hint_text()
    assert "top 1 of the backbone's 9 blocks" in table.hint_text()
    requested = []
    table.fine_tune_requested.connect(requested.append)
    _double_click(qtbot, table, "squeezenet_v1_1/fire8_squeeze1x1")
    assert requested == [2]
    _double_click(qtbot, table, "squeezenet_v1_1/fire3_concat")
    assert requested == [2, 7]
    for outside in ("head_output", "caffe_preprocess", "squeezenet_v1_1/bgr_caffe"):
        _double_click(qtbot, table, outside)
    assert requested == [2, 7]  # the head, the input and preprocessing are in no block
    # The lowest block phase 2 trains is marked in the phase-2 column, on its first row only.
    column = table.column_titles().index(PHASE_2)
    marked = [row["path"] for row in table.rows() if not table.item_for_path(row["path"]).icon(column).isNull()]
    assert marked == ["squeezenet_v1_1/fire9_squeeze1x1"]
    assert "fine_tune_blocks = 2" in table.item_for_path("squeezenet_v1_1/fire8_expand1x1").toolTip(0)


def test_a_model_without_blocks_has_no_hint(table):
    table.set_summary(summarize_template("mnist_cnn", 10))
    assert table.hint_text() == ""
    requested = []
    table.fine_tune_requested.connect(requested.append)
    assert not table.request_fine_tune_from(table.item_for_path("conv1")) and requested == []

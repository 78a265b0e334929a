"""The GUI's one mapping from a modality to its widgets agrees with the core's registry."""

from __future__ import annotations

import pytest

from workbench.core.modality import DEFAULT_MODALITY, get_modality, modality_names
from workbench.gui.modality_widgets import MODALITY_WIDGETS, live_inputs, widgets_for
from workbench.gui.panels.live.files_test_widget import FilesTestWidget
from workbench.gui.panels.live.live_input_tab import LiveInputTab
from workbench.gui.state import AppState

pytestmark = pytest.mark.gui


def test_every_registered_modality_has_an_entry_under_its_name():
    assert set(modality_names()) <= set(MODALITY_WIDGETS)
    assert all(widgets.name == name for name, widgets in MODALITY_WIDGETS.items())
    assert widgets_for(None) is widgets_for("") is MODALITY_WIDGETS[DEFAULT_MODALITY]
    plain = widgets_for("hologram")  # registered by a plug-in without a GUI entry
    assert plain.augmentation_panel is None and plain.live_inputs == () and not plain.thumbnails


@pytest.mark.parametrize("name", [n for n, w in MODALITY_WIDGETS.items() if w.augmentation_panel is not None])
def test_each_augmentation_page_edits_its_modalitys_spec(make_widget, name):
    panel = make_widget(MODALITY_WIDGETS[name].augmentation_panel, AppState())
    assert type(panel.spec) is get_modality(name).augmentation_spec
    assert [other for other in MODALITY_WIDGETS if panel.edits_spec_of(other)] == [name]


def test_every_test_tab_input_has_the_live_input_methods():
    entries = live_inputs()
    assert len({entry.key for entry in entries}) == len(entries)
    for widget in [entry.widget for entry in entries] + [FilesTestWidget]:
        assert issubclass(widget, LiveInputTab), widget.__name__


def test_nouns_come_from_the_core():
    assert [widgets_for(name).noun for name in ("image", "audio", "video")] == ["image", "sound", "video"]

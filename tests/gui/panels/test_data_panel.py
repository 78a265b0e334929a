"""DataPanel: background scans of real and synthetic folders, warnings, split preview, cancel, recents."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication, QComboBox, QDoubleSpinBox, QLabel, QLineEdit, QListWidget, QProgressBar, QPushButton, QWidget,
)

from tests.helpers import write_image_dataset, write_video_dataset
from tests.paths import MNIST_FOLDERS_SMALL, require_shared
from workbench.gui.panels.data_panel import DataPanel
from workbench.gui.settings_keys import RECENT_DATASETS
from workbench.gui.state import AppState
from workbench.gui.widgets.class_counts_widget import ClassCountsWidget
from workbench.gui.widgets.class_thumbnails_widget import ClassThumbnailsWidget

pytestmark = pytest.mark.gui
SCAN_TIMEOUT_MS = 60_000


@pytest.fixture
def state():
    return AppState()


@pytest.fixture
def make_panel(make_widget, state):
    return lambda: make_widget(DataPanel, state, show=True, size=(900, 700))


@pytest.fixture
def panel(make_panel):
    return make_panel()


def child(panel, cls, name):
    widget = panel.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def load(qtbot, panel, path) -> None:
    with qtbot.waitSignal(panel.scan_finished, timeout=SCAN_TIMEOUT_MS):
        panel.load_path(str(path))


def test_mnist_folder_shows_ten_classes_of_100_and_sets_state(qtbot, panel, state):
    root = require_shared(MNIST_FOLDERS_SMALL)
    with qtbot.waitSignal(state.dataset_changed, timeout=SCAN_TIMEOUT_MS) as changed:
        panel.load_path(str(root))
    report = changed.args[0]
    assert state.scan is report and state.dataset_path == str(root)
    chart = child(panel, ClassCountsWidget, "dataClassCounts")
    assert chart._names == [str(d) for d in range(10)]
    assert chart._counts.tolist() == [100] * 10
    assert "10 classes, 1000 samples" in chart._caption.text()
    summary = child(panel, QLabel, "dataSummaryLabel").text()
    assert "Image" in summary and "one sub-folder per class" in summary
    thumbs = child(panel, ClassThumbnailsWidget, "dataThumbnails")
    assert thumbs.row_counts() == {str(d): 6 for d in range(10)}
    assert child(panel, QListWidget, "dataUnreadableList").count() == 0
    assert not child(panel, QLabel, "dataWarningsLabel").isVisible()
    # The panel is idle again and the path went into the recent list.
    assert not child(panel, QProgressBar, "dataScanProgress").isVisible()
    assert child(panel, QPushButton, "dataChooseFolderButton").isEnabled()
    assert QSettings().value(RECENT_DATASETS)[0] == str(root)


def test_val_split_updates_preview_counts_and_state(qtbot, panel, state):
    load(qtbot, panel, require_shared(MNIST_FOLDERS_SMALL))
    label = child(panel, QLabel, "dataSplitPreviewLabel")
    qtbot.waitUntil(lambda: "800 train / 200 validation" in label.text(), timeout=SCAN_TIMEOUT_MS)
    child(panel, QDoubleSpinBox, "dataValSplitSpin").setValue(0.3)
    qtbot.waitUntil(lambda: "700 train / 300 validation" in label.text(), timeout=SCAN_TIMEOUT_MS)
    assert state.val_fraction == pytest.approx(0.3)
    assert label.property("messageKind") == "info"


def test_group_regex_preview_and_invalid_regex_error(qtbot, panel, state, tmp_path):
    people = ["anna", "ben", "carl", "dora", "emil"]
    root = tmp_path / "grouped"
    for person in people:
        write_image_dataset(root, {"hbar": 4, "vbar": 4}, name=f"{{cls}}_{person}_{{i:02d}}",
                            seed=len(person))
    load(qtbot, panel, root)
    label = child(panel, QLabel, "dataSplitPreviewLabel")
    edit = child(panel, QLineEdit, "dataGroupRegexEdit")
    assert edit.placeholderText() and "group" in edit.toolTip().lower()
    qtbot.keyClicks(edit, "_([a-z]+)_")
    qtbot.waitUntil(lambda: "none on both sides" in label.text(), timeout=SCAN_TIMEOUT_MS)
    assert state.group_regex == "_([a-z]+)_"
    # Each person holds 8 files, so both sides are whole multiples of 8.
    train, val = (int(part.split()[0]) for part in label.text().split("·")[0].split("/"))
    assert train + val == 40 and train % 8 == 0 and val % 8 == 0 and val > 0

    edit.setText("_([a-z")
    qtbot.waitUntil(lambda: "Invalid group regex" in label.text(), timeout=SCAN_TIMEOUT_MS)
    assert label.property("messageKind") == "error" and "color" in label.styleSheet()


def test_unreadable_file_is_listed_with_its_reason(qtbot, panel, tmp_path):
    root = write_image_dataset(tmp_path / "data", {"a_hbar": 8, "b_vbar": 8})
    (root / "b_vbar" / "broken.png").write_bytes(b"this is not a png")
    load(qtbot, panel, root)
    listing = child(panel, QListWidget, "dataUnreadableList")
    assert listing.count() == 1
    assert listing.item(0).text().startswith("broken.png — ")
    assert listing.isVisible()
    assert "1 unreadable file" in child(panel, QLabel, "dataWarningsLabel").text()


def test_single_class_folder_shows_a_warning(qtbot, panel, tmp_path):
    root = write_image_dataset(tmp_path / "one", {"only": 10})
    load(qtbot, panel, root)
    warnings = child(panel, QLabel, "dataWarningsLabel")
    assert warnings.isVisible() and "Only 1 class" in warnings.text()
    label = child(panel, QLabel, "dataSplitPreviewLabel")
    qtbot.waitUntil(lambda: "at least 2 classes" in label.text(), timeout=SCAN_TIMEOUT_MS)


def test_cancel_during_scan_leaves_the_panel_idle(qtbot, panel, state, tmp_path):
    # Enough files that the scan is still running when Cancel is clicked; copies of one PNG are
    # quicker to write than 2000 distinct ones and just as slow to verify.
    sample = write_image_dataset(tmp_path / "one", {"x": 1}, size=48) / "x" / "x_000.png"
    root = tmp_path / "big"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(1000):
            (root / cls / f"{cls}_{i:04d}.png").write_bytes(sample.read_bytes())
    with qtbot.waitSignal(panel.scan_runner.progressed, timeout=SCAN_TIMEOUT_MS):
        panel.load_path(str(root))
    progress = child(panel, QProgressBar, "dataScanProgress")
    cancel = child(panel, QPushButton, "dataCancelScanButton")
    assert progress.isVisible() and cancel.isEnabled() and panel.scan_runner.busy
    assert not child(panel, QPushButton, "dataChooseFolderButton").isEnabled()
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert not progress.isVisible() and not cancel.isVisible()
    assert child(panel, QPushButton, "dataChooseFolderButton").isEnabled()
    assert child(panel, QComboBox, "dataRecentCombo").isEnabled()
    assert "cancelled" in child(panel, QLabel, "dataStatusLabel").text()
    qtbot.waitUntil(lambda: not panel.scan_runner.busy, timeout=SCAN_TIMEOUT_MS)
    assert state.scan is None and panel.report is None  # the cancelled result was dropped


def test_missing_recent_path_shows_a_message(qtbot, make_panel, tmp_path):
    gone = str(tmp_path / "moved_away")
    QSettings().setValue(RECENT_DATASETS, [gone])
    panel = make_panel()
    combo = child(panel, QComboBox, "dataRecentCombo")
    assert combo.count() == 1 and combo.itemData(0) == gone
    combo.activated.emit(0)
    status = child(panel, QLabel, "dataStatusLabel")
    assert "no longer exists" in status.text() and status.property("messageKind") == "error"
    assert combo.count() == 0 and not panel.scanning


def test_dropping_a_folder_scans_it(qtbot, panel, state, tmp_path):
    root = write_image_dataset(tmp_path / "dropped", {"a_hbar": 6, "b_vbar": 6})
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(root))])
    point = QPointF(panel.rect().center())
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(panel.scan_finished, timeout=SCAN_TIMEOUT_MS):
        QApplication.sendEvent(panel, drop)
    assert state.dataset_path == str(root) and state.scan.class_names == ["a_hbar", "b_vbar"]

    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a dataset")
    mime.setUrls([QUrl.fromLocalFile(str(text_file))])
    refused = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, refused)
    assert not refused.isAccepted()


def test_interactive_widgets_have_names(panel):
    names = ["dataChooseFolderButton", "dataChooseNpzButton", "dataRecentCombo", "dataScanProgress",
             "dataCancelScanButton", "dataValSplitSpin", "dataGroupRegexEdit", "dataSplitPreviewLabel",
             "dataUnreadableList", "dataWarningsLabel"]
    for name in names:
        widget = panel.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName(), name


def test_project_load_through_the_state_updates_the_panel(qtbot, panel, state, tmp_path):
    from workbench.core.data.scan import scan_dataset

    root = write_image_dataset(tmp_path / "project_data", {"a_hbar": 7, "b_vbar": 9})
    report = scan_dataset(root)
    with qtbot.waitSignal(panel.scan_finished, timeout=SCAN_TIMEOUT_MS):
        state.set_dataset(str(root), report)  # as the main window does when it opens a project
    assert panel.report is report and state.scan is report  # shown, not rescanned
    assert child(panel, ClassCountsWidget, "dataClassCounts")._counts.tolist() == [7, 9]
    assert child(panel, ClassThumbnailsWidget, "dataThumbnails").row_counts() == {"a_hbar": 6, "b_vbar": 6}

    state.set_split(0.25, "_(\\d)")
    assert child(panel, QDoubleSpinBox, "dataValSplitSpin").value() == pytest.approx(0.25)
    assert child(panel, QLineEdit, "dataGroupRegexEdit").text() == "_(\\d)"
    assert (state.val_fraction, state.group_regex) == (0.25, "_(\\d)")


def test_files_passed_over_are_listed_with_why(qtbot, panel, tmp_path):
    root = write_image_dataset(tmp_path / "data", {"a_hbar": 8, "b_vbar": 8})
    (root / "a_hbar" / "notes.txt").write_text("not a sample")
    (root / ".cache").mkdir()
    load(qtbot, panel, root)
    listing = child(panel, QListWidget, "dataUnreadableList")
    texts = [listing.item(i).text() for i in range(listing.count())]
    assert listing.isVisible() and len(texts) == 2, texts
    assert any("notes.txt" in t for t in texts) and any(".cache" in t for t in texts), texts


UCF_REGEX = r"_g(\d+)_"


def write_ucf_style_clips(root, groups: int = 3):
    """UCF101-style names, ``v_<Class>_g<GG>_c<CC>.avi``: ``groups`` groups of 2 clips per class."""
    pytest.importorskip("cv2")
    write_video_dataset(root, {"a_hbar": 2 * groups, "b_vbar": 2 * groups}, size=16, frames=4)
    for cls in ("a_hbar", "b_vbar"):
        for i in range(2 * groups):
            (root / cls / f"{cls}_{i}.avi").rename(root / cls / f"v_{cls}_g{i // 2 + 1:02d}_c{i % 2 + 1:02d}.avi")
    return root


def test_grouped_file_names_fill_in_the_suggested_group_regex(qtbot, panel, state, tmp_path):
    edit = child(panel, QLineEdit, "dataGroupRegexEdit")
    note = child(panel, QLabel, "dataGroupRegexNote")
    assert edit.text() == "" and not note.isVisible()
    grouped = write_ucf_style_clips(tmp_path / "ucf")
    load(qtbot, panel, grouped)
    assert edit.text() == UCF_REGEX and state.group_regex == UCF_REGEX  # recorded for the project too
    assert note.isVisible() and "Suggested from the file names (3 groups)" in note.text()
    label = child(panel, QLabel, "dataSplitPreviewLabel")
    qtbot.waitUntil(lambda: "none on both sides" in label.text(), timeout=SCAN_TIMEOUT_MS)

    # A folder whose names show no groups: the earlier suggestion does not fit it and goes.
    plain = write_video_dataset(tmp_path / "plain", {"a_hbar": 3, "b_vbar": 3}, size=16, frames=4)
    load(qtbot, panel, plain)
    assert edit.text() == "" and state.group_regex == "" and not note.isVisible()

    # Cleared by the user, a suggestion is not offered again for that folder.
    load(qtbot, panel, grouped)
    assert edit.text() == UCF_REGEX
    edit.clear()
    assert not note.isVisible()
    load(qtbot, panel, grouped)
    assert edit.text() == "" and state.group_regex == "" and not note.isVisible()


def test_the_suggestion_never_replaces_a_typed_or_project_regex(qtbot, panel, state, tmp_path):
    grouped = write_ucf_style_clips(tmp_path / "ucf")
    edit = child(panel, QLineEdit, "dataGroupRegexEdit")
    note = child(panel, QLabel, "dataGroupRegexNote")
    qtbot.keyClicks(edit, "_c(\\d+)")  # typed by the user before the scan
    load(qtbot, panel, grouped)
    assert edit.text() == "_c(\\d+)" and state.group_regex == "_c(\\d+)" and not note.isVisible()

    state.set_split(0.25, "^v_([a-z]+)_")  # as a loaded project does, before it scans its dataset
    load(qtbot, panel, grouped)
    assert edit.text() == "^v_([a-z]+)_" and state.group_regex == "^v_([a-z]+)_" and not note.isVisible()

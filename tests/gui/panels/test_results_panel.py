from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QTableWidget

from tests.helpers import write_image_dataset
from workbench.core.data.scan import scan_dataset
from workbench.core.training import TrainConfig, train
from workbench.gui.panels.results_jobs import SampleImageLoader, cell_samples
from workbench.gui.panels.results_panel import ResultsPanel
from workbench.gui.state import AppState

pytestmark = pytest.mark.gui

JOB_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny, deliberately undertrained run (a learning rate of 1e-6 for one epoch), so its
    evaluation has mistakes to click on."""
    root = tmp_path_factory.mktemp("results_run")
    data = write_image_dataset(root / "data", {"a_hbar": 20, "b_vbar": 20, "c_blob": 20})
    result = train(TrainConfig(template="simple_cnn", data=str(data), out_dir=str(root / "run"),
                               hparams={"epochs": 1, "batch_size": 8, "learning_rate": 1e-6}))
    assert result.model_path is not None
    return result.run_dir, data


@pytest.fixture
def state():
    return AppState()


@pytest.fixture
def panel(make_widget, state):
    return make_widget(ResultsPanel, state, size=(1000, 800))


def _off_diagonal_cell(evaluation) -> tuple[int, int]:
    matrix = np.array(evaluation["confusion_matrix"])
    np.fill_diagonal(matrix, 0)
    assert matrix.max() > 0, "the undertrained run made no mistakes; the fixture needs a worse model"
    t, p = np.unravel_index(matrix.argmax(), matrix.shape)
    return int(t), int(p)


def test_show_run_fills_the_matrix_and_per_class_table(panel, state, trained_run):
    run_dir, _data = trained_run
    assert panel.show_run(str(run_dir))
    evaluation = panel.evaluation
    matrix = evaluation["confusion_matrix"]
    k = len(evaluation["class_names"])
    assert k == 3
    for t in range(k):
        for p in range(k):
            assert panel.confusion_matrix.cell_label(t, p)[0] == str(matrix[t][p])
    table = panel.findChild(QTableWidget, "resultsPerClassTable")
    assert table.rowCount() == 3
    assert [table.item(r, 0).text() for r in range(3)] == ["a_hbar", "b_vbar", "c_blob"]
    assert [int(table.item(r, 4).text()) for r in range(3)] == [sum(row) for row in matrix]
    assert f"{evaluation['accuracy']:.1%}" in panel.findChild(QLabel, "resultsAccuracyLabel").text()
    assert "Best epoch" in panel.findChild(QLabel, "resultsBestEpochLabel").text()
    assert state.model_path == str(run_dir / "model.keras")


def test_clicking_a_cell_shows_its_misclassified_samples(panel, qtbot, trained_run):
    run_dir, _data = trained_run
    panel.show_run(str(run_dir))
    panel.show()
    qtbot.waitExposed(panel)
    t, p = _off_diagonal_cell(panel.evaluation)
    expected = cell_samples(panel.evaluation, t, p)
    view = panel.confusion_matrix.view
    matrix = panel.confusion_matrix

    def laid_out() -> bool:  # pyqtgraph maps the cells once the view has been laid out and painted
        centre = matrix.cell_center(t, p)
        return matrix.cell_at(centre.x(), centre.y()) == (t, p)

    qtbot.waitUntil(laid_out, timeout=5000)
    with qtbot.waitSignal(panel.samples_shown, timeout=JOB_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=matrix.cell_center(t, p))
    assert blocker.args == [len(expected)] and panel.thumbnails.count() == len(expected)
    names = panel.evaluation["class_names"]
    first = panel.thumbnails.button(0).toolTip()
    assert first.startswith(f"{names[t]}→{names[p]} ") and first.endswith("%")
    confidences = [int(panel.thumbnails.button(i).toolTip().split()[-1].rstrip("%"))
                   for i in range(panel.thumbnails.count())]
    assert confidences == sorted(confidences, reverse=True)

    with qtbot.waitSignal(panel.samples_shown, timeout=1000):
        panel.confusion_matrix.cell_clicked.emit(t, t)
    assert panel.thumbnails.count() == 0
    assert "Only misclassified samples are listed" in panel.findChild(QLabel, "resultsSampleNote").text()
    # A cell chosen from code (not a click) is framed in the matrix too.
    with qtbot.waitSignal(panel.samples_shown, timeout=JOB_TIMEOUT_MS):
        panel.show_cell(p, t)
    assert matrix.selected_cell() == (p, t)


def _colourfulness(button) -> int:
    """The largest difference between the red and blue of a thumbnail's pixels (0 for grey)."""
    image = button.icon().pixmap(64, 64).toImage()
    return max(abs(image.pixelColor(x, y).red() - image.pixelColor(x, y).blue())
               for x in range(0, image.width(), 4) for y in range(0, image.height(), 4))


def test_gradcam_colours_the_misclassified_samples_off_the_gui_thread(panel, qtbot, trained_run, monkeypatch):
    import threading

    from workbench.core.inference import gradcam

    computed_in: list[int] = []
    heatmap = gradcam.GradCam.heatmap

    def recording_heatmap(self, *args, **kwargs):
        computed_in.append(threading.get_ident())
        return heatmap(self, *args, **kwargs)

    monkeypatch.setattr(gradcam.GradCam, "heatmap", recording_heatmap)
    run_dir, _data = trained_run
    panel.show_run(str(run_dir))
    toggle = panel.findChild(QCheckBox, "resultsGradCamToggle")
    assert toggle.isEnabled() and not toggle.isChecked()
    t, p = _off_diagonal_cell(panel.evaluation)
    with qtbot.waitSignal(panel.samples_shown, timeout=JOB_TIMEOUT_MS) as plain:
        panel.show_cell(t, p)
    assert _colourfulness(panel.thumbnails.button(0)) < 10 and not computed_in  # grey samples, no heat maps
    with qtbot.waitSignal(panel.samples_shown, timeout=JOB_TIMEOUT_MS) as coloured:
        toggle.setChecked(True)  # the selected cell's samples again, with their heat maps
    assert coloured.args == plain.args and panel.thumbnails.count() == plain.args[0]
    assert _colourfulness(panel.thumbnails.button(0)) > 60
    assert len(computed_in) == plain.args[0] and threading.get_ident() not in computed_in


def test_export_tflite_shows_the_parity_figure(panel, qtbot, trained_run, tmp_path):
    run_dir, _data = trained_run
    panel.show_run(str(run_dir))
    target = tmp_path / "exported" / "digits.tflite"
    with qtbot.waitSignal(panel.export_finished, timeout=JOB_TIMEOUT_MS) as blocker:
        panel.export_to(str(target), "tflite", "none")
        assert panel.findChild(QLabel, "resultsBusyLabel").text().startswith("Exporting")
    assert target.is_file()
    assert blocker.args[0]["parity_max_abs_diff"] < 1e-4
    text = panel.findChild(QLabel, "resultsExportStatus").text()
    assert "largest probability difference" in text and "real samples" in text
    assert "top-1 agreement 100%" in text


def test_a_model_without_evaluation_can_be_evaluated_on_the_dataset(panel, state, qtbot, trained_run, tmp_path):
    run_dir, data = trained_run
    copy = tmp_path / "copied"
    copy.mkdir()
    for name in ("model.keras", "model.json"):
        shutil.copy(run_dir / name, copy / name)
    evaluate = panel.findChild(QPushButton, "resultsEvaluateButton")
    assert panel.open_model(str(copy / "model.keras"))
    assert panel.evaluation is None and not evaluate.isEnabled()
    assert "Evaluate on dataset" in panel.findChild(QLabel, "resultsSampleNote").text()
    state.set_dataset(str(data), scan_dataset(data))
    assert evaluate.isEnabled()
    with qtbot.waitSignal(panel.evaluation_shown, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(evaluate, Qt.MouseButton.LeftButton)
    assert panel.evaluation["num_samples"] == 60  # a plain folder is evaluated whole
    assert panel.confusion_matrix.cell_label(0, 0)[0] == str(panel.evaluation["confusion_matrix"][0][0])


@pytest.mark.parametrize("content", ["[1, 2]", '{"class_names": ["a"], "accuracy": "high"}', "{not json"],
                         ids=["list", "wrong-type", "not-json"])
def test_a_damaged_evaluation_opens_the_model_and_says_why(panel, trained_run, tmp_path, content):
    run_dir, _data = trained_run
    copy = tmp_path / "damaged"
    copy.mkdir()
    for name in ("model.keras", "model.json"):
        shutil.copy(run_dir / name, copy / name)
    (copy / "evaluation.json").write_text(content)
    assert panel.open_model(str(copy / "model.keras"))
    assert panel.evaluation is None
    note = panel.findChild(QLabel, "resultsSampleNote").text()
    assert "Expected an evaluation written by workbench" in note and "evaluate it again" in note


def test_state_signals_bring_a_run_in_and_bad_paths_are_reported(panel, state, trained_run, tmp_path):
    run_dir, _data = trained_run
    state.run_finished.emit({"status": "failed", "model_path": "", "run_dir": str(tmp_path)})
    assert panel.model_path == ""
    state.run_finished.emit({"status": "completed", "model_path": str(run_dir / "model.keras"),
                             "run_dir": str(run_dir)})
    assert panel.model_path == str(run_dir / "model.keras") and panel.evaluation is not None
    assert not panel.open_model(str(tmp_path / "missing.keras"))
    assert "does not exist" in panel.findChild(QLabel, "resultsExportStatus").text()
    assert panel.model_path == str(run_dir / "model.keras")  # the shown model stays


def test_sample_loader_reads_npz_ids_and_relative_paths(tmp_path, monkeypatch):
    x = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 4, 4)
    np.savez(tmp_path / "digits.npz", x_train=x, y_train=np.arange(5), x_test=x[::-1], y_test=np.arange(5))
    loader = SampleImageLoader()
    assert np.array_equal(loader.load("npz:x_test[1]", str(tmp_path / "digits.npz")), x[3])
    data = write_image_dataset(tmp_path / "data", {"a": 1, "b": 1})
    monkeypatch.chdir(tmp_path)
    relative = "data/a/a_000.png"
    monkeypatch.chdir(tmp_path / "data")  # training ran elsewhere: resolve through the dataset path
    assert loader.resolve(relative, str(data), "data") == data / "a" / "a_000.png"
    assert loader.load(relative, str(data), "data").shape == (28, 28)


def test_a_sound_models_cell_lists_its_clips_to_hear_and_see(panel, qtbot, tmp_path):
    """A sound model's mistakes are clips: listed most confident first, the first shown as the model
    read it (spectrogram, probabilities) with Play — not a hidden list."""
    import json

    from tests.hardware.spoken_digits import FSDD, recording, require_model
    from workbench.core.sidecar import sidecar_path

    model = require_model()
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(model, run / "model.keras")
    shutil.copy(sidecar_path(model), run / "model.json")
    recording("3/3_george_1.wav")
    names = [str(d) for d in range(10)]
    matrix = [[5 if t == p else 0 for p in range(10)] for t in range(10)]
    matrix[3][8] = 2
    mistakes = [{"sample": str(FSDD / "3" / f"3_george_{i}.wav"), "true": "3", "predicted": "8", "confidence": c}
                for i, c in ((2, 0.55), (1, 0.91))]
    (run / "evaluation.json").write_text(json.dumps({
        "class_names": names, "accuracy": 0.96, "top_k_accuracy": 1.0, "macro_f1": 0.96, "num_samples": 52,
        "top_k": 3, "confusion_matrix": matrix, "per_class": [], "misclassified": mistakes,
        "num_misclassified": 2}))
    assert panel.show_run(str(run))
    heading = panel.findChild(QLabel, "resultsHeading").text()
    assert "(ensemble of 2)" in heading and "joins 2 runs" in heading  # not "? epoch(s)": it trained no epochs
    panel.show()
    clips = panel.cell_clips()
    with qtbot.waitSignal(clips.clip_shown, timeout=JOB_TIMEOUT_MS) as shown:
        panel.show_cell(3, 8)
    assert clips.isVisible() and clips.clips.count() == 2
    assert clips.clips.item(0).text().startswith("3_george_1.wav   3→8 91%")  # most confident first
    assert shown.args == [mistakes[1]["sample"]]
    assert clips.detail.view.image() is not None and clips.detail.sound()[0].size > 0
    panel.show_cell(3, 3)  # the diagonal: nothing to hear
    assert not clips.isVisible() and clips.clips.count() == 0

"""The Files tab with a sound model: audio files are accepted and classified, images refused.

Written against the shipped spoken-digit model (see tests/hardware/spoken_digits.py): without it
these tests fail, they do not skip.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from tests.core.test_sound_files import spoken_digits
from tests.hardware.spoken_digits import recording, require_model
from workbench.gui.panels.live.files_test_widget import FilesTestWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui


@pytest.fixture
def files(make_widget):
    model = require_model()
    widget = make_widget(FilesTestWidget, PredictorCache())
    widget.set_model(str(model))
    return widget


def test_sound_files_are_classified_with_their_duration(qtbot, files):
    paths = [str(recording(f"{d}/{d}_george_1.wav")) for d in ("3", "7")]
    with qtbot.waitSignal(files.predictions_shown, timeout=90_000):
        files.classify(paths)
    assert files.row_count() == 2
    assert [files.prediction_text(r).split()[0] for r in range(2)] == ["3", "7"]
    assert files._table.item(0, 0).text().endswith("s · 8 kHz")
    assert files._table.horizontalHeaderItem(0).text() == "Sound"


def test_the_selected_file_is_shown_as_the_model_heard_it(qtbot, files, tmp_path):
    from workbench.core.audio.dataset import load_clip_for_model
    from workbench.core.inference import Predictor

    long = spoken_digits(tmp_path, "351")
    paths = [str(recording("7/7_george_1.wav")), str(long)]
    with qtbot.waitSignal(files.predictions_shown, timeout=90_000):
        files.classify(paths)
    # The long recording's row reads its words in order; a row for each word follows it.
    assert files.row_count() == 2 + 3
    assert files.prediction_text(1) == "3 · 5 · 1  (3 words)"
    assert [files.prediction_text(r).split()[0] for r in (2, 3, 4)] == ["3", "5", "1"]
    assert files._table.item(3, 1).text().strip().startswith("↳ word 2, ")
    # The first row is selected: its clip, spectrogram and probabilities are shown.
    detail = files.detail
    predictor = Predictor.load(files._model_path)
    config = predictor.audio_config
    clip, rate = detail.sound()
    np.testing.assert_array_equal(clip, load_clip_for_model(paths[0], config))
    assert rate == config.sample_rate
    assert detail.view.image().shape == (config.n_mels, config.frames)
    assert detail.bars.top_label_text().startswith("7")
    # The recording's row: the whole recording, its three words marked, Play plays it all.
    files.select_row(1)
    assert detail.view.spans_shown() == 3 and detail.bars.isHidden()
    assert detail.sound()[0].size == pytest.approx(soundfile.info(str(long)).frames, abs=1)
    assert "3 word(s) found" in detail.note_text()
    # A word's row: the clip the model read for that word, as the microphone would prepare it.
    files.select_row(3)
    assert not detail.bars.isHidden() and detail.bars.top_label_text().startswith("5")
    assert detail.view.spans_shown() == 0 and "word 2" in detail.title_text()
    assert detail.sound()[0].size == config.num_samples


def test_image_files_are_refused_by_a_sound_model(files, tmp_path):
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    files.classify([str(image)])
    assert files.row_count() == 0
    assert "Expected sound files (.flac, .mp3, .ogg, .wav)" in files._status.text()

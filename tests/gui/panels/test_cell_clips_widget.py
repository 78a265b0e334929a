"""The sound clips of a confusion-matrix cell: listed most confident first, the selected one shown as
the model read it (spectrogram, probabilities) with Play — real FSDD clips, the shipped model."""

from __future__ import annotations

import numpy as np
import pytest

from tests.hardware.spoken_digits import FSDD, recording, require_model
from workbench.core.audio.dataset import load_clip_for_model
from workbench.core.inference import Predictor
from workbench.gui.panels.cell_clips_widget import CellClipsWidget
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui


@pytest.fixture
def clips(make_widget):
    model = require_model()
    widget = make_widget(CellClipsWidget, PredictorCache())
    widget.set_model(str(model), [str(d) for d in range(10)], str(FSDD), "data/fsdd")
    return widget, model


def test_the_cell_clips_are_listed_and_the_first_is_heard(qtbot, clips):
    widget, model = clips
    recording("3/3_george_1.wav")
    samples = [  # ids as evaluation records them: relative to where training ran
        {"sample": "data/fsdd/3/3_george_1.wav", "true": "3", "predicted": "8", "confidence": 0.91},
        {"sample": "data/fsdd/3/3_george_2.wav", "true": "3", "predicted": "8", "confidence": 0.55},
    ]
    with qtbot.waitSignal(widget.clip_shown, timeout=90_000) as shown:
        widget.show_samples(samples)
    assert widget.clips.count() == 2
    assert widget.clips.item(0).text() == "3_george_1.wav   3→8 91%"
    assert shown.args == [str(FSDD / "3" / "3_george_1.wav")]
    config = Predictor.load(model).audio_config
    clip, rate = widget.detail.sound()
    np.testing.assert_array_equal(clip, load_clip_for_model(FSDD / "3" / "3_george_1.wav", config))
    assert rate == config.sample_rate and widget.detail._play.isEnabled()
    assert widget.detail.view.image().shape == (config.n_mels, config.frames)
    assert widget.detail.bars.top_label_text()  # every class's probability is drawn
    with qtbot.waitSignal(widget.clip_shown, timeout=30_000) as shown:
        widget.clips.setCurrentRow(1)
    assert shown.args == [str(FSDD / "3" / "3_george_2.wav")]
    assert "3_george_2.wav" in widget.detail.title_text()


def test_a_missing_clip_says_so(qtbot, clips):
    widget, _ = clips
    with qtbot.waitSignal(widget._reader.failed, timeout=60_000):
        widget.show_samples([{"sample": "data/fsdd/3/gone.wav", "true": "3", "predicted": "8", "confidence": 0.9}])
    assert widget.detail.title_text().startswith("Could not read gone.wav")
    assert not widget.detail._play.isEnabled()

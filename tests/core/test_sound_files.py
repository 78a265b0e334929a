"""Sound files as the model hears them: the words of a long recording, cut like the microphone's."""

from __future__ import annotations

import json

import soundfile

import numpy as np
import pytest

from tests.audio_helpers import tone, write_wav
from tests.paths import SHARED_DATA, require_shared
from workbench.core.inference.sound_files import find_words

RATE = 8000


def test_find_words_cuts_each_burst_and_places_it_in_time():
    rng = np.random.default_rng(0)
    quiet = lambda s: rng.normal(0, 0.002, int(s * RATE)).astype(np.float32)  # noqa: E731
    recording = np.concatenate([quiet(0.5), tone(400, 0.4, RATE), quiet(0.6), tone(900, 0.3, RATE), quiet(0.7)])
    words = find_words(recording, RATE)
    assert len(words) == 2
    starts = [w.start / RATE for w in words]
    ends = [w.speech_end / RATE for w in words]
    assert starts[0] == pytest.approx(0.5 - 0.15, abs=0.03)  # the detector's pre-roll before the onset
    assert ends[0] == pytest.approx(0.9, abs=0.03) and ends[1] == pytest.approx(1.8, abs=0.03)


def test_a_recording_that_starts_mid_word_still_finds_the_first_word():
    """Live, the first frame teaches the detector its noise floor; a file may begin with speech."""
    rng = np.random.default_rng(1)
    recording = np.concatenate([tone(500, 0.4, RATE), rng.normal(0, 0.002, 8000).astype(np.float32),
                                tone(700, 0.4, RATE), rng.normal(0, 0.002, 4000).astype(np.float32)])
    words = find_words(recording, RATE)
    assert len(words) == 2
    assert words[0].start == 0 and words[1].start / RATE == pytest.approx(1.4 - 0.15, abs=0.03)


def test_silence_has_no_words():
    assert find_words(np.zeros(3 * RATE, np.float32), RATE) == []


@pytest.fixture(scope="module")
def shipped():
    from workbench.core.inference import Predictor
    from workbench.core.resources import resource_path

    return Predictor.load(resource_path("models", "spoken_digits.keras"))


def spoken_digits(tmp_path, digits: str, speaker: str = "george") -> tuple:
    """A recording of FSDD words of the shipped model's held-out speaker, 0.5 s of room noise apart."""
    from workbench.core.audio import read_audio

    rng = np.random.default_rng(2)
    parts = [rng.normal(0, 0.001, 2000).astype(np.float32)]
    for digit in digits:
        samples, rate = read_audio(require_shared(SHARED_DATA / "fsdd" / digit / f"{digit}_{speaker}_3.wav"))
        assert rate == RATE
        parts += [samples.astype(np.float32), rng.normal(0, 0.001, 4000).astype(np.float32)]
    return write_wav(tmp_path / f"{digits}.wav", np.concatenate(parts), RATE)


@pytest.mark.slow
def test_each_word_of_a_long_recording_is_read(shipped, tmp_path):
    from workbench.core.audio.dataset import load_clip_for_model
    from workbench.core.inference.sound_files import predict_sound_file

    path = spoken_digits(tmp_path, "351")
    result = predict_sound_file(shipped, path)
    assert [w.label for w in result.words] == ["3", "5", "1"]
    assert all(a.end_s <= b.start_s for a, b in zip(result.words, result.words[1:]))
    # The file's own prediction is made on the clip training would have read from it.
    np.testing.assert_array_equal(result.clip, load_clip_for_model(path, shipped.audio_config))
    config = shipped.audio_config
    assert result.features.shape == (config.frames, config.n_mels)
    assert result.duration_s == pytest.approx(soundfile.info(str(path)).duration, abs=1e-3)
    one_word = predict_sound_file(shipped, require_shared(SHARED_DATA / "fsdd" / "7" / "7_george_3.wav"))
    assert one_word.prediction.label == "7" and one_word.words == []  # not longer than the clip


@pytest.mark.slow
def test_the_command_line_reads_words_too(shipped, tmp_path, capsys):
    from tests.cli.test_cli import assert_user_error
    from workbench.cli import run_cli

    path = spoken_digits(tmp_path, "82")
    assert run_cli(["predict", "--model", str(shipped.path), "--words", "--json", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [w["label"] for w in printed["words"]] == ["8", "2"]
    assert printed["duration_s"] > 1.0 and printed["words"][0]["start_s"] < printed["words"][1]["start_s"]
    assert run_cli(["predict", "--model", str(shipped.path), "--words", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and [line.split(" s: ")[1].split()[0] for line in lines[1:]] == ["8", "2"]
    from workbench.core.resources import resource_path

    digits = resource_path("models", "digits.keras")
    assert_user_error(capsys, ["predict", "--model", str(digits), "--words", str(path)], "Expected a sound model")

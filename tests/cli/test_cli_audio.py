"""The command line on a sound folder: scan statistics, train with audio augmentation and a
held-out group, predict a clip, evaluate, export."""

from __future__ import annotations

import json

import pytest

from tests.audio_helpers import write_tone_dataset
from tests.cli.test_cli import assert_user_error
from workbench.cli import run_cli

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    return write_tone_dataset(tmp_path_factory.mktemp("cli-audio") / "tones", per_class=6)


@pytest.fixture(scope="module")
def model(tones, tmp_path_factory):
    run = tmp_path_factory.mktemp("cli-audio-run") / "run"
    code = run_cli(["train", "--template", "audio_cnn", "--data", str(tones), "--epochs", "1", "--batch-size", "6",
                    "--hparam", "sample_rate=8000", "--hparam", "duration=0.5", "--group-regex", "_([a-z]+)_",
                    "--val-groups", "bob", "--augment", "time_shift=0.1", "speed=0.1", "noise=0.5", "freq_mask=4",
                    "--out", str(run)])
    assert code == 0
    return run / "model.keras"


def test_scan_prints_durations_and_sample_rates(tones, capsys):
    assert run_cli(["scan", str(tones)]) == 0
    out = capsys.readouterr().out
    assert "audio, 18 samples in 3 classes" in out and "sample rates: 8000 Hz ×" in out and "16000 Hz ×" in out


def test_train_records_the_held_out_group_and_audio_augmentation(model):
    sidecar = json.loads(model.with_suffix(".json").read_text())
    assert sidecar["split"]["val_groups"] == ["bob"]
    assert sidecar["augmentation"]["speed"] == 0.1 and sidecar["augmentation"]["freq_mask"] == 4
    assert sidecar["template"] == "audio_cnn" and sidecar["input_shape"] == [4000]


def test_predict_and_evaluate_sound(model, tones, capsys):
    clip = tones / "mid" / "mid_alice_0.wav"
    assert run_cli(["predict", "--model", str(model), str(clip), "--json", "--top-k", "3"]) == 0
    prediction = json.loads(capsys.readouterr().out)
    assert prediction["source"] == str(clip) and len(prediction["top"]) == 3
    assert run_cli(["evaluate", "--model", str(model), "--data", str(tones), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["num_samples"] == 18


def test_audio_user_errors(tones, tmp_path, capsys):
    base = ["train", "--template", "audio_cnn", "--data", str(tones), "--out", str(tmp_path / "run")]
    assert_user_error(capsys, base + ["--augment", "rotation=10"], "rotation")
    assert_user_error(capsys, base + ["--augment", "speed=2"], "speed")
    assert_user_error(capsys, base + ["--group-regex", "_([a-z]+)_", "--val-groups", "carol"], "carol")
    assert_user_error(capsys, base + ["--hparam", "sample_rate=8000", "--hparam", "fmax=6000"], "fmax")
    assert not (tmp_path / "run").exists()

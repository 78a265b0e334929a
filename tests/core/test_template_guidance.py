"""What the app says about a template before Start: whether it fits the data (and why not), the
settings the scan proposes, the shipped recipes as presets, and how large the model will be.
No TensorFlow: these are the checks the Model and Training panels run as the state changes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.audio_helpers import write_tone_dataset
from tests.helpers import write_image_dataset
from workbench.core.data.scan import scan_dataset
from workbench.core.templates import list_templates
from workbench.core.templates.fit import rank_templates, template_fit
from workbench.core.templates.proposal import describe_files, propose_settings
from workbench.core.templates.recipes import shipped_recipes
from workbench.core.templates.size import estimate_model_size


@pytest.fixture(scope="module")
def sounds(tmp_path_factory):
    return scan_dataset(write_tone_dataset(tmp_path_factory.mktemp("tones") / "data", per_class=4))


def _sound_scan(durations, rate=8000, sound=None):
    """A scan's worth of sound files (what the scan records for each) without writing any."""
    files = [f"c/{i}.wav" for i in range(len(durations))]
    info = {f: {"duration": d, "sample_rate": rate, "sound_duration": (sound or durations)[i]}
            for i, (f, d) in enumerate(zip(files, durations))}
    stats = {"files": len(files), "duration_min": min(durations), "duration_median": float(np.median(durations)),
             "duration_max": max(durations), "sample_rates": {str(rate): len(files)}}
    return SimpleNamespace(modality="audio", path="/data/words", num_samples=len(files), files=files,
                           file_info=info, file_statistics=stats, sample_shape=None)


def test_an_image_template_does_not_fit_sound_and_says_what_it_expected_and_received(sounds):
    fit = template_fit("mnist_cnn", sounds)
    assert not fit.fits
    assert "expects image data" in fit.reason
    assert f"Received: {sounds.num_samples} sound files in data" in fit.reason
    assert template_fit("audio_cnn", sounds).fits
    assert template_fit("mnist_cnn", None).fits  # no data yet: nothing to refuse


def test_the_templates_that_fit_come_first(sounds):
    ranked = rank_templates(sounds)
    audio = [s.id for s in list_templates() if s.modality == "audio"]
    assert [f.template for f in ranked[:len(audio)]] == audio
    assert all(f.fits for f in ranked[:len(audio)]) and not any(f.fits for f in ranked[len(audio):])


def test_sound_settings_are_proposed_from_the_clips():
    # 100 words: 99 hold at most 0.67 s of sound, one 2.2 s outlier; all recorded at 8 kHz.
    sound = [0.3 + 0.37 * i / 98 for i in range(99)] + [2.2]
    scan = _sound_scan([s + 0.1 for s in sound], sound=sound)
    proposal = propose_settings(scan, "audio_cnn", {})
    # The shipped spoken-digit recipe's values, found from the data: 8 kHz, 0.8 s, 96 frames.
    assert proposal.changes == {"sample_rate": 8000, "duration": 0.8, "frames": 96}
    assert "8,000 Hz" in proposal.reasons["sample_rate"] and "99%" in proposal.reasons["duration"]
    assert any("16000 → 8000" in line for line in proposal.lines())
    assert propose_settings(scan, "audio_cnn", proposal.changes).empty  # accepted: nothing left to propose
    assert propose_settings(scan, "mnist_cnn", {}).empty  # another modality: no proposal
    facts = " ".join(describe_files(scan))
    assert "8,000 Hz ×100" in facts and "2.30 s" in facts  # the rates and durations the scan found


def test_a_high_rate_is_capped_and_fmax_follows():
    scan = _sound_scan([0.5] * 10, rate=44100)
    proposal = propose_settings(scan, "audio_cnn", {"sample_rate": 44100, "fmax": 12000.0})
    assert proposal.changes["sample_rate"] == 16000 and proposal.changes["fmax"] == 0.0
    assert "sample_rate" not in propose_settings(scan, "audio_cnn", {}).changes  # 16 kHz already


def test_photos_propose_an_input_size_where_the_template_has_one(tmp_path):
    scan = scan_dataset(write_image_dataset(tmp_path / "photos", {"a": 3, "b": 3}, size=100, rgb=True))
    assert scan.file_statistics["width_median"] == 100 and scan.file_statistics["channels"] == {"3": 6}
    assert propose_settings(scan, "transfer_keras", {}).changes == {"image_size": 128}
    assert propose_settings(scan, "regularized_cnn", {}).empty  # a fixed 150×150 input
    assert "6 images, all 100×100 px; colour ×6." in describe_files(scan)


def test_the_shipped_recipes_are_presets_of_template_hyperparameters_and_augmentation():
    recipes = {r.name: r for r in shipped_recipes()}
    spoken = recipes["spoken_digits"]
    assert spoken.template == "audio_cnn"
    # Makefile SPOKEN_DIGITS_FLAGS, as the shipped model's sidecar records them.
    assert {k: spoken.hparams[k] for k in ("sample_rate", "duration", "frames", "epochs")} == \
        {"sample_rate": 8000, "duration": 0.8, "frames": 96, "epochs": 30}
    augmentation = spoken.augmentation_spec()
    assert augmentation.freq_warp == 0.1 and augmentation.time_mask == 8
    # The shipped model joins two runs of the recipe: the preset trains one, and says so.
    assert spoken.ensemble_seeds == (7, 8) and "joins 2 runs of it, seeds 7, 8" in spoken.describe()
    assert recipes["digits"].ensemble_seeds == () and "joins" not in recipes["digits"].describe()


def test_a_large_model_is_flagged_before_training():
    # regularized_cnn with Flatten on 150×150 photos: 44.9 M weights wrote a 539 MB model.keras.
    size = estimate_model_size(44_900_000, 44_900_000, "adam")
    assert size["file_mb"] == pytest.approx(539, abs=1) and size["weights_mb"] == pytest.approx(180, abs=1)
    assert "Large model: 44.9 M parameters" in size["warning"] and "Received" not in size["warning"]
    assert estimate_model_size(300_000, 300_000, "adam")["warning"] == ""
    assert estimate_model_size(10_000_000, 10_000_000, "sgd")["file_mb"] == pytest.approx(80)

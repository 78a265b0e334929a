"""Sound folders: scan statistics and unreadable files, the cached tf.data pipeline, augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_helpers import tone, write_tone_dataset, write_wav
from workbench.core.audio import AudioConfig
from workbench.core.audio.augment import AudioAugmentationSpec, augment_audio_samples, spec_augment_spectrograms
from workbench.core.augmentation import augmentation_from_dict, augmentation_from_pairs
from workbench.core.image.augment import AugmentationSpec
from workbench.core.data import scan_dataset
from workbench.core.data.pipeline import Subset, make_tf_dataset, split_dataset, subset_arrays
from workbench.core.errors import DatasetError, WorkbenchError


@pytest.fixture
def tones(tmp_path):
    return write_tone_dataset(tmp_path / "tones", per_class=6)


def test_scan_reports_durations_and_sample_rates(tones):
    report = scan_dataset(tones)
    assert report.modality == "audio" and report.class_names == ["high", "low", "mid"]
    assert report.counts == {"high": 6, "low": 6, "mid": 6} and not report.unreadable
    stats = report.to_dict()["file_statistics"]
    assert stats["files"] == 18
    assert set(stats["sample_rates"]) == {"8000", "16000"} and sum(stats["sample_rates"].values()) == 18
    assert 0.4 <= stats["duration_min"] <= stats["duration_median"] <= stats["duration_max"] <= 1.2


def test_scan_flags_empty_silent_and_broken_files_with_reasons(tones):
    (tones / "low" / "empty.wav").write_bytes(b"")
    write_wav(tones / "low" / "silence.wav", np.zeros(8000, np.float32), 8000)
    write_wav(tones / "mid" / "no_frames.wav", np.zeros(0, np.float32), 8000)
    (tones / "high" / "text.wav").write_text("not a sound")
    report = scan_dataset(tones)
    reasons = {item["path"].rsplit("/", 1)[-1]: item["reason"] for item in report.unreadable}
    assert set(reasons) == {"empty.wav", "silence.wav", "no_frames.wav", "text.wav"}
    assert "empty" in reasons["empty.wav"]
    assert "silent" in reasons["silence.wav"]
    assert "no audio frames" in reasons["no_frames.wav"] or "empty" in reasons["no_frames.wav"]
    assert report.counts == {"high": 6, "low": 6, "mid": 6}
    assert report.file_statistics["files"] == 18
    assert any("4 unreadable" in w for w in report.warnings)


def test_pipeline_gives_fixed_length_waveforms_and_caches_them(tones, monkeypatch):
    from workbench.core.audio import dataset as audio_dataset

    config = AudioConfig(sample_rate=8000, duration=0.5)
    report = scan_dataset(tones)
    subset = Subset(report.files, report.labels)
    calls = []
    original = audio_dataset.load_clip_for_model
    monkeypatch.setattr(audio_dataset, "load_clip_for_model", lambda p, c: calls.append(p) or original(p, c))
    ds = make_tf_dataset(subset, (4000,), 4, preprocessing=config.to_preprocessing())
    first = np.concatenate([x.numpy() for x, _ in ds])
    second = np.concatenate([x.numpy() for x, _ in ds])
    assert first.shape == (18, 4000) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert len(calls) == 18  # the second pass read the cache, not the files
    np.testing.assert_array_equal(first, subset_arrays(subset, (4000,), preprocessing=config.to_preprocessing()))
    with pytest.raises(DatasetError, match="Expected an audio model input of 4000 samples"):
        make_tf_dataset(subset, (16000,), 4, preprocessing=config.to_preprocessing())


def test_augmentation_acts_on_the_training_split_only(tones):
    config = AudioConfig(sample_rate=8000, duration=0.5)
    report = scan_dataset(tones)
    subset = Subset(report.files, report.labels)
    spec = AudioAugmentationSpec(time_shift=0.2, gain_db=6, noise=1.0)
    plain = np.concatenate([x.numpy() for x, _ in make_tf_dataset(
        subset, (4000,), 18, augmentation=spec, preprocessing=config.to_preprocessing())])
    epochs = [np.concatenate([x.numpy() for x, _ in ds]) for ds in [make_tf_dataset(
        subset, (4000,), 18, training=True, augmentation=spec, seed=1, preprocessing=config.to_preprocessing())] * 2]
    again = np.concatenate([x.numpy() for x, _ in make_tf_dataset(
        subset, (4000,), 18, training=True, augmentation=spec, seed=1, preprocessing=config.to_preprocessing())])
    reference = subset_arrays(subset, (4000,), preprocessing=config.to_preprocessing())
    np.testing.assert_array_equal(plain, reference)
    assert not np.allclose(epochs[0], epochs[1])  # fresh draws every epoch
    np.testing.assert_array_equal(epochs[0], again)  # and reproducible with the same seed


def test_audio_augmentation_spec_parses_validates_and_lists_its_options():
    spec = augmentation_from_pairs(["time_shift=0.1", "speed=0.15", "freq_mask=8", "noise=0.5"], "audio")
    assert isinstance(spec, AudioAugmentationSpec) and spec.freq_mask == 8 and spec.enabled
    assert augmentation_from_dict(spec.to_dict()) == spec
    assert isinstance(augmentation_from_pairs(["rotation=10"], "image"), AugmentationSpec)
    assert not AudioAugmentationSpec().enabled
    for option in AudioAugmentationSpec.options():
        assert option.minimum <= option.default <= option.maximum and option.help
        assert getattr(AudioAugmentationSpec(), option.name) == option.default
    for bad in (["speed=0.9"], ["rotation=10"], ["freq_mask=2.5"], ["noise=abc"], ["snr_min=40", "snr_max=20"]):
        with pytest.raises(WorkbenchError, match="Received"):
            AudioAugmentationSpec.from_pairs(bad)


def test_augment_audio_samples_previews_what_training_does():
    clip = np.zeros(8000, np.float32)
    clip[3000:5000] = tone(500.0, 0.25, 8000)
    spec = AudioAugmentationSpec(time_shift=0.2, speed=0.2)
    out = augment_audio_samples(clip[None], spec, n=6, seed=0)
    assert out.shape == (1, 6, 8000)
    np.testing.assert_array_equal(out, augment_audio_samples(clip[None], spec, n=6, seed=0))
    assert len({int(np.argmax(np.abs(v) > 0.01)) for v in out[0]}) > 1  # shifted by different amounts
    np.testing.assert_array_equal(augment_audio_samples(clip, AudioAugmentationSpec(), n=2)[0, 1], clip)
    masked = spec_augment_spectrograms(np.ones((2, 64, 64), np.float32), AudioAugmentationSpec(freq_mask=8, time_mask=8),
                                       AudioConfig(), 0)
    assert masked.shape == (2, 64, 64) and (masked == 0).any()


def test_speed_perturbation_changes_pitch_by_the_factor():
    from workbench.core.audio.augment import augment_waveforms

    clip = tone(1000.0, 1.0, 16000)
    for seed in range(3):
        out = np.asarray(augment_waveforms(clip[None], np.array([seed, 7]), AudioAugmentationSpec(speed=0.3)))[0]
        middle = out[4000:12000]
        frequency = np.fft.rfftfreq(middle.size, 1 / 16000)[np.argmax(np.abs(np.fft.rfft(middle)))]
        assert 700 <= frequency <= 1300 and abs(frequency - 1000) > 1  # changed, within ±30%


def test_group_split_can_hold_out_named_groups(tones):
    report = scan_dataset(tones)
    split = split_dataset(report, group_regex=r"_([a-z]+)_", val_groups=["bob"])
    assert all("_bob_" in f for f in split.val.ids) and all("_alice_" in f for f in split.train.ids)
    with pytest.raises(DatasetError, match="Received: carol"):
        split_dataset(report, group_regex=r"_([a-z]+)_", val_groups=["carol"])
    with pytest.raises(DatasetError, match="group regex"):
        split_dataset(report, val_groups=["bob"])


def test_noise_snr_is_over_the_sound_and_noise_local_keeps_it_around_the_word():
    from workbench.core.audio import prepare_clip
    from workbench.core.audio.augment import augment_waveforms

    config = AudioConfig()
    word = tone(440.0, 0.3, config.sample_rate)
    clip = prepare_clip(word, config)
    start = (config.num_samples - word.size) // 2
    speech = np.mean(clip[start:start + word.size] ** 2)
    spec = AudioAugmentationSpec(noise=1.0, snr_min=10.0, snr_max=10.0)
    added = np.asarray(augment_waveforms(np.stack([clip] * 8), np.array([3, 4]), spec)) - clip
    assert 10 * np.log10(speech / np.mean(added ** 2)) == pytest.approx(10.0, abs=0.5)
    # noise_local: around the word only, within a quarter of the clip beyond it; elsewhere silence
    spec = AudioAugmentationSpec(noise=1.0, noise_local=1.0, snr_min=10.0, snr_max=10.0)
    added = np.asarray(augment_waveforms(np.stack([clip] * 8), np.array([3, 4]), spec)) - clip
    margin = config.num_samples // 4
    assert not added[:, :max(0, start - margin - 1)].any()
    assert not added[:, start + word.size + margin + 1:].any()
    assert 10 * np.log10(speech / np.mean(added[:, start:start + word.size] ** 2)) == pytest.approx(10.0, abs=0.5)
    assert (added[:, :start] != 0).any() and (added[:, start + word.size:] != 0).any()  # some margin


def test_eq_colours_the_spectrum_differently_per_clip():
    from workbench.core.audio.augment import augment_waveforms

    noise = np.random.default_rng(0).normal(0, 0.1, (16, 16000)).astype(np.float32)
    out = np.asarray(augment_waveforms(noise, np.array([1, 2]), AudioAugmentationSpec(eq=0.5)))
    spectra = np.abs(np.fft.rfft(out, axis=1)) ** 2
    low, high = spectra[:, 200:2000].mean(axis=1), spectra[:, 6000:7800].mean(axis=1)
    tilt_db = 10 * np.log10(low / high)
    assert tilt_db.max() - tilt_db.min() > 6.0  # different clips, different microphones
    assert np.abs(tilt_db).max() < 25.0

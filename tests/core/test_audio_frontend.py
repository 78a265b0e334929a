"""The log-mel front end: shapes, a tone lands in its mel band, serialisation, SpecAugment."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_helpers import tone
from workbench.core.audio import AudioConfig
from workbench.core.errors import DatasetError


@pytest.fixture(scope="module")
def frontend():
    from workbench.core.audio import frontend

    return frontend


def test_defaults_give_a_64_by_64_image_from_one_second_at_16_khz():
    config = AudioConfig()
    assert (config.sample_rate, config.num_samples, config.window_length, config.fft_length) == (16000, 16000, 400, 512)
    assert config.hop_length == 247  # 1 + (16000 - 400) // 247 = 64 frames
    assert 1 + (config.num_samples - config.window_length) // config.hop_length >= config.frames
    assert config.feature_shape == (64, 64, 1)
    assert AudioConfig.from_preprocessing(config.to_preprocessing()) == config


@pytest.mark.parametrize("sample_rate, duration", [(16000, 1.0), (8000, 1.0), (16000, 0.25), (22050, 2.0)])
def test_layer_output_shape(frontend, sample_rate, duration):
    config = AudioConfig(sample_rate=sample_rate, duration=duration)
    layer = frontend.LogMelSpectrogram.from_config_of(config)
    out = np.asarray(layer(np.random.default_rng(0).normal(size=(3, config.num_samples)).astype(np.float32)))
    assert out.shape == (3, 64, 64, 1)
    assert np.all(np.isfinite(out))
    # Per-utterance standardisation: zero mean, unit variance over each clip.
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 1.0, atol=1e-2)


@pytest.mark.parametrize("frequency", [250.0, 700.0, 1500.0, 3000.0, 6000.0])
def test_a_pure_tone_lands_in_its_mel_band(frontend, frequency):
    config = AudioConfig()
    features = frontend.log_mel(tone(frequency, 1.0, config.sample_rate), config)
    assert features.shape == (64, 64)
    loudest_band = int(np.argmax(features.mean(axis=0)))
    centres = frontend.mel_center_frequencies(config)
    nearest_band = int(np.argmin(np.abs(centres - frequency)))
    assert abs(loudest_band - nearest_band) <= 1, (loudest_band, nearest_band, centres[loudest_band])
    # librosa's HTK mel scale agrees on the centre frequencies.
    import librosa

    expected = librosa.mel_frequencies(config.n_mels + 2, fmin=config.fmin, fmax=config.mel_fmax, htk=True)[1:-1]
    np.testing.assert_allclose(centres, expected, rtol=1e-6)


def test_level_does_not_change_the_features(frontend):
    config = AudioConfig()
    x = tone(440.0, 1.0, config.sample_rate) + tone(1800.0, 1.0, config.sample_rate, 0.1)
    loud, quiet = frontend.log_mel(x, config), frontend.log_mel(x * 0.01, config)
    np.testing.assert_allclose(loud, quiet, atol=1e-3)


def test_silence_gives_flat_features(frontend):
    features = frontend.log_mel(np.zeros(16000, np.float32), AudioConfig())
    assert np.all(np.isfinite(features)) and np.abs(features).max() < 0.05


def test_model_with_the_front_end_round_trips_through_save_and_load(frontend, tmp_path):
    import keras

    from workbench.core.audio.layers import SpecAugment

    config = AudioConfig(sample_rate=8000, duration=0.5, n_mels=32, frames=32)
    inputs = keras.Input((config.num_samples,))
    x = frontend.LogMelSpectrogram.from_config_of(config, name="log_mel")(inputs)
    x = SpecAugment(4, 4, name="spec_augment")(x)
    outputs = keras.layers.Dense(3)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    waves = np.random.default_rng(1).normal(size=(2, config.num_samples)).astype(np.float32)
    expected = np.asarray(model(waves, training=False))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    np.testing.assert_array_equal(np.asarray(loaded(waves, training=False)), expected)
    layer = loaded.get_layer("log_mel")
    assert (layer.sample_rate, layer.n_mels, layer.frames, layer.frame_step) == (8000, 32, 32, config.hop_length)
    assert loaded.get_layer("spec_augment").freq_mask == 4
    # The display helper runs the same computation as the model's layer.
    features = keras.Model(loaded.input, loaded.get_layer("log_mel").output)(waves)
    np.testing.assert_allclose(frontend.log_mel(waves, config), np.asarray(features)[..., 0], atol=1e-5)


def test_spec_augment_masks_only_in_training():
    from workbench.core.audio.layers import SpecAugment

    x = np.random.default_rng(2).normal(size=(8, 64, 64, 1)).astype(np.float32) + 5.0
    layer = SpecAugment(freq_mask=10, time_mask=10, mask_count=2, seed=3)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    masked = np.asarray(layer(x, training=True))
    zeros = masked == 0.0
    assert zeros.any() and not zeros.all()
    # Masks are whole rows (time) or columns (mel bands).
    for sample in zeros[..., 0]:
        rows, cols = sample.all(axis=1), sample.all(axis=0)
        assert np.array_equal(sample, rows[:, None] | cols[None, :])


def test_frequency_warp_moves_a_tone_by_the_factor_and_only_in_training(frontend):
    from workbench.core.audio.layers import SpecAugment

    config = AudioConfig(sample_rate=8000)
    features = frontend.log_mel(tone(1000.0, 1.0, 8000), config)[None, ..., None]
    centres = frontend.mel_center_frequencies(config)
    layer = SpecAugment(freq_warp=0.2, fmin=config.fmin, fmax=config.mel_fmax, seed=4)
    np.testing.assert_array_equal(np.asarray(layer(features, training=False)), features)
    peak = lambda f: float(centres[int(np.argmax(f[0, 32, :, 0]))])  # noqa: E731
    assert abs(peak(features) - 1000.0) < 60.0
    moved = [peak(np.asarray(layer(features, training=True))) for _ in range(12)]
    # Each draw stretches by its own factor within ±20%; the band grid is ~5% wide at 1 kHz.
    assert all(780.0 <= f <= 1260.0 for f in moved), moved
    assert min(moved) < 950.0 and max(moved) > 1050.0, moved
    # The warp keeps the time axis: every frame of the steady tone moves alike.
    warped = np.asarray(layer(features, training=True))
    assert len({int(np.argmax(frame)) for frame in warped[0, 2:-2, :, 0]}) == 1


def test_frequency_warp_is_saved_with_the_model_and_needs_band_frequencies(tmp_path):
    import keras

    from workbench.core.audio.augment import AudioAugmentationSpec, configure_spec_augment
    from workbench.core.audio.layers import SpecAugment
    from workbench.core.errors import WorkbenchError
    from workbench.core.templates import get_template

    spec = get_template("audio_cnn")
    hp = spec.resolve_hparams({"sample_rate": 8000, "base_filters": 4, "blocks": 2})
    model = spec.build(3, spec.input_shape_for(hp), hp)
    assert configure_spec_augment(model, AudioAugmentationSpec(freq_warp=0.15)) == 1
    model.save(tmp_path / "m.keras")
    layer = keras.models.load_model(tmp_path / "m.keras", compile=False).get_layer("spec_augment")
    assert (layer.freq_warp, layer.fmin, layer.fmax) == (0.15, 20.0, 4000.0)
    bare = keras.Sequential([keras.Input((8, 16, 1)), SpecAugment()])
    with pytest.raises(WorkbenchError, match="Received: layer"):
        configure_spec_augment(bare, AudioAugmentationSpec(freq_warp=0.1))
    assert configure_spec_augment(bare, AudioAugmentationSpec(freq_mask=2)) == 1


def test_too_short_a_clip_is_an_error():
    with pytest.raises(DatasetError, match="Received"):
        AudioConfig(sample_rate=8000, duration=0.01)



def test_band_mean_removes_a_fixed_colouring_that_the_plain_features_keep(frontend):
    from scipy.signal import lfilter

    config = AudioConfig(sample_rate=8000, duration=0.8, frames=96)
    rng = np.random.default_rng(4)
    # A word-like sound: noise bursts whose spectrum changes over time, then the same through a tilting
    # "microphone" (pre-emphasis, about +12 dB from low to high bands).
    word = np.concatenate([lfilter([1.0], [1.0, -0.9 * np.cos(k)], rng.normal(size=1600)) for k in range(4)])
    word = (word / np.abs(word).max()).astype(np.float32)
    coloured = lfilter([1.0, -0.95], [1.0], word).astype(np.float32)
    banded = AudioConfig(**{**config.__dict__, "band_mean": True})
    plain_change = np.abs(frontend.log_mel(word, config) - frontend.log_mel(coloured, config)).mean()
    banded_features = frontend.log_mel(word, banded)
    banded_change = np.abs(banded_features - frontend.log_mel(coloured, banded)).mean()
    assert banded_change < 0.5 * plain_change, (banded_change, plain_change)
    # Each band is centred over the clip; the whole image is still standardised.
    np.testing.assert_allclose(banded_features.mean(axis=0), 0.0, atol=1e-4)
    assert abs(float(banded_features.std()) - 1.0) < 0.02


def test_top_db_and_band_mean_travel_from_hyperparameters_to_the_saved_layer(tmp_path):
    import keras

    from workbench.core.templates import get_template

    spec = get_template("audio_cnn")
    hp = spec.resolve_hparams({"sample_rate": 8000, "duration": 0.5, "frames": 32, "base_filters": 4,
                               "blocks": 1, "top_db": 50, "band_mean": "true"})
    config = AudioConfig.from_hparams(hp)
    assert (config.top_db, config.band_mean) == (50.0, True)
    assert AudioConfig.from_preprocessing(spec.preprocessing_for(hp)) == config
    model = spec.build(3, spec.input_shape_for(hp), hp)
    model.save(tmp_path / "m.keras")
    layer = keras.models.load_model(tmp_path / "m.keras", compile=False).get_layer("log_mel")
    assert (layer.top_db, layer.band_mean) == (50.0, True)
    # A sidecar written before these options existed reads as the front end it was trained with.
    old = {k: v for k, v in config.to_preprocessing().items() if k not in ("top_db", "band_mean")}
    assert (AudioConfig.from_preprocessing(old).top_db, AudioConfig.from_preprocessing(old).band_mean) == (80.0, False)
    with pytest.raises(DatasetError, match="top_db"):
        AudioConfig(top_db=0.0)

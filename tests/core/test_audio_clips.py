"""Decoding, resampling and fixed-length clips: the numpy half of the audio front end."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from tests.audio_helpers import tone, write_wav
from workbench.core.audio import AudioConfig, is_silent, load_audio, prepare_clip, resample, sliding_windows, trim_silence
from workbench.core.audio.clips import loudest_window, normalise, pad_center
from workbench.core.errors import DatasetError

RATE = 16000


def dominant_frequency(samples: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1.0 / sample_rate)[np.argmax(spectrum)])


def with_silence(body: np.ndarray, before: float, after: float, rate: int = RATE) -> np.ndarray:
    return np.concatenate([np.zeros(int(before * rate), np.float32), body, np.zeros(int(after * rate), np.float32)])


def test_trim_silence_keeps_the_sound_and_a_margin():
    body = tone(440.0, 0.4, RATE)
    trimmed = trim_silence(with_silence(body, 0.5, 0.7), RATE)
    # 0.4 s of sound plus the 50 ms margin either side, plus up to one 25 ms analysis frame each side
    # (a frame that only partly overlaps the tone is loud enough to count as sound).
    assert 0.4 * RATE <= trimmed.size <= (0.4 + 2 * (0.05 + 0.025)) * RATE
    assert np.abs(trimmed).max() == pytest.approx(0.3, rel=1e-3)


def test_quiet_background_noise_is_trimmed_too():
    rng = np.random.default_rng(0)
    clip = with_silence(tone(800.0, 0.3, RATE), 0.4, 0.4)
    clip = clip + rng.normal(0, 0.0005, clip.size).astype(np.float32)  # about -66 dBFS
    assert trim_silence(clip, RATE).size < 0.45 * RATE


def test_is_silent():
    assert is_silent(np.zeros(RATE), RATE)
    assert is_silent(np.zeros(0), RATE)
    assert is_silent(np.random.default_rng(0).normal(0, 1e-4, RATE), RATE)  # -80 dBFS hiss
    assert not is_silent(tone(440.0, 0.1, RATE, 0.05), RATE)


@pytest.mark.parametrize("seconds", [0.2, 0.999, 1.0, 1.7])
def test_prepare_clip_gives_the_fixed_length(seconds):
    config = AudioConfig()
    clip = prepare_clip(with_silence(tone(440.0, seconds, RATE, 0.05), 0.3, 0.3), config)
    assert clip.shape == (config.num_samples,) and clip.dtype == np.float32
    assert np.abs(clip).max() == pytest.approx(1.0, rel=1e-4)  # peak-normalised per utterance


def test_short_sounds_are_centred_long_ones_keep_their_loudest_part():
    padded = pad_center(np.ones(100, np.float32), 1000)
    assert padded[450:550].all() and not padded[:450].any() and not padded[550:].any()
    long = np.concatenate([np.full(500, 0.1), np.full(300, 0.9), np.full(500, 0.1)]).astype(np.float32)
    window = loudest_window(long, 400)
    assert window.size == 400 and np.count_nonzero(window == np.float32(0.9)) == 300


def test_normalisation_modes():
    x = tone(440.0, 0.2, RATE, 0.01)
    assert np.abs(normalise(x, "peak")).max() == pytest.approx(1.0)
    assert np.sqrt(np.mean(normalise(x, "rms") ** 2)) == pytest.approx(0.1, rel=1e-3)
    np.testing.assert_array_equal(normalise(x, "none"), x)


def test_a_silent_recording_prepares_to_zeros():
    assert not prepare_clip(np.zeros(RATE, np.float32), AudioConfig()).any()


def test_resampling_8k_to_16k_keeps_a_tones_frequency(tmp_path):
    path = write_wav(tmp_path / "a.wav", tone(1000.0, 0.5, 8000), 8000)
    upsampled = load_audio(path, 16000)
    assert upsampled.size == pytest.approx(8000, abs=2)
    assert dominant_frequency(upsampled, 16000) == pytest.approx(1000.0, abs=5.0)
    down = resample(tone(3000.0, 0.5, 44100), 44100, 16000)
    assert dominant_frequency(down, 16000) == pytest.approx(3000.0, abs=5.0)


def test_stereo_files_are_mixed_to_mono(tmp_path):
    left, right = tone(440.0, 0.2, RATE), tone(440.0, 0.2, RATE) * 0.5
    path = tmp_path / "stereo.flac"
    soundfile.write(str(path), np.stack([left, right], axis=1), RATE)
    np.testing.assert_allclose(load_audio(path, RATE), 0.75 * left, atol=1e-4)


def test_unreadable_files_raise_dataset_errors_with_the_reason(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("not a sound")
    with pytest.raises(DatasetError, match=r"Expected a readable sound file.*Received: .*empty"):
        load_audio(tmp_path / "empty.wav", RATE)
    with pytest.raises(DatasetError, match=r"Received: .*text\.wav"):
        load_audio(tmp_path / "text.wav", RATE)
    with pytest.raises(DatasetError, match="does not exist"):
        load_audio(tmp_path / "missing.wav", RATE)


def test_sliding_windows_cover_a_long_recording():
    samples = np.arange(11_000, dtype=np.float32)
    windows = sliding_windows(samples, 4000, 2000)
    assert windows.shape == (5, 4000)
    np.testing.assert_array_equal(windows[1], samples[2000:6000])
    assert windows[-1, -1] == 0.0  # the last window is padded
    assert sliding_windows(samples[:100], 4000, 2000).shape == (1, 4000)

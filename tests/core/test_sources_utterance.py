"""Utterance detection, silence trimming, sliding windows, smoothing, WAV saving, display spectrogram.

Streams are synthetic: low noise with bursts of a harmonic tone whose times are known, fed in
blocks the way the microphone's drain timer delivers them.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from workbench.core.errors import DatasetError
from workbench.core.sources.display_spectrogram import StreamingSpectrogram, hz_to_mel
from workbench.core.sources.ring_buffer import AudioRingBuffer
from workbench.core.sources.utterance import (DetectorConfig, ProbabilitySmoother, SlidingWindow,
                                              SlidingWindowClassifier, UtteranceDetector, save_class_clip, save_wav,
                                              trim_silence)

RATE = 16000


def burst(seconds: float, amplitude: float = 0.3, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * (np.sin(2 * np.pi * freq * t) + 0.5 * np.sin(2 * np.pi * 3 * freq * t))).astype(np.float32)


def noise(seconds: float, level: float = 1e-3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, level, int(seconds * RATE)).astype(np.float32)


def feed_in_blocks(detector: UtteranceDetector, stream: np.ndarray, block: int = 640) -> list:
    found = []
    for i in range(0, stream.size, block):
        found += detector.feed(stream[i:i + block])
    return found


# ----------------------------------------------------------------------------------- ring buffer
def test_ring_buffer_drains_what_was_written_across_the_wrap():
    ring = AudioRingBuffer(10)
    ring.write(np.arange(6, dtype=np.float32))
    assert ring.drain().tolist() == [0, 1, 2, 3, 4, 5]
    ring.write(np.arange(6, 13, dtype=np.float32))  # wraps around the end
    assert ring.drain().tolist() == [6, 7, 8, 9, 10, 11, 12]
    assert ring.read_latest(4).tolist() == [9, 10, 11, 12]
    assert ring.last_block().tolist() == [6, 7, 8, 9, 10, 11, 12]
    assert ring.total_written == 13
    assert ring.drain().size == 0


def test_ring_buffer_keeps_only_the_newest_capacity_when_the_reader_is_late():
    ring = AudioRingBuffer(8)
    for start in range(0, 30, 3):
        ring.write(np.arange(start, start + 3, dtype=np.float32))
    assert ring.drain().tolist() == list(range(22, 30))
    ring.write(np.arange(100, 120, dtype=np.float32))  # one block larger than the buffer
    assert ring.read_latest(100).tolist() == list(range(112, 120))


def test_ring_buffer_copies_a_strided_view_of_a_two_channel_block():
    block = np.arange(10, dtype=np.float32).reshape(5, 2)
    ring = AudioRingBuffer(16)
    ring.write(block[:, 0])
    block[:] = -1  # PortAudio reuses its buffer after the callback returns
    assert ring.drain().tolist() == [0, 2, 4, 6, 8]


# -------------------------------------------------------------------------------------- detector
def test_detector_cuts_each_utterance_with_pre_roll_and_without_the_hangover():
    config = DetectorConfig()
    stream = np.concatenate([noise(0.5), burst(0.6), noise(0.8, seed=1), burst(0.4), noise(0.6, seed=2)])
    found = feed_in_blocks(UtteranceDetector(RATE, config), stream)
    assert len(found) == 2
    first, second = found
    assert first.start == pytest.approx((0.5 - config.pre_roll_s) * RATE, abs=0.011 * RATE)
    assert first.end == pytest.approx((1.1 + config.post_roll_s) * RATE, abs=0.011 * RATE)
    assert first.fired_at == pytest.approx((1.1 + config.hangover_s) * RATE, abs=0.011 * RATE)
    assert first.speech_end == pytest.approx(1.1 * RATE, abs=0.011 * RATE)  # the burst's last frame
    assert first.duration == pytest.approx(0.6 + config.pre_roll_s + config.post_roll_s, abs=0.03)
    assert second.start == pytest.approx((1.9 - config.pre_roll_s) * RATE, abs=0.011 * RATE)
    assert second.duration == pytest.approx(0.4 + config.pre_roll_s + config.post_roll_s, abs=0.03)
    np.testing.assert_array_equal(first.samples, stream[first.start:first.end])
    assert first.peak_dbfs > -15


def test_a_pause_inside_a_word_does_not_split_it_and_the_default_hangover_answers_fast():
    """The default hangover sits between the pauses inside words and the 200 ms budget from the
    end of a word to its label (bench/utterance_latency.py: no FSDD word split at 80 ms)."""
    config = DetectorConfig()
    assert 0.09 <= config.hangover_s <= 0.15
    # "six": a stop closure of 80 ms between the vowel and the final "ks".
    stream = np.concatenate([noise(0.5), burst(0.25), noise(0.08, seed=3), burst(0.15), noise(0.6, seed=4)])
    found = feed_in_blocks(UtteranceDetector(RATE, config), stream)
    assert len(found) == 1 and found[0].duration == pytest.approx(0.48 + config.pre_roll_s + config.post_roll_s,
                                                                  abs=0.03)
    # Two words 300 ms apart stay two utterances.
    stream = np.concatenate([noise(0.5), burst(0.3), noise(0.3, seed=5), burst(0.3), noise(0.6, seed=6)])
    assert len(feed_in_blocks(UtteranceDetector(RATE, config), stream)) == 2


def test_detector_ignores_clicks_cuts_at_the_maximum_and_learns_a_steady_hum_as_noise():
    config = DetectorConfig(max_length_s=1.0)
    click = burst(0.05, amplitude=0.8)
    hum = burst(5.0, amplitude=0.1)  # a fan starts: loud, steady, endless
    stream = np.concatenate([noise(0.5), click, noise(0.5, seed=1), hum, noise(0.5, seed=2),
                             burst(0.4), noise(0.5, seed=3)])
    found = feed_in_blocks(UtteranceDetector(RATE, config), stream)
    assert [u.truncated for u in found] == [True, False]
    assert found[0].start == pytest.approx((1.05 - config.pre_roll_s) * RATE, abs=0.011 * RATE), "not the click"
    assert found[0].duration == pytest.approx(1.0, abs=0.02)
    assert found[1].start == pytest.approx((6.55 - config.pre_roll_s) * RATE, abs=0.011 * RATE)


def test_detector_follows_the_noise_floor_and_the_threshold():
    detector = UtteranceDetector(RATE, DetectorConfig(threshold_db=15, min_level_dbfs=-80))
    feed_in_blocks(detector, noise(1.0, level=0.01))  # -40 dBFS white room noise ...
    # ... of which the speech band (200-3800 Hz of the 8 kHz the stream holds) has 37 of 80 FFT bins.
    assert detector.noise_floor_dbfs == pytest.approx(-40 + 10 * np.log10(37 / 80), abs=2)
    assert detector.threshold_dbfs == pytest.approx(detector.noise_floor_dbfs + 15)
    assert detector.release_dbfs == pytest.approx(detector.noise_floor_dbfs + DetectorConfig().release_db)
    quiet_word = burst(0.5, amplitude=0.02)  # about -36 dBFS: under the threshold
    assert feed_in_blocks(detector, np.concatenate([quiet_word, noise(0.5, level=0.01)])) == []
    detector.set_threshold_db(4)
    found = feed_in_blocks(detector, np.concatenate([quiet_word, noise(0.5, level=0.01, seed=3)]))
    assert len(found) == 1


def test_detector_never_triggers_on_digital_silence_dither():
    detector = UtteranceDetector(RATE)
    stream = np.concatenate([np.zeros(RATE, np.float32), noise(1.0, level=1e-4), np.zeros(RATE, np.float32)])
    assert feed_in_blocks(detector, stream) == []
    assert detector.threshold_dbfs == DetectorConfig().min_level_dbfs


def test_flush_returns_an_utterance_still_open_at_the_end_of_the_stream():
    detector = UtteranceDetector(RATE)
    assert feed_in_blocks(detector, np.concatenate([noise(0.3), burst(0.5)])) == []
    assert detector.active
    (utterance,) = detector.flush()
    assert utterance.duration == pytest.approx(0.5 + 0.15, abs=0.03)


def test_trim_silence_keeps_the_word_and_a_little_padding():
    clip = np.concatenate([noise(0.7), burst(0.4), noise(0.9, seed=1)])
    trimmed = trim_silence(clip, RATE, pad_s=0.05)
    assert trimmed.size / RATE == pytest.approx(0.5, abs=0.03)
    assert trim_silence(noise(1.0), RATE).size == 0


# ----------------------------------------------------------------------- detector in a noisy room
def fsdd_words_in_white_noise(noise_dbfs: float, snr_db: float, seconds_before: float, gap_s: float = 0.8):
    """FSDD words (all 5 speakers, every digit) resampled to 16 kHz, each at ``snr_db`` over steady
    white noise of ``noise_dbfs`` (speech power over the word itself, as bench/spoken_digits_loso.py
    adds noise), after ``seconds_before`` of the noise alone; with the words' (start, end) samples."""
    from tests.paths import SHARED_DATA, require_shared
    from workbench.core.audio import read_audio, resample
    from workbench.core.audio.clips import sound_bounds

    fsdd = require_shared(SHARED_DATA / "fsdd")
    words = []
    for speaker in ("george", "jackson", "nicolas", "theo", "yweweler"):
        for digit in range(10):
            samples, rate = read_audio(fsdd / str(digit) / f"{digit}_{speaker}_5.wav")
            samples = resample(samples - samples.mean(), rate, RATE)
            start, stop = sound_bounds(samples, RATE)
            words.append(samples[start:stop])
    sigma = 10.0 ** (noise_dbfs / 20.0)
    total = int((seconds_before + gap_s) * RATE) + sum(w.size + int(gap_s * RATE) for w in words)
    stream = np.random.default_rng(7).normal(0.0, sigma, total).astype(np.float32)
    spans, position = [], int(seconds_before * RATE)
    for word in words:
        gain = np.sqrt(sigma ** 2 * 10.0 ** (snr_db / 10.0) / np.mean(np.square(word, dtype=np.float64)))
        stream[position:position + word.size] += (word * gain).astype(np.float32)
        spans.append((position, position + word.size))
        position += word.size + int(gap_s * RATE)
    return stream, spans


def test_detector_neither_fires_on_steady_white_noise_nor_misses_words_at_10_db_snr_over_it():
    """-45 dBFS of white noise (a fan or a cheap microphone's hiss); words 10 dB over it are quiet
    speech (-35 dBFS). The detector's noise floor sits on the noise, the words start it once each."""
    stream, spans = fsdd_words_in_white_noise(-45.0, 10.0, seconds_before=10.0)
    detector = UtteranceDetector(RATE)
    noise_only = spans[0][0]
    assert feed_in_blocks(detector, stream[:noise_only]) + detector.flush() == [], "fired on steady noise"
    band_level = -45.0 + 10 * np.log10(37 / 80)  # the speech band's share of white noise at 16 kHz
    # The floor sits on the noise's quieter frames (10 ms frames of it vary by ~1 dB).
    assert band_level - 2.5 <= detector.noise_floor_dbfs <= band_level
    assert detector.threshold_dbfs == pytest.approx(detector.noise_floor_dbfs + DetectorConfig().threshold_db)
    found = feed_in_blocks(detector, stream[noise_only:]) + detector.flush()  # positions: the stream's
    hits = [[u for u in found if u.start < end and u.end > start] for start, end in spans]
    assert [len(h) for h in hits] == [1] * len(spans), "each word detected exactly once"
    assert len(found) == len(spans), "nothing but the words"
    covered = [(min(h[0].end, end) - max(h[0].start, start)) / (end - start) for h, (start, end) in zip(hits, spans)]
    assert min(covered) >= 0.5 and np.mean(covered) >= 0.85


# ------------------------------------------------------------------------------ continuous mode
def test_sliding_window_hands_out_the_newest_window_every_hop():
    windows = SlidingWindow(RATE, window_s=1.0, hop_s=0.25)
    stream = np.arange(3 * RATE, dtype=np.float32)
    ends = []
    for i in range(0, stream.size, 800):  # 50 ms blocks
        window = windows.feed(stream[i:i + 800])
        if window is not None:
            assert window.size == RATE
            ends.append(int(window[-1]) + 1)
    assert ends == [RATE + k * RATE // 4 for k in range(9)]
    late = SlidingWindow(RATE, 1.0, 0.25)
    window = late.feed(stream[:int(2.1 * RATE)])  # eight hops at once: only the newest comes back
    assert int(window[-1]) + 1 == int(2.1 * RATE)
    assert late.feed(stream[:100]) is None


def test_sliding_window_classifier_smooths_and_skips_silence():
    answers = iter([np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([0.5, 0.5])])
    classifier = SlidingWindowClassifier(lambda w, sr: next(answers), RATE, window_s=0.5, hop_s=0.25, smoothing=2)
    results = [classifier.feed(burst(0.25)) for _ in range(4)]
    assert results[0] is None  # the first window is not full yet
    np.testing.assert_allclose(results[1], [1.0, 0.0])
    np.testing.assert_allclose(results[2], [0.5, 0.5])
    np.testing.assert_allclose(results[3], [0.0, 1.0])
    assert classifier.feed(np.zeros(RATE // 2, np.float32)) is None  # silence is not classified
    np.testing.assert_allclose(classifier.feed(burst(0.25)), [0.5, 0.5])  # and resets the smoothing


def test_probability_smoother_restarts_when_the_classes_change():
    smoother = ProbabilitySmoother(3)
    smoother.update(np.array([1.0, 0.0]))
    np.testing.assert_allclose(smoother.update(np.array([0.2, 0.3, 0.5])), [0.2, 0.3, 0.5])


# ---------------------------------------------------------------------------------------- saving
def test_save_wav_round_trips_as_16_bit_pcm(tmp_path):
    clip = burst(0.3)
    path = save_wav(tmp_path / "a" / "b.wav", clip, RATE)
    data, rate = soundfile.read(path, dtype="float32")
    assert rate == RATE and soundfile.info(path).subtype == "PCM_16"
    np.testing.assert_allclose(data, clip, atol=1 / 32768 + 1e-6)


def test_save_class_clip_never_overwrites_and_rejects_bad_class_names(tmp_path):
    first = save_class_clip(burst(0.2), RATE, tmp_path, "7")
    second = save_class_clip(burst(0.2), RATE, tmp_path, "7")
    assert first.parent == second.parent == tmp_path / "7" and first != second
    assert first.name.startswith("mic_") and first.suffix == ".wav"
    for bad in ("", "..", "a/b"):
        with pytest.raises(DatasetError, match="class name"):
            save_class_clip(burst(0.2), RATE, tmp_path, bad)
    with pytest.raises(DatasetError, match="Received: an empty clip"):
        save_wav(tmp_path / "x.wav", np.zeros(0), RATE)


# --------------------------------------------------------------------------- display spectrogram
def test_streaming_spectrogram_equals_the_whole_clip_computation():
    stream = np.concatenate([noise(0.3), burst(0.5), noise(0.2, seed=1)])
    live = StreamingSpectrogram(RATE)
    columns = np.concatenate([live.feed(stream[i:i + 333]) for i in range(0, stream.size, 333)])
    whole = StreamingSpectrogram(RATE).compute(np.concatenate([np.zeros(live.window - live.hop, np.float32), stream]))
    assert columns.shape[1] == 64 and columns.shape[0] == whole.shape[0]
    np.testing.assert_allclose(columns, whole, atol=1e-3)


def test_a_pure_tone_lands_in_its_mel_band():
    spectrogram = StreamingSpectrogram(RATE, n_mels=64, fmax=8000)
    t = np.arange(RATE) / RATE
    columns = spectrogram.compute(0.5 * np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    band = int(np.argmax(columns.mean(axis=0)))
    edges = np.linspace(hz_to_mel(20.0), hz_to_mel(8000.0), 66)
    expected = int(np.searchsorted(edges, hz_to_mel(1000.0))) - 1
    assert abs(band - expected) <= 1

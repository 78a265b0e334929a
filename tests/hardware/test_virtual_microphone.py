"""The real capture path: a recording played into a PulseAudio virtual microphone, recorded through
PortAudio by the app's MicrophoneSource + utterance detector (and once through the Microphone tab),
checked for length and level, and classified by the shipped spoken-digit model.

Written against the shipped model (resources/models/spoken_digits.keras; see spoken_digits.py):
without it the classification tests fail, they do not skip.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.hardware.spoken_digits import MORE_DIGITS, SEVEN, recording, require_model
from workbench.core.sources.microphone import MicrophoneSource, dbfs, list_input_devices
from workbench.core.sources.utterance import Utterance, UtteranceDetector

pytestmark = pytest.mark.hardware

STREAM_START_TIMEOUT_S = 10.0  # PortAudio → ALSA pulse plugin → a fresh null sink: ~2 s measured


def wait_for_stream(source: MicrophoneSource) -> None:
    deadline = time.monotonic() + STREAM_START_TIMEOUT_S
    while source.total_samples == 0:
        assert time.monotonic() < deadline, (
            f"No samples from '{source.device.name}' within {STREAM_START_TIMEOUT_S:.0f} s of opening it")
        time.sleep(0.01)


def record_utterance(microphone, path: Path, timeout_s: float = 8.0) -> tuple[Utterance, float, MicrophoneSource]:
    """Play ``path`` into the virtual microphone; return the first utterance the detector cut,
    the noise floor before it, and the (closed) source."""
    source = MicrophoneSource()
    source.start()
    try:
        wait_for_stream(source)
        detector = UtteranceDetector(source.sample_rate)
        time.sleep(0.3)  # some silence first: the detector calibrates its noise floor
        detector.feed(source.drain())
        floor = detector.noise_floor_dbfs
        player = microphone.play(path, wait=False)
        found: list[Utterance] = []
        deadline = time.monotonic() + timeout_s
        while not found and time.monotonic() < deadline:
            time.sleep(0.04)  # the GUI's drain period
            found = detector.feed(source.drain())
        player.wait(timeout=30)
    finally:
        source.close()
    assert found, f"The detector cut no utterance from {path.name} within {timeout_s:.0f} s"
    return found[0], floor, source


@pytest.fixture(scope="module")
def predictor():
    model = require_model()
    from workbench.core.inference import Predictor

    return Predictor.load(model)


def test_portaudio_records_from_the_virtual_microphone_by_default(virtual_microphone):
    result = subprocess.run(["pactl", "get-default-source"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == virtual_microphone.source
    devices = list_input_devices(refresh=True)
    default = [d for d in devices if d.is_default]
    assert default and default[0].name in ("default", "pulse"), devices
    source = MicrophoneSource()
    assert source.device == default[0] and source.sample_rate == 16000  # routed through PulseAudio, resampled


def test_a_recording_comes_through_with_its_length_level_and_waveform(virtual_microphone):
    path = recording(SEVEN)
    original, original_rate = soundfile.read(path, dtype="float32")
    utterance, floor, source = record_utterance(virtual_microphone, path)
    assert utterance.sample_rate == 16000 and not utterance.truncated
    duration = original.size / original_rate  # 0.64 s; FSDD files hold little silence
    assert abs(utterance.duration - duration) <= 0.25, (utterance.duration, duration)
    rms, peak = dbfs(utterance.samples)
    original_rms, original_peak = dbfs(original)
    assert rms >= floor + 40, (rms, floor)  # speech far above the (digital) silence around it
    assert abs(peak - original_peak) <= 3.0, (peak, original_peak)  # unity gain through the sound server
    assert rms >= original_rms - 6.0, (rms, original_rms)
    # It is the recording itself: resampled back to 8 kHz it matches the file sample for sample,
    # once aligned (normalised cross-correlation).
    import soxr

    back = soxr.resample(utterance.samples, 16000, original_rate)
    corr = np.correlate(back, original, mode="full")
    norm = np.sqrt(np.sum(back ** 2) * np.sum(original ** 2))
    assert corr.max() / norm > 0.9, corr.max() / norm
    assert source.overflows == 0


@pytest.mark.parametrize("name", [SEVEN, *MORE_DIGITS])
def test_the_shipped_model_reads_the_digit_recorded_from_the_microphone(virtual_microphone, predictor, name):
    path = recording(name)
    utterance, _floor, _source = record_utterance(virtual_microphone, path)
    x = predictor.prepare_waveform(utterance.samples, utterance.sample_rate)
    probabilities = predictor.predict_arrays(x[None])[0]
    label = predictor.class_names[int(np.argmax(probabilities))]
    from_file = predictor.predict_files([path])[0].label
    digit = path.parent.name
    assert label == digit, (f"{path.name} through the microphone read as {label} "
                            f"({probabilities.max():.0%}); the file itself reads as {from_file}")

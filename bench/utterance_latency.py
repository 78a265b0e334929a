"""End of a spoken word → label on screen, and what the detector's hang-over costs and buys.

Every FSDD recording (resampled to 16 kHz) is put between 0.6 s of room noise and streamed through
the live tab's path in 40 ms blocks, as :class:`MicrophoneController` drains the microphone:
:class:`UtteranceDetector` cuts the word, and the shipped model reads the cut clip through
``LiveModel.predict_waveform`` (the call the Microphone tab makes).

For each hang-over it prints:

* the latency from the end of the word to the label: the end of the word is where the recording's
  sound ends (``clips.sound_bounds``, independent of the detector); the label is known when the
  40 ms block that completes the hang-over has been drained, plus the model's time for that clip;
* how often a word was split in two or more utterances, or missed (a hang-over too short for the
  pauses inside words: the closure before the "k" of "six", the "t" of "eight");
* the accuracy of the shipped model on the cut clips of the speaker it never heard in training
  (george, held out by ``make models-spoken-digits``), against the same files read whole.

With ``--snr 10`` the room is noisy instead: white noise over the whole stream (the word
included) at that many dB under the word's speech power, as ``bench/spoken_digits_loso.py --snr``
adds it, so the figures say whether the detector still cuts every word once and what the model
reads from the cut clips.

The GUI adds one queued signal and a repaint on top (about 1-5 ms, measured by the virtual
microphone test, ``tests/hardware/test_microphone_tab.py``).

    .venv/bin/python bench/utterance_latency.py [--hangovers 0.08,0.1,0.12,0.15,0.2] [--model M] [--snr DB]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "fsdd"
MODEL = ROOT / "resources" / "models" / "spoken_digits.keras"
HELD_OUT = "george"
RATE = 16000
BLOCK_S = 0.04  # the Microphone tab drains the stream every 40 ms (microphone_controller.TICK_MS)
ROOM_S = 0.6
ROOM_DBFS = -60.0


def recordings() -> list[tuple[str, str, Path]]:
    """(digit, speaker, path) of every FSDD recording."""
    found = []
    for path in sorted(DATA.glob("*/*.wav")):
        digit, speaker, _n = path.stem.split("_")
        found.append((digit, speaker, path))
    if not found:
        raise SystemExit(f"Expected FSDD recordings under {DATA}/<digit>/*.wav. Received: none")
    return found


def stream_for(samples: np.ndarray, rng: np.random.Generator, snr_db: float | None = None) -> tuple[np.ndarray, int]:
    """Room noise, the word, room noise; and the sample where the word's sound ends. With ``snr_db``,
    white noise that many dB under the word's speech power runs through the whole stream."""
    from workbench.core.audio.augment import add_noise
    from workbench.core.audio.clips import sound_bounds

    room = lambda n: rng.normal(0.0, 10 ** (ROOM_DBFS / 20), n).astype(np.float32)  # noqa: E731
    lead = int(ROOM_S * RATE)
    _start, stop = sound_bounds(samples, RATE, margin_s=0.0)
    if snr_db is None:
        return np.concatenate([room(lead), samples, room(lead)]), lead + stop
    silence = np.zeros(lead, np.float32)
    word = np.concatenate([silence, samples - np.float32(samples.mean()), silence])
    return add_noise(word, RATE, snr_db, rng), lead + stop


def detect(stream: np.ndarray, config) -> list[tuple[object, int]]:
    """Feed the stream in drain-sized blocks: (utterance, sample count drained when it was known)."""
    from workbench.core.sources.utterance import UtteranceDetector

    detector = UtteranceDetector(RATE, config)
    block = int(BLOCK_S * RATE)
    found = []
    for start in range(0, stream.size, block):
        chunk = stream[start:start + block]
        found += [(u, start + chunk.size) for u in detector.feed(chunk)]
    found += [(u, stream.size) for u in detector.flush()]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hangovers", default="0.08,0.1,0.12,0.15,0.2")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--snr", type=float, help="white noise this many dB under each word, over the whole stream")
    args = parser.parse_args()

    from workbench.core.audio.io import load_audio
    from workbench.core.inference import Predictor
    from workbench.core.inference.live import LiveModel
    from workbench.core.sources.utterance import DetectorConfig

    live = LiveModel(Predictor.load(args.model))
    live.warm_up()
    rng = np.random.default_rng(0)
    words = [(digit, speaker, *stream_for(load_audio(path, RATE), rng, args.snr))
             for digit, speaker, path in recordings()]
    whole = [live.predict_waveform(load_audio(path, RATE), RATE) for digit, speaker, path in recordings()
             if speaker == HELD_OUT]
    held_out_digits = [digit for digit, speaker, *_ in words if speaker == HELD_OUT]
    labels = live.predictor.class_names
    whole_acc = np.mean([labels[int(np.argmax(p.probabilities))] == d for p, d in zip(whole, held_out_digits)])
    room = f"{ROOM_DBFS:.0f} dBFS room noise" if args.snr is None else f"white noise {args.snr:g} dB under the word"
    print(f"{len(words)} FSDD words in {ROOM_S} s of {room}, drained every "
          f"{BLOCK_S * 1000:.0f} ms; model {args.model.name}; {HELD_OUT} (held out in training) "
          f"read whole: {whole_acc:.1%}")
    print(f"{'hang-over':>9}  {'split':>6}  {'missed':>6}  {'end→label median':>16}  {'p95':>6}  {'max':>6}  "
          f"{'model':>6}  {HELD_OUT} cut clips")
    for hangover in [float(h) for h in args.hangovers.split(",")]:
        config = replace(DetectorConfig(), hangover_s=hangover)
        split = missed = correct = held = 0
        latencies, model_ms = [], []
        for digit, speaker, stream, speech_end in words:
            found = detect(stream, config)
            missed += not found
            split += len(found) > 1
            if not found:
                continue
            utterance, known_at = max(found, key=lambda f: f[0].samples.size)
            start = time.perf_counter()
            result = live.predict_waveform(utterance.samples, RATE)
            model_ms.append((time.perf_counter() - start) * 1000.0)
            latencies.append((known_at - speech_end) / RATE * 1000.0 + model_ms[-1])
            if speaker == HELD_OUT:
                held += 1
                correct += not result.blank and labels[int(np.argmax(result.probabilities))] == digit
        lat = np.array(latencies)
        print(f"{hangover * 1000:7.0f} ms  {split / len(words):6.1%}  {missed / len(words):6.1%}  "
              f"{np.median(lat):13.0f} ms  {np.percentile(lat, 95):3.0f} ms  {lat.max():3.0f} ms  "
              f"{np.median(model_ms):3.0f} ms  {correct / max(held, 1):.1%} of {held}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

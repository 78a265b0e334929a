"""A sound file as the model hears it: the prepared clip, its log-mel, and the words of a long recording.

:func:`predict_sound_file` is what the Files tab and ``workbench predict --words`` show for a sound
model. The file's prediction is made on the clip that :func:`load_clip_for_model` prepares (the
training pipeline's decode, trim, normalise and fit, so a file reads as it would in training);
the clip and its log-mel (the front end inside the model, via :func:`log_mel`) come along for
display and playback.

A recording longer than the model's clip may hold several words. :func:`find_words` cuts them out
with the microphone's :class:`UtteranceDetector` (same thresholds, hangover and pre-roll), and each
word is prepared by :meth:`Predictor.prepare_waveform` as a spoken word is: a word in a file and a
word from the microphone reach the model the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.inference.predictor import Prediction, Predictor
from workbench.core.sources.utterance import DetectorConfig, Utterance, UtteranceDetector

#: Quietest share of a recording's 10 ms frames taken as its noise floor before the detector starts.
FLOOR_PERCENTILE = 10.0


@dataclass
class WordPrediction(Prediction):
    """One word found in a long recording (``source``): where it is, in seconds, what the model reads,
    and the clip it read with that clip's log-mel (for display; not in :meth:`to_dict`)."""

    start_s: float = 0.0
    end_s: float = 0.0
    clip: np.ndarray | None = field(default=None, repr=False)
    features: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3)}


@dataclass
class SoundFilePrediction:
    """The file's prediction plus what the model heard.

    Attributes:
        prediction: top-k of the file's prepared clip (as training reads the file).
        clip: that clip, (num_samples,) float32 at ``sample_rate``.
        features: its log-mel as the model computes it, (frames, n_mels); None when not asked for.
        duration_s: the whole recording's length.
        words: words of a recording longer than the clip (empty for one-word files).
        recording: the whole recording at ``sample_rate`` when it is longer than the clip, else None;
            ``recording_features`` its log-mel (same front end, standardised over the recording).
    """

    prediction: Prediction
    clip: np.ndarray
    sample_rate: int
    features: np.ndarray | None
    duration_s: float
    words: list[WordPrediction] = field(default_factory=list)
    recording: np.ndarray | None = field(default=None, repr=False)
    recording_features: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the arrays)."""
        return {**self.prediction.to_dict(), "duration_s": round(self.duration_s, 3),
                "words": [w.to_dict() for w in self.words]}


def find_words(samples: np.ndarray, sample_rate: int, config: DetectorConfig | None = None) -> list[Utterance]:
    """The utterances of a whole recording, cut as the microphone's detector cuts them.

    Live, the detector learns the noise floor from the first frame, which is silence when someone is
    about to speak; a file may start mid-word, so the floor starts at the recording's quietest
    :data:`FLOOR_PERCENTILE` % of frames instead.
    """
    samples = np.asarray(samples, np.float32).reshape(-1)
    detector = UtteranceDetector(sample_rate, config)
    levels = detector.frame_levels(samples)
    if levels.size:
        detector.seed_noise_floor(float(np.percentile(levels, FLOOR_PERCENTILE)))
    return detector.feed(samples) + detector.flush()


def predict_sound_file(predictor: Predictor, path: str | Path, top_k: int = 3, *,
                       words: bool = True, display: bool = True) -> SoundFilePrediction:
    """Predict a sound file; with ``words``, also each word of a recording longer than the clip.

    ``display`` adds what a viewer shows: the log-mel of every clip and the whole recording (the
    command line prints only labels, and skips that work on long recordings).
    """
    from workbench.core.audio.clips import prepare_clip
    from workbench.core.audio.frontend import log_mel
    from workbench.core.audio.io import load_audio

    config = predictor.audio_config
    samples = load_audio(path, config.sample_rate)
    clip = prepare_clip(samples, config)
    probabilities = predictor.predict_arrays(clip[None])[0]
    prediction = Prediction(str(path), [float(p) for p in probabilities], predictor.top_k(probabilities, top_k))
    result = SoundFilePrediction(prediction, clip, config.sample_rate, log_mel(clip, config) if display else None,
                                 samples.size / config.sample_rate)
    if words and samples.size > config.num_samples:
        result.recording = samples
        result.recording_features = log_mel(samples, config) if display else None
        found = find_words(samples, config.sample_rate)
        if found:
            batch = np.stack([predictor.prepare_waveform(u.samples, u.sample_rate) for u in found])
            features = log_mel(batch, config) if display else [None] * len(found)
            for utterance, word, probs, word_features in zip(found, batch, predictor.predict_arrays(batch), features):
                result.words.append(WordPrediction(str(path), [float(p) for p in probs], predictor.top_k(probs, top_k),
                                                   start_s=utterance.start / config.sample_rate,
                                                   end_s=utterance.end / config.sample_rate,
                                                   clip=word, features=word_features))
    return result

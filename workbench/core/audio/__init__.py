"""Sound: decoding, fixed-length clips and the log-mel front end.

The numpy parts (:mod:`io`, :mod:`clips`, :mod:`config`) import no TensorFlow; the Keras layers
(:mod:`frontend`, :mod:`layers`) and the waveform augmenter are imported where they are used.
"""

from workbench.core.audio.clips import is_silent, prepare_clip, sliding_windows, trim_silence
from workbench.core.audio.config import AudioConfig
from workbench.core.audio.io import load_audio, read_audio, resample

__all__ = ["AudioConfig", "is_silent", "load_audio", "prepare_clip", "read_audio", "resample",
           "sliding_windows", "trim_silence"]

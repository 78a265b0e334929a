"""One sample at a time, fast: the call behind live tabs (drawing, camera, microphone).

``model.predict`` builds a dataset and a loop for every call, and an eager ``model(x,
training=False)`` dispatches every layer from Python: on a 2-core CPU, the 28×28 digit CNN took
~30-50 ms eagerly and ~5 ms as one traced graph. So :class:`LiveModel` traces
``model(x, training=False)`` once, for a batch of one with the model's input shape, and reuses the
graph. The outputs are the same numbers as the eager call (same ops, same weights).

The preparation is :meth:`Predictor.prepare_image`, the path training, files and the CLI share, so a
live answer equals ``workbench predict`` on a PNG of the same picture.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from workbench.core.evaluation import output_to_probabilities


@dataclass
class LivePrediction:
    """What one live prediction returns: plain numbers and arrays, safe to send across threads."""

    probabilities: np.ndarray  #: (K,) float64, or empty when the input was blank
    model_input: np.ndarray  #: the prepared input, shape ``input_shape`` (pixels 0..255 or a waveform)
    blank: bool  #: nothing to classify (an empty drawing, a silent recording); no model call was made
    prepare_ms: float
    predict_ms: float

    @property
    def total_ms(self) -> float:
        return self.prepare_ms + self.predict_ms


class LiveModel:
    """A :class:`~workbench.core.inference.Predictor` plus a traced single-sample call."""

    def __init__(self, predictor) -> None:
        self.predictor = predictor
        self._call = _single_sample_call(predictor.model, predictor.input_shape)

    def warm_up(self) -> float:
        """Run one all-zero input (traces the graph); return how long it took in ms."""
        start = time.perf_counter()
        self.predict_prepared(np.zeros(self.predictor.input_shape, np.float32))
        return (time.perf_counter() - start) * 1000.0

    def predict_prepared(self, x: np.ndarray) -> np.ndarray:
        """An already prepared input of shape ``input_shape`` → probabilities (K,)."""
        batch = np.asarray(x, np.float32).reshape((1, *self.predictor.input_shape))
        outputs = np.asarray(self._call(batch))
        return output_to_probabilities(outputs, self.predictor.sigmoid)[0]

    def predict_image(self, image: np.ndarray) -> LivePrediction:
        """Prepare ``image`` as training did and classify it, timing both steps.

        An input that prepares to all zeros (a blank drawing under MNIST-style normalisation) is
        reported as blank without calling the model: a softmax would still name a class.
        """
        return self._prepare_and_predict(lambda: self.predictor.prepare_image(image).astype(np.float32))

    def predict_waveform(self, samples: np.ndarray, sample_rate: int) -> LivePrediction:
        """Prepare recorded samples as training did (:meth:`Predictor.prepare_waveform`) and classify.

        A silent recording is reported as blank without calling the model.
        """
        return self._prepare_and_predict(lambda: self.predictor.prepare_waveform(samples, sample_rate))

    def _prepare_and_predict(self, prepare) -> LivePrediction:
        """Run ``prepare()`` then the model, timing both; an all-zero input is blank (no model call)."""
        start = time.perf_counter()
        x = prepare()
        prepared = time.perf_counter()
        if not x.any():
            return LivePrediction(np.zeros(0), x, True, (prepared - start) * 1000.0, 0.0)
        probabilities = self.predict_prepared(x)
        done = time.perf_counter()
        return LivePrediction(probabilities, x, False, (prepared - start) * 1000.0, (done - prepared) * 1000.0)


def _single_sample_call(model, input_shape: tuple[int, ...]):
    """``model(x, training=False)`` for a (1, *input_shape) batch, traced once on TensorFlow."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return lambda batch: model(batch, training=False)
    import tensorflow as tf

    spec = tf.TensorSpec((1, *input_shape), tf.float32)
    return tf.function(lambda batch: model(batch, training=False), input_signature=[spec])

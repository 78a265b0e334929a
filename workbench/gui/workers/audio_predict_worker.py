"""AudioPredictWorker: classifies microphone clips on the live-prediction thread.

Same protocol as :class:`LivePredictWorker` (load, then one answer per request), so a
:class:`~workbench.gui.workers.live_predict_controller.LivePredictController` drives it with its
latest-wins queue. A request is a dict ``{"samples": float32 (N,), "sample_rate": int, ...}``; the
waveform goes through :meth:`LiveModel.predict_waveform`: :meth:`Predictor.prepare_waveform`
(resampling, trimming, fixed length: the training path), then the model's traced single-sample
call; a silent clip comes back ``blank`` without a model call. Keys other than the audio are passed
back untouched in the answer's ``"request"``, so the GUI can tell an utterance from a window and
time it.
"""

from __future__ import annotations

import logging

import numpy as np
from workbench.gui.workers.live_predict_worker import LivePredictWorker

_log = logging.getLogger(__name__)
WARMUP_RATE = 44100  # a common microphone rate: the warm-up also resamples


class AudioPredictWorker(LivePredictWorker):
    """Lives on the controller's thread; a request is an audio dict instead of an image. Only the
    base class's hooks are overridden, so its slots run on the worker's thread (see its docstring)."""

    def _warm_up_input(self, live) -> None:
        """Run the whole audio path once after the model's warm-up.

        The first real clip would otherwise pay for lazy imports (resampler, trimming) and first-call
        costs, ~0.3 s measured: a warm-up here keeps that out of the first answer's latency.
        """
        t = np.arange(WARMUP_RATE // 2) / WARMUP_RATE
        try:
            live.predict_waveform((0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32), WARMUP_RATE)
        except Exception:  # a model that takes no sound fails here at once; a real clip reports it
            _log.debug("Audio warm-up failed", exc_info=True)

    def _predict_request(self, live, request: object) -> dict:
        """Prepare and classify ``request["samples"]``; other keys come back in ``"request"``."""
        meta = {k: v for k, v in request.items() if k not in ("samples", "sample_rate")}
        result = live.predict_waveform(request["samples"], int(request["sample_rate"]))
        return {
            "probabilities": result.probabilities,
            "blank": result.blank,
            "prepare_ms": result.prepare_ms,
            "predict_ms": result.predict_ms,
            "total_ms": result.total_ms,
            "request": meta,
        }

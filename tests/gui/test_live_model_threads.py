"""Every model call of every live input — loading, warming up and each prediction of the Draw,
Microphone and Camera tabs' workers — runs off the GUI thread.

PySide6 (6.11 measured) runs a slot that a subclass overrides in the emitting thread, even across
threads: the Microphone tab's worker once overrode ``load`` and ``predict`` and froze the window for
seconds. This records the thread of every model call through the real controllers and workers.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from workbench.core.inference.live import LiveModel
from workbench.core.resources import resource_path
from workbench.gui.workers.audio_predict_worker import AudioPredictWorker
from workbench.gui.workers.camera_predict_controller import CameraPredictController
from workbench.gui.workers.live_predict_controller import LivePredictController
from workbench.gui.workers.predictor_cache import PredictorCache

pytestmark = pytest.mark.gui
TIMEOUT_MS = 60_000  # the first load imports TensorFlow
DIGITS = str(resource_path("models", "digits.keras"))
SPOKEN = str(resource_path("models", "spoken_digits.keras"))


@pytest.fixture
def calls(monkeypatch) -> list[tuple[str, str]]:
    """(call, thread name) of every model load and model call while the test runs."""
    recorded: list[tuple[str, str]] = []

    def record(name, original):
        def wrapper(*args, **kwargs):
            recorded.append((name, threading.current_thread().name))
            return original(*args, **kwargs)
        return wrapper

    for name in ("warm_up", "predict_image", "predict_waveform", "predict_prepared"):
        monkeypatch.setattr(LiveModel, name, record(name, getattr(LiveModel, name)))
    monkeypatch.setattr(PredictorCache, "get", record("load", PredictorCache.get))
    return recorded


def run_one(qtbot, controller, model: str, request) -> None:
    try:
        with qtbot.waitSignal(controller.model_loaded, timeout=TIMEOUT_MS):
            controller.load(model)
        with qtbot.waitSignal(controller.prediction_ready, timeout=TIMEOUT_MS):
            controller.submit(request)
    finally:
        controller.shutdown()


def assert_off_the_gui_thread(calls, expected: set[str]) -> None:
    gui = threading.main_thread().name
    assert expected <= {name for name, _ in calls}, calls
    on_gui = [(name, thread) for name, thread in calls if thread == gui]
    assert not on_gui, f"model calls on the GUI thread: {on_gui}"


def test_the_draw_tab_s_worker_calls_the_model_off_the_gui_thread(qtbot, calls):
    controller = LivePredictController(PredictorCache(), "livePredictThread")
    run_one(qtbot, controller, DIGITS, np.zeros((28, 28), np.uint8))
    assert_off_the_gui_thread(calls, {"load", "warm_up", "predict_image"})


def test_the_microphone_tab_s_worker_calls_the_model_off_the_gui_thread(qtbot, calls):
    cache = PredictorCache()
    controller = LivePredictController(cache, "micPredictThread", worker=AudioPredictWorker(cache))
    t = np.arange(8000) / 8000
    run_one(qtbot, controller, SPOKEN, {"samples": (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32),
                                        "sample_rate": 8000, "utterance": 1})
    assert_off_the_gui_thread(calls, {"load", "warm_up", "predict_waveform"})
    assert sum(name == "predict_waveform" for name, _ in calls) == 2  # the warm-up's and the clip's


def test_the_camera_tab_s_worker_calls_the_model_off_the_gui_thread(qtbot, calls):
    controller = CameraPredictController(PredictorCache())
    run_one(qtbot, controller, DIGITS, {"kind": "image", "image": np.zeros((48, 64, 3), np.uint8)})
    assert_off_the_gui_thread(calls, {"load", "warm_up", "predict_image"})

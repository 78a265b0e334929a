"""Camera loop figures: feed FPS, predictions per second, frame → label latency and memory, measured on
the real Camera tab (offscreen) with a video file standing in for the webcam.

    .venv/bin/python -m bench.camera_loop [--seconds 30] [--long 120] [--size 640x480] [--video-model PATH]

1. Image model: the shipped digits model reading a handwritten MNIST "3" on paper (640×480 at 30 fps,
   like a USB webcam): every new frame goes to the model, the newest first.
2. Video model: a CNN-LSTM (``video_cnn_lstm`` template, untrained: speed only) reading its window of
   the last seconds, on every new frame. ``--video-model`` uses a trained one instead.
3. A long session (``--long`` seconds) with the video model (``--long-model image``: the digits model):
   resident memory (VmRSS) sampled every 5 s after a warm-up; flat means no frame, answer or curve
   point is kept beyond its bounded buffers (the video model keeps its window of full-size frames).

Targets: feed ≥ 25 FPS with an image model, ≥ 15 FPS with a video model. The machine's CPU count is
printed; the figures are for this machine only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def pump(app, seconds: float, every: float = 0.0, sample=None) -> None:
    """Run the event loop for ``seconds`` (calling ``sample()`` every ``every`` seconds)."""
    end = time.perf_counter() + seconds
    next_sample = time.perf_counter() + every if every else float("inf")
    while (now := time.perf_counter()) < end:
        app.processEvents()
        if now >= next_sample and sample is not None:
            sample()
            next_sample += every
        time.sleep(0.002)


def wait_until(app, condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.005)


def measure(app, tab, seconds: float, expected: str | None = None) -> dict:
    """Feed FPS (frames painted), answers per second, latency and CPU over ``seconds`` of running."""
    answers: list[dict] = []
    tab.prediction_shown.connect(answers.append)
    drawn0, captured0 = tab.view.frames_drawn(), tab.controller().source.frames_captured
    cpu0, t0 = os.times(), time.perf_counter()
    pump(app, seconds)
    elapsed = time.perf_counter() - t0
    cpu1 = os.times()
    tab.prediction_shown.disconnect(answers.append)
    latencies = np.array([a["latency_ms"] for a in answers]) if answers else np.zeros(1)
    model_ms = np.array([a["model_ms"] for a in answers]) if answers else np.zeros(1)
    return {
        "feed_fps": (tab.view.frames_drawn() - drawn0) / elapsed,
        "source_fps": (tab.controller().source.frames_captured - captured0) / elapsed,
        "predictions_per_s": len(answers) / elapsed,
        "latency_median_ms": float(np.median(latencies)),
        "latency_p95_ms": float(np.percentile(latencies, 95)),
        "model_median_ms": float(np.median(model_ms)),
        "cpu_cores": ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / elapsed,
        "correct": (sum(a["label"] == expected for a in answers) / max(len(answers), 1)) if expected else None,
    }


def report(title: str, figures: dict, target_fps: float) -> None:
    verdict = "meets" if figures["feed_fps"] >= target_fps else "BELOW"
    print(f"\n{title}")
    print(f"  feed                {figures['feed_fps']:6.1f} fps painted ({verdict} the target of {target_fps:g}; "
          f"source {figures['source_fps']:.1f} fps)")
    print(f"  predictions         {figures['predictions_per_s']:6.1f} per second "
          f"(model + preparation median {figures['model_median_ms']:.1f} ms)")
    print(f"  frame → label       median {figures['latency_median_ms']:.0f} ms, p95 {figures['latency_p95_ms']:.0f} ms")
    print(f"  CPU                 {figures['cpu_cores']:.2f} cores busy on average")
    if figures["correct"] is not None:
        print(f"  labels correct      {100 * figures['correct']:.1f} %")


def cnn_lstm_model(folder: Path) -> str:
    """An untrained CNN-LSTM of the ``video_cnn_lstm`` template, saved with a sidecar (speed only)."""
    from workbench.core.sidecar import write_sidecar
    from workbench.core.templates import get_template

    spec = get_template("video_cnn_lstm")
    shape = spec.input_shape_for()
    model = spec.build(3, shape)
    path = folder / "cnn_lstm.keras"
    model.save(path)
    write_sidecar(path, {"format": "workbench-model/2", "template": spec.id, "modality": "video",
                         "input_shape": list(shape), "class_names": ["a", "b", "c"], "output": "softmax",
                         "preprocessing": spec.preprocessing_for(None, shape)})
    return str(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring time per model")
    parser.add_argument("--long", type=float, default=120.0, help="long-session length for memory (0: skip)")
    parser.add_argument("--size", default="640x480", help="frame size of the stand-in webcam")
    parser.add_argument("--video-model", help="a trained video model (default: an untrained CNN-LSTM)")
    parser.add_argument("--skip-video", action="store_true")
    parser.add_argument("--long-model", choices=("video", "image"), default="video",
                        help="the model of the long session (video: the ring of the last seconds is in use too)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    from PySide6.QtWidgets import QApplication

    from tests.gui.camera_videos import write_digit_video
    from workbench.core.resources import resource_path
    from workbench.gui.panels.live.camera_test_widget import CameraTestWidget
    from workbench.gui.workers.predictor_cache import PredictorCache

    folder = Path(tempfile.mkdtemp(prefix="camera-bench-"))
    video = write_digit_video(folder / "digit3.avi", 3, frames=300, size=(width, height),
                              digit_side=int(0.6 * height))
    app = QApplication.instance() or QApplication([sys.argv[0]])
    print(f"CPU cores: {os.cpu_count()} (load average {os.getloadavg()[0]:.1f} at the start: other processes "
          f"share them) · source: {width}×{height} MJPG at 30 fps, looping · Qt platform "
          f"{os.environ['QT_QPA_PLATFORM']}")
    tab = CameraTestWidget(PredictorCache())
    tab.resize(1280, 860)
    tab.show()
    try:
        tab.set_model(str(resource_path("models", "digits.keras")))
        tab.open_source(video)
        start = time.perf_counter()
        wait_until(app, tab.is_ready, 180, "the digits model")
        print(f"digits model ready after {time.perf_counter() - start:.1f} s (TensorFlow import included)")
        pump(app, 3.0)  # settle
        report("Image model (shipped digits, MNIST-style preparation of every frame)",
               measure(app, tab, args.seconds, expected="3"), 25)

        if not args.skip_video:
            model = args.video_model or cnn_lstm_model(folder)
            tab.set_model(model)
            start = time.perf_counter()
            wait_until(app, tab.is_ready, 180, "the video model")
            print(f"\nvideo model ready after {time.perf_counter() - start:.1f} s; window {tab.window_seconds():g} s")
            pump(app, tab.window_seconds() + 2.0)  # the window fills
            report(f"Video model ({Path(model).name}, the last {tab.window_seconds():g} s of frames per answer, "
                   "mean of the last 3)", measure(app, tab, args.seconds), 15)

        if args.long:
            if args.long_model == "image" or args.skip_video:
                tab.set_model(str(resource_path("models", "digits.keras")))
            wait_until(app, tab.is_ready, 60, "the model")
            pump(app, 20.0)  # warm-up: buffers and caches reach their size
            samples: list[tuple[float, float]] = []
            t0 = time.perf_counter()
            pump(app, args.long, every=5.0, sample=lambda: samples.append((time.perf_counter() - t0, rss_mb())))
            times, rss = np.array(samples).T
            slope = np.polyfit(times / 60.0, rss, 1)[0] if len(samples) > 2 else float("nan")
            frames = tab.controller().source.frames_captured
            print(f"\nLong session ({args.long:.0f} s, {frames} frames captured in all, the {tab.mode()} model "
                  f"predicting; frames kept for the window: {len(tab.controller().recent_frames())})")
            print(f"  RSS after warm-up   {rss[0]:.0f} MB; at the end {rss[-1]:.0f} MB; max {rss.max():.0f} MB; "
                  f"trend {slope:+.1f} MB/min")
            print(f"  RSS every 30 s      {' '.join(f'{v:.0f}' for v in rss[5::6])} MB")
            print(f"  timeline points     {tab.timeline.point_count()} (capacity {tab.timeline.capacity()})")
    finally:
        tab.shutdown()
        tab.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

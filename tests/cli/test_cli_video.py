"""The command line on video: scan (with the group split it suggests), train a tiny video model,
predict a video file window by window (text and JSON), evaluate a video folder, export every format."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from tests.helpers import write_video_dataset  # noqa: E402
from workbench.cli import run_cli  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")
TINY = ["--hparam", "frames=4", "--hparam", "height=16", "--hparam", "width=16", "--hparam", "window_s=1",
        "--hparam", "hop_s=0.5", "--hparam", "blocks=2", "--hparam", "base_filters=4", "--hparam", "gru_units=8"]


def in_process(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(argv)
    assert "Traceback" not in out.getvalue() + err.getvalue()
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return write_video_dataset(tmp_path_factory.mktemp("cli-video") / "clips", {"a_hbar": 4, "b_vbar": 4},
                               size=16, frames=8)


@pytest.fixture(scope="module")
def model(clips, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("cli-video-run") / "run"
    code, out, err = in_process(["train", "--template", "video_cnn_gru", "--data", str(clips), "--epochs", "2",
                                 "--batch-size", "4", *TINY, "--out", str(run)])
    assert code == 0, out + err
    return run / "model.keras"


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """3 s of a drifting horizontal bar at 10 fps: six 1 s windows 0.5 s apart."""
    from tests.helpers import pattern_image

    path = tmp_path_factory.mktemp("cli-video-long") / "long.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (16, 16))
    base = pattern_image("hbar", 16, np.random.default_rng(1))
    for f in range(30):
        writer.write(cv2.cvtColor(np.roll(base, f % 4, axis=1), cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def test_scan_prints_clip_lengths_and_frame_rates(clips):
    code, out, _ = in_process(["scan", str(clips)])
    assert code == 0 and "video, 8 samples in 2 classes" in out and "10 fps ×8" in out
    code, out, _ = in_process(["scan", str(clips), "--json"])
    assert json.loads(out)["file_statistics"]["frame_sizes"] == {"16x16": 8}


@pytest.fixture(scope="module")
def ucf_clips(tmp_path_factory) -> Path:
    """UCF101-style names, ``v_<Class>_g<GG>_c<CC>.avi``: 3 groups of 2 clips in each of 2 classes."""
    root = write_video_dataset(tmp_path_factory.mktemp("cli-video-ucf") / "clips", {"a_hbar": 6, "b_vbar": 6},
                               size=16, frames=4)
    for cls in ("a_hbar", "b_vbar"):
        for i in range(6):
            (root / cls / f"{cls}_{i}.avi").rename(root / cls / f"v_{cls}_g{i // 2 + 1:02d}_c{i % 2 + 1:02d}.avi")
    return root


def test_scan_suggests_the_group_split_when_the_names_show_groups(ucf_clips, clips):
    code, out, _ = in_process(["scan", str(ucf_clips)])
    assert code == 0 and "12 samples in 2 classes" in out
    assert ("  file names show groups: suggested split  --group-regex '_g(\\d+)_'  "
            "(3 groups; no group on both sides)\n") in out, out
    code, out, _ = in_process(["scan", str(ucf_clips), "--json"])
    report = json.loads(out)
    assert (report["suggested_group_regex"], report["suggested_groups"]) == (r"_g(\d+)_", 3)
    # Plain names (a_hbar_0.avi): no groups, no suggestion.
    code, out, _ = in_process(["scan", str(clips)])
    assert code == 0 and "file names show groups" not in out and "--group-regex" not in out
    code, out, _ = in_process(["scan", str(clips), "--json"])
    assert json.loads(out)["suggested_group_regex"] is None


def test_the_sidecar_records_how_clips_are_read(model):
    sidecar = json.loads(model.with_suffix(".json").read_text())
    assert sidecar["modality"] == "video" and sidecar["input_shape"] == [4, 16, 16, 3]
    assert {k: sidecar["preprocessing"][k] for k in ("kind", "frames", "size", "channels", "window_s", "hop_s")} == \
        {"kind": "video", "frames": 4, "size": [16, 16], "channels": 3, "window_s": 1.0, "hop_s": 0.5}
    # Trained without --augment: the template's recipe applied, and the sidecar says so.
    assert sidecar["augmentation"] == {"modality": "video", "zoom": 0.4, "horizontal_flip": True, "brightness": 0.4,
                                       "contrast": 0.5, "speed": 0.4}


def test_predict_prints_the_clip_s_label_and_one_line_per_window(model, long_clip, clips):
    code, out, err = in_process(["predict", "--model", str(model), str(long_clip), "--top-k", "1"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{long_clip} (3.00 s, 10 fps): ") and lines[0].count("%") == 1
    assert [line.split(":")[0] for line in lines[1:]] == [f"  {s:.2f}-{s + 1:.2f} s" for s in np.arange(0, 2.01, 0.5)]
    code, out, _ = in_process(["predict", "--model", str(model), str(long_clip), "--json"])
    result = json.loads(out)
    assert result["label"] in ("a_hbar", "b_vbar") and len(result["windows"]) == 5
    assert result["duration_s"] == 3.0 and result["num_frames"] == 30 and result["fps"] == 10
    np.testing.assert_allclose(result["probabilities"],
                               np.mean([w["probabilities"] for w in result["windows"]], axis=0), atol=1e-6)


def test_predict_names_an_unreadable_video_and_predicts_the_rest(model, clips, tmp_path):
    broken = tmp_path / "broken.avi"
    broken.write_text("not a video")
    good = sorted((clips / "a_hbar").glob("*.avi"))[0]
    code, out, err = in_process(["predict", "--model", str(model), str(broken), str(good)])
    assert code == 2 and "broken.avi" in err and out.startswith(f"{good} (0.80 s, 10 fps): ")
    code, out, err = in_process(["predict", "--model", str(model), str(broken), str(good), "--json"])
    failure, result = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and failure["source"] == str(broken) and "not a video" in failure["error"]
    assert result["source"] == str(good) and len(result["windows"]) == 1


def test_evaluate_a_video_folder(model, clips):
    code, out, err = in_process(["evaluate", "--model", str(model), "--data", str(clips), "--json"])
    assert code == 0, err
    report = json.loads(out)
    assert report["num_samples"] == 8 and report["class_names"] == ["a_hbar", "b_vbar"]
    assert np.sum(report["confusion_matrix"]) == 8


@pytest.mark.parametrize("fmt", ["keras", "savedmodel", "tflite"])
def test_export_every_format_with_parity(model, clips, tmp_path, fmt):
    out_path = tmp_path / {"keras": "m.keras", "savedmodel": "m_savedmodel", "tflite": "m.tflite"}[fmt]
    code, out, err = in_process(["export", "--model", str(model), "--format", fmt, "--data", str(clips),
                                 "--out", str(out_path), "--json"])
    assert code == 0, err
    result = json.loads(out)
    assert result["parity_samples"] == 8 and result["parity_max_abs_diff"] < 1e-4
    assert result["top1_agreement"] == 1.0 and out_path.exists()


def test_the_article_cnn_lstm_trains_and_exports_to_tflite(clips, tmp_path):
    """The LSTM is unrolled over the clip's frames: TFLite cannot convert its while loop otherwise."""
    run = tmp_path / "run"
    code, out, err = in_process(["train", "--template", "video_cnn_lstm", "--data", str(clips), "--epochs", "1",
                                 "--batch-size", "4", "--hparam", "frames=4", "--hparam", "height=16",
                                 "--hparam", "width=16", "--hparam", "lstm_units=8", "--out", str(run)])
    assert code == 0, out + err
    code, out, err = in_process(["export", "--model", str(run / "model.keras"), "--format", "tflite",
                                 "--data", str(clips), "--out", str(tmp_path / "lstm.tflite"), "--json"])
    assert code == 0, err
    result = json.loads(out)
    assert result["parity_max_abs_diff"] < 1e-4 and result["top1_agreement"] == 1.0

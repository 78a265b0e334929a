"""The broken-input corpus through the core: every hostile file is read and trained on, or reported with
its reason; everything the scan passes over is said; nothing raises anything but a DatasetError.

The corpus (see :mod:`tests.helpers`): empty, truncated, text-as-image, random-bytes, wrong-extension,
16-bit, RGBA and non-UTF-8-named images, a symbolic link loop, hidden files and folders, stray files;
zero-byte, header-only, text, NaN, stereo 44.1 kHz, 24-bit, float, MP3-named-.wav, silent, 30 s and
non-UTF-8-named sounds; truncated, zero-frame, empty and text video files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import (
    write_broken_image_corpus,
    write_broken_sound_corpus,
    write_broken_video_corpus,
    write_image_dataset,
)
from workbench.core.data.pipeline import data_notes, make_tf_dataset, split_dataset
from workbench.core.data.scan import display_path, load_npz, report_lines, scan_dataset
from workbench.core.errors import DatasetError, WorkbenchError

SOUND_MODEL = {"sample_rate": 8000, "duration": 0.5, "n_mels": 16, "frames": 16}


@pytest.fixture(scope="module")
def image_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken") / "images"
    cases, skipped = write_broken_image_corpus(root)
    return root, cases, skipped


@pytest.fixture(scope="module")
def sound_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken") / "sounds"
    cases, skipped = write_broken_sound_corpus(root)
    return root, cases, skipped


def assert_report_covers(report, root: Path, cases: dict, skipped: dict) -> None:
    """Each broken case is unreadable with its reason, each good one is a sample, each skipped entry is
    listed under its reason, and the report prints without an encoding error."""
    reasons = {os.path.relpath(item["path"], root): item["reason"] for item in report.unreadable}
    files = {os.path.relpath(f, root) for f in report.files}
    for name, expected in cases.items():
        if expected is None:
            assert name in files, f"{display_path(name)} should be read: {reasons.get(name)}"
        else:
            assert name in reasons, f"{display_path(name)} should be unreadable"
            assert expected.lower() in reasons[name].lower(), (name, reasons[name])
    listed = {example.split(" -> ")[0]: item["reason"] for item in report.skipped for example in item["examples"]}
    for name, expected in skipped.items():
        assert name in listed, f"{name} is not reported as skipped: {report.skipped}"
        assert expected in listed[name], (name, listed[name])
    text = "\n".join(report.lines())
    text.encode("utf-8")  # printable: no lone surrogates of non-UTF-8 names
    for item in report.unreadable:
        assert display_path(item["path"]) in text
    json.loads(json.dumps(report.to_dict()))


def test_image_corpus_scan_reports_every_broken_and_skipped_file(image_corpus):
    root, cases, skipped = image_corpus
    report = scan_dataset(root)
    assert report.modality == "image" and report.class_names == ["a", "b"]
    assert_report_covers(report, root, cases, skipped)
    assert any(f"{len(report.unreadable)} unreadable" in w for w in report.warnings)


def test_sixteen_bit_and_transparent_images_keep_their_content(image_corpus):
    from workbench.core.image.io import read_image

    root, _, _ = image_corpus
    sixteen = read_image(root / "b" / "sixteen_bit.png")
    assert sixteen.dtype == np.uint8 and 0 < sixteen.mean() < 128  # scaled, not clipped to white
    rgba = read_image(root / "b" / "rgba.png")
    assert rgba.shape == (28, 28, 3) and rgba.min() == 0 and rgba.max() == 255  # strokes on white, not black


def test_image_corpus_trains_evaluates_and_predicts(image_corpus, tmp_path):
    from workbench.core.evaluation import evaluate_on_dataset
    from workbench.core.inference import Predictor
    from workbench.core.training import TrainConfig, train

    root, cases, _ = image_corpus
    result = train(TrainConfig("simple_cnn", str(root), {"epochs": 1, "batch_size": 8, "seed": 1},
                               out_dir=str(tmp_path / "run")))
    assert result.status == "completed", result.message
    predictor = Predictor.load(result.model_path)

    evaluation = evaluate_on_dataset(predictor, str(root))
    assert evaluation["num_samples"] == sum(1 for e in cases.values() if e is None) + 10
    assert len(evaluation["dataset"]["unreadable"]) == sum(1 for e in cases.values() if e is not None)
    assert evaluation["dataset"]["skipped"]
    assert any("unreadable" in line for line in report_lines(evaluation["dataset"]))
    only_broken = tmp_path / "only_broken"
    for name in ("a/empty.png", "b/random.jpg"):
        (only_broken / name).parent.mkdir(parents=True, exist_ok=True)
        (only_broken / name).write_bytes((root / name).read_bytes())
    with pytest.raises(DatasetError, match="Expected readable samples to evaluate on"):
        evaluate_on_dataset(predictor, str(only_broken))
    (tmp_path / "sounds" / "a").mkdir(parents=True)
    (tmp_path / "sounds" / "a" / "x.wav").write_bytes(b"")
    with pytest.raises(DatasetError, match="Expected image files for this image model. Received: audio files"):
        evaluate_on_dataset(predictor, str(tmp_path / "sounds"))

    failures: dict[str, str] = {}
    paths = [str(root / name) for name in cases] + [str(root / "missing.png")]
    predictions = predictor.predict_files(paths, top_k=5, on_error=failures.__setitem__)
    predicted = {os.path.relpath(p.source, root) for p in predictions}
    assert predicted == {name for name, e in cases.items() if e is None}
    assert {os.path.relpath(p, root) for p in failures} == {n for n, e in cases.items() if e} | {"missing.png"}
    assert all(display_path(path) in message for path, message in failures.items())
    assert all(len(p.top) == 2 for p in predictions)  # at most every class
    with pytest.raises(DatasetError, match="empty"):
        predictor.predict_files([str(root / "a" / "empty.png")])
    for k in (0, -1):
        with pytest.raises(WorkbenchError, match="at least 1"):
            predictor.predict_files(paths[:1], top_k=k)
        with pytest.raises(WorkbenchError, match="at least 1"):
            predictor.top_k(np.array([0.4, 0.6]), k)


def test_non_utf8_file_names_go_through_tf_data(tmp_path):
    root = write_image_dataset(tmp_path / "d", {"a": 2, "b": 2})
    odd = root / "a" / os.fsdecode(b"\xff\xfe.png")
    try:
        os.rename(root / "a" / "a_000.png", odd)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not valid UTF-8")
    report = scan_dataset(root)
    assert str(odd) in report.files and not report.unreadable
    split = split_dataset(report, val_fraction=0.0)
    batches = list(make_tf_dataset(split.train, (28, 28, 1), 8))
    assert sum(len(y) for _, y in batches) == 4


def test_sound_corpus_scan_and_the_clips_longer_than_the_model(sound_corpus):
    root, cases, skipped = sound_corpus
    report = scan_dataset(root)
    assert report.modality == "audio"
    assert_report_covers(report, root, cases, skipped)
    assert report.file_statistics["duration_max"] == pytest.approx(30.0, abs=0.01)
    assert "44100" in report.file_statistics["sample_rates"]

    from workbench.core.templates import get_template

    spec = get_template("audio_spectrogram_cnn")
    hp = spec.resolve_hparams(SOUND_MODEL)
    shape = tuple(spec.input_shape_for(hp))
    [warning] = report.model_warnings(shape, spec.preprocessing_for(hp, shape))
    assert warning.startswith(f"1 of {len(report.files)} clips are longer than 0.5 s") and "30.0 s" in warning
    notes = data_notes(report, split_dataset(report), shape, spec.preprocessing_for(hp, shape))
    assert any("cropped to their loudest 0.5 s" in n for n in notes)
    assert sum(n.startswith("unreadable: ") for n in notes) == len(report.unreadable)


def test_sound_corpus_decodes_in_the_pipeline(sound_corpus):
    """Every readable sound, non-UTF-8 names included, decodes to the model's clip in tf.data."""
    from workbench.core.templates import get_template

    root, _, _ = sound_corpus
    report = scan_dataset(root)
    spec = get_template("audio_spectrogram_cnn")
    hp = spec.resolve_hparams(SOUND_MODEL)
    shape = tuple(spec.input_shape_for(hp))
    split = split_dataset(report, val_fraction=0.0)
    batches = list(make_tf_dataset(split.train, shape, 32, preprocessing=spec.preprocessing_for(hp, shape)))
    waves = np.concatenate([np.asarray(x) for x, _ in batches])
    assert waves.shape == (len(report.files), 4000) and np.all(np.isfinite(waves))
    assert np.all(np.abs(waves).max(axis=1) > 0.5)  # every clip holds its (normalised) sound


def test_video_corpus_scan_reports_truncated_and_zero_frame_clips(tmp_path):
    pytest.importorskip("cv2")
    root = tmp_path / "videos"
    cases, skipped = write_broken_video_corpus(root)
    report = scan_dataset(root)
    assert report.modality == "video" and report.num_samples == 4
    assert_report_covers(report, root, cases, skipped)
    [truncated] = [i["reason"] for i in report.unreadable if i["path"].endswith("truncated.avi")]
    assert truncated.startswith("truncated: ") and truncated.endswith(" of 20 frames decode")
    assert report.file_statistics["frames_max"] == 4


def test_links_to_folders_are_followed_once(tmp_path):
    root = write_image_dataset(tmp_path / "d", {"a": 5, "b": 5})
    elsewhere = write_image_dataset(tmp_path / "more", {"c": 3})
    try:
        os.symlink(elsewhere / "c", root / "a" / "extra", target_is_directory=True)  # followed: 3 more for a
        os.symlink(root / "b", root / "a" / "same_as_b", target_is_directory=True)  # already scanned as b
        os.symlink(root, root / "b" / "up", target_is_directory=True)  # a loop
    except (OSError, NotImplementedError):
        pytest.skip("symbolic links are not allowed here")
    report = scan_dataset(root)
    assert report.counts == {"a": 8, "b": 5}
    reasons = {e.split(" -> ")[0]: item["reason"] for item in report.skipped for e in item["examples"]}
    assert "already scanned" in reasons[os.path.join("a", "same_as_b")]
    assert "loop" in reasons[os.path.join("b", "up")]


def test_presplit_folders_say_what_lies_beside_the_splits(tmp_path):
    write_image_dataset(tmp_path / "d" / "train", {"a": 5, "b": 5})
    write_image_dataset(tmp_path / "d" / "val", {"a": 2, "b": 2})
    write_image_dataset(tmp_path / "d" / "extra", {"a": 2})
    (tmp_path / "d" / "LICENSE").write_text("CC0")
    (tmp_path / "d" / "train" / "empty_class").mkdir()
    report = scan_dataset(tmp_path / "d")
    reasons = {e: item["reason"] for item in report.skipped for e in item["examples"]}
    assert "beside train/val/test" in reasons["extra"]
    assert "outside the class folders" in reasons["LICENSE"]
    assert "without data files" in reasons[os.path.join("train", "empty_class")]


@pytest.mark.parametrize(("per_class", "val_split", "expected"), [
    (1, 0.0, "the validation fraction is 0"),
    (1, 0.2, "no class has 2 or more samples"),
])
def test_a_run_without_validation_is_said(tmp_path, per_class, val_split, expected):
    report = scan_dataset(write_image_dataset(tmp_path / "d", {"a": per_class, "b": per_class}))
    split = split_dataset(report, val_fraction=val_split)
    assert split.val is None
    [warning] = split.info["warnings"]
    assert warning.startswith("No validation split") and expected in warning
    assert f"warning: {warning}" in data_notes(report, split, (28, 28, 1), {})


def test_classes_missing_from_validation_are_named(tmp_path):
    report = scan_dataset(write_image_dataset(tmp_path / "d", {"a": 6, "b": 1}))
    [warning] = split_dataset(report, val_fraction=0.3).info["warnings"]
    assert "no validation sample" in warning and warning.endswith(": b.")


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("text.npz", b"just some text\n", "not an .npz archive"),
    ("random.npz", bytes(range(256)) * 2, "not an .npz archive"),
    ("empty.npz", b"", "empty file"),
    ("truncated.npz", None, "damaged or truncated"),
    ("objects.npz", None, "Python objects"),
])
def test_npz_files_that_cannot_be_read_never_suggest_unpickling(tmp_path, name, content, expected):
    path = tmp_path / name
    if name == "objects.npz":
        np.savez(path, x_train=np.array([{"a": 1}, None], dtype=object), y_train=np.array([0, 1]))
    elif name == "truncated.npz":
        np.savez(path, x_train=np.zeros((8, 4, 4), np.uint8), y_train=np.arange(8))
        path.write_bytes(path.read_bytes()[:100])
    else:
        path.write_bytes(content)
    for load in (load_npz, scan_dataset):
        with pytest.raises(DatasetError) as error:
            load(path)
        message = str(error.value)
        assert message.startswith("Expected a readable .npz file") and expected in message
        assert "allow_pickle" not in message and "pickle.load" not in message


def test_display_path_never_fails():
    assert display_path(os.fsdecode(b"caf\xe9.png")) == "caf\\xe9.png"
    assert display_path(b"caf\xe9.png") == "caf\\xe9.png"
    assert display_path("\ud800x") == "\\ud800x"
    assert display_path("plain/ünïcode.png") == "plain/ünïcode.png"

"""Dataset scanning: layouts, counts, unreadable files, warnings, progress and cancel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import pattern_image, write_image, write_image_dataset
from workbench.core.image.io import load_image_for_model, read_image
from workbench.core.data.scan import ScanCancelled, scan_dataset
from workbench.core.errors import DatasetError
from workbench.core.training.events import CancelToken


def _labels_match_folders(report) -> bool:
    """Every file's label is the index of the class folder it sits under."""
    root = Path(report.path)
    for path, label in zip(report.files, report.labels):
        parts = Path(path).relative_to(root).parts
        cls = parts[1] if report.kind == "presplit" else parts[0]
        if report.class_names[label] != cls:
            return False
    return True


def test_folder_layout_sorts_classes_and_counts_files(tmp_path):
    root = write_image_dataset(tmp_path / "d", {"zeta": 6, "alpha": 7, "mid": 8})
    (root / "alpha" / "notes.txt").write_text("not an image")  # ignored: not a data file

    report = scan_dataset(root)

    assert report.kind == "folder"
    assert report.modality == "image"
    assert report.class_names == ["alpha", "mid", "zeta"]
    assert report.counts == {"alpha": 7, "mid": 8, "zeta": 6}
    assert report.num_samples == 21 == len(report.files) == len(report.labels)
    assert report.unreadable == [] and report.warnings == []
    assert _labels_match_folders(report)
    json.dumps(report.to_dict())  # the summary is JSON-serialisable


def test_nested_files_count_for_their_top_level_class(tmp_path):
    root = tmp_path / "d"
    rng = np.random.default_rng(1)
    for i in range(5):
        write_image(root / "cat" / f"c{i}.png", pattern_image("blob", 16, rng))
        write_image(root / "dog" / "indoor" / "2024" / f"d{i}.png", pattern_image("hbar", 16, rng))
    write_image(root / "dog" / "outdoor" / "d9.png", pattern_image("hbar", 16, rng))
    write_image(root / "dog" / ".thumbnails" / "t.png", pattern_image("hbar", 16, rng))  # hidden: skipped
    write_image(root / ".cache" / "x.png", pattern_image("hbar", 16, rng))  # hidden class folder: skipped

    report = scan_dataset(root)

    assert report.class_names == ["cat", "dog"]
    assert report.counts == {"cat": 5, "dog": 6}
    assert _labels_match_folders(report)


def test_presplit_layout_reports_split_counts(tmp_path):
    write_image_dataset(tmp_path / "d" / "train", {"a": 6, "b": 7})
    write_image_dataset(tmp_path / "d" / "validation", {"a": 2, "b": 3}, seed=1)
    write_image_dataset(tmp_path / "d" / "test", {"a": 4, "b": 1}, seed=2)

    report = scan_dataset(tmp_path / "d")

    assert report.kind == "presplit"
    assert report.class_names == ["a", "b"]
    assert report.split_counts == {"train": {"a": 6, "b": 7}, "val": {"a": 2, "b": 3}, "test": {"a": 4, "b": 1}}
    assert report.counts == {"a": 12, "b": 11}
    assert sorted(set(report.subsets)) == ["test", "train", "val"]
    assert _labels_match_folders(report)


@pytest.mark.parametrize("channel_axis", [False, True], ids=["NHW", "NHW1"])
def test_npz_layout(tmp_path, channel_axis):
    rng = np.random.default_rng(0)
    y_train = np.array([3, 1, 3, 7, 1, 3, 7, 7, 7, 1], dtype=np.uint8)
    y_test = np.array([1, 7, 3, 3], dtype=np.uint8)
    shape = (12, 12, 1) if channel_axis else (12, 12)
    path = tmp_path / "digits.npz"
    np.savez(path, x_train=rng.integers(0, 255, (10, *shape), dtype=np.uint8), y_train=y_train,
             x_test=rng.integers(0, 255, (4, *shape), dtype=np.uint8), y_test=y_test)

    report = scan_dataset(path)

    assert report.kind == "npz"
    assert report.class_names == ["1", "3", "7"]
    assert report.counts == {"1": 3, "3": 3, "7": 4}
    assert report.split_counts == {"train": {"1": 3, "3": 3, "7": 4}, "test": {"1": 1, "3": 2, "7": 1}}
    assert report.sample_shape == list(shape)
    assert [report.class_names[i] for i in report.labels] == [str(v) for v in y_train]


def test_npz_without_test_arrays(tmp_path):
    path = tmp_path / "train_only.npz"
    np.savez(path, x_train=np.zeros((6, 8, 8), np.uint8), y_train=np.array([[0], [1], [0], [1], [0], [1]]))

    report = scan_dataset(path)

    assert report.counts == {"0": 3, "1": 3}
    assert list(report.split_counts) == ["train"]


@pytest.mark.parametrize("arrays", [
    {"images": np.zeros((4, 8, 8), np.uint8), "labels": np.zeros(4, np.uint8)},
    {"x_train": np.zeros((4, 8, 8), np.uint8)},
], ids=["wrong-names", "no-labels"])
def test_npz_with_wrong_keys_is_a_dataset_error(tmp_path, arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match="x_train"):
        scan_dataset(path)


def test_npz_with_mismatched_lengths_is_a_dataset_error(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.zeros((4, 8, 8), np.uint8), y_train=np.zeros(3, np.uint8))
    with pytest.raises(DatasetError, match="x_train"):
        scan_dataset(path)


def test_unreadable_files_are_skipped_and_reported(tmp_path):
    root = write_image_dataset(tmp_path / "d", {"a": 6, "b": 6})
    good = (root / "a" / "a_000.png").read_bytes()
    (root / "a" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "b" / "empty.png").write_bytes(b"")
    (root / "b" / "text.png").write_text("this is not an image\n" * 10)

    report = scan_dataset(root)

    reasons = {Path(item["path"]).name: item["reason"] for item in report.unreadable}
    assert set(reasons) == {"truncated.png", "empty.png", "text.png"}
    assert all(reason.strip() for reason in reasons.values())
    assert reasons["empty.png"] == "empty file"
    assert report.counts == {"a": 6, "b": 6}
    assert not any(Path(f).name in reasons for f in report.files)
    assert any("3 unreadable" in w for w in report.warnings)


def test_warning_for_a_single_class(tmp_path):
    report = scan_dataset(write_image_dataset(tmp_path / "d", {"only": 6}))
    assert report.class_names == ["only"]
    assert any("Only 1 class" in w for w in report.warnings)


def test_warning_for_classes_with_few_samples(tmp_path):
    report = scan_dataset(write_image_dataset(tmp_path / "d", {"big": 8, "tiny": 3}))
    [warning] = report.warnings
    assert "fewer than 5" in warning and "tiny (3)" in warning and "big" not in warning


@pytest.mark.parametrize(("large", "warned"), [(55, True), (50, False)], ids=["11:1", "10:1"])
def test_warning_for_imbalance_above_ten_to_one(tmp_path, large, warned):
    report = scan_dataset(write_image_dataset(tmp_path / "d", {"many": large, "few": 5}), verify=False)
    imbalance = [w for w in report.warnings if "imbalanced" in w]
    assert bool(imbalance) == warned
    if warned:
        assert "'many'" in imbalance[0] and "'few'" in imbalance[0]


def test_missing_path_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        scan_dataset(tmp_path / "nowhere")


def test_a_plain_file_or_an_empty_folder_is_a_dataset_error(tmp_path):
    (tmp_path / "x.csv").write_text("1,2\n")
    with pytest.raises(DatasetError, match="Received"):
        scan_dataset(tmp_path / "x.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no such subfolders"):
        scan_dataset(tmp_path / "empty")


def test_progress_reaches_total(tmp_path):
    root = write_image_dataset(tmp_path / "d", {"a": 40, "b": 35})
    calls: list[tuple[int, int]] = []

    scan_dataset(root, progress=lambda done, total: calls.append((done, total)))

    assert calls, "progress was never reported"
    assert calls[-1] == (75, 75)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert {t for _, t in calls} == {75}


def test_cancel_raises_scan_cancelled(tmp_path):
    root = write_image_dataset(tmp_path / "d", {"a": 10, "b": 10})
    token = CancelToken()
    token.cancel()
    with pytest.raises(ScanCancelled):
        scan_dataset(root, cancel=token)


def test_cancel_midway_through_the_scan(tmp_path):
    root = write_image_dataset(tmp_path / "d", {"a": 70, "b": 70})
    token = CancelToken()
    calls: list[int] = []

    def progress(done, total):
        calls.append(done)
        token.cancel()

    with pytest.raises(ScanCancelled):
        scan_dataset(root, progress=progress, cancel=token)
    assert calls == [64]  # reported once, then stopped before the end


@pytest.mark.parametrize(("ext", "options", "tolerance"), [
    (".png", {}, 0.0),
    (".bmp", {}, 0.0),
    (".gif", {}, 0.0),
    (".webp", {"lossless": True}, 0.0),
    (".jpg", {"quality": 95}, 12.0),
])
def test_common_image_formats_decode(tmp_path, ext, options, tolerance):
    rng = np.random.default_rng(5)
    root = tmp_path / "d"
    originals = {}
    for cls, kind in (("h", "hbar"), ("v", "vbar")):
        for i in range(5):
            array = pattern_image(kind, 20, rng, noise=0.0)
            path = root / cls / f"{i}{ext}"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(path, **options)
            originals[path] = array

    report = scan_dataset(root)

    assert report.unreadable == []
    assert report.counts == {"h": 5, "v": 5}
    for path, array in originals.items():
        decoded = load_image_for_model(path, (20, 20, 1))
        assert decoded.shape == (20, 20, 1)
        assert np.abs(decoded[..., 0] - array).mean() <= tolerance + 1e-9


def test_animated_gif_uses_the_first_frame(tmp_path):
    first = pattern_image("hbar", 16, noise=0.0)
    second = pattern_image("vbar", 16, noise=0.0)
    path = tmp_path / "anim.gif"
    Image.fromarray(first).save(path, save_all=True, append_images=[Image.fromarray(second)])
    decoded = read_image(path)
    grey = decoded if decoded.ndim == 2 else decoded[..., 0]  # a palette GIF decodes as RGB
    np.testing.assert_array_equal(grey, first)

"""Seeded train/validation splits: stratified by class and by group (speaker, person, video)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from tests.helpers import write_image_dataset
from workbench.core.data.pipeline import split_dataset
from workbench.core.data.scan import scan_dataset
from workbench.core.data.split import group_names, group_of, group_split, stratified_split, suggested_group_regex
from workbench.core.errors import DatasetError

# Class-sorted, unequal classes: the layout a folder scan produces.
LABELS = np.repeat([0, 1, 2], [20, 13, 7])
SPEAKERS = ("george", "jackson", "nicolas", "theo", "yweweler")
SPEAKER_REGEX = r"^\d+_([a-z]+)_\d+"


def _speaker_files() -> tuple[list[str], np.ndarray]:
    files, labels = [], []
    for digit in range(3):
        for speaker in SPEAKERS:
            for n in range(4):
                files.append(f"/data/{digit}/{digit}_{speaker}_{n}.wav")
                labels.append(digit)
    return files, np.array(labels)


def test_stratified_split_partitions_all_indices():
    train, val = stratified_split(LABELS, 0.25, seed=0)
    assert len(np.intersect1d(train, val)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(len(LABELS)))


def test_stratified_split_is_seeded():
    a_train, a_val = stratified_split(LABELS, 0.25, seed=7)
    b_train, b_val = stratified_split(LABELS, 0.25, seed=7)
    c_train, c_val = stratified_split(LABELS, 0.25, seed=8)
    np.testing.assert_array_equal(a_val, b_val)
    np.testing.assert_array_equal(a_train, b_train)
    assert not np.array_equal(a_val, c_val)


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.25, 0.5])
def test_each_class_contributes_its_fraction_to_validation(fraction):
    _, val = stratified_split(LABELS, fraction, seed=3)
    for cls in np.unique(LABELS):
        expected = fraction * (LABELS == cls).sum()
        got = (LABELS[val] == cls).sum()
        assert abs(got - expected) <= 1, f"class {cls}: {got} in validation, expected about {expected}"


def test_validation_is_never_the_class_sorted_tail():
    tails_per_class = {cls: 0 for cls in range(3)}
    for seed in range(5):
        train, val = stratified_split(LABELS, 0.2, seed=seed)
        assert set(LABELS[val]) == {0, 1, 2}, "every class must be represented in validation"
        assert set(LABELS[train]) == {0, 1, 2}
        assert not np.array_equal(val, np.arange(len(LABELS) - len(val), len(LABELS)))
        for cls in range(3):
            members = np.flatnonzero(LABELS == cls)
            picked = np.intersect1d(val, members)
            tails_per_class[cls] += np.array_equal(picked, members[len(members) - len(picked):])
    # Within a class the pick is random too, so it is not the class's last files seed after seed.
    assert all(count < 5 for count in tails_per_class.values()), tails_per_class


def test_small_classes_keep_one_sample_on_each_side():
    labels = np.array([0, 0, 1, 1, 1, 2, 2])
    train, val = stratified_split(labels, 0.1, seed=0)
    assert set(labels[val]) == {0, 1, 2}
    assert set(labels[train]) == {0, 1, 2}


def test_zero_fraction_means_no_validation_and_bad_fractions_are_errors():
    train, val = stratified_split(LABELS, 0.0, seed=0)
    assert len(val) == 0 and len(train) == len(LABELS)
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(DatasetError, match="validation fraction"):
            stratified_split(LABELS, bad, seed=0)


def test_group_split_keeps_each_group_on_one_side():
    files, labels = _speaker_files()
    train, val = group_split(files, labels, SPEAKER_REGEX, 0.2, seed=1)

    pattern = re.compile(SPEAKER_REGEX)
    train_groups = {group_of(files[i], pattern) for i in train}
    val_groups = {group_of(files[i], pattern) for i in val}
    assert val_groups and train_groups
    assert not train_groups & val_groups
    assert train_groups | val_groups == set(SPEAKERS)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(len(files)))


def test_group_split_is_seeded():
    files, labels = _speaker_files()
    results = {seed: group_split(files, labels, SPEAKER_REGEX, 0.4, seed)[1] for seed in range(6)}
    np.testing.assert_array_equal(results[0], group_split(files, labels, SPEAKER_REGEX, 0.4, 0)[1])
    assert len({tuple(v) for v in results.values()}) > 1, "different seeds should pick different groups"


def test_group_split_never_puts_every_group_in_validation():
    files = ["0_a_1.png", "0_a_2.png", "1_b_1.png", "1_b_2.png"]
    train, val = group_split(files, np.array([0, 0, 1, 1]), r"_([a-z])_", 0.9, seed=0)
    assert len(train) == 2 and len(val) == 2


def test_group_regex_without_a_capturing_group_uses_the_whole_match():
    assert group_of("/x/3_george_12.png", re.compile(r"george|theo")) == "george"
    assert group_of("/x/3_george_12.png", re.compile(r"^\d+_(\w+?)_")) == "george"


def test_group_split_errors():
    files, labels = _speaker_files()
    with pytest.raises(DatasetError, match="match the group regex") as info:
        group_split(files + ["/data/0/README_recording.wav"], np.append(labels, 0), SPEAKER_REGEX, 0.2, 0)
    assert "README_recording.wav" in str(info.value)
    with pytest.raises(DatasetError, match="at least 2 groups"):
        group_split(files, labels, r"\.wav$", 0.2, 0)
    with pytest.raises(DatasetError, match="valid regular expression"):
        group_split(files, labels, r"([a-z", 0.2, 0)


def test_split_dataset_uses_group_regex_on_a_folder(tmp_path):
    root = tmp_path / "d"
    for person in ("ann", "bob", "cy", "dee"):
        write_image_dataset(root, {"h": 3, "v": 3}, name=person + "_{cls}_{i}", seed=len(person))
    report = scan_dataset(root, verify=False)

    split = split_dataset(report, val_fraction=0.25, group_regex=r"^([a-z]+)_", seed=0)

    assert split.info["method"] == "group"
    people = lambda subset: {p.rsplit("/", 1)[-1].split("_")[0] for p in subset.ids}  # noqa: E731
    assert split.val is not None and not people(split.train) & people(split.val)
    assert len(split.train) + len(split.val) == 24


def test_split_dataset_respects_presplit_folders(tmp_path):
    write_image_dataset(tmp_path / "d" / "train", {"a": 6, "b": 6})
    write_image_dataset(tmp_path / "d" / "val", {"a": 2, "b": 3}, seed=1)
    report = scan_dataset(tmp_path / "d", verify=False)

    split = split_dataset(report, val_fraction=0.5, seed=0)

    assert split.info["method"] == "pre-split folders"
    assert all("/train/" in p for p in split.train.ids) and all("/val/" in p for p in split.val.ids)
    assert split.info["counts"]["val"] == {"a": 2, "b": 3}


def test_split_dataset_needs_two_classes(tmp_path):
    report = scan_dataset(write_image_dataset(tmp_path / "d", {"only": 6}), verify=False)
    with pytest.raises(DatasetError, match="at least 2 classes"):
        split_dataset(report)


UCF_NAMES = [f"/d/{c}/v_{c}_g{g:02d}_c{k:02d}.avi"
             for c in ("Punch", "PushUps") for g in (8, 9, 10) for k in (1, 2)]


def test_the_group_regex_is_suggested_by_the_report_s_modality_only():
    video = SimpleNamespace(kind="folder", modality="video", files=UCF_NAMES, subsets=["train"] * len(UCF_NAMES))
    assert suggested_group_regex(video) == r"_g(\d+)_"
    assert group_names(video.files, r"_g(\d+)_") == ["08", "09", "10"]
    # The same names in a modality without the capability, arrays, or a split fixed by folders: none.
    assert suggested_group_regex(SimpleNamespace(**{**vars(video), "modality": "image"})) is None
    assert suggested_group_regex(SimpleNamespace(**{**vars(video), "kind": "npz"})) is None
    presplit = SimpleNamespace(**{**vars(video), "kind": "presplit", "subsets": ["train", "val"] * 6})
    assert suggested_group_regex(presplit) is None
    plain = SimpleNamespace(**{**vars(video), "files": [f"/d/a/clip_{i}.avi" for i in range(12)]})
    assert suggested_group_regex(plain) is None

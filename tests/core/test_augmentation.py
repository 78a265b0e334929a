"""Augmentation spec parsing, the preview function and its place in the training pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import pattern_image, write_image_dataset
from workbench.core.image.augment import AugmentationSpec, augment_samples
from workbench.core.image.io import load_image_for_model
from workbench.core.data.pipeline import Subset, make_tf_dataset
from workbench.core.data.scan import scan_dataset
from workbench.core.errors import WorkbenchError


def _asymmetric_image(size: int = 16) -> np.ndarray:
    """An L shape in the left half: its mirror image differs from it."""
    image = np.zeros((size, size, 1), np.float32)
    image[2:-2, 2:5] = 255.0
    image[-5:-2, 2:8] = 180.0
    return image


def test_from_pairs_parses_command_line_values():
    spec = AugmentationSpec.from_pairs(["rotation=10", "horizontal_flip=true", " zoom = 0.2 ", "fill_mode=reflect",
                                        "vertical_flip=0", "brightness=0.1"])
    assert spec.rotation == 10.0 and spec.zoom == 0.2 and spec.brightness == 0.1
    assert spec.horizontal_flip is True and spec.vertical_flip is False
    assert spec.fill_mode == "reflect"
    assert spec.enabled
    assert AugmentationSpec.from_pairs([]) == AugmentationSpec()


@pytest.mark.parametrize(("pair", "message"), [
    ("colour=1", "colour"),
    ("rotation", "key=value"),
    ("=3", "key=value"),
    ("rotation=abc", "expects a float"),
    ("rotation=200", "rotation"),
    ("rotation=-5", "rotation"),
    ("zoom=0.95", "zoom"),
    ("width_shift=nan", "width_shift"),
    ("fill_mode=mirror", "fill_mode"),
    ("horizontal_flip=maybe", "horizontal_flip"),
])
def test_from_pairs_rejects_bad_options(pair, message):
    with pytest.raises(WorkbenchError, match=message) as info:
        AugmentationSpec.from_pairs([pair])
    assert "Received" in str(info.value)


def test_to_dict_round_trips_through_json():
    spec = AugmentationSpec(rotation=15, width_shift=0.1, height_shift=0.05, shear=0.2, zoom=0.1,
                            horizontal_flip=True, brightness=0.2, contrast=0.3, fill_mode="constant")
    data = json.loads(json.dumps(spec.to_dict()))
    assert AugmentationSpec.from_dict(data) == spec
    assert AugmentationSpec.from_dict(AugmentationSpec().to_dict()) == AugmentationSpec()


def test_fill_mode_alone_does_not_enable_augmentation():
    assert not AugmentationSpec().enabled
    assert not AugmentationSpec(fill_mode="reflect").enabled
    assert AugmentationSpec(contrast=0.1).enabled


def test_augment_samples_shape_and_range():
    rng = np.random.default_rng(0)
    samples = np.stack([pattern_image(k, 20, rng)[..., None] for k in ("hbar", "blob", "vbar")]).astype(np.float32)
    spec = AugmentationSpec(rotation=30, zoom=0.2, width_shift=0.2, brightness=0.5, contrast=0.5)

    out = augment_samples(samples, spec, n=8, seed=1)

    assert out.shape == (3, 8, 20, 20, 1)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    assert not np.allclose(out, np.repeat(samples[:, None], 8, axis=1))


def test_augment_samples_accepts_a_single_image():
    out = augment_samples(_asymmetric_image(), AugmentationSpec(rotation=10), n=4, seed=0)
    assert out.shape == (1, 4, 16, 16, 1)


def test_augment_samples_is_identity_when_disabled():
    samples = np.stack([_asymmetric_image(), 255.0 - _asymmetric_image()])
    out = augment_samples(samples, AugmentationSpec(), n=5)
    assert out.shape == (2, 5, 16, 16, 1)
    for i in range(2):
        for j in range(5):
            np.testing.assert_array_equal(out[i, j], samples[i])


def test_horizontal_flip_gives_the_image_or_its_mirror():
    image = _asymmetric_image()
    mirror = image[:, ::-1]
    out = augment_samples(np.stack([image, image]), AugmentationSpec(horizontal_flip=True), n=8, seed=3)

    variants = out.reshape(-1, 16, 16, 1)
    is_original = [np.array_equal(v, image) for v in variants]
    is_mirror = [np.array_equal(v, mirror) for v in variants]
    assert all(a or b for a, b in zip(is_original, is_mirror)), "a flip must not change pixel values"
    assert any(is_mirror), "no variant was mirrored"
    assert any(is_original), "every variant was mirrored: the flip is not random"


def test_rotation_moves_pixels():
    image = _asymmetric_image()
    out = augment_samples(image, AugmentationSpec(rotation=90), n=8, seed=0)[0]
    changed = [np.abs(v - image).mean() > 1.0 for v in out]
    assert sum(changed) >= 6
    assert np.ptp(out) > 0  # not blanked out


@pytest.fixture
def resized_subset(tmp_path):
    """RGB 40×40 files that the pipeline converts to grey and shrinks to 28×28."""
    root = write_image_dataset(tmp_path / "d", {"h": 6, "v": 6}, size=40, rgb=True)
    report = scan_dataset(root)
    return Subset(report.files, report.labels)


def test_evaluation_pipeline_gives_exactly_the_prediction_pixels(resized_subset):
    shape = (28, 28, 1)
    heavy = AugmentationSpec(rotation=90, horizontal_flip=True, brightness=0.5)
    ds = make_tf_dataset(resized_subset, shape, batch_size=5, training=False, augmentation=heavy)

    images = np.concatenate([x.numpy() for x, _ in ds])
    labels = np.concatenate([y.numpy() for _, y in ds])

    expected = np.stack([load_image_for_model(f, shape) for f in resized_subset.ids])
    np.testing.assert_array_equal(images, expected)  # same order, same values, no augmentation
    np.testing.assert_array_equal(labels, resized_subset.labels)
    assert images.dtype == np.float32


def test_training_pipeline_augments(resized_subset):
    shape = (28, 28, 1)
    plain = np.stack([load_image_for_model(f, shape) for f in resized_subset.ids])
    ds = make_tf_dataset(resized_subset, shape, batch_size=4, training=True,
                         augmentation=AugmentationSpec(rotation=90, width_shift=0.2), seed=0)

    images = np.concatenate([x.numpy() for x, _ in ds])
    labels = np.concatenate([y.numpy() for _, y in ds])

    assert images.shape == plain.shape
    assert sorted(labels.tolist()) == sorted(resized_subset.labels.tolist())
    unchanged = sum(any(np.array_equal(image, p) for p in plain) for image in images)
    assert unchanged <= len(images) // 4, f"{unchanged} of {len(images)} training images were not augmented"


def test_training_pipeline_without_augmentation_only_shuffles(resized_subset):
    shape = (28, 28, 1)
    plain = np.stack([load_image_for_model(f, shape) for f in resized_subset.ids])
    ds = make_tf_dataset(resized_subset, shape, batch_size=4, training=True, augmentation=AugmentationSpec())
    images = np.concatenate([x.numpy() for x, _ in ds])
    assert all(any(np.array_equal(image, p) for p in plain) for image in images)


def test_array_subsets_feed_the_same_pixels():
    rng = np.random.default_rng(0)
    arrays = rng.integers(0, 256, (7, 12, 12), dtype=np.uint8)
    subset = Subset([f"npz:x_train[{i}]" for i in range(7)], np.arange(7) % 2, arrays)
    images = np.concatenate([x.numpy() for x, _ in make_tf_dataset(subset, (12, 12, 1), batch_size=3)])
    np.testing.assert_array_equal(images[..., 0], arrays.astype(np.float32))

"""Video augmentation: the spec's round trips and limits, and one draw per clip for all its frames —
the same code in the training pipeline and in the preview."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.augmentation import augmentation_from_dict, augmentation_from_pairs
from workbench.core.errors import WorkbenchError
from workbench.core.video.augment import VideoAugmentationSpec, augment_clips


def test_spec_round_trips_and_says_when_it_is_on():
    spec = VideoAugmentationSpec.from_pairs(["zoom=0.2", "horizontal_flip=true", "brightness=0.1",
                                             "contrast=0.3", "speed=0.25"])
    assert spec.enabled and spec.frames_enabled
    assert spec.to_dict() == {"modality": "video", "zoom": 0.2, "horizontal_flip": True, "brightness": 0.1,
                              "contrast": 0.3, "speed": 0.25}
    assert VideoAugmentationSpec.from_dict(spec.to_dict()) == spec
    assert augmentation_from_dict(spec.to_dict()) == spec  # found through the registry by its modality
    assert augmentation_from_pairs(["speed=0.1"], "video") == VideoAugmentationSpec(speed=0.1)
    assert not VideoAugmentationSpec().enabled and not VideoAugmentationSpec(speed=0.1).frames_enabled


@pytest.mark.parametrize("pairs, message", [(["zoom=0.9"], "zoom"), (["speed=-0.1"], "speed"),
                                            (["rotation=10"], "Unknown video augmentation"),
                                            (["horizontal_flip=maybe"], "horizontal_flip")])
def test_bad_options_are_refused_with_what_was_expected(pairs, message):
    with pytest.raises(WorkbenchError, match=message):
        VideoAugmentationSpec.from_pairs(pairs)


def moving_clips(count: int = 2, frames: int = 6, size: int = 24) -> np.ndarray:
    """Clips of a bright square moving right one pixel a frame, on a left-to-right ramp."""
    clips = np.zeros((count, frames, size, size, 3), np.float32)
    clips += np.linspace(0, 100, size, dtype=np.float32)[None, None, None, :, None]
    for f in range(frames):
        clips[:, f, 8:14, 4 + f:10 + f] = 250.0
    return clips


def test_preview_keeps_the_shape_and_the_value_range():
    clips = moving_clips()
    spec = VideoAugmentationSpec(zoom=0.3, horizontal_flip=True, brightness=0.3, contrast=0.3, speed=0.3)
    out = augment_clips(clips, spec, n=5, seed=1)
    assert out.shape == (2, 5, 6, 24, 24, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    np.testing.assert_array_equal(out, augment_clips(clips, spec, n=5, seed=1))  # seeded
    assert not np.array_equal(out[0, 0], out[0, 1])  # the n versions differ
    np.testing.assert_array_equal(augment_clips(clips, VideoAugmentationSpec(), n=2)[:, 1], clips)  # off: unchanged


def test_one_flip_for_every_frame_of_a_clip():
    clips = moving_clips(count=1, frames=6)
    out = augment_clips(clips, VideoAugmentationSpec(horizontal_flip=True), n=16, seed=3)[0]
    mirrored = clips[0][:, :, ::-1]
    kinds = []
    for version in out:  # each version is wholly the clip or wholly its mirror image, frame by frame
        if np.allclose(version, clips[0]):
            kinds.append("same")
        else:
            np.testing.assert_allclose(version, mirrored)
            kinds.append("mirrored")
    assert set(kinds) == {"same", "mirrored"}


def test_one_crop_and_one_brightness_for_every_frame_of_a_clip():
    still = np.repeat(moving_clips(count=1, frames=1), 5, axis=1)  # five identical frames
    out = augment_clips(still, VideoAugmentationSpec(zoom=0.4, brightness=0.3, contrast=0.3), n=6, seed=0)[0]
    for version in out:
        for frame in version[1:]:
            np.testing.assert_allclose(frame, version[0], atol=1e-3)
    assert len({round(float(v.mean()), 2) for v in out}) > 1  # but a different draw per version


def test_speed_jitter_reuses_the_clip_s_own_frames_in_order():
    clips = moving_clips(count=1, frames=8)
    out = augment_clips(clips, VideoAugmentationSpec(speed=0.5), n=12, seed=2)[0]
    positions = lambda clip: [int(np.argmax(f[10, :, 0] > 200)) for f in clip]  # noqa: E731  (square's left edge)
    for version in out:
        seen = positions(version)
        assert set(seen) <= set(positions(clips[0])) and seen == sorted(seen)
    assert any(len(set(positions(v))) < 8 for v in out)  # some versions are slowed down

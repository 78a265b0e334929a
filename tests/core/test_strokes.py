"""The one stroke renderer (canvas, pen-digit data), placing a drawing, and stroke-level augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.image.stroke_augment import StrokeAugmentation, augment_strokes
from workbench.core.image.strokes import (
    MARGIN,
    PEN_WIDTH_RATIO,
    fit_strokes,
    render_strokes,
    smooth_path,
)

SEVEN = [np.array([[0.3, 0.25], [0.7, 0.25], [0.45, 0.8]])]


def test_pen_is_round_and_as_wide_as_the_ratio_says():
    image = render_strokes([[(0.1, 0.5), (0.9, 0.5)]], 280)
    assert image.dtype == np.uint8 and image.shape == (280, 280)
    column = image[:, 140]
    assert abs(int((column >= 128).sum()) - 280 * PEN_WIDTH_RATIO) <= 1
    # Round caps: the ink reaches half a pen beyond the end point on the axis, less off the axis.
    half = 280 * PEN_WIDTH_RATIO / 2
    assert image[140, int(0.9 * 280 + half) - 2] > 128 and image[140, int(0.9 * 280 + half) + 2] == 0
    assert image[140 - int(half) + 2, int(0.9 * 280 + half) - 2] == 0
    assert image[:, :10].max() == 0 and image[:100].max() == 0


def test_a_tap_is_a_dot_centred_where_qt_puts_it():
    # Pixel i spans [i, i+1): the point 0.5 of a 220-pixel square is the corner between 109 and 110.
    image = render_strokes([[(0.5, 0.5)]], 220)
    assert image[110, 110] == 255 and image[109, 109] == 255
    assert image[110, 110 + 12] == 0 and image[110, 110 + 8] > 128
    # Symmetric about that corner, up to OpenCV's circle rasterisation (2 of 16 sub-pixels at an edge).
    assert np.abs(image.astype(int) - image[::-1, ::-1]).max() <= 32


def test_edges_are_antialiased_and_overlaps_do_not_brighten_them():
    stroke = [(0.2, 0.3), (0.5, 0.6), (0.8, 0.35)]
    once = render_strokes([stroke], 200)
    grey = (once > 0) & (once < 255)
    assert grey.sum() > 100, "no anti-aliased edge"
    np.testing.assert_array_equal(render_strokes([stroke, stroke, stroke], 200), once)


def test_the_pen_scales_with_the_size():
    small, large = render_strokes(SEVEN, 140), render_strokes(SEVEN, 560)
    assert abs(small.mean() - large.mean()) < 1.0
    assert render_strokes([], 50).max() == 0


def test_smooth_path_passes_through_the_ends_and_rounds_corners():
    points = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])
    path = smooth_path(points, step=0.5)
    np.testing.assert_array_equal(path[0], points[0])
    np.testing.assert_array_equal(path[-1], points[-1])
    assert len(path) > 20
    assert np.linalg.norm(path - points[1], axis=1).min() > 1.0, "the corner is cut by a curve"
    np.testing.assert_array_equal(smooth_path(points[:2]), points[:2])


@pytest.mark.parametrize(("size", "ratio"), [(0, PEN_WIDTH_RATIO), (28, 0.0), (28, 1.0)])
def test_bad_arguments_say_what_was_expected(size, ratio):
    with pytest.raises(ValueError, match="Expected .*Received: "):
        render_strokes(SEVEN, size, ratio)


def test_fit_strokes_keeps_the_aspect_and_places_the_drawing():
    tall = [np.array([[10.0, 0.0], [30.0, 0.0]]), np.array([[20.0, 0.0], [20.0, 100.0]])]
    placed = fit_strokes(tall, height=0.6, centre=(0.5, 0.5))
    every = np.concatenate(placed)
    low, high = every.min(axis=0), every.max(axis=0)
    np.testing.assert_allclose(high - low, [0.12, 0.6])
    np.testing.assert_allclose((low + high) / 2, [0.5, 0.5])
    # Too wide for the height: shrunk inside the margins; a centre near the edge is pulled in.
    wide = fit_strokes([np.array([[0.0, 0.0], [300.0, 100.0]])], height=0.6, centre=(0.95, 0.05))
    every = np.concatenate(wide)
    assert every.min() >= MARGIN - 1e-9 and every.max() <= 1 - MARGIN + 1e-9
    np.testing.assert_allclose(every[:, 0].max() - every[:, 0].min(), 1 - 2 * MARGIN)
    # A dash is as wide as the height asked for; a dot lands on the centre.
    dash = fit_strokes([np.array([[0.0, 5.0], [50.0, 5.0]])], height=0.4)[0]
    np.testing.assert_allclose(dash, [[0.3, 0.5], [0.7, 0.5]])
    np.testing.assert_allclose(fit_strokes([np.array([[3.0, 4.0]])], centre=(0.4, 0.6))[0], [[0.4, 0.6]])
    with pytest.raises(ValueError, match="Received: no points"):
        fit_strokes([np.zeros((0, 2))])


def test_augmented_drawings_vary_stay_in_the_square_and_are_reproducible():
    four = [np.array([[60.0, 0.0], [0.0, 70.0], [90.0, 70.0]]), np.array([[70.0, 20.0], [70.0, 120.0]])]
    variants = [augment_strokes(four, np.random.default_rng(seed)) for seed in range(30)]
    again = augment_strokes(four, np.random.default_rng(3))
    for a, b in zip(variants[3], again):
        np.testing.assert_array_equal(a, b)
    heights = []
    for strokes in variants:
        assert len(strokes) == 2 and [len(s) for s in strokes] == [3, 2]
        every = np.concatenate(strokes)
        assert every.min() >= MARGIN - 1e-9 and every.max() <= 1 - MARGIN + 1e-9
        heights.append(np.ptp(every[:, 1]))
    # Sizes span the range (every pen width the canvas gives a digit): small and large drawings.
    assert min(heights) < 0.45 and max(heights) > 0.75
    assert len({round(h, 6) for h in heights}) == 30


def test_no_augmentation_is_a_placement_only():
    off = StrokeAugmentation(height=(0.5, 0.5), slant=0, aspect=0, rotation=0, elastic=0, jitter=0, offset=0)
    placed = augment_strokes(SEVEN, np.random.default_rng(0), off)
    np.testing.assert_allclose(placed[0], fit_strokes(SEVEN, height=0.5)[0], atol=1e-12)
    with pytest.raises(ValueError, match="Expected a height range"):
        StrokeAugmentation(height=(0.0, 0.5))
    with pytest.raises(ValueError, match="Expected slant of 0 or more"):
        StrokeAugmentation(slant=-1)

"""mnist_style: crop, fit in 20×20 with the aspect kept, centre of mass to the centre, polarity."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.paths import MNIST_NPZ, require_shared
from workbench.core.image.digits import BLANK_LEVEL, ink_box, is_blank, mnist_style


def ink_bbox(digit: np.ndarray) -> tuple[int, int]:
    """(height, width) of the pixels brighter than 2."""
    grey = digit[..., 0]
    rows = np.flatnonzero((grey > 2).any(axis=1))
    cols = np.flatnonzero((grey > 2).any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    grey = digit[..., 0].astype(np.float64)
    index = np.arange(grey.shape[0])
    return float(grey.sum(axis=1) @ index / grey.sum()), float(grey.sum(axis=0) @ index / grey.sum())


def assert_centred(digit: np.ndarray) -> None:
    # MNIST's own centres of mass lie in [13.5, 14.5] (whole-pixel shifts towards 14).
    row, col = centre_of_mass(digit)
    assert 13.5 <= row <= 14.5 and 13.5 <= col <= 14.5, (row, col)


def drawn_seven(size: int = 300, thickness: int = 14) -> np.ndarray:
    """White-on-black "7" with a crossbar, drawn off-centre like a hurried user would."""
    image = np.zeros((size, size), np.uint8)
    s = size / 300
    points = [(60, 40), (190, 40), (120, 230)]
    pts = np.array([(round(x * s), round(y * s)) for x, y in points], np.int32)
    width = round(thickness * s)
    cv2.polylines(image, [pts], False, 255, width, cv2.LINE_AA)
    cv2.line(image, (round(110 * s), round(130 * s)), (round(190 * s), round(130 * s)), 255, width, cv2.LINE_AA)
    return image


def test_output_is_float32_28x28x1_in_0_255():
    digit = mnist_style(drawn_seven())
    assert digit is not None
    assert digit.shape == (28, 28, 1) and digit.dtype == np.float32
    assert digit.min() == 0.0 and digit.max() == pytest.approx(255.0, abs=1)


def test_small_blob_in_a_corner_is_cropped_fitted_and_centred():
    image = np.zeros((300, 300), np.uint8)
    cv2.ellipse(image, (270, 262), (12, 20), 0, 0, 360, 255, -1, cv2.LINE_AA)  # bottom-right corner
    digit = mnist_style(image)
    height, width = ink_bbox(digit)
    assert height == 20 and 11 <= width <= 13  # a 25×41 ellipse scaled by 20/41
    assert_centred(digit)
    # The 20-pixel box leaves 4 pixels each side; centring moves it by one here (the box's centre
    # is 13.5, the target 14).
    grey = digit[..., 0]
    assert grey[:3].max() == grey[-3:].max() == grey[:, :3].max() == grey[:, -3:].max() == 0


@pytest.mark.parametrize(
    ("shape", "expected"), [((120, 12), (20, 2)), ((12, 120), (2, 20)), ((90, 45), (20, 10))]
)
def test_aspect_ratio_is_kept(shape, expected):
    image = np.zeros((400, 400), np.uint8)
    image[50 : 50 + shape[0], 200 : 200 + shape[1]] = 255
    digit = mnist_style(image)
    height, width = ink_bbox(digit)
    assert (height, width) == expected
    assert_centred(digit)


def test_centre_of_mass_lands_in_the_middle_for_lopsided_shapes():
    # A "7" carries most of its ink at the top; a plain bbox centring would leave it high.
    for size, thickness in ((300, 14), (90, 5), (1000, 40)):
        digit = mnist_style(drawn_seven(size, thickness))
        assert_centred(digit)


def test_dark_ink_on_light_paper_gives_the_same_digit():
    white_on_black = drawn_seven()
    black_on_white = 255 - white_on_black
    expected = mnist_style(white_on_black)
    np.testing.assert_array_equal(mnist_style(black_on_white), expected)
    np.testing.assert_array_equal(mnist_style(black_on_white, invert=True), expected)
    # Told the wrong polarity, the "ink" is the background, which is not a digit.
    assert mnist_style(black_on_white, invert=False) is None


def test_grey_paper_and_faint_ink_are_normalised():
    clean = mnist_style(drawn_seven())
    # Pencil on grey paper: background 200, ink down to 70. Background removal and the contrast
    # stretch are linear, so the digit comes out as if drawn black on white.
    pencil = (200 - drawn_seven().astype(np.float32) * (130 / 255)).round().astype(np.uint8)
    np.testing.assert_allclose(mnist_style(pencil), clean, atol=2.5)


def test_colour_alpha_and_float_inputs_agree():
    grey = 255 - drawn_seven()
    expected = mnist_style(grey)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    np.testing.assert_allclose(mnist_style(rgb), expected, atol=1e-3)  # float rounding in the grey weights
    opaque = np.dstack([rgb, np.full_like(grey, 255)])
    np.testing.assert_allclose(mnist_style(opaque), expected, atol=1e-3)
    np.testing.assert_allclose(mnist_style(grey.astype(np.float32) / 255), expected, atol=1e-3)
    np.testing.assert_array_equal(mnist_style(grey[..., None]), expected)
    # Black ink exported on a transparent background: the colour is black everywhere, the alpha
    # channel holds the drawing.
    transparent = np.dstack([np.zeros_like(rgb), drawn_seven()])
    np.testing.assert_array_equal(mnist_style(transparent), mnist_style(drawn_seven()))


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((280, 280), np.uint8),
        np.full((280, 280), 255, np.uint8),
        np.full((50, 80, 3), 128, np.uint8),
        np.random.default_rng(0).integers(100, 100 + int(BLANK_LEVEL) - 4, (200, 200)).astype(np.uint8),
    ],
    ids=["black", "white", "grey-rgb", "faint-noise"],
)
def test_blank_images_give_none(image):
    assert is_blank(image)
    assert mnist_style(image) is None


def test_a_single_dot_is_not_blank():
    image = np.zeros((280, 280), np.uint8)
    cv2.circle(image, (100, 100), 10, 255, -1)
    assert not is_blank(image)
    assert mnist_style(image) is not None


def test_wrong_shapes_are_rejected_with_what_was_received():
    with pytest.raises(ValueError, match=r"Received: shape \(4, 4, 5\)"):
        mnist_style(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError, match="Received"):
        mnist_style(np.zeros((0, 4), np.uint8))


@pytest.fixture(scope="module")
def mnist_digits() -> np.ndarray:
    with np.load(require_shared(MNIST_NPZ)) as data:
        return data["x_train"]


def test_real_mnist_digits_pass_through_unchanged(mnist_digits):
    """MNIST is already MNIST-style, so mnist_style must give it back.

    Measured on 1,000 random training digits (seed 0): 95.6 % come back bit-identical, and every one
    is identical up to a shift of one pixel. The shifts are digits whose centre of mass LeCun rounded
    the other way (MNIST's centres reach 13.38 and 14.54, just outside [13.5, 14.5]); a one-pixel
    shift of a digit costs ~20 grey levels of mean difference, so the mean over all digits is 0.78
    (0.3 % of 255). Bounds: ≥ 93 % identical, ≥ 99 % identical up to one pixel, mean < 1.5.
    """
    rng = np.random.default_rng(0)
    chosen = mnist_digits[rng.choice(len(mnist_digits), 1000, replace=False)].astype(np.float32)
    identical = shifted = 0
    differences = []
    for original in chosen:
        result = mnist_style(original.astype(np.uint8))[..., 0]
        differences.append(np.abs(result - original).mean())
        identical += differences[-1] == 0
        shifted += any(
            np.array_equal(np.roll(result, (dy, dx), axis=(0, 1)), original)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        )
    assert identical >= 930
    assert shifted >= 990
    assert np.mean(differences) < 1.5


def test_an_enlarged_inverted_mnist_digit_shrinks_back_to_itself(mnist_digits):
    # A 280×280 black-on-white blow-up, as a PNG of a drawing would be: the crop, the 10× area
    # shrink and the centring must undo it exactly.
    for original in mnist_digits[:20]:
        blow_up = 255 - np.kron(original, np.ones((10, 10), np.uint8))
        result = mnist_style(blow_up)[..., 0]
        aligned = min(
            np.abs(np.roll(result, (dy, dx), axis=(0, 1)) - original).mean()
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        )
        assert aligned < 0.5


# ----------------------------------------------------------------------------- photos
def photo(digit: np.ndarray, *, light_ink: bool = False, noise: float = 4.0, seed: int = 0,
          at: tuple[int, int] = (50, 90), paper: float = 215.0) -> np.ndarray:
    """A 240×320 camera frame of ``digit`` (white on black, 0..255) drawn on a page at ``at``.

    The light is uneven as in a room: 30 grey levels brighter on the left, 15 at the top, and darker
    towards the corners (vignetting); the sensor adds Gaussian noise of ``noise`` grey levels. Dark
    ink on white ``paper`` (its mean level) darkens the light falling on it; light ink (chalk on a
    board) adds to it.
    """
    height, width = 240, 320
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    x, y = xx / width - 0.5, yy / height - 0.5
    light = -30 * x - 15 * y - 40 * (x**2 + y**2)
    ink = np.zeros((height, width), np.float32)
    ink[at[0] : at[0] + digit.shape[0], at[1] : at[1] + digit.shape[1]] = digit / 255.0
    frame = 60 + light / 2 + 150 * ink if light_ink else (paper + light) * (1 - 0.8 * ink)
    frame += np.random.default_rng(seed).normal(0.0, noise, frame.shape)
    return np.clip(frame, 0, 255).round().astype(np.uint8)


@pytest.mark.parametrize(
    ("light_ink", "paper"),
    [(False, 215.0), (True, 215.0), (False, 262.0), (False, 275.0)],
    ids=["dark-ink-on-paper", "chalk-on-board", "paper-half-saturated", "paper-mostly-saturated"],
)
@pytest.mark.parametrize("noise", [0.0, 4.0, 8.0])
def test_a_digit_photographed_under_uneven_light_and_noise_is_boxed_tightly(light_ink, paper, noise):
    # Overexposed paper clips at white: on the right (darker) side of the page the noise shows, on
    # the left it is lost in the clip, so the border understates the noise the digit sits in.
    digit = drawn_seven(140)
    top, left = 50, 90
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    true_box = (top + rows[0], left + cols[0], top + rows[-1] + 1, left + cols[-1] + 1)
    frame = photo(digit, light_ink=light_ink, noise=noise, at=(top, left), paper=paper)
    # With one background level the box grew to (nearly) the whole frame (the light gradient and the
    # noise were "ink") and the 7 shrank to a fraction of the field. Now only the faintest edge
    # may be lost under the noise floor, or the blur widen the box by a pixel or so.
    box = ink_box(frame)
    assert box is not None
    assert np.abs(np.subtract(box, true_box)).max() <= 3, (box, true_box)
    digit_out = mnist_style(frame)
    assert ink_bbox(digit_out)[0] == 20
    assert_centred(digit_out)
    # The same digit as drawn on the canvas, up to resampling (a box a pixel wider or narrower);
    # the whole-frame box gave a mean difference of ~25 here.
    assert np.abs(digit_out - mnist_style(digit)).mean() < 10


@pytest.mark.parametrize(
    ("light_ink", "paper"),
    [(False, 215.0), (True, 215.0), (False, 262.0), (False, 275.0)],
    ids=["white-paper", "dark-board", "paper-half-saturated", "paper-mostly-saturated"],
)
@pytest.mark.parametrize("noise", [2.0, 4.0, 8.0, 12.0])
def test_a_blank_page_photographed_under_uneven_light_and_noise_is_blank(light_ink, paper, noise):
    # With one background level, the light gradient plus the noise's peaks rise past BLANK_LEVEL on
    # most of these pages, which then became "digits" boxed across the whole frame.
    frame = photo(np.zeros((1, 1), np.uint8), light_ink=light_ink, noise=noise, paper=paper)
    assert is_blank(frame)
    assert mnist_style(frame) is None
    assert ink_box(frame) is None


def test_a_clean_drawing_is_boxed_exactly_at_its_ink():
    # A flat border (a drawing, MNIST, a clean scan) keeps the one-level background: the box is the
    # pixels that have any ink, as before photos were handled.
    image = np.zeros((300, 300), np.uint8)
    image[40:170, 60:75] = 255
    image[100, 200] = 8  # a faint speck (3 % of the peak) still counts on a clean drawing
    assert ink_box(image) == (40, 60, 170, 201)
    assert ink_box(255 - image) == (40, 60, 170, 201)

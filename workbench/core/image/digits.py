"""Turn a drawing or a picture of one digit into an MNIST-style 28×28 sample.

MNIST digits were made from NIST's black-and-white scans like this (LeCun et al.): the digit was
size-normalised to fit a 20×20 box keeping its aspect ratio, which left grey levels from the
anti-aliasing, and then centred in a 28×28 field by moving its centre of mass to the middle.
A model trained on MNIST only knows digits that look like that, so a drawing from the canvas or a
PNG of a drawn digit has to go through the same steps or it will be misread (a small digit in a
corner of a 300×300 canvas is, to the model, a few grey pixels in a corner). :func:`mnist_style`
is the one function the canvas, the Camera tab, ``workbench predict`` on an image of a drawing and
the tests share, so they all give the same answer for the same picture.

The steps and why:

1. **Grey levels.** RGB is reduced to luminance; an image whose alpha channel is not fully opaque
   (drawing apps export ink on a transparent background) uses the alpha as the ink, because the
   colour under transparent pixels is arbitrary.
2. **Polarity.** MNIST is white ink on black. Unless told, the background is judged from the border
   pixels (their median, so ink that touches the edge does not flip the decision): a light border
   means dark ink on paper, which is inverted.
3. **Background and contrast.** The background is subtracted (grey paper becomes black) and the ink
   stretched so its brightest pixel is 255, as in every MNIST digit; faint pencil strokes and pure
   canvas strokes then look alike. An image whose ink never rises above :data:`BLANK_LEVEL` is
   blank and gives ``None``: there is nothing to classify, and stretching noise would invent a
   digit. How the background is found depends on what the border shows:

   * **A flat border** means a digital image (MNIST, a canvas drawing, a clean render): away from
     ink that crosses it, every border pixel has the same value (within :data:`FLAT_TOLERANCE`),
     the border's median. That one level is subtracted and nothing else is done, so such images come
     out exactly as they always have. So do images no larger than the 28×28 field: they are digit
     samples already at MNIST's scale (MNIST itself), not camera frames, and their hundred-odd
     border pixels could not measure noise anyway.
   * **Any other border** means a photo. Sensor noise and uneven light leave the border uneven, even
     on overexposed paper that mostly clips at white, where some noisy pixels escape the clip. One
     level cannot remove a light gradient, and step 4 would box every noisy pixel, so the digit
     would be a few pixels in the middle of a box the size of the frame. Instead:

     - the light is estimated at every pixel by a morphological opening of the (white-ink) image
       with a window a quarter of its shorter side, wider than any pen stroke of a digit in the
       picture: the opening erases the strokes and keeps the lit page, which is subtracted;
     - what is left, ink plus sensor noise, is blurred slightly (:data:`PHOTO_BLUR_SIGMA`), so
       single noisy pixels average out while strokes keep their level;
     - the noise's standard deviation σ is measured on the border where the sensor did not
       saturate, robustly (1.4826 × the median absolute deviation), and the noise floor is the
       universal threshold σ·√(2 ln N) over the image's N pixels, the level Gaussian noise is
       unlikely to reach anywhere in the picture (Donoho & Johnstone). Only ink above the floor
       counts, so a blank page stays blank;
     - connected pieces of ink much lighter than the heaviest (:data:`SPECK_MASS`) are dust, grain
       or noise that escaped the floor (as the odd noisy pixel does on paper so overexposed that
       nearly all of its border is saturated) and are dropped, so the box closes around the digit.
4. **Crop to the ink's bounding box**, so where and how big the digit was drawn does not matter.
5. **Fit in 20×20 keeping the aspect ratio.** The longer side becomes 20 pixels; a "1" stays a thin
   bar rather than being stretched into a block. Shrinking uses area interpolation, which averages
   every source pixel (proper anti-aliasing, like the grey edges of MNIST strokes); enlarging a
   tiny drawing uses bilinear interpolation.
6. **Centre of mass to the centre.** The 20×20 box is pasted into a 28×28 black field and shifted
   by whole pixels so the intensity centre of mass lands at (14, 14) in pixel-index coordinates.
   Measured on MNIST's training set, the centres of mass lie uniformly in [13.5, 14.5] on both axes:
   LeCun shifted by whole pixels, so doing the same keeps strokes as sharp as MNIST's (a sub-pixel
   shift would blur them by resampling) and puts our digits in exactly the distribution the model
   saw. A real MNIST digit passes through unchanged.

The result is ``float32`` in 0..255 with shape ``(28, 28, 1)``: the digit models rescale inside the
model, so raw pixel values are what they expect.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Side of the output image, as in MNIST.
MNIST_SIZE = 28
#: Side of the box the digit is fitted into, as in MNIST.
FIT_SIZE = 20
#: Where the centre of mass goes (row, column in pixel-index coordinates), measured on MNIST.
MNIST_CENTRE = 14.0
#: Ink (after background removal, 0..255) must exceed this somewhere, else the image is blank.
#: About 12 % contrast: far above sensor or JPEG noise on a blank page, far below any pen stroke.
BLANK_LEVEL = 32.0
#: Pixels at least this bright (after contrast stretch) count for the bounding box. Low enough to
#: keep MNIST's faint anti-aliased edges (the 20-pixel box survives it on 99.9 % of MNIST digits),
#: high enough to ignore faint specks and compression ringing in photos.
BBOX_LEVEL = 2.0
#: Border pixels within this many grey levels (0..255) of the border's median are at the background
#: level. Half a grey level: below the step of an 8-bit image, above float rounding, so a digital
#: image's flat background passes and any sensor noise or light gradient does not.
FLAT_TOLERANCE = 0.5
#: Border pixels this close (pixels along the edge) to ink crossing the border are the ink's
#: anti-aliased fringe, not background, when judging whether the border is flat; in an image larger
#: than 28×28, the fringe is as wide as one MNIST pixel at the image's scale if that is wider (a
#: digit enlarged tenfold has ten-pixel fringes).
INK_FRINGE = 2
#: Side of the background window in a photo, as a fraction of the image's shorter side. A digit's
#: strokes are a tenth to a seventh of its height (MNIST: 2–3 pixels in 20) and the digit is at most
#: as tall as the image, so a quarter of the side is safely wider than any stroke, which the opening
#: then erases, yet narrow enough to follow uneven light across the frame.
BACKGROUND_WINDOW = 0.25
#: The background is estimated on a copy shrunk to about this many pixels on its shorter side: light
#: varies slowly, so nothing is lost, the shrinking averages the noise out of the estimate, and the
#: opening costs the same for a webcam frame as for a 4K photo.
BACKGROUND_GRID = 64
#: Standard deviation (pixels) of the Gaussian blur applied to a photo's ink before the noise floor:
#: it averages single hot pixels and JPEG speckle away while strokes, several pixels wide, keep
#: their level.
PHOTO_BLUR_SIGMA = 1.0
#: Median absolute deviation to standard deviation, for Gaussian noise.
MAD_TO_SIGMA = 1.4826
#: In a photo, a connected piece of ink counts only if it carries at least this fraction of the
#: heaviest piece's ink. What the noise floor lets through (dust, paper grain, the odd noisy pixel
#: escaping the clip of overexposed paper) comes in specks of a few faint pixels; a digit's strokes,
#: even broken ones, weigh far more.
SPECK_MASS = 0.02


def _to_grey(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return ``(grey float32 0..255, alpha_is_ink)`` for a grey, grey+alpha, RGB or RGBA image."""
    array = np.asarray(image)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (2, 3, 4)):
        raise ValueError(
            "Expected a grey (H, W) or (H, W, 1), grey+alpha (H, W, 2), RGB (H, W, 3) or RGBA "
            f"(H, W, 4) image. Received: shape {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"Expected an image with at least one pixel. Received: shape {array.shape}")
    values = array.astype(np.float32)
    # Float images conventionally hold 0..1; integers hold 0..255.
    if np.issubdtype(array.dtype, np.floating) and float(np.nanmax(values)) <= 1.0:
        values *= 255.0
    values = np.nan_to_num(np.clip(values, 0.0, 255.0))
    if values.ndim == 2:
        return values, False
    channels = values.shape[-1]
    colour = values[..., :1] if channels == 2 else values[..., :3]
    alpha = values[..., -1] if channels in (2, 4) else None
    if alpha is not None and float(alpha.min()) < 255.0:
        # Ink drawn on a transparent background: the opacity is the drawing.
        return alpha, True
    if colour.shape[-1] == 1:
        return colour[..., 0], False
    return cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY), False


def _border(grey: np.ndarray) -> np.ndarray:
    return np.concatenate([grey[0, :], grey[-1, :], grey[:, 0], grey[:, -1]])


def _median_and_mad(values: np.ndarray) -> tuple[float, float]:
    """The median and the median absolute deviation: level and spread, robust to a little ink."""
    median = float(np.median(values))
    return median, float(np.median(np.abs(values - median)))


def _is_photo(grey: np.ndarray, level: float) -> bool:
    """True unless the border is flat at ``level`` away from ink crossing it (see step 3)."""
    if min(grey.shape) <= MNIST_SIZE:
        return False
    reach = max(INK_FRINGE, round(min(grey.shape) / MNIST_SIZE))
    fringe = np.ones(2 * reach + 1)
    for side in (grey[0, :], grey[-1, :], grey[:, 0], grey[:, -1]):
        deviation = np.abs(side - level)
        # Ink crossing the edge (brighter than BLANK_LEVEL, as ink is) and its fringe may differ.
        near_ink = np.convolve(deviation > BLANK_LEVEL, fringe, mode="same") > 0
        if np.any((deviation > FLAT_TOLERANCE) & ~near_ink):
            return True
    return False


def _photo_background(grey: np.ndarray) -> np.ndarray:
    """The light falling on the page of a white-ink-on-black photo, at every pixel (see step 3)."""
    height, width = grey.shape
    scale = min(1.0, BACKGROUND_GRID / min(height, width))
    small = grey
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    side = max(3, round(min(small.shape) * BACKGROUND_WINDOW) | 1)  # odd, so the window is centred
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    # Opening = erosion then dilation: bright structures narrower than the window (the strokes)
    # vanish, broad ones (the lit paper) keep their shape; a linear light gradient is kept exactly.
    background = cv2.morphologyEx(small, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_REPLICATE)
    if background.shape != grey.shape:
        background = cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)
    return background


def _photo_ink(grey: np.ndarray) -> np.ndarray:
    """Ink above the light and the noise floor of a white-ink-on-black photo (see step 3)."""
    residual = grey - _photo_background(grey)
    residual = cv2.GaussianBlur(residual, (0, 0), PHOTO_BLUR_SIGMA, borderType=cv2.BORDER_REPLICATE)
    # The opening sits slightly below the mean of noisy paper, so the residual's border gives both
    # the level left over and the noise's spread. Where the sensor saturated (white paper at 255,
    # now 0) it recorded no noise at all: measured there, the noise would look smaller than it is
    # wherever the paper is a little darker, so it is measured on the unsaturated border when there
    # is enough of it (a tenth of the border) to take a median of.
    border = _border(residual)
    unsaturated = _border(grey) > 0.0
    if unsaturated.sum() >= 0.1 * border.size:
        border = border[unsaturated]
    level, mad = _median_and_mad(border)
    # The floor is subtracted rather than used as a cut, so strokes keep their soft, anti-aliased
    # edges instead of starting with a jump.
    residual -= level + MAD_TO_SIGMA * mad * np.sqrt(2.0 * np.log(residual.size))
    ink = np.clip(residual, 0.0, 255.0, out=residual)
    # The pieces are those step 4 would box (the same level relative to the brightest ink), so
    # faint grain between specks does not join them to each other or to the digit.
    inked = ink >= ink.max() * (BBOX_LEVEL / 255.0)
    count, labels = cv2.connectedComponents(inked.astype(np.uint8), connectivity=8)
    if count <= 2:  # no ink, or one piece: nothing to tell apart
        return ink
    mass = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=count)
    mass[0] = 0.0  # label 0 is the background
    specks = mass < SPECK_MASS * mass.max()
    ink[specks[labels]] = 0.0
    return ink


def _ink(image: np.ndarray, invert: bool | None) -> np.ndarray:
    """Return the ink as float32 0..255, white on black, background removed (not stretched)."""
    grey, alpha_is_ink = _to_grey(image)
    if invert is None:
        invert = False if alpha_is_ink else float(np.median(_border(grey))) > 127.5
    if invert:
        grey = 255.0 - grey
    # Grey paper or a lit sensor is not ink: what the border shows is the background.
    level = float(np.median(_border(grey)))
    if _is_photo(grey, level):
        return _photo_ink(grey)
    return np.clip(grey - level, 0.0, 255.0)


def _stretched_ink_and_box(
    image: np.ndarray, invert: bool | None
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """Steps 1–4: the ink stretched to a peak of 255 and its box (top, left, bottom, right), or None."""
    ink = _ink(image, invert)
    peak = float(ink.max())
    if peak <= BLANK_LEVEL:
        return None
    ink *= 255.0 / peak
    inked = ink >= BBOX_LEVEL
    rows = np.flatnonzero(inked.any(axis=1))
    cols = np.flatnonzero(inked.any(axis=0))
    return ink, (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)


def ink_box(image: np.ndarray, *, invert: bool | None = None) -> tuple[int, int, int, int] | None:
    """Return the box :func:`mnist_style` crops the digit to, or None when the image is blank.

    Args:
        image, invert: as for :func:`mnist_style`.

    Returns:
        ``(top, left, bottom, right)`` in pixels of ``image``, bottom and right exclusive (so
        ``image[top:bottom, left:right]`` is the crop).
    """
    found = _stretched_ink_and_box(image, invert)
    return None if found is None else found[1]


def is_blank(image: np.ndarray, *, invert: bool | None = None) -> bool:
    """Return True when the image holds no ink stronger than :data:`BLANK_LEVEL` (above a photo's noise).

    Args:
        image: grey, grey+alpha, RGB or RGBA; uint8 0..255 or float 0..1 / 0..255.
        invert: as for :func:`mnist_style`.
    """
    return float(_ink(image, invert).max()) <= BLANK_LEVEL


def mnist_style(image: np.ndarray, *, invert: bool | None = None) -> np.ndarray | None:
    """Return the digit in ``image`` as MNIST would show it, or None when the image is blank.

    See the module docstring for each step and why it is there.

    Args:
        image: a grey (H, W) / (H, W, 1), grey+alpha, RGB or RGBA image of one digit, any size;
            uint8 0..255, bool, or float (0..1 when its maximum is at most 1, else 0..255).
        invert: True when the ink is darker than the background, False when it is lighter, None to
            judge it from the border pixels. Ignored in favour of the alpha channel when the image is
            transparent.

    Returns:
        ``float32`` array of shape (28, 28, 1) in 0..255, white digit on black, fitted in 20×20 and
        centred on its centre of mass; ``None`` when no pixel rises above :data:`BLANK_LEVEL` (in a
        photo, above its noise floor: a blank, noisy page is blank).
    """
    found = _stretched_ink_and_box(image, invert)
    if found is None:
        return None
    ink, (box_top, box_left, box_bottom, box_right) = found
    ink = ink[box_top:box_bottom, box_left:box_right]

    height, width = ink.shape
    scale = FIT_SIZE / max(height, width)
    new_h = min(FIT_SIZE, max(1, round(height * scale)))
    new_w = min(FIT_SIZE, max(1, round(width * scale)))
    if (new_h, new_w) != (height, width):
        shrinking = new_h <= height and new_w <= width
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        ink = cv2.resize(ink, (new_w, new_h), interpolation=interpolation)

    field = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    top, left = (MNIST_SIZE - new_h) // 2, (MNIST_SIZE - new_w) // 2
    field[top : top + new_h, left : left + new_w] = ink

    total = float(field.sum())
    index = np.arange(MNIST_SIZE, dtype=np.float64)
    centre_row = float(field.sum(axis=1) @ index) / total
    centre_col = float(field.sum(axis=0) @ index) / total
    # Whole-pixel shift, as LeCun did (see the module docstring). The shift is bounded so the box
    # stays inside the field: np.roll then never wraps ink around, and a freak shape with nearly all
    # its ink at one edge stays whole, slightly off-centre, instead of being cut off.
    shift_row = int(np.clip(np.floor(MNIST_CENTRE - centre_row + 0.5), -top, MNIST_SIZE - top - new_h))
    shift_col = int(np.clip(np.floor(MNIST_CENTRE - centre_col + 0.5), -left, MNIST_SIZE - left - new_w))
    field = np.roll(field, (shift_row, shift_col), axis=(0, 1))
    return np.clip(field, 0.0, 255.0)[..., np.newaxis]

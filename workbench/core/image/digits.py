"""Turn a drawing or a picture of one digit into an MNIST-style 28×28 sample.

MNIST digits were made from NIST's black-and-white scans like this (LeCun et al.): the digit was
size-normalised to fit a 20×20 box keeping its aspect ratio, which left grey levels from the
anti-aliasing, and then centred in a 28×28 field by moving its centre of mass to the middle.
A model trained on MNIST only knows digits that look like that, so a drawing from the canvas or a
PNG of a drawn digit has to go through the same steps or it will be misread (a small digit in a
corner of a 300×300 canvas is, to the model, a few grey pixels in a corner). :func:`mnist_style`
is the one function the canvas, ``workbench predict`` on an image of a drawing and the tests share,
so they all give the same answer for the same picture.

The steps and why:

1. **Grey levels.** RGB is reduced to luminance; an image whose alpha channel is not fully opaque
   (drawing apps export ink on a transparent background) uses the alpha as the ink, because the
   colour under transparent pixels is arbitrary.
2. **Polarity.** MNIST is white ink on black. Unless told, the background is judged from the border
   pixels (their median, so ink that touches the edge does not flip the decision): a light border
   means dark ink on paper, which is inverted.
3. **Background and contrast.** The background level is subtracted (grey paper becomes black) and
   the ink stretched so its brightest pixel is 255, as in every MNIST digit; faint pencil strokes
   and pure canvas strokes then look alike. An image whose ink never rises above
   :data:`BLANK_LEVEL` is blank and gives ``None``: there is nothing to classify, and stretching
   noise would invent a digit.
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


def _border_median(grey: np.ndarray) -> float:
    border = np.concatenate([grey[0, :], grey[-1, :], grey[:, 0], grey[:, -1]])
    return float(np.median(border))


def _ink(image: np.ndarray, invert: bool | None) -> np.ndarray:
    """Return the ink as float32 0..255, white on black, background level removed (not stretched)."""
    grey, alpha_is_ink = _to_grey(image)
    if invert is None:
        invert = False if alpha_is_ink else _border_median(grey) > 127.5
    if invert:
        grey = 255.0 - grey
    # Grey paper or a lit sensor is not ink: what the border shows is the background.
    return np.clip(grey - _border_median(grey), 0.0, 255.0)


def is_blank(image: np.ndarray, *, invert: bool | None = None) -> bool:
    """Return True when the image holds no ink stronger than :data:`BLANK_LEVEL`.

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
        centred on its centre of mass; ``None`` when no pixel rises above :data:`BLANK_LEVEL`.
    """
    ink = _ink(image, invert)
    peak = float(ink.max())
    if peak <= BLANK_LEVEL:
        return None
    ink *= 255.0 / peak

    rows = np.flatnonzero((ink >= BBOX_LEVEL).any(axis=1))
    cols = np.flatnonzero((ink >= BBOX_LEVEL).any(axis=0))
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

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

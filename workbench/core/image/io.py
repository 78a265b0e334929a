"""Image decoding and resizing: the one code path for training, files, the canvas and the camera."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from workbench.core.errors import DatasetError


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file to a uint8 array of shape (H, W) or (H, W, 3).

    Pillow reads every format we accept (png, jpg, bmp, gif, webp); the first frame of an animated
    GIF is used. Raises :class:`DatasetError` with the reason for unreadable files.
    """
    try:
        with Image.open(path) as image:
            image.seek(0)
            if image.mode in ("L", "I;16", "I", "F", "1", "LA"):
                array = np.asarray(image.convert("L"))
            else:
                array = np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise DatasetError(f"Expected an image file. Received: {path} does not exist") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DatasetError(f"Expected a readable image. Received: {path} ({exc})") from None
    if array.size == 0:
        raise DatasetError(f"Expected a non-empty image. Received: {path} has no pixels")
    return array


def prepare_image(image: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Convert colour channels and resize to ``input_shape`` (H, W, C); float32 in 0..255.

    Area interpolation when shrinking avoids aliasing; linear when enlarging.
    """
    height, width, channels = int(input_shape[-3]), int(input_shape[-2]), int(input_shape[-1])
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]
    if channels == 1 and array.ndim == 3:
        array = cv2.cvtColor(array.astype(np.uint8), cv2.COLOR_RGB2GRAY)
    elif channels == 3 and array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.shape[0] != height or array.shape[1] != width:
        shrinking = array.shape[0] > height or array.shape[1] > width
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        array = cv2.resize(array, (width, height), interpolation=interpolation)
    array = array.astype(np.float32)
    if array.ndim == 2:
        array = array[..., None]
    return array


def prepare_for_model(image: np.ndarray, input_shape: tuple[int, ...],
                      preprocessing: dict[str, Any] | None = None) -> np.ndarray:
    """The one preparation step shared by training, files, the canvas and the camera.

    Templates whose preprocessing says ``mnist_style`` (digit models) first normalise the digit as
    MNIST was made (:func:`workbench.core.image.digits.mnist_style`); a blank image becomes all zeros.
    """
    if preprocessing and preprocessing.get("mnist_style"):
        from workbench.core.image.digits import mnist_style

        styled = mnist_style(image)
        if styled is None:
            return np.zeros(tuple(input_shape), np.float32)
        image = styled
    return prepare_image(image, input_shape)


def load_image_for_model(path: str | Path, input_shape: tuple[int, ...],
                         preprocessing: dict[str, Any] | None = None) -> np.ndarray:
    """Read ``path`` and prepare it exactly as the training pipeline does."""
    return prepare_for_model(read_image(path), input_shape, preprocessing)

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

    Pillow reads every format we accept (png, jpg, bmp, gif, webp), whatever the file's extension
    says; the first frame of an animated GIF is used. 16-bit images are scaled to 8 bits and
    transparent ones composited on white (:func:`_to_uint8`). Raises :class:`DatasetError` with the
    reason for unreadable files.
    """
    array, problem = decode_image(path)
    if problem is not None:
        raise problem
    return array


def decode_image(path: str | Path) -> tuple[np.ndarray | None, DatasetError | None]:
    """Decode ``path`` in full: (the array, None), or (None, the :class:`DatasetError` saying why not).

    The error's ``reason`` attribute is the short reason a scan report shows beside the file name.
    """
    shown = _display(path)
    try:
        if Path(path).stat().st_size == 0:
            return None, _error(f"Expected a readable image. Received: {shown} is an empty file", "empty file")
        with Image.open(path) as image:
            image.seek(0)
            array = _to_uint8(image)
    except FileNotFoundError:
        return None, _error(f"Expected an image file. Received: {shown} does not exist", "does not exist")
    except UnidentifiedImageError:
        return None, _error(f"Expected a readable image. Received: {shown} (not an image format Pillow can read)",
                            "not an image (no known image format)")
    except Exception as exc:  # a damaged or hostile file can make a decoder raise almost anything
        reason = (str(exc).splitlines()[0] if str(exc) else type(exc).__name__).replace(repr(str(path)), "").strip()
        return None, _error(f"Expected a readable image. Received: {shown} ({reason})", reason)
    if array.size == 0:
        return None, _error(f"Expected a non-empty image. Received: {shown} has no pixels", "no pixels")
    return array, None


def _error(message: str, reason: str) -> DatasetError:
    error = DatasetError(message)
    error.reason = reason
    return error


def _display(path: str | Path) -> str:
    """The path printable in any terminal (bytes of a non-UTF-8 file name as ``\\xNN``)."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _to_uint8(image: Image.Image) -> np.ndarray:
    """A Pillow image → uint8 (H, W) grey or (H, W, 3) colour, as the eye sees it.

    16-bit and 32-bit grey (``I;16``, ``I``) are scaled from their 0..65535 range rather than clipped
    (Pillow's own conversion would saturate them to white); float images are taken as 0..1 when they
    stay in that range. Transparent images (RGBA, LA, palettes with transparency) are composited on
    white, so a drawing on a transparent background keeps its strokes.
    """
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image, dtype=np.float64)
        return np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
    if mode == "F":
        values = np.asarray(image, dtype=np.float64)
        values = np.nan_to_num(values, nan=0.0, posinf=255.0, neginf=0.0)
        scale = 255.0 if values.size and values.min() >= 0 and values.max() <= 1.0 else 1.0
        return np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        grey = mode in ("LA", "La")
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba).convert("L" if grey else "RGB")
        return np.asarray(image)
    if mode in ("L", "1"):
        return np.asarray(image.convert("L"))
    return np.asarray(image.convert("RGB"))


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

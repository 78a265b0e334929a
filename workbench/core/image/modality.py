"""The image modality: what the engine asks of images, answered in one place.

Light to import (no TensorFlow, OpenCV or Pillow until a method runs), so the registry can list it
while the GUI starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.image.augment import AugmentationSpec

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})


class ImageModality:
    name = "image"
    noun = "image"
    extensions = IMAGE_EXTENSIONS
    augmentation_spec = AugmentationSpec
    can_train = True
    train_unavailable = ""

    def verify_file(self, path: str) -> tuple[str | None, dict[str, Any] | None]:
        from workbench.core.image.io import decode_image

        try:
            if os.path.getsize(path) == 0:
                return "empty file", None
        except OSError as exc:
            return (exc.strerror or type(exc).__name__), None
        array, problem = decode_image(path)
        if problem is not None:
            return getattr(problem, "reason", str(problem)), None
        # The decode is done anyway: its size is free, and proposes an input size (core.templates.proposal).
        return None, {"width": int(array.shape[1]), "height": int(array.shape[0]),
                      "channels": int(array.shape[2]) if array.ndim == 3 else 1}

    def file_statistics(self, infos: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Widths and heights (min / median / max, pixels), the channel counts and the commonest sizes."""
        from workbench.core.image.sizes import image_statistics

        return image_statistics(infos)

    def describe_files(self, stats: dict[str, Any] | None, infos: list[dict[str, Any]]) -> list[str]:
        """Lines on the images' sizes and colour (for the Model panel and ``workbench scan``)."""
        from workbench.core.image.sizes import describe_image_files

        return describe_image_files(stats, infos)

    def propose_hparams(self, infos: list[dict[str, Any]], spec, hp: dict[str, Any]):
        """The input size these images suggest for ``spec`` (see :mod:`workbench.core.image.sizes`)."""
        from workbench.core.image.sizes import propose_image_hparams

        return propose_image_hparams(infos, spec, hp)

    def load_file(self, path: str | Path, input_shape: tuple[int, ...], preprocessing: dict[str, Any]) -> np.ndarray:
        from workbench.core.image.io import load_image_for_model

        return np.rint(load_image_for_model(path, input_shape, preprocessing))

    def prepare_array(self, array: np.ndarray, input_shape: tuple[int, ...],
                      preprocessing: dict[str, Any]) -> np.ndarray:
        from workbench.core.image.io import prepare_for_model

        return np.rint(prepare_for_model(array, input_shape, preprocessing))

    def sample_arrays(self, ids: list[str], arrays: np.ndarray | None, input_shape: tuple[int, ...],
                      preprocessing: dict[str, Any]) -> np.ndarray:
        from workbench.core.image.dataset import image_arrays

        return image_arrays(ids, arrays, input_shape, preprocessing)

    def tf_dataset(self, ids, labels, arrays, input_shape, batch_size, *, training, augmentation, seed, preprocessing):
        from workbench.core.image.dataset import image_tf_dataset

        return image_tf_dataset(ids, labels, arrays, input_shape, batch_size, training=training,
                                augmentation=augmentation, seed=seed, preprocessing=preprocessing)

    def sidecar_preprocessing(self, preprocessing: dict[str, Any], input_shape: tuple[int, ...]) -> dict[str, Any]:
        return {**preprocessing, "size": list(input_shape[:-1]), "channels": input_shape[-1]}

    def configure_model(self, model, augmentation: Any) -> list[str]:
        return []  # image augmentation runs in the tf.data pipeline, not in the model

    def register_layers(self) -> None:
        import workbench.core.image.layers  # noqa: F401  (registers CaffePreprocess for load_model)

    def float_front_end_layers(self, model) -> list[str]:
        return []


IMAGE = ImageModality()

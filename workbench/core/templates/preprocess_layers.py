"""Serializable preprocessing layers that live inside saved models."""

from __future__ import annotations

import keras

# The audio front end and SpecAugment live with the rest of the audio code; importing them here
# registers them for ``load_model`` wherever the custom layers are needed.
from workbench.core.audio.frontend import LogMelSpectrogram  # noqa: F401
from workbench.core.audio.layers import SpecAugment  # noqa: F401

# ImageNet channel means in BGR order, as keras.applications.vgg16.preprocess_input uses them.
_IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="workbench")
class CaffePreprocess(keras.layers.Layer):
    """RGB 0..255 → BGR minus the ImageNet means (``preprocess_input(mode="caffe")`` as a layer)."""

    def call(self, inputs):
        bgr = keras.ops.flip(inputs, axis=-1)
        return bgr - keras.ops.convert_to_tensor(_IMAGENET_BGR_MEAN, dtype=inputs.dtype)

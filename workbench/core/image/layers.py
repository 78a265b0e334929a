"""Keras layers of the image modality: stroke-width augmentation and the VGG input preprocessing.

Imported lazily (this module imports Keras); importing it registers the layers for ``load_model``.
"""

from __future__ import annotations

import keras


class RandomStrokeWidth(keras.layers.Layer):
    """Thicken or thin bright strokes on a dark background, at random, per sample.

    Drawn digits have one uniform pen width while MNIST's strokes vary from hairline to bold; this
    teaches a digit model not to care. A 3×3 grey dilation (max filter) or erosion (min filter) is
    blended half-way with the original so strokes change by about one pixel, not two. Thinned
    strokes are re-stretched so their brightest pixel is as bright as before, as the MNIST-style
    normalisation would make them (thinning must not mean fainter).
    """

    def __init__(self, probability: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.probability = float(probability)
        self.seed = seed
        self._seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training or self.probability <= 0:
            return images
        dilated = keras.ops.max_pool(images, 3, strides=1, padding="same")
        eroded = -keras.ops.max_pool(-images, 3, strides=1, padding="same")
        batch = keras.ops.shape(images)[0]
        draw = keras.random.uniform((batch, 1, 1, 1), seed=self._seed_generator)
        half = self.probability / 2
        thick = 0.5 * (images + dilated)
        thin = 0.5 * (images + eroded)
        peak = keras.ops.max(images, axis=(1, 2, 3), keepdims=True)
        thin_peak = keras.ops.maximum(keras.ops.max(thin, axis=(1, 2, 3), keepdims=True), 1e-3)
        thin = keras.ops.clip(thin * (peak / thin_peak), 0.0, 255.0)
        return keras.ops.where(draw < half, thick, keras.ops.where(draw < self.probability, thin, images))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "probability": self.probability, "seed": self.seed}


# ImageNet channel means in BGR order, as keras.applications.vgg16.preprocess_input uses them.
_IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="workbench")
class CaffePreprocess(keras.layers.Layer):
    """RGB 0..255 → BGR minus the ImageNet means (``preprocess_input(mode="caffe")`` as a layer)."""

    def call(self, inputs):
        bgr = keras.ops.flip(inputs, axis=-1)
        return bgr - keras.ops.convert_to_tensor(_IMAGENET_BGR_MEAN, dtype=inputs.dtype)

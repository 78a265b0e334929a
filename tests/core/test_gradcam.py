"""Grad-CAM: the heat map lands where the evidence is, for plain and nested (transfer) models."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.inference.gradcam import (GradCam, GradCamError, conv_layer_candidates, default_layer, grad_cam,
                                              overlay)

SIZE, PATCH = 32, 8


def patch_images(count: int, rng: np.random.Generator):
    """Noise images; every odd one (class 1) has a bright PATCH×PATCH square at a random place."""
    images = rng.uniform(0, 120, (count, SIZE, SIZE, 1)).astype(np.float32)
    labels = np.arange(count) % 2
    corners = rng.integers(0, SIZE - PATCH + 1, (count, 2))
    for image, label, (row, col) in zip(images, labels, corners):
        if label:
            image[row:row + PATCH, col:col + PATCH] = rng.uniform(200, 255, (PATCH, PATCH, 1))
    return images, labels, corners


def patch_cnn(output: str):
    """A small CNN that has to find the patch: two convolutions, global max pooling, a head."""
    import keras

    inputs = keras.Input((SIZE, SIZE, 1), name="pixels")
    x = keras.layers.Rescaling(1 / 255, name="rescale")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalMaxPooling2D(name="pool")(x)
    if output == "sigmoid":
        outputs = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    else:
        outputs = keras.layers.Dense(2, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "binary_crossentropy" if output == "sigmoid" else "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def patch_data():
    rng = np.random.default_rng(0)
    return patch_images(600, rng), patch_images(60, rng)


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_the_heat_map_peaks_on_the_bright_patch(patch_data, output):
    import keras

    keras.utils.set_random_seed(0)
    (train_x, train_y, _), (test_x, test_y, corners) = patch_data
    model = patch_cnn(output)
    model.fit(train_x, train_y, epochs=5, batch_size=32, verbose=0)
    assert model.evaluate(test_x, test_y, verbose=0)[1] >= 0.9  # it learnt the task
    assert default_layer(model) == "conv2"

    with_patch = np.flatnonzero(test_y == 1)
    heat = grad_cam(model, test_x[with_patch])  # each image's predicted class: 1 for nearly all
    assert heat.shape == (len(with_patch), SIZE, SIZE)
    assert heat.min() >= 0.0 and heat.max() <= 1.0
    hits = 0
    for one, (row, col) in zip(heat, corners[with_patch]):
        peak_row, peak_col = np.unravel_index(np.argmax(one), one.shape)
        hits += row <= peak_row < row + PATCH and col <= peak_col < col + PATCH
    assert hits >= 0.8 * len(with_patch), f"the peak fell on the patch in {hits} of {len(with_patch)} images"

    # One image alone gives an (H, W) map, the same as its row of the batch.
    single = grad_cam(model, test_x[with_patch[0]], class_index=1)
    assert single.shape == (SIZE, SIZE)
    np.testing.assert_allclose(single, heat[0], atol=1e-5)
    # The map is the class's: explaining "no patch" does not point at the patch the way "patch" does.
    row, col = corners[with_patch[0]]
    against = grad_cam(model, test_x[with_patch[0]], class_index=0)
    assert against[row:row + PATCH, col:col + PATCH].mean() < single[row:row + PATCH, col:col + PATCH].mean()


@pytest.fixture(scope="module")
def transfer_model():
    from workbench.core.templates import get_template

    spec = get_template("transfer_squeezenet")
    return spec.build(3, (64, 64, 3), spec.resolve_hparams({"image_size": 64}))


def test_a_nested_base_is_explained_through_its_inner_layers(transfer_model):
    import tensorflow as tf

    names = conv_layer_candidates(transfer_model)
    assert "squeezenet_v1_1/conv1" in names and "squeezenet_v1_1/fire9_expand3x3" in names
    assert names[-1] == default_layer(transfer_model) == "squeezenet_v1_1/fire9_concat"
    image = np.random.default_rng(1).uniform(0, 255, (64, 64, 3)).astype(np.float32)
    heat = grad_cam(transfer_model, image)
    assert heat.shape == (64, 64) and heat.dtype == np.float32
    assert 0.0 <= heat.min() and heat.max() == pytest.approx(1.0)

    # The same map computed by hand: fire9_concat is the base's output, so split the model there.
    base = transfer_model.get_layer("squeezenet_v1_1")
    features = base(transfer_model.get_layer("caffe_preprocess")(image[None]))
    with tf.GradientTape() as tape:
        tape.watch(features)
        pooled = transfer_model.get_layer("head_pool")(features)
        head = transfer_model.get_layer("head_output")
        logits = tf.matmul(pooled, head.kernel) + head.bias
        score = logits[0, int(np.argmax(transfer_model(image[None])[0]))]
    grads = tape.gradient(score, features).numpy()
    cam = np.maximum((grads.mean(axis=(1, 2), keepdims=True) * features.numpy()).sum(-1)[0], 0)
    import cv2

    expected = cv2.resize(cam.astype(np.float32), (64, 64), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(heat, expected / expected.max(), atol=1e-4)

    # An inner layer deeper in the frozen base works too (its weights are not trainable).
    early = GradCam(transfer_model, "squeezenet_v1_1/fire5_concat").heatmap(image, class_index=2)
    assert early.shape == (64, 64) and early.max() == pytest.approx(1.0)
    with pytest.raises(GradCamError, match=r"Expected a convolution layer of the model .*Received: 'nope'"):
        GradCam(transfer_model, "nope")


def test_a_dense_only_model_is_refused_with_a_clear_error():
    import keras

    dense = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")], name="dense_only")
    assert conv_layer_candidates(dense) == []
    with pytest.raises(GradCamError, match=r"Expected a model with a convolution layer.*Received: dense_only has only "
                                           r"Dense, Flatten"):
        grad_cam(dense, np.zeros((8, 8, 3), np.float32))
    vector = keras.Sequential([keras.Input((100,)), keras.layers.Dense(2, activation="softmax")], name="vector")
    with pytest.raises(GradCamError, match=r"Expected an image model .*Received: vector with input\(s\) "
                                           r"\[\(None, 100\)\]"):
        grad_cam(vector, np.zeros(100, np.float32))


def test_wrong_image_shapes_and_classes_are_refused(transfer_model):
    with pytest.raises(GradCamError, match=r"Expected a prepared image of shape \(64, 64, 3\).*"
                                           r"Received: .*\(32, 32, 3\)"):
        grad_cam(transfer_model, np.zeros((32, 32, 3), np.float32))
    with pytest.raises(GradCamError, match=r"Expected a class index in 0..2. Received: 3"):
        grad_cam(transfer_model, np.zeros((64, 64, 3), np.float32), class_index=3)


def test_overlay_blends_the_jet_colours_onto_the_image():
    image = np.full((20, 30, 3), 100, np.uint8)
    heat = np.zeros((10, 15), np.float32)
    heat[:, 8:] = 1.0  # hot on the right
    blended = overlay(image, heat, alpha=0.5)
    assert blended.shape == (20, 30, 3) and blended.dtype == np.uint8
    left, right = blended[10, 2], blended[10, 27]
    assert left[2] > left[0]  # cold: blue
    assert right[0] > right[2]  # hot: red
    np.testing.assert_array_equal(overlay(image, heat, alpha=0.0), image)
    assert overlay(image[..., 0], heat).shape == (20, 30, 3)  # grey in, colour out
    with pytest.raises(GradCamError, match="Expected an opacity between 0 and 1. Received: 2"):
        overlay(image, heat, alpha=2)

"""Made-up ImageNet weights for the keras.applications backbones, so tests never touch the network.

A backbone built with ``weights=None`` (random weights) is written in the layout of Keras's own
ImageNet ``.h5`` file and under the name Keras gives it, into a folder used as the Keras cache
(``$KERAS_HOME/models``) or named by the ``weights_path`` hyperparameter.
"""

from __future__ import annotations

from pathlib import Path


def write_fake_imagenet_weights(folder: Path, backbone: str, input_shape=(32, 32, 3), alpha: float = 1.0,
                                source=None) -> Path:
    """``folder/<the file name Keras downloads for backbone>`` holding ``source``'s weights (a backbone
    built with random weights when None); kept when it exists already. Returns its path."""
    from workbench.core.image.backbones import build_backbone, save_keras_weights_file, weights_file_name

    path = Path(folder) / weights_file_name(backbone, input_shape, alpha)
    if source is None and path.is_file():
        return path
    source = source if source is not None else build_backbone(backbone, input_shape, alpha=alpha)
    return save_keras_weights_file(source, path)


def fake_keras_home(root: Path, needs) -> Path:
    """A Keras home (``root``, with ``models/``) holding made-up weights for each (backbone, input
    shape) in ``needs``; point ``KERAS_HOME`` at it."""
    for backbone, input_shape in needs:
        write_fake_imagenet_weights(Path(root) / "models", backbone, input_shape)
    return Path(root)


def template_weights_needs(spec, input_shapes) -> list[tuple[str, tuple[int, ...]]]:
    """The (backbone, backbone input shape) pairs a transfer template with its default
    hyperparameters loads weights for on ``input_shapes``; [] for any other template."""
    if not any(hp.name == "weights_path" for hp in spec.hyperparameters):
        return []
    from workbench.core.image.backbones import backbone_input_shape
    from workbench.core.templates.image import template_backbone

    backbone = template_backbone(spec.id, spec.default_hparams())
    return [(backbone, backbone_input_shape(shape)) for shape in input_shapes]

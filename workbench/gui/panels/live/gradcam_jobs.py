"""Background job of the image detail view: a Grad-CAM heat map laid over the picture.

No Qt here: :func:`gradcam_job` runs on a TaskRunner thread and returns plain data. The explaining
model (:class:`~workbench.core.inference.gradcam.GradCam`, a rebuild of the model around the target
layer) is kept in an :class:`ExplainerCache` that only that thread touches, so going from file to
file does not rebuild it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: How strongly the heat map's colours cover the picture.
OVERLAY_ALPHA = 0.45


class ExplainerCache:
    """GradCam objects by (model, layer); used from one worker thread only (a TaskRunner runs its jobs
    one after another on its thread). A model loaded again (a retrained file) replaces them all."""

    def __init__(self) -> None:
        self._model = None
        self._explainers: dict[str | None, Any] = {}

    def get(self, model, layer: str | None):
        from workbench.core.inference.gradcam import GradCam

        if model is not self._model:
            self._model, self._explainers = model, {}
        if layer not in self._explainers:
            explainer = GradCam(model, layer)
            self._explainers[layer] = self._explainers[explainer.layer] = explainer
        return self._explainers[layer]


@dataclass
class GradCamView:
    """A heat map over a picture, ready to show.

    Attributes:
        source: the file explained.
        model_path: the model that explained it.
        class_index: the class explained.
        layer: the target layer's path (e.g. ``squeezenet_v1_1/fire9_concat``).
        layers: every layer that could be the target, input side first.
        overlay: the picture with the heat map blended in, RGB uint8.
        heat: the heat map, 0..1, at the model's input size.
        on_model_input: the picture is the model's input (a digit normalised as MNIST was), not the file's.
    """

    source: str
    model_path: str
    class_index: int
    layer: str
    layers: list[str]
    overlay: np.ndarray
    heat: np.ndarray
    on_model_input: bool


def explain_image(predictor, explainers: ExplainerCache, image: np.ndarray, class_index: int | None,
                  layer: str | None, picture: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, Any, bool]:
    """(overlay, heat, the GradCam, whether the overlay is on the model's input) for one decoded image.

    The heat map covers the model's input; the input is the picture resized (stretched) to the
    model's size, so the map is stretched back over ``picture`` (default: ``image``). A model whose
    preparation moves things (``mnist_style`` digits) gets the overlay on its own input instead.
    """
    from workbench.core.inference.gradcam import overlay

    explainer = explainers.get(predictor.model, layer)
    model_input = predictor.prepare_image(image)
    heat = explainer.heatmap(model_input, class_index)
    on_input = bool(predictor.preprocessing.get("mnist_style"))
    base = model_input if on_input else (image if picture is None else picture)
    return overlay(np.clip(np.asarray(base), 0, 255).astype(np.uint8), heat, OVERLAY_ALPHA), heat, explainer, on_input


def gradcam_job(cache, explainers: ExplainerCache, model_path: str, source: str, class_index: int,
                layer: str | None, *, progress, cancel) -> GradCamView:
    """The Grad-CAM view of the image file ``source`` for ``class_index`` (the row's predicted class)."""
    from workbench.core.image.io import read_image
    from workbench.core.inference.gradcam import conv_layer_candidates
    from workbench.gui.panels.live.files_jobs import IMAGE_DETAIL_SIDE, shrink_rgb

    predictor = cache.get(model_path)
    image = read_image(source)
    over, heat, explainer, on_input = explain_image(predictor, explainers, image, class_index, layer,
                                                    shrink_rgb(image, IMAGE_DETAIL_SIDE))
    progress(1, 1)
    return GradCamView(source, model_path, int(class_index), explainer.layer, conv_layer_candidates(predictor.model),
                       over, heat, on_input)

"""The Camera tab's Grad-CAM job: one heat map for one prepared camera input, as pictures ready to show.

No Qt here: :class:`CameraGradCamJob` is called on the
:class:`~workbench.gui.workers.camera_gradcam_worker.CameraGradCamController`'s thread only, and
keeps its explainers (:class:`~workbench.gui.panels.live.gradcam_jobs.ExplainerCache`, a rebuild of
the model around the target layer) there, so the model is rebuilt once per model and layer, not
once per frame. The input is the one the prediction worker prepared and classified, so the map is
exactly about the answer shown.
"""

from __future__ import annotations

import numpy as np

from workbench.gui.panels.live.gradcam_jobs import OVERLAY_ALPHA, ExplainerCache

#: A digit model's 28×28 input is enlarged this much before the (smooth) heat map is blended in.
INPUT_ZOOM = 4


def jet_colours(heat: np.ndarray) -> np.ndarray:
    """A heat map (0..1) in the JET colour map (blue: cold, red: hot), RGB uint8 of its size."""
    import cv2

    levels = np.clip(np.rint(np.nan_to_num(np.asarray(heat, np.float32)) * 255.0), 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)


def explain_camera_input(predictor, explainers: ExplainerCache, model_input: np.ndarray, class_index: int,
                         layer: str | None, on_input: bool, frame_size: tuple[int, int] | None = None) -> dict:
    """The heat map of ``class_index`` for one prepared input of ``predictor``'s model.

    Returns ``heat`` (0..1 at the model's input size), ``layer`` (the target's path), ``layers``
    (every candidate, input side first) and ``picture``: with ``on_input`` (digit models, whose
    preparation cuts the digit out and centres it) the model's input enlarged :data:`INPUT_ZOOM`
    times with the heat map blended in; otherwise the heat map's colours alone, to be laid over the
    feed (the input is the frame stretched to the model's size, so the map stretches back over it),
    at ``frame_size`` (height, width) when given: the map is resized before it is coloured.
    """
    import cv2

    from workbench.core.inference.gradcam import conv_layer_candidates, overlay

    explainer = explainers.get(predictor.model, layer)
    heat = explainer.heatmap(model_input, int(class_index))
    if on_input:
        base = np.clip(np.rint(np.asarray(model_input, np.float32)), 0, 255).astype(np.uint8)
        height, width = base.shape[:2]
        base = cv2.resize(base, (width * INPUT_ZOOM, height * INPUT_ZOOM), interpolation=cv2.INTER_NEAREST)
        picture = overlay(base, heat, OVERLAY_ALPHA)  # crisp model pixels under a smooth map
    elif frame_size:
        height, width = (int(v) for v in frame_size)
        picture = jet_colours(cv2.resize(heat, (width, height), interpolation=cv2.INTER_LINEAR))
    else:
        picture = jet_colours(heat)
    return {"heat": heat, "picture": picture, "layer": explainer.layer,
            "layers": conv_layer_candidates(predictor.model)}


class CameraGradCamJob:
    """``job(request)`` → :func:`explain_camera_input`'s dict plus the request's other keys.

    ``request``: ``model_path``, ``model_input``, ``class_index``, ``layer`` (None: the default),
    ``on_input``, optionally ``frame_size``, and anything else (e.g. ``frame_index``), which comes
    back untouched (``layer`` comes back as the layer used).
    """

    def __init__(self, cache) -> None:
        self._cache = cache  # the tab's PredictorCache (thread-safe): the model the answer came from
        self._explainers = ExplainerCache()  # used from the worker's thread only

    def __call__(self, request: dict) -> dict:
        predictor = self._cache.get(request["model_path"])
        result = explain_camera_input(predictor, self._explainers, request["model_input"], request["class_index"],
                                      request["layer"], request["on_input"], request.get("frame_size"))
        return {**{k: v for k, v in request.items() if k != "model_input"}, **result}

"""Background job of the Files tab: classify files with a model from the PredictorCache.

No Qt here: :func:`classify_files` runs on a TaskRunner thread. How one file is predicted depends on
the model's modality; the per-modality functions below are what
:data:`~workbench.gui.modality_widgets.MODALITY_WIDGETS` names for each modality.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: ``predict(predictor, path, top_k)`` → (the row's summary dict, what the detail view shows or None).
FilePrediction = Callable[[Any, str, int], tuple[dict[str, Any], Any]]


def predict_image_file(predictor, path: str, top_k: int) -> tuple[dict[str, Any], None]:
    """An image file: its top classes; there is no detail view for images."""
    return predictor.predict_files([path], top_k=top_k)[0].to_dict(), None


def predict_sound_file(predictor, path: str, top_k: int) -> tuple[dict[str, Any], Any]:
    """A sound file: the summary for the table (a long recording's words included) and the
    :class:`~workbench.core.inference.sound_files.SoundFilePrediction` for the detail below it."""
    from workbench.core.inference.sound_files import predict_sound_file as predict

    heard = predict(predictor, path, top_k=top_k)
    return heard.to_dict(), heard


def classify_files(cache, model_path: str, paths: list[str], predict: FilePrediction, top_k: int, *,
                   progress, cancel) -> dict[str, Any]:
    """``{"class_names": [...], "results": [(kind, data, detail), ...]}``, one result per path:
    ``("ok", summary, detail)`` or ``("error", {"source", "message"}, None)``."""
    predictor = cache.get(model_path)
    results = []
    for i, path in enumerate(paths):
        if cancel.cancelled:
            break
        try:
            results.append(("ok", *predict(predictor, path, top_k)))
        except Exception as exc:
            results.append(("error", {"source": path, "message": str(exc)}, None))
        progress(i + 1, len(paths))
    return {"class_names": list(predictor.class_names), "results": results}

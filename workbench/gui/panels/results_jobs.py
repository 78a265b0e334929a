"""Qt-free helpers of the results panel: which samples a confusion-matrix cell holds, loading their
images, and the evaluate / export jobs that run on TaskRunner threads.

Everything here runs off the GUI thread (or is pure data), so TensorFlow is imported only inside
the job functions and nothing touches a widget.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

NPZ_ID = re.compile(r"^npz:(?P<key>x_\w+)\[(?P<index>\d+)\]$")
MAX_THUMBNAILS = 60
PLACEHOLDER = np.full((28, 28), 96, np.uint8)  # shown for a sample whose file is gone

# (label, format, quantisation) offered by the export combo.
EXPORT_CHOICES = (
    ("Keras (.keras)", "keras", "none"),
    ("TensorFlow SavedModel (folder)", "savedmodel", "none"),
    ("TFLite (float32)", "tflite", "none"),
    ("TFLite, dynamic-range quantised", "tflite", "dynamic"),
    ("TFLite, int8 quantised", "tflite", "int8"),
)


def cell_samples(evaluation: dict[str, Any], true_index: int, predicted_index: int) -> list[dict[str, Any]]:
    """The misclassified samples of one confusion-matrix cell, most confident first."""
    names = evaluation.get("class_names", [])
    if not (0 <= true_index < len(names) and 0 <= predicted_index < len(names)):
        return []
    true_name, predicted_name = names[true_index], names[predicted_index]
    chosen = [s for s in evaluation.get("misclassified", [])
              if s.get("true") == true_name and s.get("predicted") == predicted_name]
    return sorted(chosen, key=lambda s: -float(s.get("confidence", 0.0)))


def caption(sample: dict[str, Any]) -> str:
    """``true→predicted 97%``."""
    return f"{sample.get('true')}→{sample.get('predicted')} {float(sample.get('confidence', 0.0)):.0%}"


class SampleImageLoader:
    """Loads sample images by id: a file path, or ``npz:x_train[i]`` from the dataset's npz.

    Used only on the loader's TaskRunner thread; the npz arrays of the last file are kept, since
    clicking through cells reads the same (possibly large) file again and again.
    """

    def __init__(self) -> None:
        self._npz_path: str | None = None
        self._npz_arrays: dict[str, np.ndarray] = {}

    def resolve(self, sample_id: str, dataset_path: str, scan_path: str = "") -> Path:
        """The file of ``sample_id``; a path relative to where training ran maps onto the dataset."""
        path = Path(sample_id)
        if path.is_absolute() or path.exists() or not dataset_path:
            return path
        if scan_path and sample_id.startswith(scan_path.rstrip("/") + "/"):
            return Path(dataset_path) / sample_id[len(scan_path.rstrip("/")) + 1:]
        return Path(dataset_path) / sample_id

    def load(self, sample_id: str, dataset_path: str, scan_path: str = "") -> np.ndarray:
        match = NPZ_ID.match(sample_id)
        if match:
            if self._npz_path != dataset_path:
                from workbench.core.data.scan import load_npz

                self._npz_arrays, self._npz_path = load_npz(dataset_path), dataset_path
            return np.asarray(self._npz_arrays[match["key"]][int(match["index"])])
        from workbench.core.image.io import read_image

        return read_image(self.resolve(sample_id, dataset_path, scan_path))

    def load_many(self, samples: list[dict[str, Any]], dataset_path: str, scan_path: str = "", *,
                  progress, cancel) -> tuple[list[np.ndarray], list[str]]:
        """Images and captions for ``samples``; unreadable ones get a grey placeholder."""
        images, captions = [], []
        for done, sample in enumerate(samples, 1):
            if cancel.cancelled:
                break
            text = caption(sample)
            try:
                image = self.load(str(sample["sample"]), dataset_path, scan_path)
            except Exception:  # a moved or deleted file must not stop the others from showing
                image, text = PLACEHOLDER, f"{text}\n(missing)"
            images.append(image)
            captions.append(text)
            progress(done, len(samples))
        return images, captions


def gradcam_samples_job(loader: SampleImageLoader, cache, explainers, model_path: str, samples: list[dict[str, Any]],
                        dataset_path: str, scan_path: str = "", *, progress,
                        cancel) -> tuple[list[np.ndarray], list[str]]:
    """Like :meth:`SampleImageLoader.load_many`, with the Grad-CAM heat map of the class each sample
    was wrongly predicted as laid over it (where the model saw that class). A model Grad-CAM cannot
    explain raises its :class:`~workbench.core.inference.gradcam.GradCamError`."""
    from workbench.gui.panels.live.gradcam_jobs import explain_image

    images, captions = loader.load_many(samples, dataset_path, scan_path, progress=lambda _d, _t: None,
                                        cancel=cancel)
    predictor = cache.get(model_path)
    names = list(predictor.class_names)
    shown = []
    for done, (image, sample) in enumerate(zip(images, samples), 1):
        if cancel.cancelled:
            break
        predicted = sample.get("predicted")
        if image is PLACEHOLDER or predicted not in names:
            shown.append(image)
        else:
            shown.append(explain_image(predictor, explainers, image, names.index(predicted), None)[0])
        progress(done, len(images))
    return shown, captions[:len(shown)]


def evaluate_job(model_path: str, data_path: str, *, progress, cancel) -> dict[str, Any]:
    """Load the model and evaluate it on ``data_path`` (TaskRunner thread)."""
    from workbench.core.evaluation import evaluate_on_dataset
    from workbench.core.inference import Predictor

    return evaluate_on_dataset(Predictor.load(model_path), data_path)


def export_job(model_path: str, out: str, fmt: str, quantize: str, fallback_data: str, *,
               progress, cancel) -> dict[str, Any]:
    """Export with a parity check (TaskRunner thread).

    The parity samples come from the model's training data; when that has moved, from the dataset
    chosen in the app.
    """
    from workbench.core.export import export_model
    from workbench.core.sidecar import read_sidecar

    trained_on = read_sidecar(model_path).get("dataset", {}).get("path")
    data = None if trained_on and Path(trained_on).exists() else (fallback_data or None)
    return export_model(model_path, fmt, out, quantize, data=data).to_dict()


def parity_text(result: dict[str, Any]) -> str:
    """``Exported … : largest probability difference 2.3e-07 on 16 real samples, top-1 agreement 100%``."""
    size = result["size_bytes"]
    size_text = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
    kind = result["format"] if result["quantize"] == "none" else f"{result['format']} ({result['quantize']})"
    return (f"Exported {kind} to {result['path']} ({size_text}): largest probability difference "
            f"{result['parity_max_abs_diff']:.2g} on {result['parity_samples']} real samples, "
            f"top-1 agreement {result['top1_agreement']:.0%}")

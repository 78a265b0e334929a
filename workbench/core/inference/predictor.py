"""Load a saved model with its sidecar and predict with exactly the training preprocessing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import ModelFileError
from workbench.core.evaluation import output_to_probabilities
from workbench.core.modality import get_modality
from workbench.core.sidecar import read_sidecar


@dataclass
class Prediction:
    source: str
    probabilities: list[float]
    top: list[tuple[str, float]]

    @property
    def label(self) -> str:
        return self.top[0][0]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "label": self.label,
                "top": [{"class": c, "probability": p} for c, p in self.top],
                "probabilities": self.probabilities}


class Predictor:
    """A loaded model plus what its sidecar says about inputs and classes."""

    def __init__(self, model, sidecar: dict[str, Any], path: Path) -> None:
        self.model = model
        self.sidecar = sidecar
        self.path = path
        self.class_names: list[str] = list(sidecar["class_names"])
        self.input_shape: tuple[int, ...] = tuple(sidecar["input_shape"])
        self.modality: str = sidecar.get("modality") or "image"
        self.handler = get_modality(self.modality)  # everything that differs between images, sound, video
        self.sigmoid: bool = sidecar.get("output") == "sigmoid"
        self.preprocessing: dict[str, Any] = sidecar.get("preprocessing", {})

    @classmethod
    def load(cls, path: str | Path) -> Predictor:
        path = Path(path)
        if not path.exists():
            raise ModelFileError(f"Expected a saved model (.keras). Received: {path} does not exist")
        if path.suffix != ".keras":
            raise ModelFileError(f"Expected a .keras model file. Received: {path}")
        sidecar = read_sidecar(path)
        import keras

        get_modality(sidecar.get("modality")).register_layers()  # its custom layers, for load_model
        try:
            model = keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise ModelFileError(f"Expected a Keras model file. Received: {path} ({str(exc).splitlines()[0]})") from None
        return cls(model, sidecar, path)

    def prepare_image(self, image: np.ndarray) -> np.ndarray:
        """An image array (any size, grey or colour) → the model's input, as in training."""
        return self.handler.prepare_array(image, self.input_shape, self.preprocessing)

    @property
    def audio_config(self):
        """The front-end config of a sound model (:class:`~workbench.core.audio.AudioConfig`)."""
        return self._sound_handler().front_end_config(self.preprocessing)

    def prepare_waveform(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """Recorded samples (mono or (N, channels), any rate) → the model input, as in training.

        Resampled to the model's rate, silence trimmed, level normalised and fitted to the clip
        length by the same functions the training pipeline used: (num_samples,) float32.
        """
        return self._sound_handler().prepare_recording(samples, sample_rate, self.input_shape, self.preprocessing)

    def _sound_handler(self):
        """The modality, when it reads recordings (a capability, so no modality is named here)."""
        if not hasattr(self.handler, "prepare_recording"):
            raise ModelFileError(f"Expected a sound model. Received: a {self.modality} model ({self.path})")
        return self.handler

    def prepare_file(self, path: str | Path) -> np.ndarray:
        """A file → the model's input, by the function its modality's training pipeline uses."""
        return self.handler.load_file(path, self.input_shape, self.preprocessing)

    def predict_arrays(self, arrays: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Prepared inputs (N, *input_shape) → probabilities (N, K). For sound: (N, num_samples)
        waveforms from :meth:`prepare_waveform` or :meth:`prepare_file`."""
        from workbench.core.evaluation import predict_in_batches

        arrays = np.asarray(arrays, dtype=np.float32)
        if arrays.shape[1:] != self.input_shape:
            raise ModelFileError(f"Expected inputs of shape (N, {', '.join(map(str, self.input_shape))}). "
                                 f"Received: {arrays.shape}")
        return output_to_probabilities(predict_in_batches(self.model, arrays, batch_size), self.sigmoid)

    def top_k(self, probabilities: np.ndarray, k: int) -> list[tuple[str, float]]:
        order = np.argsort(-probabilities)[: max(1, min(k, len(self.class_names)))]
        return [(self.class_names[i], float(probabilities[i])) for i in order]

    def predict_files(self, paths: list[str | Path], top_k: int = 3) -> list[Prediction]:
        arrays = np.stack([self.prepare_file(p) for p in paths])
        probabilities = self.predict_arrays(arrays)
        return [Prediction(str(p), [float(v) for v in probs], self.top_k(probs, top_k))
                for p, probs in zip(paths, probabilities)]

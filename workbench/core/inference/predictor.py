"""Load a saved model with its sidecar and predict with exactly the training preprocessing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.core.errors import DatasetError, ModelFileError, WorkbenchError
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
        if not sidecar.get("input_shape"):
            raise ModelFileError(f"Expected a sidecar with the model's input_shape. Received: none in the sidecar of {path}")
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
        _check_archive(path)
        import keras

        get_modality(sidecar.get("modality")).register_layers()  # its custom layers, for load_model
        try:
            model = keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise ModelFileError(f"Expected a Keras model file. Received: {path} ({str(exc).splitlines()[0]})") from None
        # A model and a sidecar from different runs (a run killed in a reused folder) must not pair up:
        # the class names would label the wrong outputs. One sigmoid unit stands for two classes.
        try:
            shape = model.output_shape
        except (AttributeError, ValueError):
            shape = None
        shape = shape[0] if isinstance(shape, list) and shape else shape
        units = shape[-1] if isinstance(shape, tuple) and shape and isinstance(shape[-1], int) else None
        classes = len(sidecar["class_names"])
        sigmoid = sidecar.get("output") == "sigmoid"
        if units is not None and (2 if sigmoid and units == 1 else units) != classes:
            expected = 1 if sigmoid and classes == 2 else classes
            raise ModelFileError(f"Expected a model with {expected} output{'s' * (expected != 1)} for the sidecar's "
                                 f"{classes} classes. Received: {units} output{'s' * (units != 1)} in {path}")
        return cls(model, sidecar, path)

    def prepare_image(self, image: np.ndarray) -> np.ndarray:
        """An image array (any size, grey or colour) → the model's input, as in training."""
        return self.handler.prepare_array(image, self.input_shape, self.preprocessing)

    def prepare_array(self, array: np.ndarray) -> np.ndarray:
        """One in-memory sample → the model's input, by its modality's training preparation: an image
        (as :meth:`prepare_image`), a waveform at the model's rate, or a run of video frames (T, H, W, 3)
        RGB uint8 — a camera's last ``window_s`` seconds — sampled to the model's frames."""
        return self.handler.prepare_array(array, self.input_shape, self.preprocessing)

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
        """A file → the model's input, by the function its modality's training pipeline uses.

        Raises :class:`~workbench.core.errors.WorkbenchError` (a DatasetError) naming the file and
        saying why when it cannot be read.
        """
        try:
            return self.handler.load_file(path, self.input_shape, self.preprocessing)
        except WorkbenchError:
            raise
        except Exception as exc:  # a decoder's own error on a damaged file: said as the user's problem
            reason, _ = self.handler.verify_file(str(path))
            reason = reason or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise DatasetError(f"Expected a readable {self.handler.noun} file. Received: "
                               f"{_display(path)} ({reason})") from None

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
        """The ``k`` most probable classes (at most all of them) with their probabilities; k ≥ 1."""
        if int(k) < 1:
            raise WorkbenchError(f"Expected top-k of at least 1. Received: {k}")
        order = np.argsort(-probabilities)[: min(int(k), len(self.class_names))]
        return [(self.class_names[i], float(probabilities[i])) for i in order]

    def predict_files(self, paths: list[str | Path], top_k: int = 3,
                      on_error: Callable[[str, str], None] | None = None) -> list[Prediction]:
        """Predictions for ``paths``, in order. A file that cannot be read raises its DatasetError —
        or, given ``on_error(path, message)``, is reported there and left out, and the rest predicted."""
        if int(top_k) < 1:
            raise WorkbenchError(f"Expected top-k of at least 1. Received: {top_k}")
        kept, arrays = [], []
        for path in paths:
            try:
                arrays.append(self.prepare_file(path))
            except WorkbenchError as exc:
                if on_error is None:
                    raise
                on_error(str(path), str(exc))
                continue
            kept.append(path)
        if not kept:
            return []
        probabilities = self.predict_arrays(np.stack(arrays))
        return [Prediction(str(p), [float(v) for v in probs], self.top_k(probs, top_k))
                for p, probs in zip(kept, probabilities)]


def _display(path: str | Path) -> str:
    """The path printable in any terminal (bytes of a non-UTF-8 file name as ``\\xNN``)."""
    from workbench.core.data.scan import display_path

    return display_path(path)


def _check_archive(path: Path) -> None:
    """A ``.keras`` file is a ZIP archive whose members stay inside it: refuse anything else before
    Keras reads it (a text file would otherwise read as "file not found", and member names such as
    ``../../x`` or ``/etc/x`` mark a file built to write outside its folder)."""
    import zipfile

    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"Expected a Keras model file (.keras, a ZIP archive). Received: {_display(path)} is not a "
                             "ZIP archive (a text file, or a damaged or unfinished download)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"Expected a readable Keras model file. Received: {_display(path)} ({exc})") from None
    unsafe = [n for n in names if n.startswith(("/", "\\")) or ".." in n.replace("\\", "/").split("/") or ":" in n]
    if unsafe:
        raise ModelFileError(f"Expected a Keras model file whose members stay inside it. Received: {_display(path)} "
                             f"holds {', '.join(repr(n) for n in unsafe[:3])}")


"""Export a trained model: .keras, TensorFlow SavedModel, TFLite (float32, dynamic-range, int8).

After every export a parity check runs a few real samples (from the model's training data, or the
``data`` given) through the exported artefact and reports the largest probability difference
against the Keras model.

int8 quantises image models whole (int8 input and output). Sound models keep their log-mel front end
in float (their modality's ``float_front_end_layers``), in int8 with a float32 waveform in and probabilities out,
and in dynamic-range quantisation too (``bench/export_accuracy.py`` measures what each costs).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.atomic import atomic_write_with
from workbench.core.errors import DatasetError, ExportError
from workbench.core.evaluation import output_to_probabilities
from workbench.core.inference import Predictor
from workbench.core.sidecar import command_line, read_sidecar, write_sidecar

FORMATS = ("keras", "savedmodel", "tflite")
QUANTIZATIONS = ("none", "dynamic", "int8")


@dataclass
class ExportResult:
    format: str
    quantize: str
    path: Path
    size_bytes: int
    parity_max_abs_diff: float
    parity_samples: int
    parity_source: str
    top1_agreement: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def default_export_path(model_path: Path, fmt: str, quantize: str) -> Path:
    stem = model_path.with_suffix("")
    if fmt == "keras":
        return Path(f"{stem}-export.keras")
    if fmt == "savedmodel":
        return Path(f"{stem}_savedmodel")
    return Path(f"{stem}{'' if quantize == 'none' else '-' + quantize}.tflite")


def sample_inputs(predictor: Predictor, data: str | None = None, count: int = 16) -> tuple[np.ndarray, str]:
    """Up to ``count`` real, prepared inputs from ``data`` or the model's training dataset."""
    from workbench.core.data.pipeline import subset_arrays
    from workbench.core.data.scan import scan_dataset
    from workbench.core.evaluation import evaluation_subset

    source = data or predictor.sidecar.get("dataset", {}).get("path")
    if not source or not Path(source).exists():
        raise DatasetError(f"Expected real samples for the parity check and calibration (pass --data). "
                           f"Received: dataset {source!r} is not available")
    report = scan_dataset(source, verify=False)
    subset = evaluation_subset(report, predictor.class_names)
    rng = np.random.default_rng(0)
    pick = rng.permutation(len(subset))[:count]
    from workbench.core.data.pipeline import Subset

    chosen = Subset([subset.ids[i] for i in pick], subset.labels[pick],
                    subset.arrays[pick] if subset.arrays is not None else None)
    return subset_arrays(chosen, predictor.input_shape, preprocessing=predictor.preprocessing).astype(np.float32), source


def export_model(model_path: str | Path, fmt: str = "keras", out: str | Path | None = None,
                 quantize: str = "none", data: str | None = None, parity_count: int = 16,
                 overwrite: bool = False) -> ExportResult:
    """Export ``model_path`` to ``fmt`` and check parity on real samples.

    Nothing the project did not create is replaced: an existing ``out`` must be an earlier export
    (its sidecar has an ``export`` record) unless ``overwrite``. The artefact is written beside the
    target and moved into place only when complete, so a kill never leaves half an export.
    """
    if fmt not in FORMATS:
        raise ExportError(f"Expected an export format in {', '.join(FORMATS)}. Received: {fmt!r}")
    if quantize not in QUANTIZATIONS:
        raise ExportError(f"Expected a quantisation in {', '.join(QUANTIZATIONS)}. Received: {quantize!r}")
    if quantize != "none" and fmt != "tflite":
        raise ExportError(f"Quantisation applies to TFLite only. Received: --format {fmt} --quantize {quantize}")
    model_path = Path(model_path)
    predictor = Predictor.load(model_path)
    target = Path(out) if out else default_export_path(model_path, fmt, quantize)
    _check_target(target, model_path, fmt, overwrite)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"Expected a folder the export can be written to. Received: {target.parent} ({exc})") from None
    samples, source = sample_inputs(predictor, data, max(parity_count, 100 if quantize == "int8" else 0))
    parity = samples[:parity_count]
    reference = predictor.predict_arrays(parity)

    if fmt == "keras":
        # Re-saved from the uncompiled model: inference only, without the optimizer's state
        # (a third of an Adam-trained file), so shipped models stay small.
        _write_atomically(target, lambda tmp: predictor.model.save(tmp), suffix=".keras")
        run = _keras_runner(target, predictor.handler)
    elif fmt == "savedmodel":
        _replace_folder(target, lambda tmp: predictor.model.export(str(tmp), format="tf_saved_model", verbose=False))
        run = _savedmodel_runner(target)
    else:
        # The converter saves the model through Keras, which prints its whole signature (some 50
        # lines of "TensorSpec" for a sound model) on stdout; the export's own report is what counts.
        with contextlib.redirect_stdout(io.StringIO()):
            tflite = _tflite_bytes(predictor.model, quantize, samples, predictor.handler.float_front_end_layers(predictor.model))
        _write_atomically(target, lambda tmp: tmp.write_bytes(tflite))
        run = tflite_runner(target)
    exported = output_to_probabilities(run(parity), predictor.sigmoid)
    sidecar = dict(predictor.sidecar)
    sidecar.pop("format", None)
    sidecar["export"] = {"format": fmt, "quantize": quantize, "source_model": str(model_path),
                         "command": command_line() if sys.argv[1:2] == ["export"] else None}
    try:
        write_sidecar(target, sidecar)
    except OSError as exc:
        raise ExportError(f"Expected to write the export's sidecar beside {target}. Received: {exc.strerror or exc} "
                          f"(the {fmt} file itself was written)") from None
    size = sum(p.stat().st_size for p in target.rglob("*")) if target.is_dir() else target.stat().st_size
    return ExportResult(
        format=fmt, quantize=quantize, path=target, size_bytes=int(size),
        parity_max_abs_diff=float(np.abs(exported - reference).max()) if len(parity) else 0.0,
        parity_samples=len(parity), parity_source=source,
        top1_agreement=float((exported.argmax(1) == reference.argmax(1)).mean()) if len(parity) else 1.0,
    )


def _is_our_export(target: Path) -> bool:
    """Whether ``target`` was written by an earlier export (its sidecar carries an export record)."""
    try:
        return "export" in read_sidecar(target)
    except Exception:  # no sidecar, or not ours: either way not an export of ours
        return False


def _check_target(target: Path, model_path: Path, fmt: str, overwrite: bool) -> None:
    try:
        mode = target.stat().st_mode if target.exists() else None
    except (OSError, ValueError) as exc:
        raise ExportError(f"Expected a path the export can be written to. Received: {target} ({exc})") from None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        # A device (/dev/full), pipe or socket: never replaced, not even with --overwrite.
        raise ExportError(f"Expected a file or folder path as the export target. Received: {target} is a device, "
                          "pipe or socket")
    if target.resolve() == model_path.resolve() or (target.is_dir() and model_path.resolve().is_relative_to(target.resolve())):
        raise ExportError(f"Expected an export path other than the model or its folder. Received: {target}")
    if target.exists() and (target.is_dir() != (fmt == "savedmodel")):
        kind = "a folder" if fmt == "savedmodel" else "a file"
        raise ExportError(f"Expected {kind} as the {fmt} export target. Received: {target} exists and is not {kind}")
    if target.exists() and not overwrite and not _is_our_export(target):
        raise ExportError(f"Expected a new path or an earlier export to replace. Received: {target} exists and was not "
                          "written by 'workbench export' (pass --overwrite to replace it)")


def _write_atomically(target: Path, write, suffix: str | None = None) -> None:
    try:
        atomic_write_with(target, write, suffix=suffix)
    except OSError as exc:
        raise ExportError(f"Expected to write the export to {target}. Received: {exc.strerror or exc}") from None


def _replace_folder(target: Path, write) -> None:
    """Write a folder export beside ``target``, then swap it in; the old export is removed only after."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise ExportError(f"Expected to write the export to {target}. Received: {exc.strerror or exc}") from None
    old = target.with_name(f".{target.name}.old")  # ours: a previous export set aside during a swap
    try:
        try:
            write(staging / "export")
        except Exception as exc:
            if not _is_io_error(exc):
                raise
            raise ExportError(f"Expected to write the export to {target}. Received: "
                              f"{getattr(exc, 'strerror', None) or str(exc).splitlines()[0]}") from None
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        try:
            os.replace(staging / "export", target)
        except OSError:
            if old.exists():
                os.replace(old, target)  # put the previous export back
            raise
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise ExportError(f"Expected to write the export to {target}. Received: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_io_error(exc: BaseException) -> bool:
    """An OSError, or TensorFlow's error for a file it could not write (SavedModel goes through tf.io)."""
    if isinstance(exc, OSError):
        return True
    import tensorflow as tf

    return isinstance(exc, (tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError,
                            tf.errors.NotFoundError, tf.errors.FailedPreconditionError, tf.errors.UnknownError))


def _keras_runner(path: Path, modality):
    import keras

    modality.register_layers()
    model = keras.models.load_model(path, compile=False)
    return lambda x: np.asarray(model(x, training=False))


def _savedmodel_runner(path: Path):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    return lambda x: np.asarray(loaded.serve(tf.constant(x)))


def _tflite_bytes(model, quantize: str, samples: np.ndarray, float_layers: list[str]) -> bytes:
    """The TFLite flatbuffer of ``model``; quantised exports keep ``float_layers`` (the modality's
    feature front end, e.g. sound's log-mel: 8 bits cannot hold a ~90 dB power spectrum; quantised
    whole, the shipped spoken-digit model agreed with Keras on 86.0% (int8) and 94.4% (dynamic) of a
    held-out speaker's 500 clips, with it in float on 99.8% and 100%: ``bench/export_accuracy.py``)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize in ("dynamic", "int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "int8":
        def representative():
            for sample in samples:
                yield [sample[None].astype(np.float32)]

        converter.representative_dataset = representative
        if float_layers:
            return _int8_body_with_float_layers(converter, representative, float_layers)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    try:
        converted = converter.convert()
    except Exception as exc:
        raise ExportError(f"TFLite conversion ({quantize}) failed. Received: {str(exc).splitlines()[0]}") from None
    keep_float = float_layers if quantize == "dynamic" else []
    return _float_weights_in_layers(converted, keep_float) if keep_float else converted


def _int8_body_with_float_layers(converter, representative, layer_names: list[str]) -> bytes:
    """int8 weights and activations everywhere but in ``layer_names``; float32 input and output."""
    import tensorflow as tf

    options = tf.lite.experimental.QuantizationDebugOptions()
    try:
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=representative, debug_options=options)
        # Ops are named after the layer that made them ("<model>/<layer>_1/rfft"), fused ops with
        # every name joined by ";"; the calibrated model holds the names the quantiser matches.
        names = [t["name"] for t in tf.lite.Interpreter(model_content=debugger.calibrated_model).get_tensor_details()]
        options.denylisted_nodes = [name for name in names if _made_by(name, layer_names)]
        if not options.denylisted_nodes:
            raise ExportError(f"Expected ops of the layers {', '.join(layer_names)} in the converted model. "
                              "Received: none carries their names, so they would be quantised to int8")
        return debugger.get_nondebug_quantized_model()
    except ExportError:
        raise
    except Exception as exc:
        raise ExportError(f"TFLite conversion (int8) failed. Received: {str(exc).splitlines()[0]}") from None


def _float_weights_in_layers(tflite: bytes, layer_names: list[str]) -> bytes:
    """A dynamic-range model with the int8 weights of ``layer_names`` turned back into float32.

    TFLite has no switch to keep one op out of dynamic-range quantisation. Its hybrid kernels also
    quantise their input on the fly, and for the front end's mel projection that input is a power
    spectrum: 8 bits of it cost the shipped spoken-digit model 3 points on a new speaker. With the
    weights in float32 the op runs its float kernel.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite))
    restored = 0
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            name = tensor.name.decode() if isinstance(tensor.name, bytes) else str(tensor.name)
            buffer = model.buffers[tensor.buffer]
            if tensor.type != schema.TensorType.INT8 or buffer.data is None or not _made_by(name, layer_names):
                continue
            quantization = tensor.quantization
            if quantization is None or quantization.scale is None:
                continue  # an int8 constant that is not a quantised weight
            shape = [int(d) for d in tensor.shape]
            axis_shape = [1] * len(shape)
            axis_shape[quantization.quantizedDimension] = -1
            scale = np.asarray(quantization.scale, np.float32).reshape(axis_shape)
            zero = (np.zeros(1, np.float32) if quantization.zeroPoint is None
                    else np.asarray(quantization.zeroPoint, np.float32).reshape(axis_shape))
            values = np.asarray(buffer.data, np.uint8).view(np.int8).reshape(shape).astype(np.float32)
            buffer.data = np.frombuffer(((values - zero) * scale).astype(np.float32).tobytes(), np.uint8)
            tensor.type = schema.TensorType.FLOAT32
            tensor.quantization = None
            restored += 1
    if not restored:  # nothing of the front end was quantised: nothing to undo
        return tflite
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _made_by(tensor_name: str, layer_names: list[str]) -> bool:
    scopes = {scope for part in tensor_name.split(";") for scope in part.split("/")}
    return any(scope == name or (scope.startswith(name + "_") and scope[len(name) + 1:].isdigit())
               for scope in scopes for name in layer_names)


def tflite_runner(path: Path):
    """``run(inputs) -> outputs`` through a .tflite file, one sample at a time, (de)quantising an int8 model's ends."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]

    def run(x: np.ndarray) -> np.ndarray:
        results = []
        for sample in x:
            value = sample[None]
            if inp["dtype"] != np.float32:  # full-integer model: quantise the input as calibrated
                scale, zero = inp["quantization"]
                value = np.clip(np.rint(value / scale + zero), -128, 127).astype(inp["dtype"])
            interpreter.set_tensor(inp["index"], value)
            interpreter.invoke()
            result = interpreter.get_tensor(out["index"]).astype(np.float32)
            if out["dtype"] != np.float32:
                scale, zero = out["quantization"]
                result = (result - zero) * scale
            results.append(result[0])
        return np.stack(results)

    return run



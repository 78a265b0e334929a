"""Mixed precision: which compute dtype a run uses on this machine, building a model under it, and
the float32 copy a mixed run saves for prediction.

- On a GPU, ``mixed_float16`` (offered, off unless asked for: its gain is not measured here).
- On a CPU with bfloat16 matrix units (Intel AMX), ``mixed_bfloat16``, on by default: there oneDNN
  trains a convolutional network 2-3 times faster than in float32 (bench/time_to_accuracy.py).
- Elsewhere float32; a template whose modality says so (sound: its front end is in the model)
  always trains in float32.

The weights stay float32 in every case; a mixed run's checkpoints are saved as :func:`float32_copy`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from workbench.core.training.distribute import DistributeError, local_gpus

CPU_BFLOAT16_ENV = "WORKBENCH_CPU_BFLOAT16"


def template_allows_mixed_precision(spec: Any) -> bool:
    """Whether a template may train in mixed precision: its own ``mixed_precision`` flag when set,
    else its modality's ``mixed_precision`` (False for sound: the front end computes spectrograms
    inside the model, which float16 would coarsen; True when a modality does not say)."""
    explicit = getattr(spec, "mixed_precision", None)
    if explicit is not None:
        return bool(explicit)
    from workbench.core.errors import WorkbenchError
    from workbench.core.modality import get_modality

    try:  # the modality says (a sound front end inside the model stays in float32)
        return bool(getattr(get_modality(spec.modality), "mixed_precision", True))
    except WorkbenchError:
        return True


def cpu_has_bfloat16_units() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (Intel AMX, ``amx_bf16`` in
    /proc/cpuinfo: Xeon Sapphire Rapids and later). There, oneDNN runs a convolutional network's
    mixed-bfloat16 training 2-3 times faster than float32 (bench/time_to_accuracy.py); elsewhere
    bfloat16 is emulated and slower. ``WORKBENCH_CPU_BFLOAT16=0`` or ``1`` overrides the answer (to
    compare both, or to test either path on any machine)."""
    override = os.environ.get(CPU_BFLOAT16_ENV, "").strip()
    if override:
        return override not in ("0", "false", "no", "off")
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            return any(line.startswith("flags") and "amx_bf16" in line.split() for line in cpuinfo)
    except OSError:
        return False


def mixed_precision_policy(gpus: int, cpu_bfloat16: bool) -> str | None:
    """Keras' mixed policy for this machine: float16 compute on a GPU, bfloat16 on a CPU with bfloat16
    matrix units, None where reduced precision would be slower than float32."""
    if gpus:
        return "mixed_float16"
    return "mixed_bfloat16" if cpu_bfloat16 else None


def mixed_precision_unavailable(spec: Any, gpus: int | None = None, cpu_bfloat16: bool | None = None) -> str:
    """Why mixed precision cannot be offered for ``spec`` on this machine ("" when it can); ``gpus``
    and ``cpu_bfloat16``: what the machine has, when the caller already knows (else asked)."""
    if not template_allows_mixed_precision(spec):
        return f"Template '{spec.id}' trains in float32 only"
    gpus = len(local_gpus()) if gpus is None else gpus
    cpu_bfloat16 = cpu_has_bfloat16_units() if cpu_bfloat16 is None else cpu_bfloat16
    if mixed_precision_policy(gpus, cpu_bfloat16) is None:
        return ("Mixed precision needs a GPU or a CPU with bfloat16 matrix units (Intel AMX); "
                "on this CPU it would be slower than float32")
    return ""


def mixed_precision_default(gpus: int, cpu_bfloat16: bool) -> bool:
    """Whether a run trains in mixed precision when the user has not chosen: on a CPU with bfloat16
    matrix units (measured 2-3× faster, same accuracy); not on a GPU, where float16 is offered but its
    gain was not measured by this project."""
    return not gpus and cpu_bfloat16


def resolve_mixed_precision(requested: bool | None, spec: Any, gpus: int, cpu_bfloat16: bool) -> str | None:
    """The mixed policy a run of ``spec`` uses (None: float32). ``requested``: the user's choice, None
    for this machine's default (:func:`mixed_precision_default`, where the template allows it).
    Raises :class:`DistributeError` when mixed precision is asked for where it cannot run."""
    if requested is None:
        default = mixed_precision_default(gpus, cpu_bfloat16) and template_allows_mixed_precision(spec)
        return mixed_precision_policy(gpus, cpu_bfloat16) if default else None
    if not requested:
        return None
    reason = mixed_precision_unavailable(spec, gpus, cpu_bfloat16)
    if reason:
        raise DistributeError(f"Expected a template and a machine that allow mixed precision. Received: {reason}")
    return mixed_precision_policy(gpus, cpu_bfloat16)


@dataclass
class MixedPrecision:
    """Build a model under a Keras mixed policy (``mixed_float16`` or ``mixed_bfloat16``: reduced
    precision compute, float32 weights; None: float32), its output cast back to float32 so the softmax
    and the loss stay accurate; with float16, Keras' compile then wraps the optimizer in a
    LossScaleOptimizer (bfloat16 has float32's range and needs none)."""

    policy: str | None = None

    def build(self, build_model):
        if not self.policy:
            return build_model()
        import keras

        previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy(self.policy)
        try:
            model = build_model()
        finally:
            keras.mixed_precision.set_global_policy(previous)
        if all(str(getattr(output, "dtype", "float32")) == "float32" for output in model.outputs):
            return model
        outputs = keras.layers.Activation("linear", dtype="float32", name="float32_output")(model.outputs[0])
        # model.input, not model.inputs: a one-input model keeps taking one array, not a list of one.
        return keras.Model(model.input, outputs, name=model.name)


def mixed_policy_of(model) -> str | None:
    """The mixed policy ``model`` was built under (None: float32): of the first layer, nested models
    included, that computes in a dtype other than its weights'. A resumed run keeps its model's
    policy, and a mixed model's checkpoints are saved as its :func:`float32_copy`."""
    import keras

    for layer in model.layers:
        policy = mixed_policy_of(layer) if isinstance(layer, keras.Model) else getattr(layer, "dtype_policy", None)
        if isinstance(policy, str):
            return policy
        if policy is not None and policy.compute_dtype != policy.variable_dtype:
            return policy.name
    return None


def float32_copy(model):
    """``model`` with every layer computing in float32 and the same weights: what a mixed-precision
    run saves as ``model.keras``, so that predicting runs at full speed anywhere (float16 and bfloat16
    are slow on most CPUs, and TFLite converts neither). The float32 output cast stays, as an identity."""
    import keras

    def as_float32(layer):
        return layer.__class__.from_config(_float32_config(layer.get_config()))

    copy = keras.models.clone_model(model, clone_function=as_float32, recursive=True)
    copy.set_weights(model.get_weights())
    return copy


def _float32_config(config: Any) -> Any:
    """A layer's config with every mixed dtype policy made float32, the layers a wrapper holds
    (``TimeDistributed``'s ``layer``) included."""
    if isinstance(config, list):
        return [_float32_config(item) for item in config]
    if not isinstance(config, dict):
        return config
    return {key: "float32" if key == "dtype" and _is_mixed_policy(value) else _float32_config(value)
            for key, value in config.items()}


def _is_mixed_policy(value: Any) -> bool:
    """A serialised dtype policy (``"mixed_bfloat16"`` or ``{"class_name": "DTypePolicy", …}``) that is mixed."""
    if isinstance(value, dict) and value.get("class_name") == "DTypePolicy":
        value = (value.get("config") or {}).get("name", "")
    return isinstance(value, str) and value.startswith("mixed_")

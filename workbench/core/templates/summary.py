"""A model summary as plain data: every layer of a model — those of a nested model (a pretrained
backbone) too, as indented rows — with its output shape, its parameters, whether it trains, and,
for a template trained in phases, which layers train in each phase.

Plain dicts rather than ``model.summary()`` text, so the GUI shows a table and the CLI prints it
(``workbench layers``) or emits JSON from the same data. Which layers train in a phase comes from
the trainer's own functions (``layer_units``, ``trainable_flags`` in :mod:`workbench.core.training.run`),
so the table says what a run will do. Keras is imported only inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from workbench.core.templates.registry import get_template


def _output_shape(layer) -> str:
    try:
        output = layer.output
    except (AttributeError, ValueError):  # a layer used at several places has no single output
        return "multiple"
    outputs = output if isinstance(output, (list, tuple)) else [output]
    return ", ".join(str(tuple(o.shape)) for o in outputs)


def _weight_count(weights) -> int:
    total = 0
    for weight in weights:
        count = 1
        for dim in weight.shape:
            count *= int(dim)
        total += count
    return total


def _params(layer) -> int:
    return _weight_count(layer.weights) if layer.built else 0


def _trainable_capable(layer) -> int:
    """The parameters that train when ``layer`` does: not those that never do (BatchNormalization's
    moving statistics), which Keras keeps apart from the trainable ones whatever the flag says."""
    if not layer.built:
        return 0
    flatten = getattr(layer, "_flatten_layers", None)
    layers = list(flatten(include_self=True)) if callable(flatten) else [layer]
    fixed = {id(v) for sub in layers for v in getattr(sub, "_non_trainable_variables", [])}
    return _weight_count([w for w in layer.weights if id(w) not in fixed])


def summarize_model(model, phases: Sequence[Any] | None = None) -> dict[str, Any]:
    """Describe ``model`` layer by layer, and what trains in each of ``phases`` (training ``Phase``
    objects; None or one phase: the model's own trainable flags only).

    Returns ``{"model_name", "layers", "total_params", "trainable_params", "non_trainable_params",
    "phases"}``. Each layer is ``{"name", "path", "depth", "type", "output_shape", "params",
    "trainable", "nested", "trainable_capable", "phase_params"}``: ``path`` names the models it sits in
    ("squeezenet_v1_1/fire9_squeeze1x1"), ``depth`` counts them, and a nested model's row comes
    before its own layers' rows (its ``params`` are theirs, so the depth-0 rows add up to the total).
    ``trainable`` is whether the layer trains as the model is now (a frozen parent freezes it);
    ``trainable_capable`` how many of its parameters can train at all (a BatchNormalization layer's
    moving statistics never do), ``phase_params[i]`` how many train in phase ``i``. Each phase is ``{"name",
    "epochs", "learning_rate", "trainable_params", "frozen_params", "trainable_layers",
    "weighted_layers"}`` (layers counted are those holding weights).
    """
    import keras

    from workbench.core.training.run import layer_units, trainable_flags

    units = layer_units(model)
    phases = list(phases or [])
    as_built = [layer.trainable for layer, _ in units]
    # The trainer's flags per phase, keyed by the layer object (a unit appears once).
    phase_flags = [dict(zip(map(id, (layer for layer, _ in units)), trainable_flags(units, phase, as_built)))
                   for phase in phases]

    rows: list[dict[str, Any]] = []

    def add(container, path: tuple[str, ...], parent_trainable: bool) -> None:
        for layer in container.layers:
            trainable = parent_trainable and bool(layer.trainable)
            nested = isinstance(layer, keras.Model)
            row = {
                "name": layer.name,
                "path": "/".join((*path, layer.name)),
                "depth": len(path),
                "type": type(layer).__name__,
                "output_shape": _output_shape(layer),
                "params": _params(layer),
                "trainable": trainable,
                "nested": nested,
                "trainable_capable": 0,
                "phase_params": [],
            }
            rows.append(row)
            if nested:
                first_child = len(rows)
                add(layer, (*path, layer.name), trainable)
                children = [r for r in rows[first_child:] if r["depth"] == len(path) + 1]
                row["trainable"] = any(r["trainable"] for r in children)
                row["trainable_capable"] = sum(r["trainable_capable"] for r in children)
                row["phase_params"] = [sum(r["phase_params"][i] for r in children) for i in range(len(phases))]
            else:
                row["trainable_capable"] = capable = _trainable_capable(layer)
                row["phase_params"] = [capable if flags[id(layer)] else 0 for flags in phase_flags]

    add(model, (), bool(model.trainable))
    leaves = [r for r in rows if not r["nested"]]
    weighted = sum(1 for r in leaves if r["params"])
    trainable = _weight_count(model.trainable_weights)
    total = int(model.count_params())
    summary_phases = []
    for i, phase in enumerate(phases):
        training = sum(r["phase_params"][i] for r in leaves)
        summary_phases.append({
            "name": phase.name, "epochs": int(phase.epochs), "learning_rate": float(phase.learning_rate),
            "trainable_params": training, "frozen_params": total - training,
            "trainable_layers": sum(1 for r in leaves if r["phase_params"][i]), "weighted_layers": weighted,
        })
    return {
        "model_name": model.name,
        "layers": rows,
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
        "phases": summary_phases,
    }


def summarize_template(template_id: str, num_classes: int, input_shape: tuple[int, ...] | None = None,
                       hparams: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the template's model (what ``train`` would build) and describe it with the run's phases.

    Returns :func:`summarize_model`'s dict with ``"template"``, ``"num_classes"``, ``"input_shape"``
    and ``"output"`` ("softmax" or "sigmoid") added; ``phases`` lists the run's phases (one, "train",
    for a template without phases). Raises :class:`~workbench.core.errors.TemplateError` for bad values.
    """
    from workbench.core.training.config import TrainConfig, plan_phases

    spec = get_template(template_id)
    hp = spec.resolve_hparams(hparams)
    shape = tuple(input_shape or spec.input_shape_for(hp))
    from workbench.core.image.backbones import architecture_only

    with architecture_only():  # the layers only: no ImageNet weights loaded, none downloaded, no error offline
        model = spec.build(num_classes, shape, hp)
    phases = plan_phases(TrainConfig(spec.id, ""), hp, spec)
    return {
        "template": spec.id,
        "num_classes": int(num_classes),
        "input_shape": list(shape),
        "output": "sigmoid" if spec.uses_sigmoid(num_classes) else "softmax",
        **summarize_model(model, phases),
    }


def summarize_model_file(path: str | Path) -> dict[str, Any]:
    """Load a saved ``.keras`` model and describe it as saved (its trainable flags as the last phase
    left them; no phases). Returns :func:`summarize_model`'s dict with ``"source"`` (the path),
    ``"template"`` and ``"num_classes"`` (from the sidecar, or None), ``"input_shape"`` and ``"output"`` added.
    Raises :class:`~workbench.core.errors.ModelFileError` for a missing or unreadable file.
    """
    from workbench.core.errors import ModelFileError, WorkbenchError
    from workbench.core.modality import get_modality
    from workbench.core.sidecar import read_sidecar, sidecar_path

    path = Path(path)
    if not path.is_file() or path.suffix != ".keras":
        raise ModelFileError(f"Expected a template id or a saved model (.keras). Received: {path}")
    sidecar: dict[str, Any] = {}
    if sidecar_path(path).is_file():
        try:
            sidecar = read_sidecar(path)
        except WorkbenchError:
            sidecar = {}  # the model alone still has its layers to show
    import keras

    get_modality(sidecar.get("modality") or "image").register_layers()  # its custom layers, for load_model
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a file that is not a model
        raise ModelFileError(f"Expected a Keras model file. Received: {path} "
                             f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    try:
        input_shape = list(model.input_shape[1:])
    except (AttributeError, ValueError, TypeError):
        input_shape = list(sidecar.get("input_shape") or [])
    return {
        "source": str(path),
        "template": sidecar.get("template"),
        "num_classes": len(sidecar.get("class_names") or []) or None,
        "input_shape": input_shape,
        "output": sidecar.get("output") or "softmax",
        **summarize_model(model),
    }

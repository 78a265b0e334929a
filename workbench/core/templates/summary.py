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
    moving statistics never do), ``phase_params[i]`` how many train in phase ``i``; ``block`` is None
    here (:func:`summarize_template` numbers a backbone's fine-tuning blocks). Each phase is ``{"name",
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
                "block": None,
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
    and ``"output"`` ("softmax" or "sigmoid") added, and ``"size"``
    (:func:`~workbench.core.templates.size.estimate_model_size`: parameters, MB, a warning); ``phases`` lists the run's phases (one, "train",
    for a template without phases). For a template with ``fine_tune_blocks`` (phase 2 unfreezes the top
    blocks of its backbone) each backbone row's ``block`` is the ``fine_tune_blocks`` value from which
    phase 2 trains it (1 = the top block), and ``"fine_tune"`` is ``{"hyperparameter", "blocks" (how
    many), "value" (the current count), "enabled" (whether there is a phase 2)}``; else None. Raises :class:`~workbench.core.errors.TemplateError` for bad values.
    """
    from workbench.core.training.config import TrainConfig, plan_phases

    spec = get_template(template_id)
    hp = spec.resolve_hparams(hparams)
    shape = tuple(input_shape or spec.input_shape_for(hp))
    from workbench.core.image.backbones import architecture_only

    with architecture_only():  # the layers only: no ImageNet weights loaded, none downloaded, no error offline
        model = spec.build(num_classes, shape, hp)
    phases = plan_phases(TrainConfig(spec.id, ""), hp, spec)
    summary = {
        "template": spec.id,
        "num_classes": int(num_classes),
        "input_shape": list(shape),
        "output": "sigmoid" if spec.uses_sigmoid(num_classes) else "softmax",
        **summarize_model(model, phases),
    }
    from workbench.core.templates.size import estimate_model_size

    # The checkpoints keep the optimizer's slots of the weights that train (the most in any phase).
    trained = max([p["trainable_params"] for p in summary["phases"]] or [summary["trainable_params"]])
    summary["size"] = estimate_model_size(summary["total_params"], trained, hp["optimizer"])
    blocks = fine_tune_block_layers(spec, hp)
    summary["fine_tune"] = None
    if blocks:
        assign_fine_tune_blocks(summary["layers"], blocks)
        value = int(hp[FINE_TUNE_BLOCKS])
        summary["fine_tune"] = {"hyperparameter": FINE_TUNE_BLOCKS, "blocks": len(blocks),
                                "value": min(value, len(blocks)), "enabled": len(phases) > 1}
    return summary


# ------------------------------------------------------------------ fine-tuning blocks (phase 2)
FINE_TUNE_BLOCKS = "fine_tune_blocks"  # the hyperparameter: how many blocks from the top phase 2 trains
_MAX_PROBED_BLOCKS = 100


def _phase_two_names(spec, hp: dict[str, Any]) -> frozenset[str]:
    phases = spec.phases_from_hparams(hp)
    trainable = phases[-1].get("trainable") if len(phases) > 1 else None
    return frozenset(trainable) if isinstance(trainable, (list, tuple, set, frozenset)) else frozenset()


def fine_tune_block_layers(spec, hp: dict[str, Any]) -> list[frozenset[str]]:
    """The blocks a template's phase 2 can unfreeze, from the top: entry ``k - 1`` holds the layer
    names that ``fine_tune_blocks = k`` adds to phase 2 (entry 0 also holds the head's, which phase 2
    trains whatever the count). Read from the template's own phases (no model built), so it says
    what a run does; empty for a template without ``fine_tune_blocks`` or phases.
    """
    names = {h.name for h in spec.hyperparameters}
    if spec.phases_from_hparams is None or FINE_TUNE_BLOCKS not in names:
        return []
    maximum = spec.hyperparameter(FINE_TUNE_BLOCKS).maximum
    probe = dict(hp)
    if "fine_tune_epochs" in probe:
        probe["fine_tune_epochs"] = max(1, int(probe["fine_tune_epochs"]))  # phase 2 on, to see its blocks
    blocks: list[frozenset[str]] = []
    seen: frozenset[str] = frozenset()
    for count in range(1, int(min(maximum or _MAX_PROBED_BLOCKS, _MAX_PROBED_BLOCKS)) + 1):
        names_now = _phase_two_names(spec, {**probe, FINE_TUNE_BLOCKS: count})
        added = names_now - seen
        if not added:
            break
        blocks.append(added)
        seen = seen | names_now
    return blocks


def _tokens(name: str) -> tuple[str, ...]:
    return tuple(name.split("_"))


def assign_fine_tune_blocks(rows: list[dict[str, Any]], blocks: Sequence[frozenset[str]]) -> None:
    """Set each row's ``block`` to the ``fine_tune_blocks`` value from which phase 2 trains it (1 =
    the top block), for the layers inside a nested model (the backbone); the others keep None.

    A layer named in a block belongs to it. One without weights of its own (an activation, a
    concatenation, batch norm, pooling) goes with the block whose layer names share the most leading
    ``_``-separated words with its name ("fire8_concat" with "fire8_squeeze1x1", "conv4_block2_out"
    with "conv4_block2_1_conv"), else with the block of the layer before it; layers before the
    first block (an input, in-model preprocessing) have none.
    """
    named = {name: index + 1 for index, layers in enumerate(blocks) for name in layers}
    by_prefix: dict[tuple[str, ...], set[int]] = {}
    for name, block in named.items():
        tokens = _tokens(name)
        for length in range(1, len(tokens) + 1):
            by_prefix.setdefault(tokens[:length], set()).add(block)
    last: dict[str, int | None] = {}  # per nested model: the block of the layer before
    for row in rows:
        parent = row["path"].rpartition("/")[0]
        if not parent or row.get("nested"):
            continue
        block = named.get(row["name"])
        if block is None:
            tokens = _tokens(row["name"])
            before = last.get(parent)
            for length in range(len(tokens), 0, -1):
                candidates = by_prefix.get(tokens[:length])
                if candidates:
                    block = next(iter(candidates)) if len(candidates) == 1 else (
                        before if before in candidates else None)
                    if block is not None:
                        break
            if block is None:
                block = before
        row["block"] = block
        last[parent] = block


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

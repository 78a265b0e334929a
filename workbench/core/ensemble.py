"""Several trained classifiers joined into one model that reads as their average.

Models of the same template trained with different seeds make different mistakes on data none of
them has seen (a new speaker, a new writer); the mean of their answers makes fewer. The joined model
is one ordinary ``.keras`` file with a sidecar, so everything that reads a model (prediction, the
live tabs, export, adaptation) reads it unchanged:

- the layers every member has alike and without weights of their own (e.g. the sound models'
  log-mel front end) are computed once;
- then each member's own layers, renamed ``member<k>_<name>``, up to the features its head reads;
- then one softmax ``Dense`` over the joined features whose weights are the members' heads stacked
  and divided by their number: its logits are the mean of the members' logits, exactly.

So the result still ends in a softmax ``Dense`` (what :mod:`workbench.core.adapt` rewrites). Members
must be classifiers over the same classes, input and preprocessing, each a single chain of layers
(every template of this project is one). When the members validated on the same samples (a
held-out group, or the same seed's split), the joined model's accuracy on them is measured and
recorded in its sidecar beside the members' own.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import ModelFileError, WorkbenchError
from workbench.core.sidecar import check_new_model_file, file_sha256

#: How the members' answers are combined (written into the sidecar).
METHOD = "mean of the members' logits (one softmax Dense over their joined features)"
MEMBER_PREFIX = "member"


def ensemble_models(member_paths: Sequence[str | Path], out_path: str | Path, *, overwrite: bool = False,
                    measure: bool = True, command: str | None = None,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Join the models at ``member_paths`` into one written to ``out_path`` (with its sidecar).

    Args:
        member_paths: two or more ``.keras`` classifiers with their sidecars; they are read, never written.
        out_path: the new ``.keras`` file. An existing file is refused, except an earlier joined model
            with ``overwrite``.
        measure: measure the joined model on the members' validation samples when they share them.
        command: the command line to record (default: this call, spelled out).
        progress: told in words what is being done (loading, checking, measuring, writing).

    Returns:
        The sidecar's ``ensemble`` record: the members, the method and the validation figures.
    """
    from workbench.core.atomic import atomic_path
    from workbench.core.inference import Predictor
    from workbench.core.sidecar import ModelSidecar, library_versions, write_sidecar

    say = progress or (lambda _text: None)
    paths = [Path(p) for p in member_paths]
    out_path = Path(out_path)
    if len(paths) < 2:
        raise WorkbenchError(f"Expected at least two models to join. Received: {len(paths)}")
    if len({p.resolve() for p in paths}) != len(paths):
        raise WorkbenchError(f"Expected different models to join. Received: {', '.join(map(str, paths))}")
    check_new_model_file(out_path, paths, overwrite, kind="joined model", command="ensemble",
                         ours=lambda record: record.ensemble is not None)
    members = []
    for number, path in enumerate(paths, 1):
        say(f"loading member {number} of {len(paths)}: {path}")
        members.append(Predictor.load(path))
    _check_alike(members)
    say("joining the members")
    model = joined_model(members)
    _check_joined(model, members)
    record = ModelSidecar.read(paths[0])
    ensemble = {"method": METHOD, "members": [_member_entry(p) for p in members], "shared_layers": _shared_names(model)}
    validation = _validation(model, members, say) if measure else {"measured": False, "reason": "not asked to"}
    ensemble["validation"] = validation
    record.title = f"{record.title or paths[0].stem} (ensemble of {len(members)})"
    record.status = "completed"
    record.created = time.strftime("%Y-%m-%dT%H:%M:%S")
    record.seed = None  # each member has its own (in ensemble.members)
    record.history = None  # the members' curves are in their own sidecars
    record.final_metrics = {"val_accuracy": validation.get("accuracy"),
                            "members_val_accuracy": [m["val_accuracy"] for m in ensemble["members"]]}
    record.export = None  # not an export: `workbench export` must never take it for one it may replace
    record.adaptation = None
    record.versions = library_versions()
    record.command = command or "ensemble_models(" + ", ".join(shlex.quote(str(p)) for p in (*paths, out_path)) + ")"
    record.ensemble = ensemble
    say(f"writing {out_path}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_path, ".keras") as tmp:
        model.save(tmp)
    write_sidecar(out_path, record)
    return ensemble


def joined_model(members: Sequence[Any]):
    """The Keras model that computes the members' shared layers once, then each member's own layers,
    and reads the mean of their logits (see the module docstring). ``members``: loaded Predictors."""
    import keras

    from workbench.core.adapt_head import classifier_head, head_weights

    models = [m.model for m in members]
    heads = [classifier_head(m.model, m.path) for m in members]
    chains = [_chain(m.model, m.path) for m in members]
    shared = _shared_prefix(chains)
    first_input = models[0].inputs[0]
    inputs = keras.Input(shape=tuple(first_input.shape[1:]), dtype=first_input.dtype, name=_input_name(models[0]))
    x = inputs
    for layer in chains[0][:shared]:
        x = _copy_layer(layer, layer.name, x)
    features = []
    for number, chain in enumerate(chains, 1):
        y = x
        for layer in chain[shared:]:
            y = _copy_layer(layer, f"{MEMBER_PREFIX}{number}_{layer.name}", y)
        features.append(y)
    joined = keras.layers.Concatenate(name="ensemble_features")(features)
    # with a bias even if the members' heads have none: the mean of their biases (zeros for those)
    head = type(heads[0]).from_config({**heads[0].get_config(), "use_bias": True})
    outputs = head(joined)
    kernels, biases = zip(*(head_weights(h) for h in heads))
    head.set_weights([np.concatenate(kernels, axis=0) / len(heads), np.mean(biases, axis=0)])
    return keras.Model(inputs, outputs, name=f"{models[0].name}_ensemble")


def _shared_names(model) -> list[str]:
    """The joined model's layers computed once for every member (before the members' own)."""
    import keras

    names = []
    for layer in model.layers:
        if layer.name.startswith(MEMBER_PREFIX):
            break
        if not isinstance(layer, keras.layers.InputLayer):
            names.append(layer.name)
    return names


def _input_name(model) -> str:
    layer = model.get_layer(index=0) if model.layers else None
    return getattr(layer, "name", None) or "input"


def _chain(model, path) -> list:
    """The model's layers from the one after its input to the one before its head, checked to form a
    single chain (each reads the previous one's output)."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    previous = model.inputs[0] if len(model.inputs) == 1 else None
    for layer in layers:
        try:
            single = layer.input is previous
        except (AttributeError, ValueError):  # a layer used twice, or with several inputs
            single = False
        if previous is None or not single:
            raise ModelFileError(f"Expected models whose layers form one chain, to join them. Received: layer "
                                 f"{layer.name!r} of {path} does not read only the layer before it")
        previous = layer.output
    return layers[:-1]


def _shared_prefix(chains: list[list]) -> int:
    """How many leading layers every member has alike and without weights (computed once)."""
    count = 0
    for layers in zip(*chains):
        first = layers[0]
        if first.weights or any(type(other) is not type(first) or other.get_config() != first.get_config()
                                for other in layers[1:]):
            break
        count += 1
    return count


def _copy_layer(layer, name: str, x):
    config = dict(layer.get_config(), name=name)
    copy = type(layer).from_config(config)
    y = copy(x)
    copy.set_weights(layer.get_weights())
    return y


def _check_alike(members: Sequence[Any]) -> None:
    first = members[0]
    for other in members[1:]:
        for what, mine, theirs in (("classes", first.class_names, other.class_names),
                                   ("modality", first.modality, other.modality),
                                   ("input shape", tuple(first.input_shape), tuple(other.input_shape)),
                                   ("preprocessing", first.preprocessing, other.preprocessing)):
            if mine != theirs:
                raise WorkbenchError(f"Expected models with the same {what} to join. Received: {mine} in "
                                     f"{first.path.name}, {theirs} in {other.path.name}")
    for member in members:
        if member.sigmoid:
            raise ModelFileError(f"Expected softmax classifiers to join. Received: a sigmoid (two-class) model, "
                                 f"{member.path}")


def _check_joined(model, members: Sequence[Any]) -> None:
    """The joined model's answer on a probe batch is the softmax of the members' mean logits."""
    from workbench.core.adapt_head import classifier_head, extract_features, feature_extractor, head_weights

    probe = np.random.default_rng(0).uniform(-0.5, 0.5, (4, *members[0].input_shape)).astype(np.float32)
    logits = []
    for member in members:
        head = classifier_head(member.model, member.path)
        kernel, bias = head_weights(head)
        logits.append(extract_features(feature_extractor(member.model, head), probe) @ kernel + bias)
    mean = np.mean(logits, axis=0)
    expected = np.exp(mean - mean.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    received = np.asarray(model(probe, training=False), np.float32)
    gap = float(np.max(np.abs(received - expected)))
    if gap > 1e-3:
        raise ModelFileError(f"Expected the joined model to read as the mean of its members. Received: a "
                             f"difference of {gap:.4f} in probability on a probe batch")


def _member_entry(member) -> dict[str, Any]:
    sidecar = member.sidecar
    metrics = sidecar.get("final_metrics") or {}
    return {"model": str(member.path.resolve()), "sha256": file_sha256(member.path), "title": sidecar.get("title"),
            "seed": sidecar.get("seed"), "command": sidecar.get("command"),
            "val_accuracy": metrics.get("val_accuracy"), "best_epoch": metrics.get("best_epoch")}


def _validation(model, members: Sequence[Any], say: Callable[[str], None]) -> dict[str, Any]:
    """The joined model's accuracy on the validation samples every member held out, when they agree."""
    from workbench.core.data.pipeline import split_dataset
    from workbench.core.data.scan import scan_dataset
    from workbench.core.evaluation import evaluate_model_on_subset

    sidecars = [m.sidecar for m in members]
    datasets = {str((s.get("dataset") or {}).get("path")) for s in sidecars}
    if len(datasets) != 1 or "None" in datasets:
        return {"measured": False,
                "reason": f"the members were trained on different data ({', '.join(sorted(datasets))})"}
    data = datasets.pop()
    if not Path(data).exists():
        return {"measured": False, "reason": f"their data is not there any more: {data}"}
    say(f"measuring on the validation samples of {data}")
    report = scan_dataset(data)
    subsets = []
    for sidecar in sidecars:
        split = sidecar.get("split") or {}
        seed = split.get("seed", sidecar.get("seed") or 42)
        subsets.append(split_dataset(report, val_fraction=split.get("val_fraction", 0.2), seed=seed,
                                     group_regex=split.get("group_regex"), val_groups=split.get("val_groups")).val)
    val = subsets[0]
    if val is None or not len(val):
        return {"measured": False, "reason": "the members held out no validation samples"}
    if any(other is None or list(other.ids) != list(val.ids) for other in subsets[1:]):
        return {"measured": False, "reason": "the members validated on different samples (e.g. random splits of "
                                             "different seeds), so each has trained on some of the others'"}
    member = members[0]
    report = evaluate_model_on_subset(model, val, member.class_names, tuple(member.input_shape), False,
                                      preprocessing=member.preprocessing)
    return {"measured": True, "accuracy": float(report["accuracy"]), "samples": len(val),
            "val_groups": (sidecars[0].get("split") or {}).get("val_groups")}

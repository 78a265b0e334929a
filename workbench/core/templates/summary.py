"""A model summary as plain data: the layers, output shapes and parameter counts of exactly the model
a template builds for given classes, input shape and hyperparameters (what ``train`` would build).

Plain dicts rather than ``model.summary()`` text, so the GUI can show a table and the CLI can print
or emit JSON. Keras is imported only inside :func:`summarize_template`.
"""

from __future__ import annotations

from typing import Any

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


def summarize_template(template_id: str, num_classes: int, input_shape: tuple[int, ...] | None = None,
                       hparams: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the template's model and describe it.

    Returns ``{"template", "model_name", "num_classes", "input_shape", "output", "layers":
    [{"name", "type", "output_shape", "params", "trainable"}], "total_params", "trainable_params",
    "non_trainable_params"}``. Raises :class:`~workbench.core.errors.TemplateError` for bad values.
    """
    spec = get_template(template_id)
    shape = tuple(input_shape or spec.input_shape)
    model = spec.build(num_classes, shape, hparams)
    layers = [{
        "name": layer.name,
        "type": type(layer).__name__,
        "output_shape": _output_shape(layer),
        "params": int(layer.count_params()) if layer.built else 0,
        "trainable": bool(layer.trainable),
    } for layer in model.layers]
    trainable = _weight_count(model.trainable_weights)
    total = int(model.count_params())
    return {
        "template": spec.id,
        "model_name": model.name,
        "num_classes": int(num_classes),
        "input_shape": list(shape),
        "output": "sigmoid" if spec.uses_sigmoid(num_classes) else "softmax",
        "layers": layers,
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
    }

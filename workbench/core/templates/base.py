"""Template specifications: what a model template is, and its hyperparameters.

A :class:`TemplateSpec` is plain data plus a ``build`` function. The GUI builds its hyperparameter
form from :attr:`TemplateSpec.hyperparameters`; the CLI validates ``--epochs`` and friends through
:meth:`TemplateSpec.resolve_hparams`. Keras is imported only inside ``build`` so listing templates is
instant.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from workbench.core.errors import TemplateError

@dataclass(frozen=True)
class HyperParameter:
    """One tunable value with its default, allowed range and help text."""

    name: str
    default: Any
    kind: str  # "int" | "float" | "choice" | "bool" | "path" (a file name as text; "" = none)
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    log_scale: bool = False

    def coerce(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise :class:`TemplateError`."""
        try:
            if self.kind == "int":
                converted: Any = int(float(value)) if not isinstance(value, bool) else int(value)
                if float(value) != converted:
                    raise ValueError
            elif self.kind == "float":
                converted = float(value)
                if not math.isfinite(converted):  # NaN would slip through the range check below
                    raise ValueError(value)
            elif self.kind == "bool":
                if isinstance(value, str):
                    lowered = value.strip().lower()
                    if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                        raise ValueError
                    converted = lowered in ("true", "1", "yes", "on")
                else:
                    converted = bool(value)
            elif self.kind == "choice":
                converted = str(value)
                if converted not in self.choices:
                    raise TemplateError(
                        f"Hyperparameter '{self.name}' expects one of {', '.join(self.choices)}. "
                        f"Received: {value!r}"
                    )
            elif self.kind == "path":
                if not isinstance(value, (str, os.PathLike)):  # a GUI checkbox's bool must not pass as "False"
                    raise ValueError(value)
                converted = str(os.fspath(value)).strip()
            else:  # pragma: no cover - a programming error in a spec
                raise TemplateError(f"Unknown hyperparameter kind {self.kind!r}")
        except (TypeError, ValueError, OverflowError):  # int(float("inf")) overflows
            raise TemplateError(
                f"Hyperparameter '{self.name}' expects a value of type {self.kind}. Received: {value!r}"
            ) from None
        if self.kind in ("int", "float"):
            if self.minimum is not None and converted < self.minimum or (
                self.maximum is not None and converted > self.maximum
            ):
                raise TemplateError(
                    f"Hyperparameter '{self.name}' expects a value in [{self.minimum}, {self.maximum}]. "
                    f"Received: {value!r}"
                )
        return converted

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "kind": self.kind,
            "help": self.help,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "choices": list(self.choices),
            "log_scale": self.log_scale,
        }


OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "step", "cosine", "one_cycle", "reduce_on_plateau")


def training_hyperparameters(
    *,
    epochs: int = 10,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    optimizer: str = "adam",
    dropout: float = 0.0,
    lr_schedule: str = "constant",
) -> tuple[HyperParameter, ...]:
    """The hyperparameters every template has; each template picks its own defaults."""
    return (
        HyperParameter("epochs", epochs, "int", "Passes over the training data.", 1, 1000),
        HyperParameter("batch_size", batch_size, "int", "Samples per gradient step.", 1, 4096),
        HyperParameter(
            "learning_rate", learning_rate, "float", "Step size of the optimizer.", 1e-6, 1.0, log_scale=True
        ),
        HyperParameter("optimizer", optimizer, "choice", "The optimisation algorithm.", choices=OPTIMIZERS),
        HyperParameter("dropout", dropout, "float", "Fraction of units dropped while training (0 = none).", 0.0, 0.9),
        HyperParameter(
            "lr_schedule",
            lr_schedule,
            "choice",
            "How the learning rate changes: constant, halved every few epochs (step), cosine decay, "
            "one cycle (every step: a warm-up from 1/25 of the rate to the rate over the first 25% of the "
            "steps, then a cosine decay to nearly zero — lets a few epochs at a high rate reach a good model), "
            "or reduced when validation loss stops improving.",
            choices=LR_SCHEDULES,
        ),
        HyperParameter(
            "early_stopping_patience",
            0,
            "int",
            "Stop after this many epochs without a better validation loss (0 = never stop early).",
            0,
            100,
        ),
        HyperParameter(
            "weight_averaging",
            0.0,
            "float",
            "Weight averaging: an exponential moving average of the weights, its momentum per step (e.g. "
            "0.99 averages about the last 100 steps; 0 = off). Validation, the checkpoints and the saved model "
            "use the averaged weights, meant to vary less from epoch to epoch; training goes on from the raw "
            "weights.",
            0.0,
            0.999,
        ),
        HyperParameter("seed", 42, "int", "Random seed for the split, weights and augmentation.", 0, 2**31 - 1),
    )


TRAINING_KEYS = ("epochs", "batch_size", "learning_rate", "optimizer", "lr_schedule", "early_stopping_patience",
                 "weight_averaging", "seed")


@dataclass(frozen=True)
class TemplateSpec:
    """A model template: metadata, hyperparameters and a Keras model builder.

    ``build(num_classes, input_shape, hp)`` returns an uncompiled ``keras.Model`` whose input takes raw
    values (pixels in 0..255); rescaling and any other inference-time preprocessing live inside it.
    """

    id: str
    title: str
    description: str
    modality: str
    input_shape: tuple[int, ...]
    builder: Callable[[int, tuple[int, ...], dict[str, Any]], Any]
    hyperparameters: tuple[HyperParameter, ...]
    binary_output: bool = True
    preprocessing: dict[str, Any] = field(default_factory=dict)
    #: For templates whose input size is a hyperparameter (audio: sample rate × duration).
    input_shape_from_hparams: Callable[[dict[str, Any]], tuple[int, ...]] | None = None
    #: For templates whose preprocessing depends on hyperparameters (the audio front end).
    preprocessing_from_hparams: Callable[[dict[str, Any], tuple[int, ...]], dict[str, Any]] | None = None
    #: Why this template cannot be trained yet ("" = it can). None (the default) follows its modality
    #: (``Modality.train_unavailable``), so a template of a modality without training says so too.
    training_unavailable: str | None = None
    #: The augmentation a run of this template gets when none is given (its modality's spec as a dict,
    #: e.g. ``{"zoom": 0.4, "horizontal_flip": True}``): the recipe its defaults were measured with.
    #: Empty = none. ``--augment`` with no pairs (or ``none``) turns it off.
    default_augmentation: dict[str, Any] = field(default_factory=dict)
    #: For templates trained in several phases (transfer learning: the head, then the top blocks): the
    #: phases as dicts of :class:`~workbench.core.training.config.Phase` fields. None = one phase.
    phases_from_hparams: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None
    #: Values of hyperparameters added after a record was written: what a saved run's hyperparameters
    #: meant without them (regularized_cnn flattened before it had ``pooling``). See :meth:`recorded_hparams`.
    legacy_hparams: dict[str, Any] = field(default_factory=dict)

    def recorded_hparams(self, recorded: dict[str, Any] | None) -> dict[str, Any]:
        """A saved run's full hyperparameters (a sidecar's) with the names added since filled in as they
        were then, so a default changed later does not change what an old run means."""
        recorded = dict(recorded or {})
        if not recorded:
            return recorded
        return {**{k: v for k, v in self.legacy_hparams.items() if k not in recorded}, **recorded}

    def __post_init__(self) -> None:
        from workbench.core.modality import modality_names

        if self.modality not in modality_names():  # built-ins and any registered by a third party
            raise TemplateError(f"Expected a modality in {', '.join(modality_names())}. Received: {self.modality!r}")
        if self.default_augmentation:
            self.augmentation_default()  # a misspelt or out-of-range option fails when the template is made

    def augmentation_default(self):
        """The template's default augmentation as its modality's spec (an empty spec when it has none)."""
        from workbench.core.augmentation import augmentation_from_dict

        return augmentation_from_dict({**self.default_augmentation, "modality": self.modality})

    @property
    def train_unavailable(self) -> str:
        """Why ``train`` refuses this template, or "" when it can be trained."""
        if self.training_unavailable is not None:
            return self.training_unavailable
        from workbench.core.modality import get_modality

        return get_modality(self.modality).train_unavailable

    @property
    def can_train(self) -> bool:
        return not self.train_unavailable

    def hyperparameter(self, name: str) -> HyperParameter:
        for hp in self.hyperparameters:
            if hp.name == name:
                return hp
        raise TemplateError(
            f"Template '{self.id}' has no hyperparameter '{name}'; expected one of "
            f"{', '.join(h.name for h in self.hyperparameters)}. Received: {name!r}"
        )

    def default_hparams(self) -> dict[str, Any]:
        return {hp.name: hp.default for hp in self.hyperparameters}

    def resolve_hparams(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Defaults updated by ``overrides`` (``None`` values ignored), each checked against its range."""
        values = self.default_hparams()
        for name, value in (overrides or {}).items():
            if value is None:
                continue
            values[name] = self.hyperparameter(name).coerce(value)
        return values

    def build(self, num_classes: int, input_shape: tuple[int, ...] | None = None, hp: dict[str, Any] | None = None):
        """Build the uncompiled model for ``num_classes`` classes."""
        if num_classes < 2:
            raise TemplateError(f"A classifier needs at least 2 classes. Received: {num_classes}")
        shape = tuple(input_shape) if input_shape else self.input_shape
        return self.builder(num_classes, shape, self.resolve_hparams(hp))

    def input_shape_for(self, hp: dict[str, Any] | None = None) -> tuple[int, ...]:
        """The input shape these hyperparameters give (the default shape for most templates)."""
        if self.input_shape_from_hparams is None:
            return tuple(self.input_shape)
        return tuple(self.input_shape_from_hparams(self.resolve_hparams(hp)))

    def preprocessing_for(self, hp: dict[str, Any] | None = None,
                          input_shape: tuple[int, ...] | None = None) -> dict[str, Any]:
        """What a model built with ``hp`` on ``input_shape`` expects of its inputs (for the sidecar)."""
        if self.preprocessing_from_hparams is None:
            return dict(self.preprocessing)
        resolved = self.resolve_hparams(hp)
        return self.preprocessing_from_hparams(resolved, tuple(input_shape or self.input_shape_for(resolved)))

    def uses_sigmoid(self, num_classes: int) -> bool:
        """Whether the output is one sigmoid unit (binary templates with two classes)."""
        return self.binary_output and num_classes == 2

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "modality": self.modality,
            "input_shape": list(self.input_shape),
            "binary_output": self.binary_output,
            "can_train": self.can_train,
            "training_unavailable": self.train_unavailable,
            "preprocessing": dict(self.preprocessing),
            "hyperparameters": [hp.to_dict() for hp in self.hyperparameters],
            "default_augmentation": dict(self.default_augmentation),
            "phases": self.phases_for(),
        }

    def phases_for(self, hp: dict[str, Any] | None = None) -> list[dict[str, Any]] | None:
        """The phases a run with ``hp`` trains in (dicts of Phase fields), or None for one phase."""
        if self.phases_from_hparams is None:
            return None
        return self.phases_from_hparams(self.resolve_hparams(hp))

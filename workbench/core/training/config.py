"""What a training run is: its configuration, its phases, its result, and the checked setup.

Nothing here imports TensorFlow: the GUI builds a :class:`TrainConfig` at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from workbench.core.augmentation import augmentation_spec_class
from workbench.core.data.pipeline import split_dataset
from workbench.core.data.scan import ScanReport, scan_dataset
from workbench.core.errors import DatasetError
from workbench.core.modality import get_modality, refuse_other_modality
from workbench.core.templates import get_template

# Which layers train in a phase: None (as the template built them), "all", the names of the layers
# that train (a name of a nested model covers its layers), or a predicate on each layer.
Trainable = None | str | Sequence[str] | Callable[[Any], bool]


@dataclass(frozen=True)
class Phase:
    """One ``fit`` of a run: its epochs, its learning rate and which layers train.

    ``unfreeze_top=N`` also trains the top N weight-carrying layers (BatchNormalization stays
    frozen), the usual second phase of fine-tuning a pretrained backbone.
    """

    name: str
    epochs: int
    learning_rate: float
    trainable: Trainable = None
    unfreeze_top: int | None = None

    def to_dict(self) -> dict[str, Any]:
        trainable = self.trainable
        if callable(trainable):
            trainable = getattr(trainable, "__name__", repr(trainable))
        elif trainable is not None and not isinstance(trainable, str):
            trainable = list(trainable)
        return {"name": self.name, "epochs": self.epochs, "learning_rate": self.learning_rate,
                "trainable": trainable, "unfreeze_top": self.unfreeze_top}


@dataclass
class TrainConfig:
    """What to train. ``hparams`` overrides the template's defaults (epochs, batch_size, ...)."""

    template: str
    data: str
    hparams: dict[str, Any] = field(default_factory=dict)
    # The template modality's augmentation spec (images: AugmentationSpec, sound: AudioAugmentationSpec);
    # None or an empty spec of another modality means none, so the GUI's default works for every modality.
    augmentation: Any = None
    val_split: float = 0.2
    group_regex: str | None = None
    val_groups: list[str] | None = None  # validate on exactly these groups (leave-one-speaker-out)
    out_dir: str | None = None
    input_shape: tuple[int, ...] | None = None
    command: str | None = None
    scan: ScanReport | None = None  # reuse a scan the caller already made
    phases: list[Phase] | None = None  # None: one phase "train" with the hyperparameters' epochs and rate
    strategy: Any = None  # a tf.distribute.Strategy; the model is built, compiled and trained in its scope
    # Or the choice of one (see workbench.core.training.distribute): "none", "mirrored" (all local GPUs,
    # else ``cpu_replicas`` logical CPU devices) or "multi-worker" (configured by TF_CONFIG).
    distribute: str = "none"
    cpu_replicas: int | None = None
    # The learning rate is scaled by the number of replicas (each replica keeps the batch size).
    scale_learning_rate: bool = True
    # Mixed precision where the template allows it: float16 compute on a GPU, bfloat16 on a CPU with
    # bfloat16 matrix units (AMX). None: this machine's default (on for such a CPU, off otherwise).
    mixed_precision: bool | None = None


@dataclass
class TrainResult:
    status: str  # "completed" | "stopped_early" | "cancelled" | "failed"
    run_dir: Path
    model_path: Path | None
    history: dict[str, list[float]]
    final_metrics: dict[str, Any]
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "run_dir": str(self.run_dir),
            "model_path": str(self.model_path) if self.model_path else None,
            "final_metrics": self.final_metrics,
            "message": self.message,
        }


@dataclass
class RunSetup:
    """A checked configuration: everything the run and its artefacts need, before TensorFlow loads."""

    config: TrainConfig
    spec: Any  # TemplateSpec
    hp: dict[str, Any]
    report: ScanReport
    modality: Any  # the modality registry's object
    augmentation: Any
    split: Any  # the pipeline's Split
    input_shape: tuple[int, ...]
    preprocessing: Any
    phases: list[Phase]
    distribution: Any = None  # a workbench.core.training.distribute.Distribution; None: one device

    @property
    def replicas(self) -> int:
        return self.distribution.replicas if self.distribution is not None else 1

    @property
    def global_batch_size(self) -> int:
        """One step's batch over all replicas; each replica takes the batch size of the hyperparameters."""
        return self.hp["batch_size"] * self.replicas

    @property
    def learning_rate_scale(self) -> float:
        return self.distribution.learning_rate_scale if self.distribution is not None else 1.0

    def learning_rate(self, phase: Phase) -> float:
        """The rate ``phase`` trains with: its own, scaled with the replicas."""
        return phase.learning_rate * self.learning_rate_scale

    @property
    def num_classes(self) -> int:
        return len(self.report.class_names)

    @property
    def sigmoid(self) -> bool:
        return self.spec.uses_sigmoid(self.num_classes)

    @property
    def total_epochs(self) -> int:
        return sum(phase.epochs for phase in self.phases)

    @property
    def num_val(self) -> int:
        return len(self.split.val) if self.split.val else 0

    @property
    def monitor(self) -> str:
        """The checkpoint's metric (higher is better)."""
        return "val_accuracy" if self.split.val else "accuracy"

    @property
    def loss_monitor(self) -> str:
        """The metric early stopping and the plateau schedule watch (lower is better)."""
        return "val_loss" if self.split.val else "loss"


def prepare(config: TrainConfig) -> RunSetup:
    """Check ``config`` against its template and data, and split the data; raises DatasetError."""
    spec = get_template(config.template)
    if spec.train_unavailable:  # the template's own reason, else its modality's; said before any work
        raise DatasetError(f"{spec.train_unavailable}. Received: template '{spec.id}' on {config.data}")
    hp = spec.resolve_hparams(config.hparams)
    report = config.scan or scan_dataset(config.data)
    refuse_other_modality(report.modality, spec.modality, f"Template '{spec.id}' expects {spec.modality} data",
                          report.path)
    modality = get_modality(spec.modality)
    augmentation = augmentation_for(spec.modality, config.augmentation, spec.augmentation_default())
    split = split_dataset(report, val_fraction=config.val_split, group_regex=config.group_regex, seed=hp["seed"],
                          val_groups=config.val_groups)
    input_shape = tuple(config.input_shape or spec.input_shape_for(hp))
    return RunSetup(config, spec, hp, report, modality, augmentation, split, input_shape,
                    spec.preprocessing_for(hp, input_shape), plan_phases(config, hp, spec))


def plan_phases(config: TrainConfig, hp: dict[str, Any], spec=None) -> list[Phase]:
    """The run's phases: the config's own, else the template's (transfer learning: head, then fine-tune),
    else one phase "train" of the hyperparameters' epochs and rate."""
    phases = config.phases
    if not phases and spec is not None and spec.phases_from_hparams is not None:
        phases = [Phase(**entry) for entry in spec.phases_from_hparams(hp)]
    if phases:
        if any(phase.epochs < 1 for phase in phases):
            raise ValueError(f"Expected at least 1 epoch per phase. Received: "
                             f"{[(p.name, p.epochs) for p in phases]}")
        return list(phases)
    return [Phase("train", hp["epochs"], hp["learning_rate"])]


def augmentation_for(modality: str, given: Any, default: Any = None):
    """The run's augmentation spec for ``modality``: ``given``, or ``default`` (the template's recipe)
    when none is given (None); an empty spec of the other kind means none."""
    expected = augmentation_spec_class(modality)
    if given is None:
        return default if isinstance(default, expected) else expected()
    if not isinstance(given, expected) and not given.enabled:
        return expected()
    if not isinstance(given, expected):
        default = type(given)().to_dict()
        on = ", ".join(f"{k}={v}" for k, v in given.to_dict().items() if v != default.get(k))
        raise DatasetError(f"Expected {modality} augmentation options for a {modality} template. "
                           f"Received: {given.modality} options ({on})")
    return given

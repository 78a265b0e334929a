"""AppState: the choices the panels share, in one QObject living in the GUI thread.

Panels never reach into each other; each reads and writes the state and listens to its signals.
The state holds plain core objects (a ScanReport, an AugmentationSpec, dicts), never widgets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, Signal

from workbench.core.audio.augment import AudioAugmentationSpec
from workbench.core.image.augment import AugmentationSpec
from workbench.core.modality import get_modality
from workbench.core.training.distribute import DEFAULT_CPU_REPLICAS

GUI_DISTRIBUTIONS = ("none", "mirrored")  # multi-worker is the command line's: one process per machine
MAX_CPU_REPLICAS = 64  # logical CPU devices the Training tab offers (and a project may ask for)


KEEP = object()  # set_distribution: leave the mixed-precision choice as it is (None means "the machine's default")


def unsaved_runs_root() -> str:
    """Where runs go before the project is saved: ``runs`` in the app's data folder."""
    return str(Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / "runs")


class AppState(QObject):
    dataset_changed = Signal(object)  # ScanReport | None
    split_changed = Signal(float, str)  # validation fraction, group regex ("" = stratified)
    template_changed = Signal(str)
    hparams_changed = Signal(dict)
    augmentation_changed = Signal(object)  # AugmentationSpec
    audio_augmentation_changed = Signal(object)  # AudioAugmentationSpec
    video_augmentation_changed = Signal(object)  # VideoAugmentationSpec
    model_changed = Signal(str)  # path of the selected .keras model ("" = none)
    distribution_changed = Signal(dict)  # {"distribute", "cpu_replicas", "mixed_precision"}: see set_distribution
    run_finished = Signal(dict)  # the run_finished payload of a training run (run_dir, model_path, status)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset_path: str = ""
        self.scan = None  # ScanReport of the current dataset
        self.val_fraction: float = 0.2
        self.group_regex: str = ""
        self.template_id: str = "mnist_cnn"
        self.hparams: dict[str, Any] = {}
        # The hyperparameters edited for each template chosen this session, so that switching to
        # another template and back brings one's edits back instead of the defaults.
        self._hparams_by_template: dict[str, dict[str, Any]] = {}
        self.augmentation = AugmentationSpec()  # for image templates
        self.audio_augmentation = AudioAugmentationSpec()  # for sound templates
        self.video_augmentation = get_modality("video").augmentation_spec()  # for video templates
        self.model_path: str = ""
        # Where a run trains (the Training tab): "none" (one device) or "mirrored" (every local GPU, else
        # ``cpu_replicas`` logical CPU devices), and mixed precision where the template and machine allow.
        # Kept as chosen: train_config applies what this machine can do.
        self.distribute: str = "none"
        self.cpu_replicas: int = DEFAULT_CPU_REPLICAS
        self.mixed_precision: bool | None = None  # None: this machine's default (mixed_precision_default)

    def set_dataset(self, path: str, scan) -> None:
        self.dataset_path, self.scan = path, scan
        self.dataset_changed.emit(scan)

    def set_split(self, val_fraction: float, group_regex: str) -> None:
        if (val_fraction, group_regex) != (self.val_fraction, self.group_regex):
            self.val_fraction, self.group_regex = val_fraction, group_regex
            self.split_changed.emit(val_fraction, group_regex)

    def set_template(self, template_id: str) -> None:
        """Choose a template; its hyperparameters become those last set for it this session (its
        defaults, ``{}``, for one not chosen before): one template's values never carry over to another."""
        if template_id == self.template_id:
            return
        self.template_id = template_id
        remembered = dict(self._hparams_by_template.get(template_id, {}))
        changed = remembered != self.hparams
        self.hparams = remembered  # before template_changed: the Model panel's form reads them
        self.template_changed.emit(template_id)
        if changed:
            self.hparams_changed.emit(dict(remembered))
        self._offer_template_augmentation()

    def forget_template_hparams(self) -> None:
        """Forget the values remembered for each template (before another project's choices are set:
        the edits of the project open until then are not its own)."""
        self._hparams_by_template = {}

    def template_augmentation_default(self):
        """The chosen template's default augmentation (its recipe) as a spec, or None when it has none."""
        from workbench.core.errors import WorkbenchError
        from workbench.core.templates import get_template

        try:
            template = get_template(self.template_id)
        except WorkbenchError:  # a plug-in template that is not installed: the Model panel says so
            return None
        return template.augmentation_default() if template.default_augmentation else None

    def set_augmentation_for_template(self, spec) -> None:
        """Set the augmentation of ``spec``'s kind (images, sound or video)."""
        setter = {type(self.augmentation): self.set_augmentation,
                  type(self.audio_augmentation): self.set_audio_augmentation,
                  type(self.video_augmentation): self.set_video_augmentation}[type(spec)]
        setter(spec)

    def _offer_template_augmentation(self) -> None:
        # A template that comes with a recipe (video_cnn_gru: its defaults were measured with strong
        # augmentation) brings it, as the CLI applies it without --augment; options someone has set are
        # kept (a project's own are set after its template when it is opened).
        recipe = self.template_augmentation_default()
        if recipe is not None and not self.augmentation_for_template().enabled:
            self.set_augmentation_for_template(recipe)

    def set_hparams(self, hparams: dict[str, Any]) -> None:
        """The chosen template's hyperparameters (only the values that differ from its defaults)."""
        self._hparams_by_template[self.template_id] = dict(hparams)
        if hparams != self.hparams:
            self.hparams = dict(hparams)
            self.hparams_changed.emit(dict(hparams))

    def set_augmentation(self, spec: AugmentationSpec) -> None:
        if spec != self.augmentation:
            self.augmentation = spec
            self.augmentation_changed.emit(spec)

    def set_audio_augmentation(self, spec: AudioAugmentationSpec) -> None:
        if spec != self.audio_augmentation:
            self.audio_augmentation = spec
            self.audio_augmentation_changed.emit(spec)

    def set_video_augmentation(self, spec) -> None:
        if spec != self.video_augmentation:
            self.video_augmentation = spec
            self.video_augmentation_changed.emit(spec)

    def template_modality(self) -> str:
        """The chosen template's modality (the default one for an unknown template: training reports it)."""
        from workbench.core.errors import WorkbenchError
        from workbench.core.modality import DEFAULT_MODALITY
        from workbench.core.templates import get_template

        try:
            return get_template(self.template_id).modality
        except WorkbenchError:
            return DEFAULT_MODALITY

    def augmentation_for_template(self):
        """The augmentation that applies to the chosen template: the spec of its modality's kind
        (the registry's ``augmentation_spec``), the image options when the state holds none of it."""
        from workbench.core.errors import WorkbenchError
        from workbench.core.modality import get_modality

        try:
            spec_class = get_modality(self.template_modality()).augmentation_spec
        except WorkbenchError:  # a modality nobody registered: training reports it
            return self.augmentation
        specs = (self.augmentation, self.audio_augmentation, self.video_augmentation)
        return next((spec for spec in specs if isinstance(spec, spec_class)), self.augmentation)

    def set_model(self, path: str) -> None:
        if path != self.model_path:
            self.model_path = path
            self.model_changed.emit(path)

    def distribution(self) -> dict[str, Any]:
        """The distribution choice as saved in a project: ``distribute``, ``cpu_replicas``, ``mixed_precision``."""
        return {"distribute": self.distribute, "cpu_replicas": self.cpu_replicas, "mixed_precision": self.mixed_precision}

    def set_distribution(self, distribute: str | None = None, cpu_replicas: int | None = None,
                         mixed_precision: bool | None | object = KEEP) -> None:
        """Change any of the distribution choices (None, or for mixed precision KEEP: keep; mixed precision
        None: the machine's default); raises ValueError for a value the GUI does not offer (multi-worker
        is the command line's)."""
        choice = self.distribution()
        if distribute is not None:
            if distribute not in GUI_DISTRIBUTIONS:
                raise ValueError(f"Expected a distribution in {', '.join(GUI_DISTRIBUTIONS)}. Received: {distribute!r}")
            choice["distribute"] = distribute
        if cpu_replicas is not None:
            if isinstance(cpu_replicas, bool) or int(cpu_replicas) != cpu_replicas \
                    or not 1 <= cpu_replicas <= MAX_CPU_REPLICAS:
                raise ValueError(f"Expected 1 to {MAX_CPU_REPLICAS} CPU replicas. Received: {cpu_replicas!r}")
            choice["cpu_replicas"] = int(cpu_replicas)
        if mixed_precision is not KEEP:
            choice["mixed_precision"] = None if mixed_precision is None else bool(mixed_precision)
        if choice != self.distribution():
            self.distribute, self.cpu_replicas, self.mixed_precision = (
                choice["distribute"], choice["cpu_replicas"], choice["mixed_precision"])
            self.distribution_changed.emit(dict(choice))

    def train_config(self, out_dir: str | None = None, gpus: int | None = None, cpu_bfloat16: bool = False):
        """The core TrainConfig for the current choices (raises WorkbenchError if incomplete).

        ``gpus``: how many GPUs this machine has (None: not known yet); ``cpu_bfloat16``: whether its CPU
        has bfloat16 matrix units. The distribution choice applies as this machine can: CPU replicas only
        without a GPU, mixed precision only with a GPU or such a CPU and a template that allows it;
        unknown devices leave both to the core's defaults."""
        from workbench.core.errors import DatasetError
        from workbench.core.training import TrainConfig

        if not self.dataset_path:
            raise DatasetError("Expected a dataset: choose a folder or an .npz file in the Data panel. Received: none")
        return TrainConfig(
            template=self.template_id, data=self.dataset_path, hparams=dict(self.hparams),
            augmentation=self.augmentation_for_template(), val_split=self.val_fraction,
            group_regex=self.group_regex or None, out_dir=out_dir, scan=self.scan,
            distribute=self.distribute,
            cpu_replicas=self.cpu_replicas if self.distribute == "mirrored" and gpus == 0 else None,
            mixed_precision=self._mixed_precision_for_run(gpus, cpu_bfloat16),
        )

    def _mixed_precision_for_run(self, gpus: int | None, cpu_bfloat16: bool) -> bool | None:
        """The mixed-precision choice as this machine can apply it: None (the core's default for the
        machine) when not chosen, or chosen on while the devices are unknown; off where the template or
        the machine does not allow it."""
        from workbench.core.training.precision import mixed_precision_policy

        if self.mixed_precision is None or (self.mixed_precision and gpus is None):
            return None
        return bool(self.mixed_precision and self._template_allows_mixed_precision()
                    and mixed_precision_policy(gpus, cpu_bfloat16))

    def _template_allows_mixed_precision(self) -> bool:
        from workbench.core.errors import WorkbenchError
        from workbench.core.templates import get_template
        from workbench.core.training.precision import template_allows_mixed_precision

        try:
            return template_allows_mixed_precision(get_template(self.template_id))
        except WorkbenchError:
            return False

"""DistributionWidget: the Training tab's choice of where a run trains, and what that means before Start.

- **Devices**: one device (TensorFlow's default: the first GPU, else the CPU) or mirrored
  (``tf.distribute.MirroredStrategy`` over every local GPU, or over ``CPU replicas`` logical CPU devices
  on a machine without one). Several machines (multi-worker) stay on the command line: each machine
  runs its own process with its own ``TF_CONFIG``.
- **Mixed precision**, enabled only where :func:`~workbench.core.training.precision.mixed_precision_unavailable`
  gives no reason (its reason is the tooltip otherwise); until the user ticks or clears it, it shows
  the machine's default (:func:`~workbench.core.training.precision.mixed_precision_default`: on for a
  CPU with bfloat16 matrix units).
- A line saying where the run will train and its global batch and learning rate, scaled with the
  replicas (:func:`~workbench.core.training.distribute.plan_distribution` and ``scaling_text``, which
  the CLI's log line shares).

The machine's devices are known once TensorFlow has loaded (:meth:`set_local_devices`, from the
window's TensorFlow loader); until then a mirrored run waits. Each run trains in a child process that
makes the CPU devices it asks for; where runs train in the app's own process (a frozen build), its
TensorFlow has the CPU devices it started with, and another count applies after a restart (said, and
Start waits) — the count is saved (``settings_keys.TRAINING_CPU_REPLICAS``) for the next start.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, QSignalBlocker, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.templates import get_template
from workbench.core.training.distribute import LocalDevices, plan_distribution, scaling_text, where_text
from workbench.core.training.precision import mixed_precision_unavailable, resolve_mixed_precision
from workbench.gui import settings_keys
from workbench.gui.panels.panel_widgets import message_label, named, set_message
from workbench.gui.state import MAX_CPU_REPLICAS, AppState
from workbench.gui.workers.training_worker import in_process_reason

STRATEGIES = (("none", "One device"), ("mirrored", "Mirrored: all local devices"))
STRATEGY_TIP = (
    "Where a run trains.\n"
    "One device: TensorFlow's default, the first GPU when there is one, else the CPU.\n"
    "Mirrored: every GPU of this machine, one replica each; without a GPU, the CPU split into CPU replicas "
    "(they share its cores: a way to try a distributed run, not a speed-up). Each replica takes the batch "
    "size, and the learning rate is multiplied by the number of replicas.\n"
    "Several machines (multi-worker) train from the command line only: "
    "workbench train --distribute multi-worker, with TF_CONFIG on each machine.")
REPLICAS_TIP = ("How many logical CPU devices a mirrored run splits the CPU into (this machine has no GPU). "
                "Each takes the batch size; the learning rate scales with them.")
MIXED_TIP = ("Compute in reduced precision with float32 weights: float16 on a GPU (faster on recent GPUs), "
             "bfloat16 on a CPU with bfloat16 matrix units (Intel AMX), where it is on by default and "
             "trains convolutional networks 2-3 times faster. "
             "The saved model computes in float32, so it predicts at full speed anywhere.")
WAITING = "Finding this machine's devices (TensorFlow is loading)…"


class DistributionWidget(QWidget):
    """The strategy, CPU replicas and mixed-precision controls, with the run's plan in words."""

    changed = Signal()  # the plan or what blocks Start may have changed

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainDistributionWidget")
        self._state = state
        self._devices: LocalDevices | None = None
        self._startup_note = ""
        #: Whether runs train in the app's own process, whose TensorFlow cannot change its CPU devices.
        self.in_process = in_process_reason() is not None

        self._strategy = named(QComboBox(self), "trainStrategyCombo", "Devices to train on", STRATEGY_TIP)
        for key, text in STRATEGIES:
            self._strategy.addItem(text, key)
        self._replicas_label = QLabel("CPU replicas:", self)
        self._replicas = named(QSpinBox(self), "trainCpuReplicasSpin", "CPU replicas", REPLICAS_TIP)
        self._replicas.setRange(1, MAX_CPU_REPLICAS)
        self._replicas_label.setBuddy(self._replicas)
        self._mixed = named(QCheckBox("Mixed precision", self), "trainMixedPrecisionCheck", "Mixed precision")
        self._plan = message_label("trainPlanLabel", "Where the run will train")
        self._note = message_label("trainDevicesNoteLabel", "About the devices")
        self._note.hide()

        label = QLabel("Devices:", self)
        label.setBuddy(self._strategy)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(label)
        row.addWidget(self._strategy)
        row.addSpacing(12)
        row.addWidget(self._replicas_label)
        row.addWidget(self._replicas)
        row.addSpacing(12)
        row.addWidget(self._mixed)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self._plan)
        layout.addWidget(self._note)

        self._strategy.activated.connect(self._on_user_changed)
        self._replicas.valueChanged.connect(self._on_user_changed)
        self._mixed.toggled.connect(self._on_mixed_toggled)
        state.distribution_changed.connect(self._on_state_changed)
        state.template_changed.connect(self._on_state_changed)
        state.hparams_changed.connect(self._on_state_changed)
        self._refresh()

    # ----------------------------------------------------------------------------------- public
    @property
    def devices(self) -> LocalDevices | None:
        return self._devices

    def gpus(self) -> int | None:
        """How many GPUs this machine has (None until TensorFlow has loaded)."""
        return None if self._devices is None else len(self._devices.gpus)

    @Slot(dict)
    def set_local_devices(self, found: dict) -> None:
        """The devices TensorFlow found (the loader's ``devices_found``: gpus, cpu_devices, note)."""
        self._devices = LocalDevices.from_dict(found)
        self._startup_note = str(found.get("note") or "")
        self._refresh()

    def blocker(self) -> str:
        """Why a run with this choice cannot start now ("" when it can)."""
        if self._state.distribute != "mirrored":
            return ""
        if self._devices is None:
            return WAITING
        wanted = self._state.cpu_replicas
        if self.in_process and not self._devices.gpus and wanted != self._devices.cpu_devices:
            have = self._devices.cpu_devices
            return (f"Mirrored training on {wanted} CPU replicas applies after a restart: TensorFlow in this window "
                    f"started with {have} CPU device{'s' * (have != 1)}, and its devices cannot change while it "
                    f"runs. The choice is saved; restart CNN Workbench to train on {wanted} replicas"
                    + (f", or choose {have} replicas" if have > 1 else "") + ", or One device.")
        return ""

    def plan_text(self) -> str:
        return self._plan.text()

    def note_text(self) -> str:
        return self._note.text()

    # --------------------------------------------------------------------------------- private
    def _spec(self):
        try:
            return get_template(self._state.template_id)
        except WorkbenchError:
            return None

    def _mixed_reason(self) -> str:
        spec = self._spec()
        if spec is None:
            return f"Template '{self._state.template_id}' is not installed"
        if self._devices is None:
            return "Offered once TensorFlow has loaded and found a GPU or a CPU with bfloat16 units"
        return mixed_precision_unavailable(spec, gpus=len(self._devices.gpus), cpu_bfloat16=self._devices.cpu_bfloat16)

    def _mixed_dtype(self) -> str:
        """What the run will compute in when mixed ("float16" or "bfloat16"; "" for float32): the user's
        choice, else the machine's default."""
        if self._mixed_reason():
            return ""
        devices = self._devices
        policy = resolve_mixed_precision(self._state.mixed_precision, self._spec(), len(devices.gpus),
                                         devices.cpu_bfloat16)
        return (policy or "").removeprefix("mixed_")

    def _refresh(self) -> None:
        s, devices = self._state, self._devices
        no_gpu = devices is None or not devices.gpus
        with QSignalBlocker(self._strategy), QSignalBlocker(self._replicas), QSignalBlocker(self._mixed):
            self._strategy.setCurrentIndex(max(0, self._strategy.findData(s.distribute)))
            self._replicas.setValue(s.cpu_replicas)
            reason = self._mixed_reason()
            self._mixed.setEnabled(not reason)
            self._mixed.setChecked(bool(self._mixed_dtype()))
            self._mixed.setToolTip(reason or MIXED_TIP)
        self._replicas.setVisible(no_gpu)
        self._replicas_label.setVisible(no_gpu)
        self._replicas.setEnabled(s.distribute == "mirrored")
        self._replicas_label.setEnabled(s.distribute == "mirrored")
        set_message(self._plan, self._plan_line())
        # What blocks Start is said by the panel, beside Start; this line only what start-up could not do.
        set_message(self._note, f"The CPU replicas asked for at start-up could not be made: {self._startup_note}"
                    if self._startup_note else "", "warning")
        self.changed.emit()

    def _plan_line(self) -> str:
        """``Will train on 2 × CPU (mirrored) — global batch 128 (64 per replica), learning rate 0.002 (2 × 0.001)``."""
        s, devices = self._state, self._devices
        spec = self._spec()
        try:
            hp = spec.resolve_hparams(s.hparams) if spec is not None else {}
        except WorkbenchError:
            hp = {}
        if devices is None and s.distribute == "mirrored":
            return "Mirrored: the replicas, global batch and learning rate are known once TensorFlow has loaded."
        plan = plan_distribution(s.distribute, devices.gpus if devices else (), s.cpu_replicas)
        line = "Will train on " + where_text(plan.device if devices is not None else "one device", plan.kind,
                                             self._mixed_dtype())
        if isinstance(hp.get("batch_size"), int):
            line += " — " + scaling_text(hp["batch_size"], hp.get("learning_rate"), plan.replicas,
                                         plan.learning_rate_scale)
        return line

    @Slot()
    def _on_user_changed(self, *_args) -> None:
        mirrored = self._strategy.currentData() == "mirrored"
        self._state.set_distribution(distribute=self._strategy.currentData(), cpu_replicas=self._replicas.value())
        if mirrored and (self._devices is None or not self._devices.gpus):
            # What the app's TensorFlow starts with next time, where runs train in its own process.
            QSettings().setValue(settings_keys.TRAINING_CPU_REPLICAS, self._replicas.value())
        self._refresh()

    @Slot(bool)
    def _on_mixed_toggled(self, checked: bool) -> None:
        if not self._mixed_reason():  # a box the machine or template greys out is not a choice
            self._state.set_distribution(mixed_precision=checked)
        self._refresh()

    @Slot()
    def _on_state_changed(self, *_args) -> None:
        self._refresh()

"""Where a run trains: one device, several local devices (``mirrored``), or several machines
(``multi-worker``), on TensorFlow's own ``tf.distribute`` strategies.

- ``none``: TensorFlow's default placement, the first GPU when there is one, else the CPU.
- ``mirrored``: :class:`tf.distribute.MirroredStrategy` over every local GPU; on a machine without
  GPUs, over ``cpu_replicas`` logical CPU devices (2 unless given). Logical devices can only be made
  before TensorFlow initialises its devices, so in a process where TensorFlow already runs (the
  GUI, a test session) the CPU devices must already be there: :func:`configure_cpu_replicas` early,
  or :func:`configure_cpu_replicas_from_env` (``WORKBENCH_CPU_REPLICAS=N``) when the process starts;
  the CLI makes them first thing in ``workbench train``.
- ``multi-worker``: :class:`tf.distribute.MultiWorkerMirroredStrategy` configured by ``TF_CONFIG``
  (checked here first, with a message saying what was expected). It must be created before
  TensorFlow starts in the process, so it is made before anything else of the run.

Each replica takes the user's batch size: the global batch is ``batch_size × replicas`` and the
learning rate is scaled by the same factor (the linear scaling rule), so one epoch takes
``replicas`` times fewer steps. :class:`Distribution` is what the run, its events and its sidecar
say about it.

Keras 3 (3.15) cannot ``fit`` under a multi-worker strategy as it is: its symbolic build and its
per-step reduction of the logs fail (``strategy.reduce("MEAN", scalar, axis=0)``).
:func:`prepare_multi_worker_model` works around both on the model instance, and carries the shared
Stop flag: every step all-reduces each worker's flag with the logs, so all workers see a Stop at
the same step and leave ``fit`` together (a worker leaving alone would leave the others waiting in
their collectives).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from workbench.core.errors import WorkbenchError

CHOICES = ("none", "mirrored", "multi-worker")
DEFAULT_CPU_REPLICAS = 2
CPU_REPLICAS_ENV = "WORKBENCH_CPU_REPLICAS"
STOP_KEY = "_workbench_stop"  # the shared Stop flag in a multi-worker step's logs, removed before anyone sees them

_TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                      '"task": {"type": "worker", "index": 0}}')


class DistributeError(WorkbenchError):
    """A distribution choice this process or machine cannot run."""


@dataclass
class Distribution:
    """How a run is spread over devices: the strategy (None: TensorFlow's default placement) and
    what to report about it."""

    kind: str  # "none" | "mirrored" | "multi-worker"; of a strategy object the caller made: "one-device", ...
    strategy: Any = None
    replicas: int = 1
    devices: list[str] = field(default_factory=list)  # this process's devices that train
    workers: int = 1
    task: str | None = None  # "worker 1" in a multi-worker cluster
    chief: bool = True
    scale_learning_rate: bool = True
    compute_dtype: str = "float32"  # "float16" (mixed precision on a GPU), "bfloat16" (on a CPU with AMX)
    collective: bool = False  # a MultiWorkerMirroredStrategy across workers: see prepare_multi_worker_model
    note: str = ""  # e.g. that one of several GPUs trains

    @property
    def mixed_precision(self) -> bool:
        return self.compute_dtype != "float32"

    @property
    def compute_policy(self) -> str | None:
        """The Keras mixed policy the model is built under (None: float32)."""
        return f"mixed_{self.compute_dtype}" if self.mixed_precision else None

    def use_mixed_precision(self, policy: str | None) -> None:
        """Train under ``policy`` (``mixed_float16`` / ``mixed_bfloat16``; None: float32)."""
        self.compute_dtype = policy.removeprefix("mixed_") if policy else "float32"

    @property
    def learning_rate_scale(self) -> float:
        return float(self.replicas) if self.scale_learning_rate else 1.0

    @property
    def device(self) -> str:
        """One line: which device(s) train, e.g. ``GPU:0 (NVIDIA H200)`` or ``2 × CPU``."""
        if len(self.devices) == 1:
            text = self.devices[0]
        else:
            kinds = {name.split(":")[0] for name in self.devices}
            details = {name.partition(" ")[2] for name in self.devices}  # "(NVIDIA H200)" of "GPU:0 (NVIDIA H200)"
            text = f"{len(self.devices)} × {kinds.pop()}" if len(kinds) == 1 else ", ".join(self.devices)
            if len(details) == 1 and "," not in text:
                text += f" {details.pop()}".rstrip()
        if self.workers > 1:
            text += f" on each of {self.workers} workers"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.kind, "replicas": self.replicas, "devices": list(self.devices),
                "device": self.device, "workers": self.workers, "task": self.task, "chief": self.chief,
                "learning_rate_scale": self.learning_rate_scale, "mixed_precision": self.mixed_precision,
                "compute_dtype": self.compute_dtype}


def local_gpus() -> list[Any]:
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def _gpu_name(index: int, device: Any) -> str:
    import tensorflow as tf

    try:
        detail = tf.config.experimental.get_device_details(device).get("device_name")
    except Exception:  # noqa: BLE001 - a name is nice to have, never worth failing a run
        detail = None
    return f"GPU:{index}" + (f" ({detail})" if detail else "")


def _short(device: str) -> str:
    """``/job:worker/replica:0/task:1/device:CPU:0`` → ``CPU:0``."""
    return device.rsplit("device:", 1)[-1].upper() if "device:" in device else device.upper().lstrip("/")


def configure_cpu_replicas(count: int) -> int:
    """Split the CPU into ``count`` logical devices for a mirrored run; the number of CPU devices.

    Only possible before TensorFlow initialises its devices; afterwards it succeeds only when the
    process already has that many, and otherwise raises :class:`DistributeError` saying how to get them.
    """
    import tensorflow as tf

    if count < 1:
        raise DistributeError(f"Expected at least 1 CPU replica. Received: {count}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    have = len(current) if current else 1
    if have == count:
        return count
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:  # "Virtual devices cannot be modified after being initialized"
        raise DistributeError(
            f"Expected {count} CPU replicas to be set up before TensorFlow starts its devices. Received: "
            f"TensorFlow already runs on {have} CPU device(s) in this process; train in a new process "
            f"(workbench train --distribute mirrored --cpu-replicas {count}), or make them when the process "
            f"starts (configure_cpu_replicas, or {CPU_REPLICAS_ENV}={count} read by "
            f"configure_cpu_replicas_from_env)") from None
    return count


def configure_cpu_replicas_from_env() -> int | None:
    """``WORKBENCH_CPU_REPLICAS=N``: make N logical CPU devices now (call before TensorFlow runs
    anything, e.g. when the app starts); None when the variable is not set or there are GPUs."""
    value = os.environ.get(CPU_REPLICAS_ENV, "").strip()
    if not value:
        return None
    try:
        count = int(value)
    except ValueError:
        raise DistributeError(f"Expected {CPU_REPLICAS_ENV} to be a whole number of CPU replicas. "
                              f"Received: {value!r}") from None
    if local_gpus():
        return None
    return configure_cpu_replicas(count)


def parse_tf_config(text: str | None) -> dict[str, Any]:
    """``TF_CONFIG`` checked for a multi-worker run: ``{"cluster": {...}, "task": {"type", "index"}}``
    with ``worker`` (and optionally one ``chief``) jobs of ``host:port`` addresses."""
    expected = (f"Expected TF_CONFIG in the environment describing the cluster and this machine's task, "
                f"e.g. TF_CONFIG='{_TF_CONFIG_EXAMPLE}' (the same cluster on every machine, each with its own "
                f"task index). Received: ")
    if not text or not text.strip():
        raise DistributeError(expected + "no TF_CONFIG")
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise DistributeError(expected + f"TF_CONFIG that is not JSON ({exc.msg} at character {exc.pos})") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster:
        raise DistributeError(expected + f"no \"cluster\" object in {text.strip()[:200]}")
    other = sorted(set(cluster) - {"worker", "chief"})
    if other:
        raise DistributeError(expected + f"job(s) {', '.join(other)}; multi-worker training uses only "
                                          f"\"worker\" and \"chief\" jobs")
    for job, addresses in cluster.items():
        if (not isinstance(addresses, list) or not addresses
                or not all(isinstance(a, str) and a.rpartition(":")[2].isdigit() and a.rpartition(":")[0]
                           for a in addresses)):
            raise DistributeError(expected + f"cluster job \"{job}\" = {json.dumps(addresses)}; expected a list "
                                             f"of \"host:port\" addresses")
    if len(cluster.get("chief", [])) > 1:
        raise DistributeError(expected + f"{len(cluster['chief'])} chief addresses; a cluster has at most one")
    if not isinstance(task, dict) or task.get("type") not in cluster or not isinstance(task.get("index"), int) \
            or not 0 <= task["index"] < len(cluster[task["type"]]):
        jobs = ", ".join(f"{job} 0–{len(a) - 1}" for job, a in cluster.items())
        raise DistributeError(expected + f"task {json.dumps(task)}; expected {{\"type\": job, \"index\": i}} "
                                         f"naming one of: {jobs}")
    return config


def check_choice(kind: str | None, cpu_replicas: int | None = None, *, strategy: Any = None) -> str:
    """``kind`` normalised (``multi_worker`` → ``multi-worker``), checked with the CPU replicas and,
    for multi-worker, ``TF_CONFIG``, without TensorFlow; raises :class:`DistributeError`."""
    if strategy is not None:
        return "strategy"
    kind = (kind or "none").strip().lower().replace("_", "-")
    if kind not in CHOICES:
        raise DistributeError(f"Expected a distribution in {', '.join(CHOICES)}. Received: {kind!r}")
    if cpu_replicas is not None and kind != "mirrored":
        raise DistributeError(f"Expected CPU replicas only with --distribute mirrored. Received: "
                              f"{cpu_replicas} CPU replicas with --distribute {kind}")
    if cpu_replicas is not None and cpu_replicas < 1:
        raise DistributeError(f"Expected at least 1 CPU replica. Received: {cpu_replicas}")
    if kind == "multi-worker":
        parse_tf_config(os.environ.get("TF_CONFIG"))
    return kind


def make_distribution(kind: str = "none", *, cpu_replicas: int | None = None, strategy: Any = None,
                      scale_learning_rate: bool = True) -> Distribution:
    """The :class:`Distribution` for a run: of ``strategy`` when the caller made one, else of ``kind``.

    Raises :class:`DistributeError` (an unknown kind, TF_CONFIG missing or wrong, CPU replicas asked
    for too late) before any training.
    """
    if strategy is not None:
        return describe_strategy(strategy, "strategy", scale_learning_rate)
    kind = check_choice(kind, cpu_replicas)  # before TensorFlow, so that a wrong TF_CONFIG is said plainly
    import tensorflow as tf

    if kind == "none":
        gpus = local_gpus()
        devices = [_gpu_name(0, gpus[0])] if gpus else ["CPU:0"]
        note = f"1 of {len(gpus)} GPUs trains; --distribute mirrored uses all" if len(gpus) > 1 else ""
        return Distribution("none", None, 1, devices, scale_learning_rate=scale_learning_rate, note=note)
    if kind == "mirrored":
        gpus = local_gpus()
        if gpus:
            if cpu_replicas is not None:
                raise DistributeError(f"Expected CPU replicas only on a machine without GPUs (mirrored training "
                                      f"uses all {len(gpus)} GPU(s) here). Received: {cpu_replicas} CPU replicas")
            made = tf.distribute.MirroredStrategy()
            names = [_gpu_name(i, gpu) for i, gpu in enumerate(gpus)]
            return Distribution("mirrored", made, made.num_replicas_in_sync, names,
                                scale_learning_rate=scale_learning_rate)
        count = configure_cpu_replicas(cpu_replicas or _cpu_devices_now() or DEFAULT_CPU_REPLICAS)
        made = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(count)])
        return Distribution("mirrored", made, made.num_replicas_in_sync, [f"CPU:{i}" for i in range(count)],
                            scale_learning_rate=scale_learning_rate)
    try:
        made = tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as exc:
        if "at program startup" not in str(exc):
            raise
        raise DistributeError("Expected multi-worker training to start before TensorFlow does in this process. "
                              "Received: TensorFlow is already running here; run it in a process of its own "
                              "(workbench train --distribute multi-worker on each machine)") from None
    return describe_strategy(made, "multi-worker", scale_learning_rate)


def _cpu_devices_now() -> int | None:
    """The logical CPU devices already configured (more than one), without initialising TensorFlow."""
    import tensorflow as tf

    configured = tf.config.get_logical_device_configuration(tf.config.list_physical_devices("CPU")[0])
    return len(configured) if configured and len(configured) > 1 else None


def describe_strategy(strategy: Any, kind: str = "strategy", scale_learning_rate: bool = True) -> Distribution:
    """What a strategy object trains on (also a fake one of the tests, read through ``getattr``)."""
    from workbench.core.training.artefacts import is_chief

    extended = getattr(strategy, "extended", None)
    devices = [_short(str(d)) for d in getattr(extended, "worker_devices", ()) or ()]
    workers, task = 1, None
    in_multi_worker = getattr(extended, "_in_multi_worker_mode", None)
    if in_multi_worker is not None and in_multi_worker():
        resolver = strategy.cluster_resolver
        spec = resolver.cluster_spec().as_dict()
        workers = sum(len(addresses) for addresses in spec.values())
        task = f"{resolver.task_type} {resolver.task_id}"
        kind = "multi-worker" if kind == "strategy" else kind
    if kind == "strategy":
        kind = {"MirroredStrategy": "mirrored", "OneDeviceStrategy": "one-device"}.get(
            type(strategy).__name__, type(strategy).__name__)
    replicas = int(getattr(strategy, "num_replicas_in_sync", 1) or 1)
    import tensorflow as tf

    collective = task is not None and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    return Distribution(kind, strategy, replicas, devices or ["CPU:0"], workers, task, is_chief(strategy),
                        scale_learning_rate, collective=collective)


# --- before a run: what it will train on, and how its batch and learning rate scale ---------------------

@dataclass(frozen=True)
class LocalDevices:
    """This process's devices as TensorFlow sees them: the GPUs by name (``GPU:0 (NVIDIA H200)``)
    and how many logical CPU devices it runs on (more than one only when they were configured)."""

    gpus: tuple[str, ...] = ()
    cpu_devices: int = 1
    cpu_bfloat16: bool = False  # the CPU has bfloat16 matrix units: see cpu_has_bfloat16_units

    def to_dict(self) -> dict[str, Any]:
        return {"gpus": list(self.gpus), "cpu_devices": self.cpu_devices, "cpu_bfloat16": self.cpu_bfloat16}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LocalDevices:
        return cls(tuple(str(g) for g in data.get("gpus") or ()), int(data.get("cpu_devices") or 1),
                   bool(data.get("cpu_bfloat16")))


def local_devices() -> LocalDevices:
    """The GPUs and logical CPU devices of this process (initialises TensorFlow's devices: configure
    CPU replicas first)."""
    import tensorflow as tf

    from workbench.core.training.precision import cpu_has_bfloat16_units  # it imports this module

    gpus = tuple(_gpu_name(i, gpu) for i, gpu in enumerate(local_gpus()))
    return LocalDevices(gpus, max(1, len(tf.config.list_logical_devices("CPU"))), cpu_has_bfloat16_units())


def plan_distribution(kind: str, gpus: list[str] | tuple[str, ...], cpu_replicas: int | None = None, *,
                      scale_learning_rate: bool = True) -> Distribution | None:
    """What a local run with this choice will train on, without TensorFlow: the :class:`Distribution`
    :func:`make_distribution` would make on a machine with ``gpus`` (names), its strategy left out;
    None for multi-worker (the cluster decides)."""
    kind = (kind or "none").strip().lower().replace("_", "-")
    if kind == "multi-worker":
        return None
    if kind == "none":
        note = f"1 of {len(gpus)} GPUs trains; --distribute mirrored uses all" if len(gpus) > 1 else ""
        return Distribution("none", None, 1, [gpus[0] if gpus else "CPU:0"], scale_learning_rate=scale_learning_rate,
                            note=note)
    if kind != "mirrored":
        raise DistributeError(f"Expected a distribution in {', '.join(CHOICES)}. Received: {kind!r}")
    devices = list(gpus) or [f"CPU:{i}" for i in range(cpu_replicas or DEFAULT_CPU_REPLICAS)]
    return Distribution("mirrored", None, len(devices), devices, scale_learning_rate=scale_learning_rate)


def where_text(device: str, kind: str = "none", mixed_precision: bool | str = False, task: str | None = None) -> str:
    """Where a run trains, in words: ``CPU:0``, ``2 × CPU (mirrored)``, ``GPU:0 (…), mixed precision``;
    ``mixed_precision`` may be the compute dtype: ``CPU:0, mixed precision (bfloat16)``."""
    text = device
    if kind not in ("none", "strategy", ""):
        text += f" ({kind}{', ' + task if task else ''})"
    if mixed_precision:
        text += ", mixed precision" + (f" ({mixed_precision})" if isinstance(mixed_precision, str) else "")
    return text


def scaling_text(batch_size: int, learning_rate: float | None, replicas: int, learning_rate_scale: float, *,
                 per_replica: bool = True) -> str:
    """How one step's batch and the learning rate scale with the replicas, in words: ``global batch 128
    (64 per replica), learning rate 0.002 (2 × 0.001)``; with one replica ``batch 64, learning rate 0.001``.
    ``learning_rate`` is the hyperparameter's (None: not said). The CLI's log line and the GUI's
    Training tab say it the same way."""
    if replicas > 1:
        text = f"global batch {batch_size * replicas}" + (f" ({batch_size} per replica)" if per_replica else "")
    else:
        text = f"batch {batch_size}"
    if learning_rate is not None:
        text += f", learning rate {learning_rate * learning_rate_scale:g}"
        if learning_rate_scale != 1:
            text += f" ({learning_rate_scale:g} × {learning_rate:g})"
    return text


def prepare_multi_worker_model(model, element_spec, stop_flag) -> None:
    """Make ``model.fit`` work under MultiWorkerMirroredStrategy in Keras 3, and share Stop.

    - Keras' symbolic build reduces a distributed batch with ``strategy.reduce`` (which fails for
      multi-worker); the model is built from the dataset's ``element_spec`` instead.
    - Keras reduces every step's logs with ``strategy.reduce("MEAN", value, axis=0)``, which fails on
      scalars; each value is returned with one axis, so the reduction gives the mean over all replicas.
    - The step's logs carry ``stop_flag`` (a local variable, 1 when this worker's user pressed Stop)
      under :data:`STOP_KEY`: after the reduction it is above 0 on every worker once any worker set
      it, at the same step. :class:`~workbench.core.training.callbacks.CancelCallback` removes it.

    Must be called inside the strategy's scope, again after each compile.
    """
    import tensorflow as tf

    if getattr(model, "_workbench_multi_worker", False):
        return
    train_step, test_step = model.train_step, model.test_step

    def one_axis(logs):
        return {key: tf.reshape(tf.cast(value, tf.float32), [1]) for key, value in logs.items()}

    def shared_train_step(data):
        logs = one_axis(train_step(data))
        logs[STOP_KEY] = tf.reshape(tf.identity(stop_flag), [1])
        return logs

    def build_from_spec(iterator=None, data_batch=None):
        model._symbolic_build(data_batch=element_spec)

    model.train_step = shared_train_step
    model.test_step = lambda data: one_axis(test_step(data))
    model._maybe_symbolic_build = build_from_spec
    model._workbench_multi_worker = True

"""Training on several devices and machines: the choice, its errors, mirrored against one device on
real digits, and two local workers of a multi-worker run started by the CLI.

The runs that need logical CPU devices or a multi-worker strategy happen in fresh processes: both
must be set up before TensorFlow starts, which the test session has long done.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.paths import MNIST_NPZ, REPO_ROOT, require_shared
from workbench.core.training.distribute import DistributeError, make_distribution, parse_tf_config

PYTHON = sys.executable


def _mnist_subset(path: Path, count: int, seed: int = 0) -> Path:
    """``count`` digits of the shared MNIST training set, as an .npz the workbench reads."""
    data = np.load(require_shared(MNIST_NPZ))
    pick = np.random.default_rng(seed).permutation(len(data["y_train"]))[:count]
    np.savez(path, x_train=data["x_train"][pick], y_train=data["y_train"][pick])
    return path


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CONFIG", "WORKBENCH_CPU_REPLICAS")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.mark.parametrize(("text", "received"), [
    (None, "no TF_CONFIG"),
    ("{cluster", "not JSON"),
    ('{"task": {"type": "worker", "index": 0}}', 'no "cluster" object'),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', "host:port"),
    ('{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "worker", "index": 0}}', "job(s) ps"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}', "worker 0–1"),
    ('{"cluster": {"worker": ["a:1"]}}', "task null"),
])
def test_a_wrong_tf_config_says_what_was_expected(text, received):
    with pytest.raises(DistributeError, match="Expected TF_CONFIG") as caught:
        parse_tf_config(text)
    assert "Received: " in str(caught.value) and received in str(caught.value).split("Received: ", 1)[1]


def test_a_valid_tf_config_passes():
    config = parse_tf_config('{"cluster": {"chief": ["a:1"], "worker": ["b:2"]}, '
                             '"task": {"type": "worker", "index": 0}}')
    assert config["task"] == {"type": "worker", "index": 0}


def test_multi_worker_without_tf_config_fails_before_any_work(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(DistributeError, match="Expected TF_CONFIG.*Received: no TF_CONFIG"):
        make_distribution("multi-worker")


@pytest.mark.parametrize(("kind", "replicas", "message"), [
    ("ring", None, "Expected a distribution in none, mirrored, multi-worker. Received: 'ring'"),
    ("none", 2, "CPU replicas only with --distribute mirrored"),
])
def test_a_wrong_choice_is_refused(kind, replicas, message):
    with pytest.raises(DistributeError, match=message):
        make_distribution(kind, cpu_replicas=replicas)


def test_too_late_for_cpu_replicas_or_multi_worker_is_explained(monkeypatch):
    import tensorflow as tf

    from workbench.core.training.distribute import configure_cpu_replicas

    tf.constant(1.0) + 1  # TensorFlow has started its devices in this process
    have = len(tf.config.list_logical_devices("CPU"))
    with pytest.raises(DistributeError, match=f"Expected {have + 1} CPU replicas to be set up before TensorFlow "
                                              f"starts.*WORKBENCH_CPU_REPLICAS={have + 1}"):
        configure_cpu_replicas(have + 1)
    assert configure_cpu_replicas(have) == have  # what the process already has is fine
    ports = _free_ports(2)
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                                "task": {"type": "worker", "index": 0}}))
    with pytest.raises(DistributeError, match="start before TensorFlow does in this process"):
        make_distribution("multi-worker")


def test_mirrored_on_two_cpu_devices_matches_one_device(tmp_path):
    """The same job (2,500 digits, simple_cnn, 2 epochs, batch 64 per replica) on one device and
    mirrored over 2 logical CPU devices (global batch 128, learning rate ×2) reaches the same accuracy
    within noise: across seeds each setting spreads by about ±0.01–0.02 here, so 0.05 apart fails."""
    data = _mnist_subset(tmp_path / "digits.npz", 2500)
    done = subprocess.run([PYTHON, str(Path(__file__).with_name("distribute_compare.py")), str(data),
                           str(tmp_path / "runs"), "--batch-size", "64", "--epochs", "2"],
                          capture_output=True, text=True, timeout=240, env=_env(), cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    single, mirrored = results["none"][0], results["mirrored"][0]
    assert single["status"] == mirrored["status"] == "completed", (single["message"], mirrored["message"])
    assert single["val_accuracy"] > 0.8 and mirrored["val_accuracy"] > 0.8, results
    assert abs(single["val_accuracy"] - mirrored["val_accuracy"]) < 0.05, results
    assert single["distribution"]["strategy"] == "none" and single["distribution"]["replicas"] == 1
    assert single["distribution"]["learning_rates"] == [pytest.approx(1e-3)]
    recorded = mirrored["distribution"]
    assert recorded["strategy"] == "mirrored" and recorded["replicas"] == 2
    assert recorded["devices"] == ["CPU:0", "CPU:1"]
    assert recorded["per_replica_batch_size"] == 64 and recorded["global_batch_size"] == 128
    assert recorded["learning_rate_scale"] == 2 and recorded["learning_rates"] == [pytest.approx(2e-3)]


def test_two_workers_train_together_only_the_chief_writes_and_stop_reaches_both(tmp_path):
    """Two ``workbench train --distribute multi-worker`` processes on localhost. After the first
    epoch, Ctrl-C (SIGINT) on the non-chief worker stops both at the same step; the chief's run
    folder holds that epoch's model, which loads; the other worker wrote nothing there and its
    scratch folder is gone."""
    from workbench.core.inference import Predictor

    data = _mnist_subset(tmp_path / "digits.npz", 1200)
    run_dir, scratch = tmp_path / "run", tmp_path / "scratch"
    scratch.mkdir()
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    command = [PYTHON, "-m", "workbench", "train", "--template", "simple_cnn", "--data", str(data), "--epochs", "3",
               "--batch-size", "32", "--out", str(run_dir), "--distribute", "multi-worker", "--json"]
    processes, files = [], []
    for index in (0, 1):
        env = _env(TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
                   TMPDIR=str(scratch if index else tmp_path))
        stdout = subprocess.PIPE if index else (tmp_path / "chief.out").open("w")
        stderr = (tmp_path / f"w{index}.err").open("w")
        files += [stderr] if index else [stdout, stderr]
        processes.append(subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True, env=env, cwd=tmp_path))
    chief, worker = processes
    deadline = time.monotonic() + 180
    # A worker waiting forever for the other (the failure this guards against) prints nothing: kill both then.
    watchdog = threading.Timer(180, lambda: [p.kill() for p in processes if p.poll() is None])
    watchdog.start()
    events = []
    try:
        for line in worker.stdout:
            if line.startswith("{"):
                events.append(json.loads(line))
                if events[-1]["event"] == "epoch_ended":
                    worker.send_signal(signal.SIGINT)  # the user's Stop on the non-chief
                    break
        rest = worker.communicate(timeout=max(deadline - time.monotonic(), 1))[0]
        chief.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        watchdog.cancel()
        for process in processes:
            if process.poll() is None:
                process.kill()
        for file in files:
            file.close()
    errors = "".join((tmp_path / f"w{i}.err").read_text()[-1500:] for i in (0, 1))
    events += [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
    chief_events = [json.loads(line) for line in (tmp_path / "chief.out").read_text().splitlines()
                    if line.startswith("{")]
    assert (chief.returncode, worker.returncode) == (130, 130), errors

    started = next(e for e in chief_events if e["event"] == "run_started")
    assert started["strategy"] == "multi-worker" and started["replicas"] == 2 and started["workers"] == 2
    assert started["global_batch_size"] == 64 and started["learning_rate_scale"] == 2
    results = [next(e for e in reversed(log) if e["event"] == "result") for log in (chief_events, events)]
    assert [r["status"] for r in results] == ["cancelled", "cancelled"], results
    # Both stopped at the same step: the same finished epochs and the same history.
    epochs = [[e["epoch"] for e in log if e["event"] == "epoch_ended"] for log in (chief_events, events)]
    assert epochs[0] == epochs[1] and 1 <= len(epochs[0]) < 3
    assert results[0]["model_path"] == str(run_dir / "model.keras") and results[1]["model_path"] is None
    assert "this worker wrote nothing" in results[1]["message"]

    assert {p.name for p in run_dir.iterdir()} == {"model.keras", "model.json", "last.keras", "history.csv"}
    assert list(scratch.iterdir()) == []  # the non-chief's scratch folder is removed
    sidecar = json.loads((run_dir / "model.json").read_text())
    assert sidecar["status"] == "cancelled" and sidecar["distribution"]["strategy"] == "multi-worker"
    assert sidecar["distribution"]["workers"] == 2 and sidecar["distribution"]["task"] == "worker 0"
    predictor = Predictor.load(run_dir / "model.keras")
    assert predictor.class_names == [str(d) for d in range(10)]
    digits = np.load(data)
    probabilities = predictor.predict_arrays(np.stack([predictor.prepare_array(a) for a in digits["x_train"][:8]]))
    assert probabilities.shape == (8, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)


def test_the_cli_says_a_wrong_choice_in_one_line(tmp_path, monkeypatch, capsys):
    from workbench.cli import run_cli

    monkeypatch.delenv("TF_CONFIG", raising=False)
    data = _mnist_subset(tmp_path / "digits.npz", 50)
    base = ["train", "--template", "simple_cnn", "--data", str(data), "--out", str(tmp_path / "run")]
    assert run_cli([*base, "--distribute", "none", "--cpu-replicas", "2"]) == 2
    assert run_cli([*base, "--distribute", "multi-worker"]) == 2
    assert run_cli(["train", "--resume", str(tmp_path / "run"), "--distribute", "mirrored"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("workbench train: error: Expected CPU replicas only with --distribute mirrored")
    assert lines[1].startswith("workbench train: error: Expected TF_CONFIG") and lines[1].endswith("no TF_CONFIG")
    assert "Received: --distribute" in lines[2]
    assert not (tmp_path / "run").exists()


def test_mixed_precision_is_offered_where_the_template_and_machine_allow(tmp_path, monkeypatch):
    import keras

    import workbench.core.training.trainer as trainer
    from workbench.core.templates import get_template
    from workbench.core.training import TrainConfig, train
    from workbench.core.training.precision import MixedPrecision, float32_copy, template_allows_mixed_precision

    assert template_allows_mixed_precision(get_template("mnist_cnn"))
    assert not template_allows_mixed_precision(get_template("audio_cnn"))  # its front end is in the model
    with pytest.raises(DistributeError, match="allows mixed precision. Received: template 'audio_cnn'"):
        train(TrainConfig(template="audio_cnn", data=str(tmp_path), mixed_precision=True))
    monkeypatch.setattr(trainer, "local_gpus", lambda: [])
    monkeypatch.setenv("WORKBENCH_CPU_BFLOAT16", "0")  # a CPU without bfloat16 units
    data = _mnist_subset(tmp_path / "digits.npz", 50)
    with pytest.raises(DistributeError, match="needs a GPU or a CPU with bfloat16 matrix units"):
        train(TrainConfig(template="simple_cnn", data=str(data), mixed_precision=True, out_dir=str(tmp_path / "run")))
    assert not (tmp_path / "run").exists()  # refused before anything was written

    spec = get_template("simple_cnn")
    model = MixedPrecision("mixed_float16").build(lambda: spec.build(3, None, spec.default_hparams()))
    assert keras.mixed_precision.global_policy().name == "float32"  # only the build saw the mixed policy
    assert model.get_layer("conv1").dtype_policy.name == "mixed_float16"
    assert model.output.dtype == "float32"  # the softmax's output is cast back for the loss
    copy = float32_copy(model)  # what model.keras holds: fast on a CPU
    assert {layer.dtype_policy.name for layer in copy.layers} == {"float32"}
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), copy.get_weights()))


def test_mixed_precision_default_is_bfloat16_on_a_cpu_with_bfloat16_units_only(tmp_path, monkeypatch):
    from workbench.core.templates import get_template
    from workbench.core.training.precision import cpu_has_bfloat16_units, resolve_mixed_precision

    mnist, audio = get_template("mnist_cnn"), get_template("audio_cnn")
    # requested (None: the machine's default), template, GPUs, CPU bfloat16 units -> policy
    assert resolve_mixed_precision(None, mnist, 0, True) == "mixed_bfloat16"
    assert resolve_mixed_precision(None, mnist, 0, False) is None
    assert resolve_mixed_precision(None, mnist, 1, True) is None  # float16 on a GPU: offered, not the default
    assert resolve_mixed_precision(True, mnist, 1, True) == "mixed_float16"
    assert resolve_mixed_precision(False, mnist, 0, True) is None
    assert resolve_mixed_precision(None, audio, 0, True) is None  # its front end stays in float32
    with pytest.raises(DistributeError, match="float32 only"):
        resolve_mixed_precision(True, audio, 0, True)
    for value, expected in (("1", True), ("0", False), ("off", False)):
        monkeypatch.setenv("WORKBENCH_CPU_BFLOAT16", value)
        assert cpu_has_bfloat16_units() is expected
    monkeypatch.delenv("WORKBENCH_CPU_BFLOAT16")
    flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "")
    assert cpu_has_bfloat16_units() == ("amx_bf16" in flags.split())


def test_the_cli_leaves_mixed_precision_to_the_machine_unless_told():
    from workbench.cli import build_parser, train_config_from_args

    def config(*extra):
        args = build_parser().parse_args(["train", "--template", "mnist_cnn", "--data", "somewhere", *extra])
        return train_config_from_args(args).mixed_precision

    assert (config(), config("--mixed-precision"), config("--no-mixed-precision")) == (None, True, False)


@pytest.mark.parametrize("bfloat16_units", ["1", "0"])
def test_a_run_trains_in_the_machines_default_precision_and_saves_a_float32_model(tmp_path, monkeypatch,
                                                                                  bfloat16_units):
    import keras

    import workbench.core.training.trainer as trainer
    from workbench.core.training import TrainConfig, train
    from workbench.core.training.resume import resume

    monkeypatch.setattr(trainer, "local_gpus", lambda: [])
    monkeypatch.setenv("WORKBENCH_CPU_BFLOAT16", bfloat16_units)  # both paths, on any CPU (emulated where absent)
    data = _mnist_subset(tmp_path / "digits.npz", 120)
    run = tmp_path / "run"
    result = train(TrainConfig(template="simple_cnn", data=str(data), out_dir=str(run),
                               hparams={"epochs": 1, "batch_size": 32}))
    assert result.status == "completed"
    recorded = json.loads((run / "model.json").read_text())["distribution"]
    mixed = bfloat16_units == "1"
    assert (recorded["mixed_precision"], recorded["compute_dtype"]) == (mixed, "bfloat16" if mixed else "float32")
    last = keras.models.load_model(run / "last.keras", compile=False)  # to resume: the policy it trained under
    assert last.get_layer("conv1").dtype_policy.name == ("mixed_bfloat16" if mixed else "float32")
    saved = keras.models.load_model(run / "model.keras", compile=False)  # to predict: float32 everywhere
    assert {layer.dtype_policy.name for layer in saved.layers} == {"float32"}

    monkeypatch.setenv("WORKBENCH_CPU_BFLOAT16", "0")  # resumed elsewhere: the run keeps its policy
    resumed = resume(run, epochs=2)
    assert resumed.status == "completed"
    recorded = json.loads((run / "model.json").read_text())["distribution"]
    assert recorded["compute_dtype"] == ("bfloat16" if mixed else "float32")
    saved = keras.models.load_model(run / "model.keras", compile=False)
    assert {layer.dtype_policy.name for layer in saved.layers} == {"float32"}


def test_the_device_that_trains_is_named(monkeypatch):
    import workbench.core.training.distribute as distribute

    monkeypatch.setattr(distribute, "local_gpus", lambda: [])
    assert distribute.make_distribution("none").device == "CPU:0"
    monkeypatch.setattr(distribute, "local_gpus", lambda: ["gpu0", "gpu1"])  # what TensorFlow would list
    monkeypatch.setattr(distribute, "_gpu_name", lambda index, device: f"GPU:{index} (Test GPU)")
    one = distribute.make_distribution("none")
    assert one.devices == ["GPU:0 (Test GPU)"] and one.strategy is None  # TensorFlow places the run there
    assert one.note == "1 of 2 GPUs trains; --distribute mirrored uses all"
    with pytest.raises(DistributeError, match="only on a machine without GPUs"):
        distribute.make_distribution("mirrored", cpu_replicas=2)


def test_the_plan_before_a_run_says_devices_global_batch_and_scaled_rate():
    from workbench.core.training.distribute import plan_distribution, scaling_text

    mirrored = plan_distribution("mirrored", (), 3)  # no GPU: CPU replicas, no TensorFlow needed
    assert (mirrored.device, mirrored.replicas, mirrored.learning_rate_scale) == ("3 × CPU", 3, 3.0)
    assert plan_distribution("mirrored", ("GPU:0 (T)", "GPU:1 (T)"), None).device == "2 × GPU (T)"
    assert plan_distribution("none", ("GPU:0 (T)", "GPU:1 (T)")).note.startswith("1 of 2 GPUs trains")
    assert plan_distribution("multi-worker", ()) is None  # the cluster decides
    assert scaling_text(64, 0.001, 2, 2.0) == "global batch 128 (64 per replica), learning rate 0.002 (2 × 0.001)"
    assert scaling_text(64, 0.001, 2, 2.0, per_replica=False) == "global batch 128, learning rate 0.002 (2 × 0.001)"
    assert scaling_text(64, 0.001, 1, 1.0) == "batch 64, learning rate 0.001"

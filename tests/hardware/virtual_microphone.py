"""A real microphone for tests and CI: a PulseAudio null sink whose monitor is the default source.

Whatever ``paplay --device=workbench_virtual_mic file.wav`` plays into the sink comes out of its
monitor source, which PortAudio records like any microphone: PortAudio → ALSA's ``default``/``pulse``
device (the ALSA pulse plugin, Debian's ``libasound2-plugins``) → PulseAudio → the monitor.

The server is our own, started for the test session in a private runtime folder:

- As root (CI containers, this machine) ``pulseaudio --daemonize=no --exit-idle-time=-1`` runs in
  per-user mode and only warns ("not intended to be run as root"); ``--system`` is the wrong tool:
  it wants the ``pulse`` user and /var/run/pulse, and forbids loading modules from clients, which
  the null sink needs.
- ``-n`` skips default.pa: no udev probing, no module-suspend-on-idle (an idle null sink is
  suspended and its monitor then delivers nothing; measured: the first samples arrived 2 s late and
  only 1.2 s of a 3.2 s recording came through), no restore databases written into $HOME.
- The socket lives in a fresh folder and ``PULSE_SERVER`` points every client there (pactl, paplay,
  and the ALSA pulse plugin inside PortAudio). Clients with the server's uid are let in by their
  socket credentials, so no cookie is involved, and tests that point XDG_CONFIG_HOME elsewhere
  still connect. A user's own sound server is never touched (its default source stays), and two
  test runs on one machine do not hear each other.
- The server is our child process (not ``-D``): teardown terminates and reaps it.

``WORKBENCH_PULSE_SERVER=unix:/path/native`` uses an already running server instead (the null sink is
still loaded and unloaded, and the previous default source restored).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SINK = "workbench_virtual_mic"
START_TIMEOUT_S = 15.0
INSTALL_HINT = ("Install the sound server and its tools: sudo apt-get install pulseaudio pulseaudio-utils "
                "libasound2-plugins libportaudio2 (or run `make system-deps` as root).")


class VirtualMicrophoneError(RuntimeError):
    """The virtual microphone could not be set up; the message says why."""


def _pactl(*args: str, check: bool = True) -> str:
    result = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=20)
    if check and result.returncode != 0:
        raise VirtualMicrophoneError(f"pactl {' '.join(args)} failed ({result.returncode}): "
                                     f"{(result.stderr or result.stdout).strip()}")
    return result.stdout.strip()


def refresh_portaudio() -> None:
    """Make an already imported sounddevice see the server (PortAudio lists devices once, at init)."""
    if "sounddevice" in sys.modules:
        sd = sys.modules["sounddevice"]
        sd._terminate()
        sd._initialize()


class VirtualMicrophone:
    """Start with :meth:`start`; :meth:`play` a file into it; :meth:`close` undoes everything."""

    def __init__(self) -> None:
        self.server = ""
        self.module_id = ""
        self._process: subprocess.Popen | None = None
        self._runtime: Path | None = None
        self._previous_env: str | None = None
        self._previous_source = ""

    @property
    def started_server(self) -> bool:
        return self._process is not None

    @property
    def source(self) -> str:
        return f"{SINK}.monitor"

    def start(self) -> VirtualMicrophone:
        missing = [tool for tool in ("pulseaudio", "pactl", "paplay") if shutil.which(tool) is None]
        existing = os.environ.get("WORKBENCH_PULSE_SERVER", "")
        if missing and not (existing and "pulseaudio" in missing and len(missing) == 1):
            raise VirtualMicrophoneError(f"Missing programs: {', '.join(missing)}. {INSTALL_HINT}")
        self._previous_env = os.environ.get("PULSE_SERVER")
        try:
            self.server = existing or self._start_server()
            os.environ["PULSE_SERVER"] = self.server
            self._previous_source = _pactl("get-default-source", check=False)
            self.module_id = _pactl("load-module", "module-null-sink", f"sink_name={SINK}",
                                    "sink_properties=device.description=Workbench_virtual_microphone")
            _pactl("set-default-source", self.source)
        except Exception:
            self.close()
            raise
        refresh_portaudio()
        return self

    def play(self, path: str | Path, wait: bool = True) -> subprocess.Popen | subprocess.CompletedProcess:
        """Play ``path`` into the virtual microphone with paplay (until it ends, unless ``wait=False``)."""
        path = Path(path)
        if not path.is_file():
            raise VirtualMicrophoneError(f"Expected a sound file to play. Received: {path} does not exist")
        command = ["paplay", f"--device={SINK}", str(path)]
        if not wait:
            return subprocess.Popen(command)
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise VirtualMicrophoneError(f"paplay failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def close(self) -> None:
        if self.module_id:
            _pactl("unload-module", self.module_id, check=False)
            self.module_id = ""
        if self._previous_source and not self.started_server and self._previous_source != self.source:
            _pactl("set-default-source", self._previous_source, check=False)
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None
        if self._runtime is not None:
            shutil.rmtree(self._runtime, ignore_errors=True)
            self._runtime = None
        if self._previous_env is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = self._previous_env

    def _start_server(self) -> str:
        self._runtime = Path(tempfile.mkdtemp(prefix="workbench-pulse-"))
        socket = self._runtime / "native"
        log = self._runtime / "pulseaudio.log"
        env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "PULSE_SERVER")}
        env.update(XDG_RUNTIME_DIR=str(self._runtime), PULSE_RUNTIME_PATH=str(self._runtime),
                   PULSE_STATE_PATH=str(self._runtime / "state"), XDG_CONFIG_HOME=str(self._runtime / "config"))
        command = ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--use-pid-file=no",
                   f"--log-target=file:{log}", f"--load=module-native-protocol-unix socket={socket}"]
        with open(os.devnull, "wb") as null:
            self._process = subprocess.Popen(command, env=env, stdout=null, stderr=null)
        server = f"unix:{socket}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            probe = subprocess.run(["pactl", f"--server={server}", "info"], capture_output=True, timeout=10)
            if probe.returncode == 0:
                return server
            time.sleep(0.1)
        code = self._process.poll()
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        raise VirtualMicrophoneError(
            f"PulseAudio did not start within {START_TIMEOUT_S:.0f} s (exit code {code}); command: "
            f"{' '.join(command)}\nIts log:\n{tail}\n{INSTALL_HINT}")

"""Screenshot of the Test panel's Microphone tab while a recording is "spoken" into it.

    xvfb-run -a .venv/bin/python packaging/screenshot_microphone.py [--out /tmp/shots]

It starts the tests' virtual microphone (a private PulseAudio server with a null sink as the default
source, see tests/hardware/virtual_microphone.py), opens the real window on the Microphone tab with
the shipped spoken-digit model (``WORKBENCH_AUDIO_MODEL`` overrides it), plays two recordings from
../shared/data/fsdd into the microphone (a "three", then a "seven"), waits for each answer and grabs
the window with the "seven" on screen.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FSDD = ROOT.parent / "shared" / "data" / "fsdd"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="workbench-shots-")
    os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_DATA_HOME"] = tmp  # a clean profile

    from tests.hardware.virtual_microphone import VirtualMicrophone

    microphone = VirtualMicrophone().start()
    try:
        return _shoot(args.out, microphone)
    finally:
        microphone.close()


def _shoot(out: Path, microphone) -> int:
    from PySide6.QtCore import QEventLoop, QTimer

    from workbench.core.resources import resource_path
    from workbench.gui.app import create_application
    from workbench.gui.main_window import MainWindow

    model = os.environ.get("WORKBENCH_AUDIO_MODEL") or str(resource_path("models", "spoken_digits.keras"))
    app = create_application([sys.argv[0]])
    window = MainWindow()
    window.resize(1360, 900)
    window.show()
    window.start_background_loading()

    def wait(signal=None, ms: int = 0) -> None:
        loop = QEventLoop()
        if signal is not None:
            signal.connect(loop.quit)
        if ms:
            QTimer.singleShot(ms, loop.quit)
        loop.exec()

    panel = window.test_panel
    window.tabs.setCurrentWidget(panel)
    window.state.set_model(model)
    panel.tabs.setCurrentWidget(panel.microphone)
    tab = panel.microphone
    while not tab.is_ready():
        wait(ms=200)
    wait(ms=800)  # the stream starts and the detector learns the room
    for name in ("3/3_theo_0.wav", "7/7_george_0.wav"):  # the last one stays on screen
        player = microphone.play(FSDD / name, wait=False)
        wait(tab.prediction_shown, ms=8000)
        player.wait()
        wait(ms=400)
    path = out / "microphone_tab.png"
    window.grab().save(str(path))
    print(f"saved {path}; prediction {tab.prediction_text()!r}; {tab.latency_text()}")
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""PyInstaller runtime hook: let sounddevice load the PortAudio the bundle carries.

sounddevice looks PortAudio up with ``ctypes.util.find_library("portaudio")``, which on Linux asks the
system's linker cache and ignores the bundle: without a system ``libportaudio2`` the Microphone tab
would have no sound. PyInstaller's sounddevice hook copies the build machine's library into the bundle
(``sys._MEIPASS``); this hook answers the look-up with that copy when it is there.
"""

import ctypes.util
import os
import sys


def _install() -> None:
    bundle = getattr(sys, "_MEIPASS", None)
    if not bundle:
        return
    candidates = sorted(name for name in os.listdir(bundle) if name.startswith("libportaudio.so"))
    if not candidates:
        return
    bundled = os.path.join(bundle, candidates[0])
    system_find_library = ctypes.util.find_library

    def find_library(name):
        if name == "portaudio":
            return bundled
        return system_find_library(name)

    ctypes.util.find_library = find_library


_install()

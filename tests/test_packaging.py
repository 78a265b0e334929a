"""The bundle's packaging files, checked without building anything (``make bundle`` builds and smoke-tests
the bundle itself): the desktop-entry installer, the PortAudio runtime hook, the smoke test's digits."""

from __future__ import annotations

import ctypes.util
import json
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
INSTALLER = PACKAGING / "install_desktop_entry.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _fake_executable(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "workbench"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return exe


def _install(script: Path, data_home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_DATA_HOME": str(data_home), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=30)


def _entry(data_home: Path) -> dict[str, str]:
    text = (data_home / "applications" / "cnn-workbench.desktop").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_installer_in_a_bundle_points_the_entry_at_the_bundles_executable(tmp_path):
    bundle = tmp_path / "my apps" / "workbench"  # a space: Exec= must quote the path
    exe = _fake_executable(bundle)
    (bundle / "share" / "applications").mkdir(parents=True)
    shutil.copy(PACKAGING / "workbench.desktop", bundle / "share" / "applications" / "cnn-workbench.desktop")
    icons = bundle / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True)
    shutil.copy(ROOT / "resources" / "icons" / "cnn-workbench.svg", icons)
    shutil.copy(INSTALLER, bundle / "install-desktop-entry.sh")
    data_home = tmp_path / "share"

    result = _install(bundle / "install-desktop-entry.sh", data_home)

    assert result.returncode == 0, result.stderr
    entry = _entry(data_home)
    assert entry["Exec"] == f'"{exe}"'
    assert entry["TryExec"] == str(exe)
    assert entry["Icon"] == "cnn-workbench"
    assert entry["Terminal"] == "false"
    icon = data_home / "icons" / "hicolor" / "scalable" / "apps" / "cnn-workbench.svg"
    assert icon.read_bytes() == (ROOT / "resources" / "icons" / "cnn-workbench.svg").read_bytes()

    removed = _install(bundle / "install-desktop-entry.sh", data_home, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not (data_home / "applications" / "cnn-workbench.desktop").exists()
    assert not icon.exists()


def test_installer_in_a_checkout_takes_the_executable_given(tmp_path):
    exe = _fake_executable(tmp_path / "venv" / "bin")
    data_home = tmp_path / "share"

    result = _install(INSTALLER, data_home, str(exe))

    assert result.returncode == 0, result.stderr
    assert _entry(data_home)["Exec"] == f'"{exe}"'
    assert (data_home / "icons" / "hicolor" / "scalable" / "apps" / "cnn-workbench.svg").is_file()


def test_installer_without_an_executable_says_how_to_name_one(tmp_path):
    result = _install(INSTALLER, tmp_path / "share", str(tmp_path / "missing" / "workbench"))

    assert result.returncode == 1
    assert "pass its path" in result.stderr
    assert not (tmp_path / "share" / "applications").exists()


def test_portaudio_hook_answers_with_the_bundled_library(tmp_path, monkeypatch):
    library = tmp_path / "libportaudio.so.2"
    library.write_bytes(b"")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"system-{name}")

    runpy.run_path(str(PACKAGING / "pyi_rth_portaudio.py"))

    assert ctypes.util.find_library("portaudio") == str(library)
    assert ctypes.util.find_library("sndfile") == "system-sndfile"


def test_portaudio_hook_does_nothing_outside_a_bundle(monkeypatch):
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    original = ctypes.util.find_library

    runpy.run_path(str(PACKAGING / "pyi_rth_portaudio.py"))

    assert ctypes.util.find_library is original


def test_smoke_test_digits_are_the_replayed_hand_drawn_ones():
    smoke = runpy.run_path(str(PACKAGING / "bundle_smoke.py"))  # the module; __main__ does not run
    replay = json.loads((ROOT / "tests" / "data" / "strokes" / "digits_replay.json").read_text())
    for label, strokes in smoke["DIGITS"]:
        original = next(e["strokes"] for e in replay if e["label"] == label)
        assert [len(s) for s in strokes] == [len(s) for s in original]
        flat = [c for s in strokes for p in s for c in p]
        flat_original = [c for s in original for p in s for c in p]
        assert flat == pytest.approx(flat_original, abs=6e-4)


def test_spec_names_files_that_exist():
    spec = (PACKAGING / "workbench.spec").read_text()
    for name in ("bundle_entry.py", "pyi_rth_portaudio.py", "workbench.desktop", "install_desktop_entry.sh"):
        assert f'"{name}"' in spec
        assert (PACKAGING / name).is_file()
    assert (ROOT / "resources" / "icons" / "cnn-workbench.svg").is_file()
    assert '"demos"' in spec and '"tests"' in spec

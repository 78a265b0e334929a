"""The virtual microphone for the hardware tests (see ``virtual_microphone.py`` for how and why).

If the sound server cannot be started the tests FAIL with the reason: CI installs PulseAudio
(``make system-deps``), so a missing server is a broken setup, not a reason to skip.
"""

from __future__ import annotations

import pytest

from tests.hardware.virtual_microphone import VirtualMicrophone, VirtualMicrophoneError


@pytest.fixture(scope="session")
def virtual_microphone():
    """A started :class:`VirtualMicrophone`: ``virtual_microphone.play(path)`` speaks into it."""
    microphone = VirtualMicrophone()
    try:
        microphone.start()
    except VirtualMicrophoneError as exc:
        pytest.fail(f"The virtual microphone could not be set up: {exc}", pytrace=False)
    yield microphone
    microphone.close()

"""Keep the GUI thread first in line for the CPU while background threads compute.

On Linux, niceness is per thread and inherited by the threads a thread creates. Background workers
(and the thread that starts TensorFlow's compute pools) run at a lower priority, so on a busy
2-core machine the event loop still gets the CPU within a scheduler tick; when the GUI is idle they
lose nothing.
"""

from __future__ import annotations

import os
import sys
import threading

BACKGROUND_NICENESS = 5


def lower_current_thread_priority(niceness: int = BACKGROUND_NICENESS) -> bool:
    """Lower the calling thread's priority; returns whether it was changed (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False  # elsewhere PRIO_PROCESS takes a process id, not a thread id
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current < niceness:
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
        return True
    except (OSError, AttributeError):
        return False

"""What every ``workbench`` command shares: exit statuses, JSON results on stdout, ``--hparam`` pairs."""

from __future__ import annotations

import json
from typing import Any

from workbench.core.errors import WorkbenchError

EXIT_USAGE = 2
EXIT_BUG = 1


def print_json(data: Any) -> None:
    print(json.dumps(data), flush=True)


def hparam_pairs(pairs: list[str] | None) -> dict[str, str]:
    overrides = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise WorkbenchError(f"Expected --hparam key=value. Received: {pair!r}")
        overrides[key.strip()] = value.strip()
    return overrides

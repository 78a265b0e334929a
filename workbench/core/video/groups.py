"""Groups in video file names: clips cut from one recording must stay on one side of a split.

UCF101 (and datasets named after it) call clips ``v_<Class>_g<GG>_c<CC>.avi``: group ``gGG`` is one
person or scene, and its clips ``cCC`` are pieces of the same footage. Validating on clips whose
siblings were trained on measures memory, not recognition, so the scan offers a group split when
the names show groups: :func:`suggested_group_regex`.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

#: (pattern a whole file name must match, the group regex to suggest), most specific first.
NAMING_SCHEMES = (
    (re.compile(r"^v_.+_g(\d+)_c\d+\.\w+$"), r"_g(\d+)_"),  # UCF101
    (re.compile(r"(?:^|[_\-])(?:person|subject|actor|group)[_\-]?(\d+)(?=[_\-.])", re.IGNORECASE),
     r"(?i)(?:person|subject|actor|group)[_-]?(\d+)"),
)
#: Share of the file names that must follow a scheme for it to be offered.
MIN_SHARE = 0.9


def suggested_group_regex(report: Any) -> str | None:
    """The ``--group-regex`` that a dataset's file names call for, or None when they show no groups.

    ``report`` is a :class:`~workbench.core.data.scan.ScanReport` (anything with ``files``). A scheme
    is offered when at least 90 % of the names follow it, every name the group regex will be applied
    to has a group, there are 2 groups or more, and some group holds several clips (else groups are
    just clips).
    """
    names = [Path(f).name for f in getattr(report, "files", []) or []]
    if len(names) < 2:
        return None
    for scheme, regex in NAMING_SCHEMES:
        matched = [scheme.search(n) for n in names]
        if sum(m is not None for m in matched) < MIN_SHARE * len(names):
            continue
        pattern = re.compile(regex)
        groups = [pattern.search(n) for n in names]
        if any(g is None for g in groups):
            continue
        counts = Counter(g.group(1) for g in groups)
        if len(counts) >= 2 and max(counts.values()) >= 2:
            return regex
    return None

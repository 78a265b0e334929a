"""Entry point of the PyInstaller bundle (``dist/workbench/workbench``, built by ``make bundle``).

The same as the ``workbench`` console script (the app, or a command: ``workbench predict …``), plus
``workbench --smoke-test``, which only the bundle has: ``packaging/bundle_smoke.py`` (start, draw a digit
on the shipped model, close). ``freeze_support`` first, in case anything in the bundle starts a
``multiprocessing`` child (the app trains in its own process when frozen).
"""

from __future__ import annotations

import multiprocessing
import sys


def main() -> int:
    multiprocessing.freeze_support()
    argv = sys.argv[1:]
    if argv[:1] == ["--smoke-test"]:
        from bundle_smoke import main as smoke_test

        return smoke_test(argv[1:])
    from workbench.__main__ import main as workbench_main

    return workbench_main(argv)


if __name__ == "__main__":
    sys.exit(main())

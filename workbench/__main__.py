"""``workbench`` opens the desktop app (``workbench --safe-start``: without restoring the last session);
``workbench <command> …`` runs the headless CLI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv == ["--safe-start"]:
        try:
            from workbench.gui.app import run_app
        except ImportError as exc:
            print(f"workbench: the desktop app cannot start ({exc}). The command line works: workbench --help",
                  file=sys.stderr)
            return 2
        return run_app([sys.argv[0] if sys.argv else "workbench"], safe_start=bool(argv))
    from workbench.cli import run_cli

    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())

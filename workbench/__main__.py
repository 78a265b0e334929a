"""``workbench`` opens the desktop app (``workbench --safe-start``: without restoring the last session;
``--verbose``: with TensorFlow's own start-up log lines); ``workbench <command> …`` runs the headless
CLI; ``workbench --version`` prints the version."""

from __future__ import annotations

import sys

#: The options that still open the app rather than the command line.
APP_OPTIONS = ("--safe-start", "--verbose")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if all(arg in APP_OPTIONS for arg in argv):
        if "--verbose" in argv:
            from workbench.tf_quiet import set_verbose

            set_verbose(True)
        try:
            from workbench.gui.app import run_app
        except ImportError as exc:
            print(f"workbench: the desktop app cannot start ({exc}). The command line works: workbench --help",
                  file=sys.stderr)
            return 2
        return run_app([sys.argv[0] if sys.argv else "workbench"], safe_start="--safe-start" in argv)
    from workbench.cli import run_cli

    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())

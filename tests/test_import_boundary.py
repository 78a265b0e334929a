"""The core and the CLI never pull in Qt, pyqtgraph or the GUI.

import-linter checks the static import graph (second test); the first tests check what really ends up
in ``sys.modules`` when every core module, the CLI and ``python -m workbench templates`` are loaded
in a fresh interpreter — this also catches lazy imports inside functions that the graph cannot see.
Everything runs in one subprocess because importing the core loads TensorFlow (seconds).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph", "workbench.gui")

_PROBE = textwrap.dedent(
    r'''
    import contextlib, importlib, importlib.util, io, json, pathlib, pkgutil, runpy, sys, traceback

    FORBIDDEN = tuple(json.loads(sys.argv[2]))
    report = {"stages": {}}

    def offenders():
        return sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in FORBIDDEN))

    def stage(name, **info):
        report["stages"][name] = dict(info, offenders=offenders())

    # 1. workbench.core and every module under it.
    import workbench.core

    core_dir = pathlib.Path(workbench.core.__file__).parent
    names, walk_errors = set(), []

    def on_walk_error(name):  # called inside the except block of the failed package import
        walk_errors.append(f"--- {name}\n{traceback.format_exc()}")

    try:
        for info in pkgutil.walk_packages(workbench.core.__path__, "workbench.core.",
                                          onerror=on_walk_error):
            names.add(info.name)
    except Exception:
        walk_errors.append(traceback.format_exc())
    # pkgutil does not descend into folders without __init__.py (namespace packages), so walk the
    # files too: nothing under core may be skipped silently.
    for path in core_dir.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(core_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            names.add("workbench.core." + ".".join(parts))
    # Importing a __main__ module would run it; none is expected under core.
    skipped = sorted(n for n in names if n.rsplit(".", 1)[-1] == "__main__")
    import_errors, culprits = {}, {}
    for name in sorted(set(names) - set(skipped)):
        before = set(offenders())
        try:
            importlib.import_module(name)
        except BaseException:
            import_errors[name] = traceback.format_exc()
        brought_in = sorted(set(offenders()) - before)
        if brought_in:
            culprits[name] = brought_in
    stage("core", modules=sorted(names), skipped=skipped, walk_errors=walk_errors,
          import_errors=import_errors, culprits=culprits)

    # 2. workbench.cli, if it exists yet.
    if importlib.util.find_spec("workbench.cli") is None:
        stage("cli", present=False)
    else:
        try:
            importlib.import_module("workbench.cli")
            stage("cli", present=True, error=None)
        except BaseException:
            stage("cli", present=True, error=traceback.format_exc())

    # 3. The equivalent of `python -m workbench templates`, if workbench/__main__.py exists yet.
    if importlib.util.find_spec("workbench.__main__") is None:
        stage("main", present=False)
    else:
        out, err, code, error = io.StringIO(), io.StringIO(), 0, None
        saved_argv = sys.argv[:]
        sys.argv = ["workbench", "templates"]
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                runpy.run_module("workbench", run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            error = traceback.format_exc()
        finally:
            sys.argv = saved_argv
        stage("main", present=True, exit_code=code, error=error,
              stdout=out.getvalue()[-4000:], stderr=err.getvalue()[-4000:])

    pathlib.Path(sys.argv[1]).write_text(json.dumps(report))
    '''
)


@pytest.fixture(scope="module")
def boundary_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the probe once in a fresh interpreter and return its JSON report."""
    out = tmp_path_factory.mktemp("import_boundary") / "report.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), json.dumps(FORBIDDEN_PREFIXES)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0 or not out.is_file():
        pytest.fail(
            f"The import probe crashed (exit {proc.returncode}).\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
    return json.loads(out.read_text())


def _assert_no_offenders(stage: dict, what: str) -> None:
    offenders = stage["offenders"]
    if offenders:
        print(f"Forbidden modules loaded after {what}:", *offenders, sep="\n  ")
    # The full list is printed above; the message names the top-level packages and who loaded them.
    roots = sorted({m for m in offenders if not any(m.startswith(o + ".") for o in offenders)})
    culprits = {mod: [m for m in new if m in roots] for mod, new in stage.get("culprits", {}).items()}
    assert not offenders, (
        f"After {what}, {len(offenders)} forbidden modules are loaded: {roots}"
        + (f"; first loaded by {culprits}" if culprits else "")
    )


def test_every_core_module_imports_without_qt(boundary_report: dict) -> None:
    core = boundary_report["stages"]["core"]
    assert "workbench.core.templates.registry" in core["modules"], core["modules"]
    assert not core["skipped"], f"Refusing to import these __main__ modules: {core['skipped']}"
    assert not core["walk_errors"], "Core packages failed to import:\n" + "\n".join(core["walk_errors"])
    assert not core["import_errors"], "Core modules failed to import:\n" + "\n".join(
        f"--- {name}\n{tb}" for name, tb in core["import_errors"].items()
    )
    _assert_no_offenders(core, "importing every workbench.core module")


def test_cli_imports_without_qt(boundary_report: dict) -> None:
    cli = boundary_report["stages"]["cli"]
    if not cli["present"]:
        pytest.skip("workbench/cli.py does not exist yet")
    assert cli["error"] is None, f"import workbench.cli failed:\n{cli['error']}"
    _assert_no_offenders(cli, "import workbench.cli")


def test_templates_command_runs_without_qt(boundary_report: dict) -> None:
    main = boundary_report["stages"]["main"]
    if not main["present"]:
        pytest.skip("workbench/__main__.py does not exist yet")
    assert main["error"] is None, f"python -m workbench templates raised:\n{main['error']}"
    assert main["exit_code"] == 0, (
        f"python -m workbench templates exited with {main['exit_code']}.\n"
        f"stdout:\n{main['stdout']}\nstderr:\n{main['stderr']}"
    )
    _assert_no_offenders(main, "python -m workbench templates")


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, f"lint-imports not found next to {sys.executable}; install the test extra"
    proc = subprocess.run([exe, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    if (
        proc.returncode != 0
        and "Module 'workbench.cli' does not exist" in output
        and not (REPO / "workbench" / "cli.py").exists()
    ):
        pytest.skip("the import-linter contract names workbench.cli, which does not exist yet")
    assert proc.returncode == 0, f"lint-imports failed (exit {proc.returncode}):\n{output}"

#!/usr/bin/env bash
# Packaging smoke test: build the wheel and check it carries what an installed app needs —
# the shipped resources (force-included as workbench/resources), the core template registry, the
# `workbench` console script and the `workbench.templates` entry-point group.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "smoke_test: $VENV/bin/python not found; run 'make venv' first." >&2
    exit 1
fi

WHEEL_DIR="$(mktemp -d)"
trap 'rm -rf "$WHEEL_DIR"' EXIT

"$VENV/bin/pip" wheel --no-deps --quiet . -w "$WHEEL_DIR"

"$VENV/bin/python" - "$WHEEL_DIR" <<'PY'
import configparser
import pathlib
import sys
import zipfile

wheels = sorted(pathlib.Path(sys.argv[1]).glob("*.whl"))
if len(wheels) != 1:
    sys.exit(f"smoke_test: expected one wheel. Received: {[w.name for w in wheels]}")
wheel = wheels[0]
names = zipfile.ZipFile(wheel).namelist()
problems = []

def need(condition, message):
    if not condition:
        problems.append(message)

need(any(n.startswith("workbench/resources/") for n in names), "no workbench/resources/ entries")
need("workbench/resources/icons/cnn-workbench.svg" in names, "no workbench/resources/icons/cnn-workbench.svg")
need("workbench/core/templates/registry.py" in names, "no workbench/core/templates/registry.py")
need(not any(n.startswith(("tests/", "resources/", ".venv/")) for n in names),
     "checkout-only folders (tests/, resources/, .venv/) at the top level of the wheel")

ep_files = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
need(len(ep_files) == 1, f"expected one entry_points.txt. Received: {ep_files}")
if ep_files:
    entry_points = configparser.ConfigParser(delimiters=("=",))
    entry_points.optionxform = str  # entry-point names are case-sensitive
    entry_points.read_string(zipfile.ZipFile(wheel).read(ep_files[0]).decode())
    need(entry_points.has_section("workbench.templates") and entry_points.options("workbench.templates"),
         "no entry points in group workbench.templates")
    need(entry_points.has_option("console_scripts", "workbench"), "no 'workbench' console script")

resources = sum(n.startswith("workbench/resources/") for n in names)
if problems:
    print(f"smoke_test: FAILED for {wheel.name}:", *problems, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"smoke_test: OK — {wheel.name}: {len(names)} files, {resources} under workbench/resources/")
PY

#!/usr/bin/env bash
# Smoke test of the PyInstaller bundle (`make bundle` runs it after building):
#
#   bash packaging/bundle_smoke_test.sh [BUNDLE_DIR]      # default dist/workbench
#
# 1. the bundle holds the executable, the shipped models and icons, the desktop entry and its installer;
# 2. `workbench --version` and, where ../shared/data has them, `workbench predict` on a digit image and a
#    spoken digit, with the bundle's own models;
# 3. under Xvfb: `workbench --smoke-test` (packaging/bundle_smoke.py) starts the app, draws digits on the
#    Draw tab for the shipped digit model, checks the prediction shown, closes the window; it must exit 0
#    within SMOKE_TIMEOUT_S, without a crash or Qt's "QThread: Destroyed while thread is still running".
# With SMOKE_RUNS=N the app test runs N times (start-up times to compare). Runs in a temporary HOME: the
# user's settings and recent files are never read or written.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUNDLE="${1:-dist/workbench}"
EXE="$BUNDLE/workbench"
MODELS="$BUNDLE/_internal/workbench/resources/models"
SHARED_DATA="${SHARED_DATA:-../shared/data}"
SMOKE_RUNS="${SMOKE_RUNS:-1}"
SMOKE_TIMEOUT_S="${SMOKE_TIMEOUT_S:-600}"

fail() { echo "bundle_smoke_test: FAILED: $*" >&2; exit 1; }

[[ -x "$EXE" ]] || fail "$EXE is missing (build it with: make bundle)"
for file in "$MODELS/digits.keras" "$MODELS/digits.json" "$MODELS/spoken_digits.keras" \
        "$BUNDLE/_internal/workbench/resources/icons/cnn-workbench.svg" \
        "$BUNDLE/share/applications/cnn-workbench.desktop" \
        "$BUNDLE/share/icons/hicolor/scalable/apps/cnn-workbench.svg" "$BUNDLE/install-desktop-entry.sh"; do
    [[ -f "$file" ]] || fail "$file is missing from the bundle"
done
echo "bundle_smoke_test: $BUNDLE: $(du -sh "$BUNDLE" | cut -f1), models, icons and desktop entry present"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
    XDG_CACHE_HOME="$work/home/.cache" XDG_RUNTIME_DIR="$work/runtime"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

echo "bundle_smoke_test: \$ workbench --version"
"$EXE" --version

# The first file named $2 under $1, or nothing (no folder: no error; sed reads all: no SIGPIPE).
first_file() { { find "$1" -type f -name "$2" 2>/dev/null || true; } | sort | sed -n 1p; }
image="$(first_file "$SHARED_DATA/mnist/folders_small/7" '*.png')"
sound="$(first_file "$SHARED_DATA/fsdd/4" '4_jackson_*.wav')"
if [[ -n "$image" ]]; then
    echo "bundle_smoke_test: \$ workbench predict --model digits.keras $image"
    QT_QPA_PLATFORM=offscreen "$EXE" predict --model "$MODELS/digits.keras" "$image" | tee "$work/image.txt"
    grep -q ": 7 " "$work/image.txt" || fail "the digit model did not read the 7 in $image"
else
    echo "bundle_smoke_test: no $SHARED_DATA/mnist/folders_small: skipping the image prediction"
fi
if [[ -n "$sound" ]]; then
    echo "bundle_smoke_test: \$ workbench predict --model spoken_digits.keras $sound"
    QT_QPA_PLATFORM=offscreen "$EXE" predict --model "$MODELS/spoken_digits.keras" "$sound" | tee "$work/sound.txt"
    grep -q ": 4 " "$work/sound.txt" || fail "the spoken-digit model did not hear the 4 in $sound"
else
    echo "bundle_smoke_test: no $SHARED_DATA/fsdd: skipping the sound prediction"
fi

for run in $(seq 1 "$SMOKE_RUNS"); do
    echo "bundle_smoke_test: \$ xvfb-run -a workbench --smoke-test   (run $run of $SMOKE_RUNS)"
    rc=0
    timeout --kill-after=10 "$SMOKE_TIMEOUT_S" xvfb-run -a -s "-screen 0 1600x1000x24" "$EXE" --smoke-test \
        >"$work/smoke.log" 2>&1 || rc=$?
    grep -E '^smoke ' "$work/smoke.log" || true
    if [[ $rc -ne 0 ]] || ! grep -q '^smoke .*PASSED' "$work/smoke.log"; then
        echo "--- the app's output (last 40 lines):" >&2
        tail -n 40 "$work/smoke.log" >&2
        fail "workbench --smoke-test exited with $rc"
    fi
    if grep -E 'QThread: Destroyed|Segmentation fault|Fatal Python error|core dumped' "$work/smoke.log" >&2; then
        fail "the app did not close cleanly (see the lines above)"
    fi
done
echo "bundle_smoke_test: OK"

#!/usr/bin/env bash
# Install (or, with --uninstall, remove) CNN Workbench's desktop entry and icon for the current user,
# under ${XDG_DATA_HOME:-~/.local/share}: applications/cnn-workbench.desktop and
# icons/hicolor/scalable/apps/cnn-workbench.svg.
#
#   dist/workbench/install-desktop-entry.sh         the bundle (make bundle): Exec= the bundle's executable
#   packaging/install_desktop_entry.sh [EXECUTABLE]  a checkout: Exec= EXECUTABLE, else `workbench` on PATH
#
# The entry's Exec= is written as an absolute path, so the menu finds the app even when the desktop
# session's PATH does not hold it (a virtual environment, a bundle unpacked anywhere).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
desktop_target="$data_home/applications/cnn-workbench.desktop"
icon_target="$data_home/icons/hicolor/scalable/apps/cnn-workbench.svg"

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$data_home/applications" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$data_home/icons/hicolor" 2>/dev/null || true
    fi
}

if [[ "${1:-}" == "--uninstall" ]]; then
    rm -f "$desktop_target" "$icon_target"
    refresh_caches
    echo "Removed $desktop_target and $icon_target"
    exit 0
fi

first_file() {
    for candidate in "$@"; do
        if [[ -f "$candidate" ]]; then echo "$candidate"; return 0; fi
    done
    return 1
}

# The bundle keeps the two files under share/; a checkout has them in packaging/ and resources/icons/.
desktop_source="$(first_file "$here/share/applications/cnn-workbench.desktop" "$here/workbench.desktop")" || {
    echo "install-desktop-entry: no cnn-workbench.desktop or workbench.desktop next to $0" >&2; exit 1; }
icon_source="$(first_file "$here/share/icons/hicolor/scalable/apps/cnn-workbench.svg" \
    "$here/../resources/icons/cnn-workbench.svg")" || {
    echo "install-desktop-entry: no cnn-workbench.svg next to $0" >&2; exit 1; }

if [[ $# -ge 1 ]]; then
    executable="$1"
elif [[ -f "$here/workbench" && -x "$here/workbench" ]]; then
    executable="$here/workbench"
else
    executable="$(command -v workbench || true)"
fi
if [[ -z "$executable" || ! -x "$executable" ]]; then
    echo "install-desktop-entry: no workbench executable found; pass its path: $0 /path/to/workbench" >&2
    exit 1
fi
executable="$(cd "$(dirname "$executable")" && pwd)/$(basename "$executable")"
case "$executable" in
    *[\"\`\$\\%]*)
        echo "install-desktop-entry: the path $executable has a character a desktop entry cannot quote" >&2
        exit 1 ;;
esac

mkdir -p "$(dirname "$desktop_target")" "$(dirname "$icon_target")"
escaped="${executable//&/\\&}"  # '&' and the delimiter '|' are special in sed's replacement
escaped="${escaped//|/\\|}"
sed -e "s|^Exec=.*|Exec=\"$escaped\"|" -e "/^TryExec=/d" "$desktop_source" > "$desktop_target.tmp"
echo "TryExec=$executable" >> "$desktop_target.tmp"
mv "$desktop_target.tmp" "$desktop_target"
install -m644 "$icon_source" "$icon_target"
refresh_caches
echo "Installed $desktop_target (Exec=\"$executable\") and $icon_target"

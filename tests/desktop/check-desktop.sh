#!/bin/sh
# The desktop files agree with DESIGN.md and with each other: the search
# provider names our desktop file, our bus name and the object buzond
# exports; the desktop file is hidden and declares notifications.
# Usage: check-desktop.sh DESKTOP_FILE SEARCH_PROVIDER_INI
set -eu
desktop=$1 ini=$2
fail() { echo "FAIL: $*"; exit 1; }
grep -qx 'NoDisplay=true' "$desktop" || fail "$desktop: NoDisplay=true missing"
grep -qx 'X-GNOME-UsesNotifications=true' "$desktop" || fail "$desktop: X-GNOME-UsesNotifications=true missing"
grep -q '^Exec=/.*/buzond$' "$desktop" || fail "$desktop: Exec is not an absolute path to buzond"
grep -qx '\[Shell Search Provider\]' "$ini" || fail "$ini: no [Shell Search Provider] group"
grep -qx "DesktopId=$(basename "$desktop")" "$ini" || fail "$ini: DesktopId is not $(basename "$desktop")"
grep -qx 'BusName=org.buzon.Agent1' "$ini" || fail "$ini: wrong BusName"
grep -qx 'ObjectPath=/org/buzon/Agent1/SearchProvider' "$ini" || fail "$ini: wrong ObjectPath"
grep -qx 'Version=2' "$ini" || fail "$ini: not Version=2"
echo "ok: $(basename "$desktop") and $(basename "$ini") agree"

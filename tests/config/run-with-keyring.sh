#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs "$@" on a private D-Bus session bus with a fresh gnome-keyring-daemon
# whose "login" keyring is created and unlocked, all inside a temporary
# HOME. Nothing touches the user's real keyring.
#
# Headless notes: gnome-keyring-daemon --unlock reads the login password
# from stdin; with an EMPTY password it does not create the login keyring
# and later stores ask gcr-prompter for one (no display: they fail), so a
# fixed non-empty throwaway password is used. The daemon exits by itself
# when the private bus goes away; `timeout` bounds the whole run.
set -eu

tmp=$(mktemp -d "${TMPDIR:-/tmp}/buzon-keyring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$tmp/home" "$tmp/run"
chmod 700 "$tmp/run"

export HOME="$tmp/home"
export XDG_DATA_HOME="$tmp/home/.local/share"
export XDG_CONFIG_HOME="$tmp/home/.config"
export XDG_CACHE_HOME="$tmp/home/.cache"
export XDG_RUNTIME_DIR="$tmp/run"
unset GNOME_KEYRING_CONTROL SSH_AUTH_SOCK DISPLAY WAYLAND_DISPLAY

status=0
timeout --kill-after=5 "${BUZON_KEYRING_TIMEOUT:-100}" \
  dbus-run-session -- sh -c '
    printf "%s" buzon-test-keyring |
      gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null ||
      { echo "run-with-keyring: gnome-keyring-daemon failed to start" >&2; exit 1; }
    exec "$@"' sh "$@" || status=$?
exit "$status"

#!/bin/sh
# With LANGUAGE=es and a Spanish locale, buzonctl status, usage errors
# of buzonctl (status, search, authorize), errors buzond answers over
# D-Bus (Sync of a disabled account, Search of an unknown account) and a
# config error of buzond --once speak Spanish, from
# the catalogue built in this build tree (BUZON_TEST_LOCALEDIR, a
# test-hooks build only). The locale is compiled with localedef into a
# private LOCPATH, so no root and no system locale are needed.
# Run inside dbus-run-session. Usage: test-spanish.sh BUZOND BUZONCTL BUILD_PO_DIR
set -eu
buzond=$1
buzonctl=$2
podir=$3
tmp=$(mktemp -d)
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -f "$podir/es/LC_MESSAGES/buzon.mo" ] || fail "no $podir/es/LC_MESSAGES/buzon.mo (not built?)"
mkdir -p "$tmp/locale" "$tmp/config/buzon" "$tmp/data" "$tmp/home"
localedef -i es_ES -f UTF-8 "$tmp/locale/es_ES.UTF-8" ||
  fail "localedef could not build es_ES.UTF-8 (Debian: the locales package)"

export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
export BUZON_TEST_LOCALEDIR="$podir"
spanish() { env LOCPATH="$tmp/locale" LC_ALL=es_ES.UTF-8 LANGUAGE=es "$@"; }
english() { env LC_ALL=C LANGUAGE= "$@"; }

# An account that never syncs: status shows its state and "never".
cat > "$tmp/config/buzon/accounts.conf" <<CONF
[account casa]
host = localhost
user = ana
enabled = false
CONF
spanish "$buzond" > "$tmp/buzond.log" 2>&1 &
daemon_pid=$!
tries=0
until spanish "$buzonctl" status > "$tmp/status.es" 2> "$tmp/status.err"; do
  tries=$((tries + 1))
  [ $tries -lt 300 ] || { cat "$tmp/buzond.log" "$tmp/status.err" >&2; fail "buzond did not answer"; }
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/buzond.log" >&2; fail "buzond exited"; }
  sleep 0.1
done
english "$buzonctl" status > "$tmp/status.en"
echo "--- buzonctl status, es:"; cat "$tmp/status.es"
echo "--- buzonctl status, C:"; cat "$tmp/status.en"
grep -q "^CUENTA  *ESTADO  *ÚLTIMA SINCRONIZACIÓN  *GUARDADOS  *PRÓXIMA SINCRONIZACIÓN  *ERROR" \
  "$tmp/status.es" || fail "status header not in Spanish"
grep -q "^casa  *desactivada  *nunca  *0 " "$tmp/status.es" || fail "status row not in Spanish"
grep -q "^ACCOUNT  *STATE  *LAST SYNC" "$tmp/status.en" || fail "status in C is not English"
grep -q "^casa  *disabled  *never" "$tmp/status.en" || fail "status row in C is not English"
# a usage error of buzonctl, on stderr
spanish "$buzonctl" status extra 2> "$tmp/usage.es" && fail "status extra succeeded"
cat "$tmp/usage.es"
grep -q "argumento inesperado «extra»" "$tmp/usage.es" || fail "usage error not in Spanish"
spanish "$buzonctl" search 2> "$tmp/search-usage.es" && fail "search without QUERY succeeded"
cat "$tmp/search-usage.es"
grep -q "^buzonctl search: falta la CONSULTA" "$tmp/search-usage.es" ||
  fail "search usage error not in Spanish"
spanish "$buzonctl" authorize 2> "$tmp/authorize-usage.es" && fail "authorize without ACCOUNT succeeded"
cat "$tmp/authorize-usage.es"
grep -q "^buzonctl authorize: indique exactamente una CUENTA" "$tmp/authorize-usage.es" ||
  fail "authorize usage error not in Spanish"
spanish "$buzonctl" authorize casa 2> "$tmp/authorize.es" && fail "authorize of a password account succeeded"
cat "$tmp/authorize.es"
grep -q "^buzonctl: la cuenta casa inicia sesión con una contraseña" "$tmp/authorize.es" ||
  fail "authorize error not in Spanish"
# errors that buzond itself writes (D-Bus errors), in buzond's language
spanish "$buzonctl" sync casa 2> "$tmp/sync.es" && fail "sync of a disabled account succeeded"
cat "$tmp/sync.es"
grep -q "la cuenta casa está desactivada (enabled = false)" "$tmp/sync.es" ||
  fail "buzond's sync error not in Spanish"
spanish "$buzonctl" search --account nadie hola 2> "$tmp/search.es" &&
  fail "search of an unknown account succeeded"
cat "$tmp/search.es"
grep -q "no hay ninguna cuenta llamada «nadie» en " "$tmp/search.es" ||
  fail "buzond's search error not in Spanish"
kill "$daemon_pid"
wait "$daemon_pid" || true
daemon_pid=

# A config error of buzond --once: exit 2, the message in Spanish.
cat > "$tmp/config/buzon/accounts.conf" <<CONF
[account casa]
host = localhost
user = ana
colour = blue
CONF
status=0
spanish "$buzond" --once 2> "$tmp/once.es" || status=$?
echo "--- buzond --once, es (exit $status):"; cat "$tmp/once.es"
[ $status -eq 2 ] || fail "buzond --once exited $status, not 2"
grep -q "accounts.conf: \[account casa\] colour = blue: clave desconocida; se esperaba una de estas: " \
  "$tmp/once.es" || fail "config error not in Spanish"
english "$buzond" --once 2> "$tmp/once.en" || true
grep -q "colour = blue: unknown key; expected one of" "$tmp/once.en" || fail "config error in C is not English"
# and --help
spanish "$buzond" --help > "$tmp/help.es"
grep -q "Sincronizar una vez cada cuenta activada" "$tmp/help.es" || fail "buzond --help not in Spanish"
echo "ok"

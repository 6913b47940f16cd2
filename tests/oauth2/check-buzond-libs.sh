#!/bin/sh
# check-buzond-libs.sh BUZOND MODULE
# buzond must not link libsoup, json-glib or the libraries they bring
# (krb5, nghttp2, brotli, psl...): ~1.2 MB and ~1.5 ms in every buzond.
# They belong to the token endpoint's module (agent/oauth2/
# bz-oauth2-module.h), which buzond loads only to fetch a token from a
# provider. Fails when a change links them again, directly or through
# another library, or when buzond loads the module without need.
set -eu
buzond=$1
module=$2
stack='libsoup|libjson-glib|libpsl|libbrotli|libnghttp2|libgssapi_krb5|libkrb5|libk5crypto|libcom_err|libkeyutils'
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# the module has them: the checks below look for the right names
for lib in libsoup-3.0 libjson-glib-1.0; do
  needed "$module" | grep -q "^$lib" || fail "$module does not link $lib: the checks below prove nothing"
done

found=$(needed "$buzond" | grep -E "^($stack)" || true)
[ -z "$found" ] && echo "ok: DT_NEEDED of buzond: $(needed "$buzond" | tr '\n' ' ')" ||
  fail "buzond links $(echo $found)"

# all it loads at start, through every library
found=$(ldd "$buzond" | grep -E "($stack)" || true)
[ -z "$found" ] && echo "ok: ldd buzond: none of the token endpoint's libraries" ||
  fail "buzond loads at start: $found"

# What a run loads (LD_DEBUG=files): nothing of the module for an account
# without OAuth2 and one with oauth2-token-command.
work=$(mktemp -d "${TMPDIR:-/tmp}/buzond-libs.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/accounts.conf" <<CONF
[account plain]
host = 127.0.0.1
port = 1
security = none
user = nobody
password-command = echo secret
maildir = $work/mail-plain

[account command]
host = 127.0.0.1
port = 1
security = none
user = nobody
oauth2 = command
oauth2-token-command = echo token
maildir = $work/mail-command
CONF
for args in "--version" "--once --config $work/accounts.conf"; do
  rm -f "$work"/ld.*
  set +e
  # shellcheck disable=SC2086 # args are words
  HOME=$work XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data XDG_CACHE_HOME=$work/cache \
    LD_DEBUG=files LD_DEBUG_OUTPUT=$work/ld "$buzond" $args >"$work/out" 2>&1
  rc=$?
  set -e
  case $args in
    --once*) expect=1 ;; # both accounts fail: nothing listens on port 1
    *) expect=0 ;;
  esac
  [ "$rc" = "$expect" ] || { cat "$work/out"; fail "buzond $args: exit $rc, expected $expect"; }
  [ -n "$(ls "$work"/ld.* 2>/dev/null)" ] || fail "LD_DEBUG wrote nothing for buzond $args"
  found=$(cat "$work"/ld.* | grep 'generating link map' | grep -E "oauth2-http|$stack" || true)
  [ -z "$found" ] && echo "ok: buzond $args loads nothing of the token endpoint" ||
    fail "buzond $args loads: $found"
done
grep -q 'command: ' "$work/out" || { cat "$work/out"; fail "--once did not try the command account"; }

[ "$failures" = 0 ]

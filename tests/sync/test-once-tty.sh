#!/bin/sh
# buzond --once on a terminal shows progress, then the summary line; on a
# pipe only the summary. Run by run-with-dovecot.py; $1 = buzond,
# $2 = ctl-pty.py (runs a command on a pseudo-terminal).
set -eu
buzond=$1
pty=$2
work=$(mktemp -d "$BZ_TEST_TMPDIR/tty-XXXXXX")
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
mkdir -p "$XDG_CONFIG_HOME/buzon"
printf '%s\n' "$BZ_TEST_PASSWORD" > "$work/pw"
"$BZ_TEST_PYTHON" "$BZ_TEST_MAILGEN" --maildir "$BZ_TEST_MAIL_ROOT/test5/Maildir" \
  --count 300 --profile small >/dev/null
cat > "$XDG_CONFIG_HOME/buzon/accounts.conf" <<CONF
[account tty]
host = localhost
port = $BZ_TEST_POP3_PORT
security = none
user = test5
password-command = cat $work/pw
CONF

TERM=xterm "$BZ_TEST_PYTHON" "$pty" -- "$buzond" --once > "$work/screen" 2>&1
grep -q '/300 messages' "$work/screen" || { echo "no progress on the terminal:"; cat "$work/screen"; exit 1; }
grep -q 'tty: 300 new, 300 stored' "$work/screen" || { echo "no summary:"; cat "$work/screen"; exit 1; }

"$BZ_TEST_PYTHON" "$BZ_TEST_MAILGEN" --maildir "$BZ_TEST_MAIL_ROOT/test5/Maildir" \
  --count 5 --start 300 --profile small >/dev/null
"$buzond" --once > "$work/out" 2> "$work/err"
if grep -q 'messages' "$work/err" "$work/out"; then
  echo "progress printed on a pipe:"; cat "$work/out" "$work/err"; exit 1
fi
grep -qx 'tty: 5 new, 305 stored, [0-9.]* s' "$work/out" || { echo "bad summary:"; cat "$work/out"; exit 1; }
echo "ok: progress on a terminal, summary only on a pipe"

#!/bin/sh
# Packaging test (suite "packaging"): builds the .deb, lints it, installs
# it on this machine, checks the installed files and that the agent is
# started by D-Bus activation in a private session bus, removes the
# package and checks nothing is left. Also builds the RPM from the spec.
# Needs root (or password-less sudo) and the tools of .ci/deps packaging.
# Exit status: 0 pass, 1 fail, 77 skip (not root / tools missing).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "SKIP: installing a package needs root or password-less sudo"; exit 77
  fi
fi
for tool in dpkg-buildpackage dh lintian scdoc apt-get dbus-run-session man strings; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (sh .ci/deps packaging)"; exit 77; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/buzon-pkgtest.XXXXXX")
installed=0
cleanup() {
  status=$?
  if [ "$installed" = 1 ]; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq buzon >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
step() { echo "== $*"; }

# --- build -----------------------------------------------------------------
step "build the .deb"
if dpkg -s buzon >/dev/null 2>&1; then
  echo "FAIL: a buzon package is already installed; remove it first"; exit 1
fi
DEB_BUILD_OPTIONS=nocheck timeout 300 sh "$src/packaging/build-deb.sh" "$work/deb" \
  >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; echo "FAIL: dpkg-buildpackage"; exit 1; }
deb=$(ls "$work"/deb/buzon_*.deb)
pass "built $(basename "$deb")"

step "lintian"
# lintian exits non-zero on errors; --allow-root: CI runs as root.
if lintian --allow-root --fail-on error "$work"/deb/*.changes >"$work/lintian.log" 2>&1; then
  pass "lintian: no errors ($(grep -c '^[WI]:' "$work/lintian.log" || true) warnings/info)"
else
  cat "$work/lintian.log"; fail "lintian reports errors"
fi

# The package must depend on every shared library the programs link.
depends=$(dpkg-deb -f "$deb" Depends)
# libsoup and json-glib: the token endpoint's module's, found in libdir/buzon
for lib in libglib2.0-0 libsqlite3-0 libssl3 libsecret-1-0 libgmime-3.0-0 libsoup-3.0-0 \
           libjson-glib-1.0-0; do
  case $depends in *"$lib "*|*"$lib,"*|*"$lib") ;; *) fail "Depends lacks $lib: $depends" ;; esac
done

# --- install ---------------------------------------------------------------
step "install"
installed=1
$SUDO env DEBIAN_FRONTEND=noninteractive timeout 120 \
  apt-get install -y -qq --no-install-recommends "$deb" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; echo "FAIL: apt-get install"; exit 1; }
pass "installed"

dpkg -L buzon >"$work/files"
module=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/buzon/oauth2-http.so
expect="/usr/bin/buzond /usr/bin/buzonctl $module
/usr/lib/systemd/user/buzon.service
/usr/share/dbus-1/services/org.buzon.Agent1.service
/usr/share/applications/org.buzon.Agent.desktop
/usr/share/gnome-shell/search-providers/org.buzon.Agent.search-provider.ini
/usr/share/metainfo/org.buzon.Agent.metainfo.xml
/usr/share/man/man1/buzond.1.gz /usr/share/man/man1/buzonctl.1.gz
/usr/share/man/man5/accounts.conf.5.gz
/usr/share/bash-completion/completions/buzond
/usr/share/bash-completion/completions/buzonctl
/usr/share/zsh/vendor-completions/_buzond
/usr/share/zsh/vendor-completions/_buzonctl
/usr/share/doc/buzon/accounts.conf.example
/usr/share/doc/buzon/copyright
/usr/share/locale/es/LC_MESSAGES/buzon.mo"
for f in $expect; do
  grep -qx "$f" "$work/files" || fail "dpkg -L does not list $f"
done
missing=0
while read -r f; do
  [ -e "$f" ] || { fail "listed but not on disk: $f"; missing=1; }
done <"$work/files"
[ "$missing" = 0 ] && pass "all $(wc -l <"$work/files") paths of dpkg -L exist"

# dh_installsystemduser enables the unit for every user at install time.
if [ -L /etc/systemd/user/default.target.wants/buzon.service ]; then
  pass "buzon.service enabled for default.target"
else
  fail "buzon.service not enabled in /etc/systemd/user/default.target.wants"
fi

version=$(dpkg-query -W -f='${Version}' buzon)
out=$(/usr/bin/buzond --version) || fail "buzond --version exit status"
[ "$out" = "buzond $version" ] && pass "$out" || fail "buzond --version said \"$out\", package is $version"
out=$(/usr/bin/buzonctl --version) || fail "buzonctl --version exit status"
[ "$out" = "buzonctl $version" ] && pass "$out" || fail "buzonctl --version said \"$out\""

# Built as packages build it (-Dtest-hooks=false): no test hook ships.
for bin in /usr/bin/buzond /usr/bin/buzonctl; do
  if strings -a "$bin" | grep -q BUZON_TEST; then
    fail "$bin contains a BUZON_TEST string (built with test hooks?)"
  else
    pass "$bin: no BUZON_TEST string"
  fi
done
# ... while the suite's own build (test hooks on) has them: the check sees them.
if [ -n "${BZ_TEST_BUZOND:-}" ]; then
  strings -a "$BZ_TEST_BUZOND" | grep -q BUZON_TEST_NOW &&
    pass "the test build's buzond has its hooks" ||
    fail "no BUZON_TEST_NOW in $BZ_TEST_BUZOND: the check above proves nothing"
fi

# The token endpoint (libsoup, json-glib and a dozen libraries under them)
# is a module buzond loads by its absolute path, only to fetch a token.
step "the OAuth2 token module"
if readelf -d /usr/bin/buzond | grep -E 'NEEDED.*(libsoup|libjson-glib)|RPATH|RUNPATH'; then
  fail "/usr/bin/buzond links libsoup or json-glib, or has an rpath"
else
  pass "/usr/bin/buzond links neither libsoup nor json-glib, no rpath"
fi
strings -a /usr/bin/buzond | grep -qx "$module" && [ -f "$module" ] &&
  pass "buzond loads $module, installed" || fail "buzond's module path is not $module"
if ldd "$module" | grep 'not found'; then
  fail "$module lacks a library"
else
  pass "$module finds every library it links"
fi
if command -v gnome-keyring-daemon >/dev/null; then
  # tokens go to the keyring: a private one, as the suite's tests do
  if BUZON_KEYRING_TIMEOUT=200 sh "$src/tests/config/run-with-keyring.sh" \
       python3 "$src/tests/packaging/oauth2-installed.py" "$src" "$module" >"$work/oauth2.log" 2>&1; then
    sed -n 's/^ok: /ok: OAuth2 installed: /p' "$work/oauth2.log"
  else
    cat "$work/oauth2.log"; fail "OAuth2 with the installed programs"
  fi
else
  echo "skip: gnome-keyring-daemon not installed (OAuth2 with the installed programs)"
fi

grep -qx 'ExecStart=/usr/bin/buzond' /usr/lib/systemd/user/buzon.service &&
  grep -qx 'Exec=/usr/bin/buzond' /usr/share/dbus-1/services/org.buzon.Agent1.service &&
  grep -qx 'SystemdService=buzon.service' /usr/share/dbus-1/services/org.buzon.Agent1.service &&
  pass "unit and D-Bus service point at /usr/bin/buzond" ||
  fail "unit or D-Bus service file has the wrong Exec/SystemdService"
grep -qx 'Exec=/usr/bin/buzond' /usr/share/applications/org.buzon.Agent.desktop &&
  grep -qx 'DesktopId=org.buzon.Agent.desktop' \
    /usr/share/gnome-shell/search-providers/org.buzon.Agent.search-provider.ini &&
  appstreamcli validate --no-net /usr/share/metainfo/org.buzon.Agent.metainfo.xml >/dev/null &&
  pass "desktop file, search provider and AppStream metainfo as installed" ||
  fail "desktop file, search provider or metainfo wrong as installed"

# --- unit ------------------------------------------------------------------
step "systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
  # --user needs a runtime dir; give it a private one.
  mkdir -m 700 "$work/run"
  if XDG_RUNTIME_DIR=$work/run systemd-analyze --user verify buzon.service \
       >"$work/verify.log" 2>&1 && [ ! -s "$work/verify.log" ]; then
    pass "systemd-analyze --user verify: clean"
  else
    cat "$work/verify.log"; fail "systemd-analyze --user verify"
  fi
else
  echo "skip: systemd-analyze not installed"
fi

# --- man pages -------------------------------------------------------------
step "man pages"
for page in man1/buzond.1.gz man1/buzonctl.1.gz man5/accounts.conf.5.gz; do
  if MANWIDTH=80 man --warnings -l "/usr/share/man/$page" >"$work/man.out" 2>"$work/man.err" &&
     [ ! -s "$work/man.err" ] && [ -s "$work/man.out" ]; then
    pass "man -l $page renders without warnings"
  else
    cat "$work/man.err"; fail "man -l $page"
  fi
done
# Every flag and config key of DESIGN.md is documented.
MANWIDTH=80 man -l /usr/share/man/man1/buzond.1.gz 2>/dev/null >"$work/buzond.txt"
for flag in --config --once --account --verbose --version; do
  grep -q -- "$flag" "$work/buzond.txt" || fail "buzond(1) does not mention $flag"
done
MANWIDTH=80 man -l /usr/share/man/man1/buzonctl.1.gz 2>/dev/null >"$work/buzonctl.txt"
for word in status sync watch messages set-password forget-password --json --wait --limit \
            add remove --forget-password --autoconfig-url --no-discover; do
  grep -q -- "$word" "$work/buzonctl.txt" || fail "buzonctl(1) does not mention $word"
done
MANWIDTH=200 man -l /usr/share/man/man5/accounts.conf.5.gz 2>/dev/null >"$work/conf.txt"
for key in data-dir max-parallel notify host port security user auth interval keep \
           max-size maildir tls-ca-file tls-pin-sha256 password-command timeout enabled \
           allow-plaintext; do
  grep -q "^ *$key = " "$work/conf.txt" || fail "accounts.conf(5) does not describe $key"
done

# --- completion ------------------------------------------------------------
step "bash completion"
out=$(bash -c '. /usr/share/bash-completion/completions/buzonctl
  COMP_WORDS=(buzonctl se); COMP_CWORD=1; _buzonctl; echo "${COMPREPLY[*]}"')
[ "$out" = "search set-password" ] && pass "buzonctl se<TAB> -> $out" || fail "buzonctl se<TAB> gave \"$out\""
out=$(bash -c '. /usr/share/bash-completion/completions/buzonctl
  COMP_WORDS=(buzonctl im); COMP_CWORD=1; _buzonctl; echo "${COMPREPLY[*]}"')
[ "$out" = "import" ] && pass "buzonctl im<TAB> -> $out" || fail "buzonctl im<TAB> gave \"$out\""
out=$(bash -c '. /usr/share/bash-completion/completions/buzond
  COMP_WORDS=(buzond --on); COMP_CWORD=1; _buzond; echo "${COMPREPLY[*]}"')
[ "$out" = "--once" ] && pass "buzond --on<TAB> -> $out" || fail "buzond --on<TAB> gave \"$out\""

if command -v zsh >/dev/null; then
  zsh -n /usr/share/zsh/vendor-completions/_buzond &&
    zsh -n /usr/share/zsh/vendor-completions/_buzonctl &&
    pass "zsh completion parses" || fail "zsh -n on the zsh completion"
fi

# --- the example config is valid --------------------------------------------
step "example accounts.conf"
# Point every account at a closed loopback port so the sync fails at once:
# exit 1 (account failed) proves the file loaded; 2 would be a config error.
mkdir -p "$work/example/data"
sed -e 's/^host = .*/host = 127.0.0.1/' -e '/^port = /d' -e 's/^\(\[account .*\]\)$/\1\nport = 1/' \
    -e "s|^maildir = .*|maildir = $work/example/mail|" \
    /usr/share/doc/buzon/accounts.conf.example >"$work/example/accounts.conf"
set +e
XDG_DATA_HOME=$work/example/data timeout 60 /usr/bin/buzond --once \
  --config "$work/example/accounts.conf" >"$work/example/out" 2>"$work/example/err"
rc=$?
set -e
if [ "$rc" = 1 ] && ! grep -q 'accounts.conf: \[' "$work/example/err"; then
  pass "example config loads (sync fails as it should against a closed port)"
else
  cat "$work/example/out" "$work/example/err"; fail "buzond --once on the example config: exit $rc"
fi

# --- D-Bus activation --------------------------------------------------------
step "D-Bus activation in a private session bus"
# No systemd user instance here, so dbus-daemon cannot hand the start to
# buzon.service and runs the Exec= line of the installed .service file.
home=$work/home
mkdir -p "$home/config/buzon" "$home/data"
cat >"$home/config/buzon/accounts.conf" <<CONF
[account pkgtest]
host = 127.0.0.1
port = 1
security = none
user = nobody
interval = 0
CONF
cat >"$work/activate.sh" <<'SCRIPT'
set -u
# Nobody owns the name before the first call.
if gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
     --method org.freedesktop.DBus.NameHasOwner org.buzon.Agent1 | grep -q true; then
  echo "name already owned before activation"; exit 1
fi
timeout 30 buzonctl status >"$OUT/status.out" 2>"$OUT/status.err"
echo $? >"$OUT/status.rc"
pid=$(gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.GetConnectionUnixProcessID org.buzon.Agent1 2>/dev/null |
      sed -n 's/^(uint32 \([0-9]*\),)$/\1/p')
if [ -n "$pid" ]; then
  readlink "/proc/$pid/exe" >"$OUT/exe"
  # Stop the daemon we caused to start, and wait (bounded) for it to go.
  kill -TERM "$pid"
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; echo "buzond ignored SIGTERM for 10 s"; }
fi
exit 0
SCRIPT
HOME=$home XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data \
XDG_DATA_DIRS=/usr/local/share:/usr/share OUT=$work \
  timeout 60 dbus-run-session -- sh "$work/activate.sh" || fail "activation script"
if [ "$(cat "$work/status.rc" 2>/dev/null)" = 0 ] && grep -q pkgtest "$work/status.out"; then
  pass "buzonctl status started buzond by activation and listed the account"
else
  cat "$work/status.out" "$work/status.err" 2>/dev/null
  fail "buzonctl status (exit $(cat "$work/status.rc" 2>/dev/null))"
fi
[ "$(cat "$work/exe" 2>/dev/null)" = /usr/bin/buzond ] &&
  pass "the activated daemon is /usr/bin/buzond" ||
  fail "the bus name owner is not /usr/bin/buzond ($(cat "$work/exe" 2>/dev/null))"

# --- remove ------------------------------------------------------------------
step "purge"
$SUDO env DEBIAN_FRONTEND=noninteractive timeout 120 apt-get purge -y -qq buzon \
  >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt-get purge"; }
installed=0
dpkg -s buzon >/dev/null 2>&1 && fail "buzon still installed after purge"
left=0
while read -r f; do
  # Directories shared with other packages (/usr/bin, ...) stay.
  if [ -e "$f" ] && [ ! -d "$f" ]; then fail "left after purge: $f"; left=1; fi
done <"$work/files"
for d in /usr/share/doc/buzon /etc/systemd/user/default.target.wants/buzon.service; do
  if [ -e "$d" ] || [ -L "$d" ]; then fail "left after purge: $d"; left=1; fi
done
[ "$left" = 0 ] && pass "nothing of the package left"

# --- RPM ---------------------------------------------------------------------
step "RPM spec"
if command -v rpmbuild >/dev/null; then
  top=$work/rpm
  mkdir -p "$top/SOURCES"
  sh "$src/packaging/copy-source.sh" "$top/buzon-$version"
  tar -C "$top" -cJf "$top/SOURCES/buzon-$version.tar.xz" "buzon-$version"
  # Debian's rpm lacks the %meson and %systemd_* macros: rpm-macros stands
  # in for them. BuildRequires name Fedora packages, hence --nodeps.
  if timeout 300 rpmbuild --load "$src/tests/packaging/rpm-macros" --define "_topdir $top" \
       --nodeps -bb "$src/packaging/buzon.spec" >"$top/log" 2>&1; then
    rpm=$(ls "$top"/RPMS/*/buzon-*.rpm)
    rpm -qlp "$rpm" 2>/dev/null | sort >"$work/rpm-files"
    for f in /usr/bin/buzond /usr/bin/buzonctl "$(rpm --eval '%{_libdir}')/buzon/oauth2-http.so" \
             /usr/lib/systemd/user/buzon.service \
             /usr/share/dbus-1/services/org.buzon.Agent1.service \
             /usr/share/applications/org.buzon.Agent.desktop \
             /usr/share/gnome-shell/search-providers/org.buzon.Agent.search-provider.ini \
             /usr/share/metainfo/org.buzon.Agent.metainfo.xml \
             /usr/share/bash-completion/completions/buzonctl \
             /usr/share/locale/es/LC_MESSAGES/buzon.mo; do
      grep -qx "$f" "$work/rpm-files" || fail "the RPM lacks $f"
    done
    pass "rpmbuild -bb: $(basename "$rpm"), $(wc -l <"$work/rpm-files") files"
  else
    tail -30 "$top/log"; fail "rpmbuild -bb packaging/buzon.spec"
  fi
  if command -v rpmlint >/dev/null; then
    rpmlint "$src/packaging/buzon.spec" >"$work/rpmlint.log" 2>&1 &&
      pass "rpmlint buzon.spec: no errors" || { cat "$work/rpmlint.log"; fail "rpmlint"; }
  fi
else
  echo "skip: rpmbuild not installed"
fi

echo "== $failures failure(s)"
[ "$failures" = 0 ]

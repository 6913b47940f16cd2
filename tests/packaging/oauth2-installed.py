#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""OAuth2 with the installed package (run.sh runs this inside
tests/config/run-with-keyring.sh): the token endpoint is a module that
buzond and buzonctl load from libdir/buzon only to fetch a token. Against
the fake provider and POP server of tests/harness:

  /usr/bin/buzonctl authorize  exchanges the code through the module;
  /usr/bin/buzond --once        refreshes the token through it (the
                                dynamic linker's log shows the installed
                                file) and downloads the messages;
  the same buzond with a password account loads neither the module nor
  libsoup.

Usage: oauth2-installed.py SRC MODULE [BINDIR]
MODULE is the installed module, BINDIR /usr/bin unless given (a build
tree's programs: agent/). Prints "ok: ..." lines; exit 1 with "FAIL: ..." on the first failure.
"""

import atexit
import os
import select
import shutil
import subprocess
import sys
import tempfile
import urllib.request

src, module = sys.argv[1], sys.argv[2]
bindir = sys.argv[3] if len(sys.argv) > 3 else "/usr/bin"
BUZOND = os.path.join(bindir, "buzond") if bindir == "/usr/bin" else bindir + "/daemon/buzond"
BUZONCTL = os.path.join(bindir, "buzonctl") if bindir == "/usr/bin" else bindir + "/ctl/buzonctl"
harness = os.path.join(src, "tests", "harness")
WAIT_S = 60
tmp = tempfile.mkdtemp(prefix="buzon-pkg-oauth2-")
procs = []


@atexit.register
def stop_everything():
    for p in procs:
        p.kill()
        p.wait()
    shutil.rmtree(tmp, ignore_errors=True)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def start_with_port(args):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    procs.append(p)
    ready, _, _ = select.select([p.stdout], [], [], WAIT_S)
    line = p.stdout.readline().strip() if ready else ""
    if not line.startswith("PORT "):
        fail("%s did not start (%r)" % (args[1], line))
    return int(line.split()[1])


def loaded_by(args, env):
    """Runs args with LD_DEBUG=files: (completed process, files loaded)."""
    prefix = os.path.join(tmp, "ld")
    for n in os.listdir(tmp):
        if n.startswith("ld."):
            os.unlink(os.path.join(tmp, n))
    r = subprocess.run(args, capture_output=True, text=True, timeout=WAIT_S * 2,
                       env=dict(os.environ, LD_DEBUG="files", LD_DEBUG_OUTPUT=prefix, **env))
    files = []
    for n in os.listdir(tmp):
        if n.startswith("ld."):
            with open(os.path.join(tmp, n)) as f:
                files += [line.split("file=")[1].split()[0] for line in f
                          if "generating link map" in line]
    if not files:
        fail("LD_DEBUG=files reported nothing for %s" % args)
    return r, files


tokens = os.path.join(tmp, "tokens")
oauth = start_with_port([sys.executable, os.path.join(harness, "fakeoauth.py"),
                         "--client-id", "pkg-client", "--tokens-file", tokens,
                         "--issued-file", os.path.join(tmp, "issued"), "--lifetime", "120"])
pop = start_with_port([sys.executable, os.path.join(harness, "faultpop.py"),
                       "--oauth2", "google", "--user", "alice@example.test",
                       "--token-file", tokens, "--messages", "2", "--lifetime", "120",
                       "--max-connections", "10"])
pw_pop = start_with_port([sys.executable, os.path.join(harness, "faultpop.py"),
                          "--user", "bob", "--password", "secret", "--messages", "1",
                          "--lifetime", "120"])
conf = os.path.join(tmp, "accounts.conf")
with open(conf, "w") as f:
    f.write("""[account pkgoauth]
host = 127.0.0.1
port = %d
security = none
user = alice@example.test
oauth2 = google
oauth2-client-id = pkg-client
oauth2-auth-url = http://127.0.0.1:%d/authorize
oauth2-token-url = http://127.0.0.1:%d/token
maildir = %s/mail-oauth2

[account pkgpassword]
host = 127.0.0.1
port = %d
security = none
allow-plaintext = true
user = bob
password-command = echo secret
maildir = %s/mail-password
""" % (pop, oauth, oauth, tmp, pw_pop, tmp))

# buzonctl authorize: the printed URL, followed as a browser would
ctl = subprocess.Popen([BUZONCTL, "authorize", "pkgoauth", "--no-browser",
                        "--config", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
ready, _, _ = select.select([ctl.stdout], [], [], WAIT_S)
url = ctl.stdout.readline().strip() if ready else ""
if not url.startswith("http://127.0.0.1:%d/authorize?" % oauth):
    ctl.kill()
    fail("buzonctl authorize printed %r" % url)
with urllib.request.urlopen(url, timeout=WAIT_S) as answer:
    answer.read()
out, err = ctl.communicate(timeout=WAIT_S)
if ctl.returncode != 0:
    fail("buzonctl authorize: exit %d: %s%s" % (ctl.returncode, out, err))
print("ok: buzonctl authorize got a refresh token through the module", flush=True)

data = os.path.join(tmp, "data")
r, files = loaded_by([BUZOND, "--once", "--config", conf, "--account", "pkgoauth"],
                     {"XDG_DATA_HOME": data})
if r.returncode != 0 or "pkgoauth: 2 new" not in r.stdout:
    fail("buzond --once (oauth2): exit %d: %s%s" % (r.returncode, r.stdout, r.stderr))
if module not in files:
    fail("buzond did not load %s: %s" % (module, files))
print("ok: buzond --once refreshed the token with %s and downloaded 2 messages"
      % module, flush=True)

r, files = loaded_by([BUZOND, "--once", "--config", conf, "--account",
                      "pkgpassword"], {"XDG_DATA_HOME": data})
if r.returncode != 0 or "pkgpassword: 1 new" not in r.stdout:
    fail("buzond --once (password): exit %d: %s%s" % (r.returncode, r.stdout, r.stderr))
stack = [f for f in files if "oauth2-http" in f or "libsoup" in f or "json-glib" in f]
if stack:
    fail("buzond loaded for a password account: %s" % stack)
print("ok: buzond --once with a password account loads neither the module nor libsoup",
      flush=True)

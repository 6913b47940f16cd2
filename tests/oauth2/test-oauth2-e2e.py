#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""OAuth2 end to end, run inside tests/config/run-with-keyring.sh (private
session bus, real gnome-keyring-daemon):

  buzonctl authorize (printed URL, and a scripted browser started by GIO)
  -> refresh token in the keyring -> buzond --once over OAUTHBEARER (Gmail
  style) and XOAUTH2 (Outlook style) -> the daemon: cached token, expiry and
  refresh, a token the server refuses (refreshed once, retried once),
  revocation -> Attention "authorize", one notification, no retry ->
  authorize again; oauth2-token-command success and failure; GOA found and
  not found. The token endpoint's module is loaded for a provider's token
  only, and a missing one is an error naming it. No token ever appears in
  any output, log, file or command line.
"""

import atexit
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

BUZOND = os.environ["BZ_BUZOND"]
BUZONCTL = os.environ["BZ_BUZONCTL"]
FAULTPOP = os.environ["BZ_FAULTPOP"]
FAKEOAUTH = os.environ["BZ_FAKEOAUTH"]
FAKE_SERVICES = os.environ["BZ_FAKE_SERVICES"]
BROWSER = os.environ["BZ_BROWSER"]
PY = sys.executable
WAIT_S = 60  # bound of every wait; generous for a loaded machine

tmp = tempfile.mkdtemp(prefix="bz-oauth2-e2e-")


@atexit.register
def stop_everything():
    """The fakes must not outlive a failed run (they hold its pipes)."""
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)


state = os.path.join(tmp, "state")      # the fakes' files: tokens live here
os.makedirs(state)
outputs = []                            # everything buzon printed
procs = []
step_no = 0


def step(name):
    global step_no
    step_no += 1
    print("# %d %s" % (step_no, name), flush=True)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def start_with_port(args, word="PORT"):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    procs.append(p)
    ready, _, _ = select.select([p.stdout], [], [], WAIT_S)
    check(ready, "%s did not start" % args[1])
    line = p.stdout.readline().strip()
    check(line.startswith(word), "%s printed %r" % (args[1], line))
    return p, (int(line.split()[1]) if word == "PORT" else 0)


def run(args, env=None, timeout=WAIT_S * 2):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **(env or {})))
    outputs.append(r.stdout + r.stderr)
    return r


def http_get(url):
    with urllib.request.urlopen(url, timeout=WAIT_S) as r:
        return r.status, r.read().decode()


def eventually(cond, what):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    fail("timed out waiting for " + what)


# --- the fakes --------------------------------------------------------------
tokens_file = os.path.join(state, "tokens")
issued_file = os.path.join(state, "issued")
oauth, oauth_port = start_with_port(
    [PY, FAKEOAUTH, "--client-id", "gmail-client", "--client-id", "ms-client",
     "--tokens-file", tokens_file, "--issued-file", issued_file, "--rotate",
     "--lifetime", "280"])
OAUTH = "http://127.0.0.1:%d" % oauth_port


def stats():
    return json.loads(http_get(OAUTH + "/stats")[1])


def control(query):
    check(http_get(OAUTH + "/control?" + query)[0] == 200, "control " + query)


pop_logs = {}


def faultpop(name, style, extra):
    log = os.path.join(state, name + ".log")
    pop_logs[name] = log
    _, port = start_with_port([PY, FAULTPOP, "--oauth2", style, "--messages", "3",
                               "--lifetime", "280", "--max-connections", "100",
                               "--log", log] + extra)
    return port


gmail_port = faultpop("gmail", "google", ["--user", "alice@gmail.test",
                                          "--token-file", tokens_file])
outlook_port = faultpop("outlook", "microsoft", ["--user", "bob@outlook.test",
                                                 "--token-file", tokens_file])
cmd_token = "cmd-" + "c" * 1496
cmd_port = faultpop("cmd", "microsoft", ["--user", "carol@example.test", "--token", cmd_token])
goa_token = "goa-" + "g" * 1496
goa_port = faultpop("goa", "google", ["--user", "dave@example.test", "--token", goa_token])
goa_token_file = os.path.join(state, "goa-token")
with open(goa_token_file, "w") as f:
    f.write(goa_token + "\n")
cmd_token_file = os.path.join(state, "cmd-token")
with open(cmd_token_file, "w") as f:
    f.write(cmd_token + "\n")

conf = os.path.join(tmp, "accounts.conf")
with open(conf, "w") as f:
    f.write("""[account gmail]
host = 127.0.0.1
port = %(gmail)d
security = none
user = alice@gmail.test
oauth2 = google
oauth2-client-id = gmail-client
oauth2-client-secret = not-secret
oauth2-auth-url = %(oauth)s/authorize
oauth2-token-url = %(oauth)s/token
interval = 0

[account outlook]
host = 127.0.0.1
port = %(outlook)d
security = none
user = bob@outlook.test
auth = xoauth2
oauth2 = microsoft
oauth2-client-id = ms-client
oauth2-auth-url = %(oauth)s/authorize
oauth2-token-url = %(oauth)s/token
interval = 0

[account nopw]
host = 127.0.0.1
port = %(gmail)d
security = none
user = alice@gmail.test
interval = 0
""" % {"gmail": gmail_port, "outlook": outlook_port, "oauth": OAUTH})


class Once:
    def __init__(self, results):
        self.returncode = max(r.returncode for r in results)
        self.stdout = "".join(r.stdout for r in results)
        self.stderr = "".join(r.stderr for r in results)


def once(*accounts, env=None):
    """buzond --once for each account (--account takes one)."""
    return Once([run([BUZOND, "--config", conf, "--once", "--account", a], env=env)
                 for a in accounts])


def once_loading(*accounts):
    """once(), and the files the dynamic linker loaded meanwhile."""
    prefix = os.path.join(tmp, "ld-%d" % step_no)
    r = once(*accounts, env={"LD_DEBUG": "files", "LD_DEBUG_OUTPUT": prefix})
    loaded = []
    for n in os.listdir(tmp):
        if n.startswith(os.path.basename(prefix) + "."):
            with open(os.path.join(tmp, n)) as f:
                loaded += [line.split("file=")[1].split()[0] for line in f
                           if "generating link map" in line]
    check(loaded, "LD_DEBUG=files reported nothing")
    return r, loaded


def token_module_loaded(loaded):
    """The token endpoint's module, libsoup: loaded only to ask a provider."""
    return [f for f in loaded if "oauth2-http" in f or "libsoup" in f]


def authorize_printed(account, forge=False):
    """buzonctl authorize --no-browser; the test follows the printed URL.
    With @forge, another local program first answers the loopback listener
    with a code for the wrong state, which must be turned away."""
    p = subprocess.Popen([BUZONCTL, "authorize", account, "--no-browser", "--config", conf],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], WAIT_S)
    check(ready, "authorize printed no URL")
    url = p.stdout.readline().strip()
    check(url.startswith(OAUTH + "/authorize?"), "printed %r" % url)
    if forge:
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        try:
            http_get(q["redirect_uri"] + "?code=forged&state=not-" + q["state"])
            fail("a redirect with the wrong state was accepted")
        except urllib.error.HTTPError as e:
            check(e.code == 400 and "state mismatch" in e.read().decode(), "turned away")
        check(p.poll() is None, "buzonctl still waits for the real answer")
    status, body = http_get(url)   # the fake provider redirects to buzonctl
    out, err = p.communicate(timeout=WAIT_S)
    outputs.append(url + out + err + body)
    return p.returncode, url, body, err


# --- 1. not signed in yet ---------------------------------------------------
step("before authorize: the sync fails and says what to run")
r = once("gmail")
check(r.returncode == 1, "exit %d: %s" % (r.returncode, r.stdout + r.stderr))
check("buzonctl authorize gmail" in r.stdout, r.stdout)

# --- 2. authorize, printed URL ----------------------------------------------
step("buzonctl authorize --no-browser: PKCE, state, loopback redirect")
rc, url, body, err = authorize_printed("gmail", forge=True)
check(rc == 0, "authorize failed: " + err)
check("code_challenge_method=S256" in url and "state=" in url, url)
check("redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url, url)
check("access_type=offline" in url, "google asks for offline access: " + url)
check("signed in" in body, body)
check(stats()["authorization_code"] == 1, "one code exchanged")
r = run(["secret-tool", "lookup", "account", "gmail", "host", "127.0.0.1",
         "user", "alice@gmail.test"])
check(r.returncode == 0 and r.stdout.startswith("rt-"), "refresh token in the keyring")
outputs.pop()  # that output IS the refresh token; it was only read to check

# --- 3. authorize through GIO's default handler (scripted browser) ----------
step("buzonctl authorize opens the desktop's browser (GIO default handler)")
apps = os.path.join(tmp, "xdg-data", "applications")
os.makedirs(apps)
with open(os.path.join(apps, "bz-test-browser.desktop"), "w") as f:
    f.write("[Desktop Entry]\nType=Application\nName=Test browser\nNoDisplay=true\n"
            "Exec=%s %s %%u\nMimeType=x-scheme-handler/http;x-scheme-handler/https;\n"
            % (PY, BROWSER))
cfg = os.path.join(tmp, "xdg-config")
os.makedirs(cfg)
with open(os.path.join(cfg, "mimeapps.list"), "w") as f:
    f.write("[Default Applications]\nx-scheme-handler/http=bz-test-browser.desktop\n"
            "x-scheme-handler/https=bz-test-browser.desktop\n")
browser_log = os.path.join(state, "browser.log")
r = run([BUZONCTL, "authorize", "outlook", "--config", conf],
        env={"XDG_DATA_HOME": os.path.join(tmp, "xdg-data"), "XDG_CONFIG_HOME": cfg,
             "BZ_OAUTH2_BROWSER_LOG": browser_log})
check(r.returncode == 0, "authorize outlook: " + r.stderr)
check("open in your browser" in r.stderr, r.stderr)
check(r.stdout == "", "nothing printed when the browser opened: " + r.stdout)
with open(browser_log) as f:
    check(f.read().startswith("200 "), "the browser saw buzonctl's answer")
check(stats()["scopes"][-1] == "https://outlook.office.com/POP.AccessAsUser.All offline_access",
      "microsoft scope: %r" % stats()["scopes"][-1])

# --- 4. a denied sign-in ------------------------------------------------------
step("a denied sign-in fails and keeps the stored refresh token")
control("deny=1")
rc, url, body, err = authorize_printed("gmail")
check(rc == 1 and "not granted (access_denied)" in err, err)
control("deny=0")

# --- 5. buzond --once over both mechanisms ------------------------------------
step("buzond --once: OAUTHBEARER to the Gmail-style server, XOAUTH2 to Outlook's")
r, loaded = once_loading("gmail", "outlook")
check(r.returncode == 0, r.stdout + r.stderr)
check("gmail: 3 new" in r.stdout and "outlook: 3 new" in r.stdout, r.stdout)
check(token_module_loaded(loaded), "the token endpoint's module was not loaded: %s" % loaded)


def pop_log(name):
    with open(pop_logs[name]) as f:
        return f.read()


check("OAUTH2 OAUTHBEARER two-step ok" in pop_log("gmail"), pop_log("gmail"))
check("OAUTH2 XOAUTH2 two-step ok" in pop_log("outlook"), pop_log("outlook"))

step("the token endpoint's module missing: the account fails and names the file")
missing_module = os.path.join(tmp, "no-such-dir", "oauth2-http.so")
r = once("gmail", env={"BUZON_TEST_OAUTH2_MODULE": missing_module})
check(r.returncode == 1, "exit %d: %s" % (r.returncode, r.stdout + r.stderr))
check("gmail: " in r.stdout and "OAuth2 module is missing or broken" in r.stdout
      and missing_module in r.stdout, r.stdout + r.stderr)

# --- 6. the daemon: cache, expiry, refusal, revocation ------------------------
step("the daemon reuses a valid access token")
notify_log = os.path.join(state, "notify.log")
goa_services, _ = start_with_port([FAKE_SERVICES, "--notify-log", notify_log, "--goa-email",
                                   "dave@example.test", "--goa-identity", "dave",
                                   "--goa-token-file", goa_token_file, "--lifetime", "280"],
                                  word="READY")
daemon_log = open(os.path.join(tmp, "buzond.log"), "w")
daemon = subprocess.Popen([BUZOND, "--config", conf], stdout=daemon_log, stderr=daemon_log,
                          env=dict(os.environ, G_MESSAGES_DEBUG="all"))
procs.append(daemon)
PATH = "/org/buzon/Agent1/accounts/gmail"


def prop(name):
    r = subprocess.run(["gdbus", "call", "--session", "--dest", "org.buzon.Agent1",
                        "--object-path", PATH, "--method", "org.freedesktop.DBus.Properties.Get",
                        "org.buzon.Agent1.Account", name], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


eventually(lambda: prop("State") is not None, "the daemon on the bus")
check(prop("Attention") == "(<''>,)", "no attention at start: %s" % prop("Attention"))


def sync(account):
    return run([BUZONCTL, "sync", account, "--wait"])


before = stats()["refresh_token"]
r = sync("gmail")
check(r.returncode == 0, r.stdout + r.stderr)
check(stats()["refresh_token"] == before + 1, "first daemon sync refreshes once")
r = sync("gmail")
check(r.returncode == 0, r.stdout + r.stderr)
check(stats()["refresh_token"] == before + 1, "the cached token is reused")

step("a token the server refuses is refreshed once and the login retried once")
control("expires-in=30")   # the next tokens expire inside the one-minute margin
control("drop-access=1")
r = sync("gmail")
check(r.returncode == 0, r.stdout + r.stderr)
check(stats()["refresh_token"] == before + 2, "one refresh after the refusal")
log = pop_log("gmail")
check(re.search(r"OAUTHBEARER two-step refused.*\n.*challenge-answer ok\n"
                r"(.*\n)*.*OAUTHBEARER two-step ok", log), log)

step("a token about to expire is refreshed before the login")
r = sync("gmail")
check(r.returncode == 0 and stats()["refresh_token"] == before + 3, "refreshed (new token)")
control("expires-in=3600")
r = sync("gmail")
check(r.returncode == 0 and stats()["refresh_token"] == before + 4, "refreshed again")
r = sync("gmail")
check(r.returncode == 0 and stats()["refresh_token"] == before + 4, "an hour's token is kept")

step("a fresh token refused too: one retry only, then authorize")
control("drop-access=1")
control("pop-refuses=1")
refused_before = pop_log("gmail").count("OAUTHBEARER two-step refused")
refreshes_before = stats()["refresh_token"]
r = sync("gmail")
check(r.returncode == 1, r.stdout + r.stderr)
check(pop_log("gmail").count("OAUTHBEARER two-step refused") == refused_before + 2,
      "two logins, not more")
check(stats()["refresh_token"] == refreshes_before + 1, "one refresh, not more")
check("refused a fresh access token too; sign in again with: buzonctl authorize gmail"
      in prop("LastError"), prop("LastError"))
check(prop("Attention") == "(<'authorize'>,)", "authorize: %s" % prop("Attention"))
control("pop-refuses=0")
refused_before = pop_log("gmail").count("OAUTHBEARER two-step refused")
r = sync("gmail")   # the user fixed it at the provider: works again
check(r.returncode == 0, r.stdout + r.stderr)
check(pop_log("gmail").count("OAUTHBEARER two-step refused") == refused_before,
      "the twice-refused token was not tried again: %d %s" % (refused_before, pop_log("gmail")[-1500:]))
eventually(lambda: prop("Attention") == "(<''>,)", "Attention cleared")

step("revocation: invalid_grant -> Attention authorize, one notification, no retry")
control("revoke=1")
r = sync("gmail")
check(r.returncode == 1, r.stdout + r.stderr)
eventually(lambda: prop("Attention") == "(<'authorize'>,)", "Attention authorize")
last_error = prop("LastError")
check("gmail" in last_error and "buzonctl authorize gmail" in last_error, last_error)
check(prop("NextSync") == "(<int64 0>,)", "no retry scheduled: %s" % prop("NextSync"))
r = run([BUZONCTL, "status", "--json"])
status = {a["name"]: a for a in json.loads(r.stdout)["accounts"]}
check(status["gmail"]["attention"] == "authorize", r.stdout)
eventually(lambda: os.path.exists(notify_log), "a notification")
r = sync("gmail")     # the user syncs again before signing in: still no new notice
check(r.returncode == 1, "still failing")
time.sleep(0.5)
with open(notify_log) as f:
    notes = f.read().splitlines()
check(len(notes) == 2 and "buzonctl authorize gmail" in notes[1],
      "one notification per time the account needed a sign-in: %r" % notes)

step("a password account without a password: Attention password")
r = sync("nopw")
check(r.returncode == 1 and "buzonctl set-password nopw" in r.stdout + r.stderr,
      r.stdout + r.stderr)
status = {a["name"]: a for a in json.loads(run([BUZONCTL, "status", "--json"]).stdout)["accounts"]}
check(status["nopw"]["attention"] == "password", repr(status["nopw"]))

step("authorize again: the daemon syncs and Attention clears")
rc, url, body, err = authorize_printed("gmail")
check(rc == 0, err)
eventually(lambda: prop("Attention") == "(<''>,)", "Attention cleared after the new sign-in")

# --- 7. token command and GOA ----------------------------------------------
step("oauth2 = command: success and failure; oauth2 = goa: found and not found")
with open(conf, "a") as f:
    f.write("""
[account cmd]
host = 127.0.0.1
port = %(cmd)d
security = none
user = carol@example.test
oauth2 = command
oauth2-token-command = cat %(cmdfile)s

[account cmdbad]
host = 127.0.0.1
port = %(cmd)d
security = none
user = carol@example.test
oauth2 = command
oauth2-token-command = echo 'vault is sealed' >&2; exit 4

[account goa]
host = 127.0.0.1
port = %(goa)d
security = none
user = dave@example.test
oauth2 = goa

[account goamissing]
host = 127.0.0.1
port = %(goa)d
security = none
user = erin@example.test
oauth2 = goa
""" % {"cmd": cmd_port, "cmdfile": cmd_token_file, "goa": goa_port})
r, loaded = once_loading("cmd", "cmdbad", "goa", "goamissing")
check(r.returncode == 1, r.stdout)
check(not token_module_loaded(loaded), "loaded for command and GOA: %s" % token_module_loaded(loaded))
check("cmd: 3 new" in r.stdout, r.stdout)
check("oauth2-token-command for account cmdbad failed with exit status 4: vault is sealed"
      in r.stdout, r.stdout)
check("goa: 3 new" in r.stdout, r.stdout)
check("GNOME Online Accounts has no OAuth2 account for erin@example.test" in r.stdout, r.stdout)
check("OAUTH2 XOAUTH2 two-step ok" in pop_log("cmd"), pop_log("cmd"))
check("OAUTH2 OAUTHBEARER two-step ok" in pop_log("goa"), pop_log("goa"))
r = run([BUZONCTL, "authorize", "goa", "--config", conf])
check(r.returncode == 2 and "GNOME Online Accounts" in r.stderr, r.stderr)

step("config errors are exit 2 and name the key")
bad = os.path.join(tmp, "bad.conf")
with open(bad, "w") as f:
    f.write("[account x]\nhost = h\nuser = u\nauth = xoauth2\n")
r = run([BUZOND, "--config", bad, "--once"])
check(r.returncode == 2 and "oauth2: missing" in r.stderr, r.stderr)

# --- 8. no token anywhere ---------------------------------------------------------
step("no token in any output, log, file or command line")
cmdlines = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                line = f.read().decode(errors="replace")
        except OSError:
            continue
        if "faultpop.py" not in line:   # the fake server is given its tokens
            cmdlines.append(line)
check(any("buzond" in c for c in cmdlines), "the daemon's command line was read")
daemon.terminate()
check(daemon.wait(timeout=WAIT_S) == 0, "buzond exits 0 on SIGTERM (and without leaks)")
daemon_log.close()
with open(issued_file) as f:
    secrets_seen = [t.strip() for t in f if t.strip()]
secrets_seen += [cmd_token, goa_token]
check(len(secrets_seen) > 10, "tokens were issued")
with open(os.path.join(tmp, "buzond.log")) as f:
    outputs.append(f.read())
for name in pop_logs:
    outputs.append(pop_log(name))
outputs.extend(cmdlines)
files = []
for root in (os.environ["HOME"], tmp):
    for dirpath, _, names in os.walk(root):
        if dirpath.startswith(state) or "/keyrings" in dirpath:
            continue  # the fakes' own files; the keyring is encrypted
        for n in names:
            try:
                with open(os.path.join(dirpath, n), "rb") as f:
                    files.append(f.read().decode(errors="replace"))
            except OSError:
                pass
for text in outputs + files:
    for t in secrets_seen:
        check(t not in text and t[:40] not in text, "a token leaked into: %r" % text[:200])

print("ok: all %d steps" % step_no)

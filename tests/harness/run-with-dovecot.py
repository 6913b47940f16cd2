#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a command next to a private, throw-away dovecot POP3 server.

    run-with-dovecot.py [--users N] [--keep] -- CMD [ARGS...]

Everything (certificates, dovecot config, sockets, state, mail, log and the
scratch folders exported to CMD) lives in one fresh temporary folder that is
removed at the end, also when CMD fails or the runner gets SIGINT/SIGTERM.
The dovecot masters get PR_SET_PDEATHSIG so they go away even when the runner
itself is SIGKILLed.  The exit code is CMD's.  tests/README.md documents the
environment given to CMD.
"""

import argparse
import ctypes
import hashlib
import os
import pwd
import grp
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# A space and punctuation on purpose: clients must not split or quote it.
# No ':' (the passwd-file separator).
PASSWORD = 'pa55 w0rd!"x'

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
DOVECOT_STOP_GRACE = 0.3
START_ATTEMPTS = 5

PR_SET_PDEATHSIG = 1


class Signalled(Exception):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def log(msg):
    print("run-with-dovecot: " + msg, file=sys.stderr, flush=True)


def run(argv, cwd):
    r = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, check=False)
    if r.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(argv),
                                               r.stdout.decode(errors="replace")))
    return r.stdout


def make_certs(d):
    """Test CA, good + expired server certs for DNS:localhost, a wrong CA."""
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509", "-new", *ec, "-keyout", "ca.key",
         "-out", "ca.pem", "-days", "3650", "-subj", "/CN=buzon test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    run(["openssl", "req", "-x509", "-new", *ec, "-keyout", "wrong-ca.key",
         "-out", "wrong-ca.pem", "-days", "3650", "-subj", "/CN=unrelated CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    run(["openssl", "req", "-new", *ec, "-keyout", "server.key",
         "-out", "server.csr", "-subj", "/CN=localhost"], d)
    # 'openssl x509 -req' cannot backdate; 'openssl ca' takes explicit dates,
    # so it signs both (same extensions, only the validity differs).
    os.makedirs(os.path.join(d, "db"))
    open(os.path.join(d, "db", "index.txt"), "w").close()
    with open(os.path.join(d, "db", "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("""[ ca ]
default_ca = testca
[ testca ]
database = db/index.txt
new_certs_dir = db
serial = db/serial
default_md = sha256
policy = pol
unique_subject = no
x509_extensions = srv_ext
[ pol ]
commonName = supplied
[ srv_ext ]
subjectAltName = DNS:localhost
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
""")
    sign = ["openssl", "ca", "-batch", "-notext", "-config", "ca.cnf",
            "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "server.csr"]
    run(sign + ["-out", "server.pem", "-days", "3650"], d)
    run(sign + ["-out", "expired.pem",
                "-startdate", "20200101000000Z", "-enddate", "20210101000000Z"], d)
    spki = run(["openssl", "pkey", "-in", "server.key", "-pubout",
                "-outform", "DER"], d)
    # 'run' merges stderr; pkey writes nothing there on success
    return hashlib.sha256(spki).hexdigest()


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def pick_ports(n, v6):
    """n distinct ports free on 127.0.0.1 (and ::1). Racy by nature: the
    caller retries when dovecot then fails to bind."""
    ports = []
    held = []
    try:
        for _ in range(n * 20):
            if len(ports) == n:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(s)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            if v6:
                s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                held.append(s6)
                try:
                    s6.bind(("::1", port))
                except OSError:
                    continue
            ports.append(port)
    finally:
        for s in held:
            s.close()
    if len(ports) != n:
        raise RuntimeError("cannot find %d free loopback ports" % n)
    return ports


def dovecot_conf(*, name, root, listen, ports, cert, key, passwd, mail_root,
                 uid, gid, user, plain, token):
    run_dir = os.path.join(root, name, "run")
    state = os.path.join(root, name, "state")
    os.makedirs(state)
    conf = os.path.join(root, name, "dovecot.conf")
    logf = os.path.join(root, "dovecot.log")
    if os.getuid() == 0:
        users = ""
        nochroot = ""
    else:
        # Rootless dovecot: every process runs as us, nothing can chroot.
        users = ("default_internal_user = %s\ndefault_login_user = %s\n"
                 "default_internal_group = %s\n" % (user, user,
                                                    grp.getgrgid(gid).gr_name))
        nochroot = "  chroot =\n"
    login_chroot = nochroot
    pop3_port = ports[0] if plain else 0
    text = f"""# generated by run-with-dovecot.py: a private test instance
instance_name = bz-test-{os.getpid()}-{name}
base_dir = {run_dir}
state_dir = {state}
{users}protocols = pop3
listen = {listen}
login_greeting = Dovecot ready ({token}).
log_path = {logf}
info_log_path = {logf}
log_timestamp = "%H:%M:%S "
shutdown_clients = yes
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login apop
# 2.3.19 still answers a failed login on its next 0.5 s failure tick;
# 0 keeps it from waiting longer.
auth_failure_delay = 0
auth_verbose = yes
auth_cache_size = 0
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{mail_root}/%u/Maildir
default_process_limit = 200
default_client_limit = 2000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
protocol pop3 {{
  mail_max_userip_connections = 200
}}
service pop3-login {{
{login_chroot}  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = {ports[1]}
    ssl = yes
  }}
}}
# Without its penalty socket, auth skips the anvil auth penalty (2-15 s
# per failed login from one IP) that would slow wrong-password tests.
service anvil {{
{nochroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
    with open(conf, "w") as f:
        f.write(text)
    return conf


def pdeathsig_preexec(parent):
    libc = ctypes.CDLL(None, use_errno=True)

    def fn():
        # own process group: stop() signals dovecot and all its children
        os.setpgid(0, 0)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        # the runner may have died before prctl took effect
        if os.getppid() != parent:
            os._exit(1)
    return fn


def is_ours(port, expect):
    """True when port is served by our instance: another program may have
    taken a port between pick_ports() and dovecot's bind()."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            if isinstance(expect, str):
                s.settimeout(1.0)
                return expect.encode() in s.recv(512)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with ctx.wrap_socket(s) as t:
                return t.getpeercert(binary_form=True) == expect
    except (OSError, ssl.SSLError):
        return False


def wait_ready(procs, checks, logf):
    """checks: [(port, greeting token or certificate DER)]"""
    deadline = time.monotonic() + READY_TIMEOUT
    pending = list(checks)
    while pending:
        for p in procs:
            if p.poll() is not None:
                return False
        if is_ours(*pending[0]):
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise RuntimeError("dovecot did not listen within %.0f s; log:\n%s"
                               % (READY_TIMEOUT, tail(logf)))
        time.sleep(0.01)
    return True


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def killpg(p, sig):
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass


def stop(procs):
    # Signal the whole group, and do not wait long: the master lingers 1-6 s
    # waiting for its log and anvil processes, and nothing in a throw-away
    # instance needs a clean exit.
    for p in procs:
        killpg(p, signal.SIGTERM)
    deadline = time.monotonic() + DOVECOT_STOP_GRACE
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        # mop up children that outlived the master
        killpg(p, signal.SIGKILL)
        p.wait()


def start_dovecot(root, users, uid, gid, username, cert_dir, v6):
    passwd = os.path.join(root, "passwd")
    mail_root = os.path.join(root, "mail")
    os.makedirs(mail_root)
    os.chown(mail_root, uid, gid)
    with open(passwd, "w") as f:
        for u in users:
            home = os.path.join(mail_root, u)
            md = os.path.join(home, "Maildir")
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub))
            for dirpath in (home, md, *(os.path.join(md, s) for s in ("cur", "new", "tmp"))):
                os.chown(dirpath, uid, gid)
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (u, PASSWORD, uid, gid, home))
    os.chmod(passwd, 0o644)
    listen = "127.0.0.1, ::1" if v6 else "127.0.0.1"
    logf = os.path.join(root, "dovecot.log")
    c = lambda n: os.path.join(cert_dir, n)
    # a greeting no other server on this machine sends
    token = "bz-test-%d-%s" % (os.getpid(), os.urandom(4).hex())
    for attempt in range(START_ATTEMPTS):
        ports = pick_ports(3, v6)
        for name in ("main", "expired"):
            if os.path.exists(os.path.join(root, name)):
                shutil.rmtree(os.path.join(root, name))
        main = dovecot_conf(name="main", root=root, listen=listen,
                            ports=ports[0:2], cert=c("server.pem"),
                            key=c("server.key"), passwd=passwd,
                            mail_root=mail_root, uid=uid, gid=gid,
                            user=username, plain=True, token=token)
        # The expired certificate needs its own instance: dovecot chooses
        # certificates by local address or SNI, never by port.
        expired = dovecot_conf(name="expired", root=root, listen=listen,
                               ports=[0, ports[2]], cert=c("expired.pem"),
                               key=c("server.key"), passwd=passwd,
                               mail_root=mail_root, uid=uid, gid=gid,
                               user=username, plain=False, token=token)
        def der(name):
            with open(c(name)) as f:
                return ssl.PEM_cert_to_DER_cert(f.read())
        checks = [(ports[0], token), (ports[1], der("server.pem")),
                  (ports[2], der("expired.pem"))]
        procs = []
        # errors before dovecot opens its log_path go to stderr: same file
        with open(logf, "ab") as early_log:
            for conf in (main, expired):
                procs.append(subprocess.Popen(
                    ["dovecot", "-F", "-c", conf],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=early_log,
                    preexec_fn=pdeathsig_preexec(os.getpid())))
        try:
            if wait_ready(procs, checks, logf):
                return procs, ports, mail_root, logf
        except BaseException:
            stop(procs)
            raise
        stop(procs)
        log("dovecot exited at start (attempt %d), retrying with other ports:\n%s"
            % (attempt + 1, tail(logf, 10)))
    raise RuntimeError("dovecot would not start; log:\n" + tail(logf))


def mail_owner():
    if os.getuid() != 0:
        pw = pwd.getpwuid(os.getuid())
        return pw.pw_uid, os.getgid(), pw.pw_name
    # dovecot refuses uid 0 for mail; 'mail' (8) is in every Debian base
    try:
        pw = pwd.getpwnam("mail")
        return pw.pw_uid, pw.pw_gid, pw.pw_name
    except KeyError:
        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid, pw.pw_name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=12)
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary folder (also BZ_TEST_KEEP=1)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command given")
    if args.users < 1:
        ap.error("--users must be >= 1")
    keep = args.keep or os.environ.get("BZ_TEST_KEEP") == "1"

    signalled = []

    def on_signal(signum, frame):
        if signalled:
            return
        signalled.append(signum)
        raise Signalled(signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    root = tempfile.mkdtemp(prefix="bz-test-")
    procs = []
    child = None
    rc = 1
    try:
        # the mail uid must be able to reach its Maildir below us
        os.chmod(root, 0o755)
        t0 = time.monotonic()
        uid, gid, username = mail_owner()
        cert_dir = os.path.join(root, "certs")
        pin = make_certs(cert_dir)
        v6 = have_ipv6_loopback()
        users = ["test%d" % i for i in range(1, args.users + 1)]
        procs, ports, mail_root, logf = start_dovecot(
            root, users, uid, gid, username, cert_dir, v6)
        startup_ms = (time.monotonic() - t0) * 1000

        scratch = os.path.join(root, "scratch")
        env = dict(os.environ)
        for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"),
                         ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache"),
                         ("XDG_STATE_HOME", "state"), ("XDG_RUNTIME_DIR", "runtime")):
            path = os.path.join(scratch, sub)
            os.makedirs(path, mode=0o700)
            os.chmod(path, 0o700)
            env[var] = path
        env.update({
            "BZ_TEST_HOST": "localhost",
            "BZ_TEST_WRONG_HOST": "127.0.0.1",
            "BZ_TEST_POP3_PORT": str(ports[0]),
            "BZ_TEST_POP3S_PORT": str(ports[1]),
            "BZ_TEST_EXPIRED_PORT": str(ports[2]),
            "BZ_TEST_EXPIRED_HOST": "localhost",
            "BZ_TEST_CA_FILE": os.path.join(cert_dir, "ca.pem"),
            "BZ_TEST_WRONG_CA_FILE": os.path.join(cert_dir, "wrong-ca.pem"),
            "BZ_TEST_SERVER_CERT": os.path.join(cert_dir, "server.pem"),
            "BZ_TEST_SERVER_KEY": os.path.join(cert_dir, "server.key"),
            "BZ_TEST_EXPIRED_CERT": os.path.join(cert_dir, "expired.pem"),
            "BZ_TEST_PIN_SHA256": pin,
            "BZ_TEST_USERS": " ".join(users),
            "BZ_TEST_PASSWORD": PASSWORD,
            "BZ_TEST_MAIL_ROOT": mail_root,
            "BZ_TEST_MAIL_UID": str(uid),
            "BZ_TEST_MAIL_GID": str(gid),
            "BZ_TEST_MAILGEN": os.path.join(HERE, "mailgen.py"),
            "BZ_TEST_FAULTPOP": os.path.join(HERE, "faultpop.py"),
            "BZ_TEST_PASSWORD_WHEN_CONNECTED": os.path.join(HERE, "password-when-connected.py"),
            "BZ_TEST_PYTHON": sys.executable,
            "BZ_TEST_TMPDIR": scratch,
            "BZ_TEST_DOVECOT_LOG": logf,
            "BZ_TEST_DOVECOT_STARTUP_MS": "%.0f" % startup_ms,
        })
        if os.environ.get("BZ_TEST_VERBOSE"):
            log("dovecot ready in %.0f ms (pop3 %d, pop3s %d, expired %d)"
                % (startup_ms, ports[0], ports[1], ports[2]))
        if os.sep in cmd[0]:
            cmd[0] = os.path.abspath(cmd[0])
        # CMD gets its own process group so that stopping it also stops
        # whatever it started (a buzond, a faultpop)
        child = subprocess.Popen(cmd, env=env,
                                 preexec_fn=pdeathsig_preexec(os.getpid()))
        rc = child.wait()
        # leftovers of CMD's group (daemons it forgot) go too
        killpg(child, signal.SIGKILL)
        child = None
        if rc < 0:
            rc = 128 - rc
        if rc != 0:
            log("command exited with %d; dovecot log tail:\n%s" % (rc, tail(logf)))
    except Signalled as e:
        rc = 128 + e.signum
        if child is not None and child.poll() is None:
            killpg(child, e.signum)
            try:
                child.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
    except Exception as e:  # noqa: BLE001 -- report, clean up, fail
        log("error: %s" % e)
        rc = 1
    finally:
        # a second signal must not cut the cleanup short
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if child is not None:
            killpg(child, signal.SIGKILL)
            child.wait()
        stop(procs)
        if keep:
            log("kept " + root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())

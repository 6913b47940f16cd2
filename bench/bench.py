#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""buzon against mpop, fetchmail, getmail6 and the server's own ceiling.

Runs inside tests/harness/run-with-dovecot.py (bench/run starts it): the
BZ_TEST_* variables describe a private dovecot with implicit TLS.

    bench.py --buzond PATH --rawpop PATH --deliver PATH [--quick]
             [--reps N] [--clients a,b] [--cells a,b] [--out DIR]

Cells (the issue's list):
  full     every client downloads a fresh mailbox of 10,000 'realistic'
           messages over TLS with verification, keeping them on the server
  seed50k  each client learns a 50,000 message mailbox (one run, reported
           for information: it is what makes the next two cells possible)
  incr0    nothing new on the 50,000 message mailbox
  incr10   10 new messages on it
  big      one 50 MB message
  incr200k nothing new with 200,000 known (buzon and the ceiling only:
           the others' first download of 200,000 would take many minutes)
  daemon6k, accounts40, index10k, search50k  buzond as a daemon
           (bench_daemon.py); the last two measure the full-text index
           (issue 17) on the mailboxes of full and seed50k
Every run is checked: the client's Maildir must hold exactly the expected
messages (every Message-ID once, nothing else), and a sample of them must
end with the exact bytes the server has from the Message-ID line on
(clients may prepend headers and replace Return-Path).
Wall time is measured around the process, peak RSS by GNU time (the
ru_maxrss of the client, or of the largest child it waited for).
"""

import argparse
import csv
import datetime
import os
import poplib
import pwd
import random
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
import mailgen  # noqa: E402
sys.path.insert(0, HERE)
import bench_daemon  # noqa: E402

CLIENTS = ("buzon", "mpop", "fetchmail", "getmail6", "ceiling")
CELLS = ("full", "seed50k", "incr0", "incr10", "big", "incr200k", "daemon6k", "accounts40",
         "index10k", "search50k")
DAEMON_CELLS = ("daemon6k", "accounts40", "index10k", "search50k")
RUN_TIMEOUT = 900
MID_RE = re.compile(rb"^Message-ID:\s*<([^>]*)>", re.I | re.M)


def env(name):
    v = os.environ.get(name)
    if v is None:
        sys.exit("bench.py: %s is not set: run me through bench/run" % name)
    return v


class Server:
    def __init__(self):
        self.host = env("BZ_TEST_HOST")
        self.port = int(env("BZ_TEST_POP3S_PORT"))
        self.ca = env("BZ_TEST_CA_FILE")
        self.password = env("BZ_TEST_PASSWORD")
        self.mail_root = env("BZ_TEST_MAIL_ROOT")
        self.scratch = env("BZ_TEST_TMPDIR")
        self.clients_dir = os.path.join(self.scratch, "clients")
        # As root, every client runs as the unprivileged mail user, as it
        # would on a desktop (getmail refuses to deliver as root).
        self.uid = int(env("BZ_TEST_MAIL_UID")) if os.getuid() == 0 else os.getuid()
        self.gid = int(env("BZ_TEST_MAIL_GID")) if os.getuid() == 0 else os.getgid()
        self.login = pwd.getpwuid(self.uid).pw_name

    def maildir(self, user):
        return os.path.join(self.mail_root, user, "Maildir")


# --- clients -----------------------------------------------------------------

class Client:
    """One client's own state and Maildir for one mailbox (user)."""
    name = None
    resets = 0

    def __init__(self, srv, user, tools):
        self.srv = srv
        self.user = user
        self.tools = tools
        self.base = os.path.join(srv.clients_dir, self.name, user)

    def reset(self):
        """A fresh state and Maildir. The old ones stay until the end:
        deleting thousands of files makes ext4's inode allocator skip the
        recently freed inodes (recently_deleted() in fs/ext4/ialloc.c, on
        file systems without a journal, for one to five minutes), and that
        slowed the next client's file creation 10x (35 -> 600 us), also
        after a drop of the page cache."""
        Client.resets += 1
        self.root = os.path.join(self.base, "run%d" % Client.resets)
        self.state = os.path.join(self.root, "state")
        self.maildir = os.path.join(self.root, "Maildir")
        os.makedirs(self.state, mode=0o700)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub))
        pw = os.path.join(self.state, "password")
        fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.srv.password + "\n")
        self.configure()
        self.chown()

    def chown(self):
        if os.getuid() == 0:
            for d, dirs, files in os.walk(self.root):
                for n in [d] + [os.path.join(d, f) for f in dirs + files]:
                    os.lchown(n, self.srv.uid, self.srv.gid)

    def write_private(self, name, text):
        path = os.path.join(self.state, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def configure(self):
        pass

    def argv(self):
        raise NotImplementedError

    def stdin(self):
        return None

    def warm_argv(self):
        """A quick command that loads the client's program and libraries."""
        return self.argv()[:1] + ["--version"]

    def delivered(self):
        files = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            files += [os.path.join(d, n) for n in os.listdir(d)]
        return files


class Buzon(Client):
    name = "buzon"

    def configure(self):
        s = self.srv
        self.conf = self.write_private("accounts.conf", f"""[general]
data-dir = {self.state}/data

[account bench]
host = {s.host}
port = {s.port}
security = tls
user = {self.user}
tls-ca-file = {s.ca}
password-command = cat {self.state}/password
keep = forever
maildir = {self.maildir}
""")

    def argv(self):
        return [self.tools.buzond, "--config", self.conf, "--once"]


class Mpop(Client):
    name = "mpop"

    def configure(self):
        s = self.srv
        self.conf = self.write_private("mpoprc", f"""defaults
tls on
tls_starttls off
tls_trust_file {s.ca}
keep on
only_new on

account bench
host {s.host}
port {s.port}
user {self.user}
passwordeval cat {self.state}/password
uidls_file {self.state}/uidls
delivery maildir {self.maildir}
""")

    def argv(self):
        return ["mpop", "-C", self.conf, "--quiet", "bench"]


def rc_quote(s):
    # fetchmailrc has no escape for the quote character: pick the other one
    q = "'" if '"' in s else '"'
    if q in s:
        raise ValueError("cannot quote %r for fetchmailrc" % s)
    return q + s + q


class Fetchmail(Client):
    name = "fetchmail"

    def configure(self):
        s = self.srv
        # fetchmail cannot write a Maildir itself: an MDA it forks per
        # message (bz-bench-deliver: write, fsync, rename, like maildrop)
        self.conf = self.write_private("fetchmailrc", f"""set no syslog
poll {s.host} with proto POP3 service {s.port} uidl and timeout 120
  user {rc_quote(self.user)} there with password {rc_quote(s.password)} is {rc_quote(s.login)} here
  ssl sslcertck sslcertfile {rc_quote(s.ca)} keep
  mda {rc_quote(self.tools.deliver + " " + self.maildir)}
""")

    def write_known(self, uidls):
        # the --idfile format fetchmail 6.4 writes: "user@host uidl" lines
        self.write_private("fetchids", "".join(
            "%s@%s %s\n" % (self.user, self.srv.host, u) for u in uidls))
        self.chown()

    def argv(self):
        return ["fetchmail", "-f", self.conf, "--idfile",
                os.path.join(self.state, "fetchids"), "--pidfile",
                os.path.join(self.state, "pid"), "--nodetach", "--silent",
                "--nosyslog"]


class Getmail(Client):
    name = "getmail6"

    def configure(self):
        s = self.srv
        self.conf = self.write_private("getmailrc", f"""[retriever]
type = SimplePOP3SSLRetriever
server = {s.host}
port = {s.port}
username = {self.user}
password_command = ("cat", "{self.state}/password")
ca_certs = {s.ca}
# getmail 6.18 can miss the SIGCHLD of its delivery child (upstream
# getmail6 #52, #226) and then waits this long (default 180 s) and fails
timeout = 10

[destination]
type = Maildir
path = {self.maildir}/

[options]
verbose = 0
read_all = false
delete = false
message_log_syslog = false
""")

    def write_known(self, uidls):
        # getmail's oldmail-HOST-PORT-USER: "uidl\0unix-time" lines
        now = int(time.time())
        self.write_private("oldmail-%s-%d-%s" % (self.srv.host, self.srv.port,
                                                 self.user),
                           "".join("%s\0%d\n" % (u, now) for u in uidls))
        self.chown()

    def argv(self):
        return ["getmail", "--getmaildir", self.state, "--rcfile", self.conf,
                "--quiet"]


class Ceiling(Client):
    """The raw reader: login, UIDL, pipelined RETRs, bytes thrown away."""
    name = "ceiling"
    last = None      # None: every message; K: only the last K (0: UIDL only)

    def argv(self):
        a = [self.tools.rawpop, self.srv.host, str(self.srv.port), self.user,
             self.srv.ca]
        if self.last is not None:
            a += ["--last", str(self.last)]
        return a

    def stdin(self):
        return (self.srv.password + "\n").encode()

    def warm_argv(self):
        return [self.tools.rawpop]   # prints its usage


CLIENT_CLASSES = {c.name: c for c in (Buzon, Mpop, Fetchmail, Getmail, Ceiling)}


# --- measuring ---------------------------------------------------------------

def drop_caches():
    """Empties the page cache (root only); False when not allowed.

    Before a run that writes hundreds of MB: on a VM the page cache of the
    earlier runs otherwise pushes each new run onto memory the guest never
    touched, whose first use is slow (seen: a run's system time growing
    from 1.3 s to 2.5 s as the cache grew). It does not help against
    ext4's skipping of recently freed inodes (see Client.reset()): the
    inode table is read back, with the deletion times, when it is used."""
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def run_client(client, log, cold=False):
    """Runs the client once: (wall seconds, peak RSS KiB, output).
    cold: drop the page cache first (then load the client's program again,
    as a desktop would have it loaded)."""
    os.sync()   # the previous run's dirty pages are not this run's cost
    if cold and drop_caches():
        subprocess.run(client.warm_argv(), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
    argv = client.argv()
    env_ = dict(os.environ)
    env_["HOME"] = client.state
    env_["XDG_CONFIG_HOME"] = os.path.join(client.state, "config")
    env_["XDG_DATA_HOME"] = os.path.join(client.state, "data")
    out_path = os.path.join(client.root, "output.log")
    # GNU time reads the peak RSS: a child forked from this Python would
    # count Python's own pages until it execs
    rss_path = os.path.join(client.root, "rss")
    if os.getuid() == 0:
        argv = ["setpriv", "--reuid", str(client.srv.uid), "--regid",
                str(client.srv.gid), "--clear-groups", "--"] + argv
    # BZ_BENCH_WRAP_<client>: a profiler to run that client under, e.g.
    # "perf record -g -o /tmp/p.data"; its numbers are then not comparable
    wrap = os.environ.get("BZ_BENCH_WRAP_" + client.name, "").split()
    argv = ["/usr/bin/time", "-q", "-f", "%M %U %S", "-o", rss_path] + wrap + argv
    with open(out_path, "ab") as out:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, env=env_, stdout=out, stderr=out,
                             stdin=subprocess.PIPE if client.stdin() else subprocess.DEVNULL)
        if client.stdin():
            p.stdin.write(client.stdin())
            p.stdin.close()
        deadline = t0 + RUN_TIMEOUT
        while True:
            pid, status = os.waitpid(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status = os.waitpid(p.pid, 0)
                break
            time.sleep(0.002)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, "rb") as f:
        output = f.read()[-4000:].decode(errors="replace")
    try:
        with open(rss_path) as f:
            rss, user, sys_ = f.read().split()[-3:]
        rss, user, sys_ = int(rss), float(user), float(sys_)
    except (OSError, ValueError):
        rss, user, sys_ = 0, 0.0, 0.0
    if p.returncode != 0:
        # fetchmail says 1 for "no new mail", which is a success here
        if not (client.name == "fetchmail" and p.returncode == 1):
            raise RuntimeError("%s exited with %d after %.1f s:\n%s"
                               % (client.name, p.returncode, wall, output))
    log("    %-9s %8.3f s %7.1f MB   CPU user %.2f s sys %.2f s"
        % (client.name, wall, rss / 1024, user, sys_))
    return wall, rss, user + sys_, output


def check_delivery(client, expected, sample_bytes):
    """expected: {message-id: mailgen arguments}. Every message exactly
    once and nothing else; sampled ones end with the server's bytes."""
    if client.name == "ceiling":
        return
    files = client.delivered()
    if len(files) != len(expected):
        raise RuntimeError("%s: %d messages in its Maildir, expected %d"
                           % (client.name, len(files), len(expected)))
    seen = {}
    for path in files:
        with open(path, "rb") as f:
            head = f.read(8192)
        m = MID_RE.search(head)
        mid = m.group(1).decode() if m else None
        if mid not in expected or mid in seen:
            raise RuntimeError("%s: %s has Message-ID %s: %s"
                               % (client.name, path, mid,
                                  "a duplicate" if mid in seen else "not expected"))
        seen[mid] = path
    rng = random.Random(len(expected))
    ids = sorted(expected)
    for mid in rng.sample(ids, min(sample_bytes, len(ids))):
        want = mailgen.generate_message(*expected[mid])
        # from Message-ID on: MDAs may rewrite Return-Path, the first line
        want = want[want.index(b"\nMessage-ID:") + 1:]
        with open(seen[mid], "rb") as f:
            got = f.read().replace(b"\r\n", b"\n")
        if not got.endswith(want):
            raise RuntimeError("%s: message %s differs from the server's copy"
                               % (client.name, mid))


def fill(srv, user, count, seed, start, profile, size=None):
    """Adds messages to user's mailbox; returns {message-id: the arguments
    of mailgen.generate_message()} (dovecot moves the files to cur/)."""
    mailgen.write_maildir(srv.maildir(user), count, seed, start, profile, size)
    return {mailgen.message_id(k, seed): (k, seed, profile, size)
            for k in range(start, start + count)}


class Bench:
    def __init__(self, args, tools, log):
        self.args = args
        self.tools = tools
        self.log = log
        self.srv = Server()
        self.rows = []       # (cell, client, rep, wall, rss_kib, cpu_s)
        self.failures = []   # (cell, client, rep, reason)
        self.cold = os.access("/proc/sys/vm/drop_caches", os.W_OK)
        self.on_tmpfs = False     # set once the clients' folder is known
        self.daemon_rows = []     # (cell, what, value, unit)
        self.mailboxes = {}       # user: (how it was filled, expected)

    def clients(self, user):
        return [CLIENT_CLASSES[n](self.srv, user, self.tools)
                for n in self.args.clients]

    def order(self, clients, rep):
        k = rep % len(clients)
        return clients[k:] + clients[:k]

    def record(self, cell, client, rep, wall, rss, cpu):
        self.rows.append((cell, client.name, rep, wall, rss, cpu))

    def mailbox(self, user, n, seed, profile, size=None, warm_last=None):
        """user's mailbox of n messages, filled and warmed (see warm()) at
        its first use: later cells that ask for the same one share it
        (writing 10,000 realistic messages takes a while). Returns the live
        {message-id: mailgen arguments}, messages added since included."""
        how = (n, seed, profile, size)
        if user in self.mailboxes:
            if self.mailboxes[user][0] != how:
                raise RuntimeError("%s's mailbox is %r, not %r" % (user, self.mailboxes[user][0],
                                                                     how))
            return self.mailboxes[user][1]
        expected = fill(self.srv, user, n, seed, 1, profile, size)
        self.warm(user, last=warm_last)
        self.mailboxes[user] = (how, expected)
        return expected

    def warm(self, user, last=None):
        c = Ceiling(self.srv, user, self.tools)
        c.last = last
        c.reset()
        run_client(c, lambda *_: None)

    def measure(self, cell, c, rep, expected, sample, cold=False):
        """One run and its check; a failure is recorded, not fatal."""
        try:
            wall, rss, cpu, _ = run_client(c, self.log, cold)
            check_delivery(c, expected, sample)
        except RuntimeError as e:
            self.log("    %-9s FAILED: %s" % (c.name, str(e).splitlines()[0]))
            self.failures.append((cell, c.name, rep, str(e)))
            return False
        self.record(cell, c, rep, wall, rss, cpu)
        return True

    def cell_full(self, user, n, seed, profile, cell, size=None):
        self.log("%s: %d %s message(s) for %s" % (cell, n, profile, user))
        # dovecot indexes the mailbox once, for everyone
        expected = self.mailbox(user, n, seed, profile, size)
        clients = self.clients(user)
        for rep in range(self.args.reps):
            self.log("  rep %d" % (rep + 1))
            for c in self.order(clients, rep):
                c.reset()
                self.measure(cell, c, rep, expected, 20 if n > 1 else 1, cold=True)
                if self.on_tmpfs:
                    # tmpfs keeps what is kept in memory, so the next run
                    # would write to memory never used before (slow on a
                    # VM, see drop_caches()); and it has no inode penalty
                    shutil.rmtree(c.root, ignore_errors=True)

    def cells_incremental(self, user, n, seed):
        self.log("seed50k: %d small messages for %s" % (n, user))
        expected = self.mailbox(user, n, seed, "small", warm_last=0)
        uidls = server_uidls(self.srv, user)
        if len(uidls) != n:
            raise RuntimeError("the server lists %d messages, not %d" % (len(uidls), n))
        clients = []
        for c in self.clients(user):
            c.reset()
            c.expected = dict(expected)
            if isinstance(c, (Fetchmail, Getmail)):
                # These two need 4-13 ms a message (a fork per message):
                # learning 50,000 messages would take 4-11 minutes each, so
                # they get the state file they would have written, in
                # their own format, and an empty Maildir.
                c.write_known(uidls)
                c.expected = {}
                clients.append(c)
                continue
            if isinstance(c, Ceiling):
                c.last = None
            if self.measure("seed50k", c, 0, expected, 20, cold=True):
                clients.append(c)
            else:
                self.log("    %s is left out of incr0/incr10" % c.name)
        if "incr0" in self.args.cells:
            self.log("incr0: nothing new")
            for c in clients:
                if isinstance(c, Ceiling):
                    c.last = 0
            for rep in range(self.args.reps):
                self.log("  rep %d" % (rep + 1))
                for c in self.order(clients, rep):
                    self.measure("incr0", c, rep, c.expected, 3)
        if "incr10" in self.args.cells:
            self.log("incr10: 10 new each time")
            for c in clients:
                if isinstance(c, Ceiling):
                    c.last = 10
            for rep in range(self.args.reps):
                self.log("  rep %d" % (rep + 1))
                start = n + 1 + rep * 10
                new = fill(self.srv, user, 10, seed, start, "small")
                expected.update(new)   # for the cells that share the mailbox
                self.warm(user, last=0)
                for c in self.order(clients, rep):
                    c.expected.update(new)
                    self.measure("incr10", c, rep, c.expected, 10)

    def daemon_cell(self, cell, func, *args):
        try:
            self.daemon_rows += func(self, *args)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            self.log("    buzon FAILED: %s" % str(e).splitlines()[0])
            self.failures.append((cell, "buzon", 0, str(e)))

    def cell_incr_known(self, user, n, seed):
        """incr200k: buzon's first download of n small messages (for
        information, recorded as seed), then nothing new, reps times;
        the ceiling's login + UIDL beside it."""
        self.log("incr200k: %d small messages for %s" % (n, user))
        expected = fill(self.srv, user, n, seed, 1, "small")
        self.warm(user, last=0)
        clients = []
        for name in ("buzon", "ceiling"):
            if name not in self.args.clients:
                continue
            c = CLIENT_CLASSES[name](self.srv, user, self.tools)
            c.reset()
            c.last = 0
            if name == "buzon":
                self.log("  buzon's first download (not measured)")
                try:
                    run_client(c, self.log)
                    check_delivery(c, expected, 20)
                except RuntimeError as e:
                    self.failures.append(("incr200k", c.name, 0, "seeding: " + str(e)))
                    continue
            clients.append(c)
        for rep in range(self.args.reps):
            self.log("  rep %d" % (rep + 1))
            for c in self.order(clients, rep):
                self.measure("incr200k", c, rep, expected, 3)


def server_uidls(srv, user):
    """The mailbox's UIDLs in message order (stdlib poplib, verified TLS)."""
    ctx = ssl.create_default_context(cafile=srv.ca)
    p = poplib.POP3_SSL(srv.host, srv.port, context=ctx, timeout=60)
    try:
        p.user(user)
        p.pass_(srv.password)
        _, lines, _ = p.uidl()
    finally:
        p.quit()
    return [ln.split()[1].decode() for ln in lines]


# --- results -----------------------------------------------------------------

CELL_TITLES = {
    "full": "full download, %s realistic messages",
    "seed50k": "first download of the %s message mailbox (1 run)",
    "incr0": "incremental, %s known, nothing new",
    "incr10": "incremental, %s known, 10 new",
    "big": "one %s message",
    "incr200k": "incremental, %s known, nothing new",
}


def summarize(rows, sizes):
    """{cell: {client: (median wall, min, max, median rss KiB, max rss, n,
    median CPU s)}}"""
    out = {}
    for cell in CELLS:
        for client in CLIENTS:
            runs = [r for r in rows if r[0] == cell and r[1] == client]
            if not runs:
                continue
            walls = [r[3] for r in runs]
            rss = [r[4] for r in runs]
            cpu = [r[5] for r in runs]
            out.setdefault(cell, {})[client] = (
                statistics.median(walls), min(walls), max(walls),
                statistics.median(rss), max(rss), len(runs),
                statistics.median(cpu))
    return out


def ratio(a, b):
    return "%.2f" % (a / b) if b > 0 else "-"


def write_results(outdir, rows, failures, summary, sizes, meta, daemon_rows=(), quick=False):
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "runs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cell", "client", "rep", "wall_s", "peak_rss_kib", "cpu_s"])
        for r in rows:
            w.writerow([r[0], r[1], r[2] + 1, "%.4f" % r[3], r[4], "%.2f" % r[5]])
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cell", "client", "runs", "median_wall_s", "min_wall_s",
                    "max_wall_s", "median_peak_rss_mib", "max_peak_rss_mib",
                    "wall_vs_buzon", "median_cpu_s"])
        for cell, by in summary.items():
            bz = by.get("buzon", (0,))[0]
            for client, (med, lo, hi, rss, rssmax, n, cpu) in by.items():
                w.writerow([cell, client, n, "%.4f" % med, "%.4f" % lo,
                            "%.4f" % hi, "%.1f" % (rss / 1024),
                            "%.1f" % (rssmax / 1024), ratio(med, bz),
                            "%.2f" % cpu])
    lines = ["# buzon benchmark results", ""]
    lines += ["%s: %s" % kv for kv in meta]
    lines.append("")
    for cell, by in summary.items():
        lines.append("## " + CELL_TITLES[cell] % sizes.get(cell, ""))
        lines.append("")
        lines.append("| client | median wall (s) | min-max (s) | peak RSS (MB) "
                     "| time vs buzon | CPU (s) |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        bz = by.get("buzon", (0,))[0]
        for client, (med, lo, hi, rss, rssmax, n, cpu) in by.items():
            nfail = sum(1 for f in failures if f[0] == cell and f[1] == client)
            lines.append("| %s%s | %.3f | %.3f-%.3f | %.1f | %s | %.2f |"
                         % (client, " (%d of %d runs failed)" % (nfail, n + nfail)
                            if nfail else "", med, lo, hi, rssmax / 1024,
                            ratio(med, bz), cpu))
        for client in CLIENTS:
            if client not in by and any(f[0] == cell and f[1] == client
                                        for f in failures):
                lines.append("| %s (every run failed) | - | - | - | - | - |" % client)
        if "ceiling" in by and bz and cell not in ("incr0", "incr10", "seed50k", "incr200k"):
            lines.append("")
            lines.append("buzon / ceiling: %s" % ratio(bz, by["ceiling"][0]))
        elif "ceiling" in by and bz:
            lines.append("")
            lines.append("buzon / ceiling (login + UIDL%s): %s"
                         % (" + 10 RETR" if cell == "incr10" else
                            " + every RETR" if cell == "seed50k" else "",
                            ratio(bz, by["ceiling"][0])))
        lines.append("")
    if daemon_rows:
        lines += ["## buzond as a daemon (one run each)", "",
                  "| cell | what | value | unit / detail |", "|---|---|---:|---|"]
        for cell, what, value, unit in daemon_rows:
            lines.append("| %s | %s | %s | %s |" % (cell, what, bench_daemon.fmt(value), unit))
        lines.append("")
        with open(os.path.join(outdir, "daemon.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["cell", "what", "value", "unit"])
            for r in daemon_rows:
                w.writerow(r)
    targets = bench_daemon.issue17_targets(daemon_rows, summary, quick)
    if targets:
        lines += ["## issue 17 targets (the full-text index)", ""] + targets + [""]
    lines.append("Peak RSS is the maximum over the runs (ru_maxrss of the "
                 "client, or of the largest child it waited for). Times are "
                 "medians of the successful runs. CPU is the client's user + "
                 "system time (of it and the children it waited for).")
    if failures:
        lines += ["", "## Failed runs", ""]
        for cell, client, rep, reason in failures:
            lines.append("- %s, %s, run %d: %s" % (cell, client, rep + 1,
                                                   reason.splitlines()[0]))
            for extra in reason.splitlines()[1:4]:
                lines.append("  `%s`" % extra.strip()[:160])
    text = "\n".join(lines) + "\n"
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(text)
    plot(outdir, summary)
    return text


def plot(outdir, summary):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    cells = [c for c in summary if c != "seed50k"]
    if not cells:
        return
    fig, axes = plt.subplots(1, len(cells), figsize=(4 * len(cells), 4))
    if len(cells) == 1:
        axes = [axes]
    colors = {"buzon": "#2a7", "mpop": "#47c", "fetchmail": "#c84",
              "getmail6": "#a5a", "ceiling": "#888"}
    for ax, cell in zip(axes, cells):
        by = summary[cell]
        names = list(by)
        ax.bar(names, [by[n][0] for n in names],
               color=[colors.get(n, "#999") for n in names])
        ax.set_title(cell)
        ax.set_ylabel("median wall time (s)")
        ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "results.png"), dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--buzond", required=True)
    ap.add_argument("--rawpop", required=True)
    ap.add_argument("--deliver", required=True)
    ap.add_argument("--dbusclient", help="bz-bench-dbus (daemon cells)")
    ap.add_argument("--quick", action="store_true",
                    help="small counts and 1 repetition: a smoke run")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--cells", default=",".join(CELLS))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--clients-dir", default="/var/tmp",
                    help="where the clients' Maildirs and state go, in a "
                    "folder of their own (default: /var/tmp, on disk); e.g. "
                    "/dev/shm to take the disk out of the comparison")
    args = ap.parse_args()
    args.clients = [c for c in args.clients.split(",") if c]
    args.cells = [c for c in args.cells.split(",") if c]
    for c in args.clients:
        if c not in CLIENT_CLASSES:
            ap.error("unknown client %s" % c)
    for c in args.cells:
        if c not in CELLS:
            ap.error("unknown cell %s" % c)
    if args.reps is None:
        args.reps = 1 if args.quick else 3
    n_full = 1000 if args.quick else 10000
    n_incr = 5000 if args.quick else 50000
    n_incr200k = 20000 if args.quick else 200000
    n_daemon = 600 if args.quick else 6000
    n_accounts, per_account = 40, (10 if args.quick else 150)
    big = (5 if args.quick else 50) * 1024 * 1024
    sizes = {"full": "{:,}".format(n_full), "seed50k": "{:,}".format(n_incr),
             "incr0": "{:,}".format(n_incr), "incr10": "{:,}".format(n_incr),
             "big": "%d MB" % (big // (1024 * 1024)),
             "incr200k": "{:,}".format(n_incr200k)}

    class Tools:
        pass
    tools = Tools()
    tools.buzond = os.path.abspath(args.buzond)
    tools.rawpop = os.path.abspath(args.rawpop)
    tools.deliver = os.path.abspath(args.deliver)
    tools.dbusclient = os.path.abspath(args.dbusclient) if args.dbusclient else None
    if set(DAEMON_CELLS) & set(args.cells) and not tools.dbusclient:
        ap.error("the daemon cells need --dbusclient")

    t_start = time.monotonic()

    def log(msg):
        print("[%6.1f] %s" % (time.monotonic() - t_start, msg), flush=True)

    b = Bench(args, tools, log)
    if args.clients_dir:
        b.srv.clients_dir = os.path.join(os.path.abspath(args.clients_dir),
                                         "bz-bench-%d" % os.getpid())
    os.makedirs(b.srv.clients_dir)
    b.on_tmpfs = fs_type(b.srv.clients_dir) == "tmpfs"
    load_before = os.getloadavg()
    failed = None
    try:
        if "full" in args.cells:
            b.cell_full("test1", n_full, 1, "realistic", "full")
        if {"seed50k", "incr0", "incr10"} & set(args.cells):
            b.cells_incremental("test2", n_incr, 2)
        if "big" in args.cells:
            b.cell_full("test3", 1, 3, "large", "big", size=big)
        if "incr200k" in args.cells:
            b.cell_incr_known("test45", n_incr200k, 45)
        # a failed daemon cell is recorded like a failed run: the next
        # cell still runs
        if "daemon6k" in args.cells:
            b.daemon_cell("daemon6k", bench_daemon.cell_daemon6k, "test4", n_daemon, 4)
        if "accounts40" in args.cells:
            b.daemon_cell("accounts40", bench_daemon.cell_accounts40,
                          ["test%d" % i for i in range(5, 5 + n_accounts)], per_account, 5)
        # the full-text index on the mailboxes of full and seed50k (filled
        # here when those cells did not run)
        if "index10k" in args.cells:
            b.daemon_cell("index10k", bench_daemon.cell_index10k, "test1", n_full, 1)
        if "search50k" in args.cells:
            b.daemon_cell("search50k", bench_daemon.cell_search50k, "test2", n_incr, 2,
                          100 if args.quick else 400)
    except RuntimeError as e:
        failed = str(e)
        log("FAILED: " + failed)
    summary = summarize(b.rows, sizes)
    meta = [
        ("date", datetime.datetime.now().isoformat(timespec="seconds")),
        ("mode", "quick" if args.quick else "full"),
        ("repetitions", args.reps),
        ("machine", "%d CPUs, load average before %.2f %.2f %.2f, after %.2f %.2f %.2f"
         % ((os.cpu_count(),) + load_before + os.getloadavg())),
        ("storage", "client Maildirs on %s (%s); server mailboxes on %s"
         % (fs_type(b.srv.clients_dir), b.srv.clients_dir,
            fs_type(b.srv.mail_root))),
        ("page cache", "dropped before each run of full, seed50k and big, "
         "then the client's program loaded again" if b.cold else
         "kept (not root: cannot drop it)"),
        ("versions", versions(tools)),
        ("fetchmail delivery", "--mda bz-bench-deliver (one fork+exec per "
         "message; write, fsync, rename into new/)"),
        ("total time", "%.0f s" % (time.monotonic() - t_start)),
    ]
    if failed:
        meta.append(("FAILED", failed.splitlines()[0]))
    text = write_results(args.out, b.rows, b.failures, summary, sizes, meta,
                         b.daemon_rows, args.quick)
    if args.clients_dir:
        shutil.rmtree(b.srv.clients_dir, ignore_errors=True)
    print()
    print(text)
    print("results in %s" % args.out)
    # another client's failure is a result; buzon's or the bench's is not
    if failed or any(f[1] in ("buzon", "ceiling") for f in b.failures):
        return 1
    return 0


def fs_type(path):
    try:
        # stat -f cannot tell ext4 from ext2/ext3: findmnt can
        r = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", path],
                           capture_output=True, text=True, check=True)
        # a path under two mounts of one file system is listed twice
        lines = r.stdout.split()
        return lines[0] if lines else "?"
    except (OSError, subprocess.CalledProcessError):
        return "?"


def versions(tools):
    out = []
    for argv in ([tools.buzond, "--version"], ["mpop", "--version"],
                 ["fetchmail", "--version"], ["getmail", "--version"],
                 ["dovecot", "--version"]):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            text = (r.stdout + r.stderr).splitlines()
            text = [t for t in text if "WARNING" not in t]
            out.append(text[0].strip() if text else argv[0])
        except (OSError, subprocess.SubprocessError):
            out.append(argv[0] + " ?")
    return "; ".join(out)


if __name__ == "__main__":
    sys.exit(main())

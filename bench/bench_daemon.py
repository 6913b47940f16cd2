# SPDX-License-Identifier: GPL-3.0-or-later
"""The daemon cells of bench.py: buzond as a desktop runs it, on a private
session bus, syncing from the bench's dovecot.

  daemon6k   one account, a 6,000-message first download: D-Bus latency
             during it (ListMessages and a property Get, timed by
             bz-bench-dbus, an in-process GIO client), RSS when it ends and
             a minute later, then the wakeups of the idle daemon in 60 s
  accounts40 40 accounts of 150 messages each: RSS a minute after they
             all synced

Every account's Maildir is checked like the other cells' (every message
once, nothing else, a sample byte-exact). Accounts have interval = 15, so
nothing is due during the idle minute.
"""

import os
import signal
import subprocess
import time

SETTLE_S = 60          # "one minute after the sync"
IDLE_S = 60            # the idle window for wakeups
QUICK_SETTLE_S = 10
QUICK_IDLE_S = 15


def proc_status(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), as an int."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def switches(pid):
    """{tid: (comm, context switches)} of every thread of pid. A thread
    that sleeps and is woken (by a timer, a poll returning, a futex) counts
    one voluntary switch: the number of wakeups, without strace's cost."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                text = f.read()
        except OSError:
            continue   # the thread ended
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        n = (int(fields["voluntary_ctxt_switches"])
             + int(fields["nonvoluntary_ctxt_switches"]))
        out[int(tid)] = (fields["Name"].strip(), n)
    return out


def wakeups(pid, seconds):
    """(total, {thread name: count}, threads at the end) over seconds."""
    before = switches(pid)
    time.sleep(seconds)
    after = switches(pid)
    by_name = {}
    total = 0
    for tid, (name, n) in after.items():
        d = n - before.get(tid, (name, 0))[1]
        if d:
            by_name[name] = by_name.get(name, 0) + d
        total += d
    return total, by_name, len(after)


class Daemon:
    """A private dbus-daemon and a buzond on it, both as the mail user when
    the bench runs as root; everything under root_dir."""

    def __init__(self, srv, tools, root_dir, accounts):
        self.srv = srv
        self.tools = tools
        self.root = root_dir
        self.accounts = accounts      # [(account name, dovecot user, maildir)]
        self.bus = None
        self.proc = None
        self.state = os.path.join(root_dir, "state")
        os.makedirs(self.state, mode=0o700)
        pw = os.path.join(self.state, "password")
        with open(pw, "w") as f:
            f.write(srv.password + "\n")
        os.chmod(pw, 0o600)
        groups = ["[general]\ndata-dir = %s/data\n" % self.state]
        for name, user, maildir in accounts:
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(maildir, sub), exist_ok=True)
            groups.append(f"""[account {name}]
host = {srv.host}
port = {srv.port}
security = tls
user = {user}
tls-ca-file = {srv.ca}
password-command = cat {pw}
keep = forever
interval = 15
maildir = {maildir}
""")
        self.conf = os.path.join(self.state, "accounts.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(groups))
        if os.getuid() == 0:
            for d, dirs, files in os.walk(root_dir):
                for n in [d] + [os.path.join(d, x) for x in dirs + files]:
                    os.lchown(n, srv.uid, srv.gid)
        self.env = dict(os.environ)
        self.env["HOME"] = self.state
        self.env["XDG_CONFIG_HOME"] = os.path.join(self.state, "config")
        self.env["XDG_DATA_HOME"] = os.path.join(self.state, "data")
        self.env["XDG_RUNTIME_DIR"] = self.state
        self.env["BUZON_TEST_FIRST_SYNC_DELAY_MS"] = "500"

    def as_user(self, argv):
        if os.getuid() == 0:
            return ["setpriv", "--reuid", str(self.srv.uid), "--regid",
                    str(self.srv.gid), "--clear-groups", "--"] + argv
        return argv

    def start(self):
        sock = os.path.join(self.state, "bus")
        self.bus = subprocess.Popen(
            self.as_user(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                          "--address=unix:path=" + sock, "--print-address=1"]),
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=self.env)
        address = self.bus.stdout.readline().decode().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not start")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address
        self.log = open(os.path.join(self.root, "buzond.log"), "ab")
        # exec'd by setpriv: the pid is buzond's own once it runs
        self.proc = subprocess.Popen(
            self.as_user([self.tools.buzond, "--config", self.conf]),
            env=self.env, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)

    def wait_stored(self, n, latency=False, timeout=900):
        """Runs bz-bench-dbus until the accounts hold n messages and are
        idle; returns its output line split into words."""
        argv = [self.tools.dbusclient, "--stored", str(n), "--timeout", str(timeout)]
        if latency:
            argv.append("--latency")
        argv += [a[0] for a in self.accounts]
        r = subprocess.run(self.as_user(argv), env=self.env, capture_output=True,
                           text=True, timeout=timeout + 30)
        if r.returncode != 0 or self.proc.poll() is not None:
            raise RuntimeError("buzond did not store %d messages: %s%s"
                               % (n, r.stderr.strip(), self.tail()))
        return r.stdout.split()

    def tail(self):
        try:
            with open(os.path.join(self.root, "buzond.log"), "rb") as f:
                return "\n" + f.read()[-1500:].decode(errors="replace")
        except OSError:
            return ""

    def rss_kib(self):
        return proc_status(self.proc.pid, "VmRSS")

    def stop(self):
        for p in (self.proc, self.bus):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.proc is not None and self.proc.returncode not in (0, -signal.SIGTERM):
            raise RuntimeError("buzond exited with %s%s" % (self.proc.returncode, self.tail()))


def cell_daemon6k(bench, user, n, seed):
    """daemon6k: rows (cell, metric, value, unit)."""
    import bench as b
    quick = bench.args.quick
    bench.log("daemon6k: %d small messages for %s, buzond on a private bus" % (n, user))
    expected = b.fill(bench.srv, user, n, seed, 1, "small")
    bench.warm(user)
    root = os.path.join(bench.srv.clients_dir, "daemon6k")
    maildir = os.path.join(root, "Maildir")
    d = Daemon(bench.srv, bench.tools, root, [("bench", user, maildir)])
    rows = []
    try:
        os.sync()
        d.start()
        out = d.wait_stored(n, latency=True)
        # stored N after S s list COUNT P50 P99 MAX get COUNT P50 P99 MAX
        li, gi = out.index("list"), out.index("get")
        rows += [("daemon6k", "sync time (daemon)", float(out[3]), "s"),
                 ("daemon6k", "ListMessages calls during the sync", int(out[li + 1]), ""),
                 ("daemon6k", "ListMessages p50", float(out[li + 2]), "ms"),
                 ("daemon6k", "ListMessages p99", float(out[li + 3]), "ms"),
                 ("daemon6k", "ListMessages max", float(out[li + 4]), "ms"),
                 ("daemon6k", "property Get p50", float(out[gi + 2]), "ms"),
                 ("daemon6k", "property Get p99", float(out[gi + 3]), "ms"),
                 ("daemon6k", "property Get max", float(out[gi + 4]), "ms"),
                 ("daemon6k", "RSS at the end of the sync", d.rss_kib() / 1024, "MB")]
        settle = QUICK_SETTLE_S if quick else SETTLE_S
        time.sleep(settle)
        rows.append(("daemon6k", "RSS %d s after the sync" % settle,
                     d.rss_kib() / 1024, "MB"))
        rows.append(("daemon6k", "peak RSS (VmHWM)",
                     proc_status(d.proc.pid, "VmHWM") / 1024, "MB"))
        idle = QUICK_IDLE_S if quick else IDLE_S
        total, by_name, threads = wakeups(d.proc.pid, idle)
        rows.append(("daemon6k", "wakeups in %d s idle" % idle, total,
                     ", ".join("%s %d" % kv for kv in sorted(by_name.items()))
                     + " (%d threads)" % threads))
        rows.append(("daemon6k", "RSS after the idle window", d.rss_kib() / 1024, "MB"))
    finally:
        d.stop()
    client = b.Buzon(bench.srv, user, bench.tools)
    client.maildir = maildir
    b.check_delivery(client, expected, 20)
    for r in rows:
        bench.log("    %-40s %10s %s" % (r[1], fmt(r[2]), r[3]))
    return rows


def cell_accounts40(bench, users, per_account, seed):
    import bench as b
    quick = bench.args.quick
    bench.log("accounts40: %d accounts of %d small messages" % (len(users), per_account))
    expected = {}
    for i, user in enumerate(users):
        expected[user] = b.fill(bench.srv, user, per_account, seed + i, 1, "small")
        bench.warm(user)
    root = os.path.join(bench.srv.clients_dir, "accounts40")
    accounts = [("a%02d" % i, u, os.path.join(root, "Maildir-%02d" % i))
                for i, u in enumerate(users)]
    d = Daemon(bench.srv, bench.tools, root, accounts)
    rows = []
    try:
        os.sync()
        d.start()
        out = d.wait_stored(per_account * len(users))
        rows.append(("accounts40", "sync time (daemon)", float(out[3]), "s"))
        rows.append(("accounts40", "RSS at the end of the syncs", d.rss_kib() / 1024, "MB"))
        settle = QUICK_SETTLE_S if quick else SETTLE_S
        time.sleep(settle)
        rows.append(("accounts40", "RSS %d s after the syncs" % settle,
                     d.rss_kib() / 1024, "MB"))
        rows.append(("accounts40", "peak RSS (VmHWM)",
                     proc_status(d.proc.pid, "VmHWM") / 1024, "MB"))
    finally:
        d.stop()
    for (name, user, maildir) in accounts:
        client = b.Buzon(bench.srv, user, bench.tools)
        client.maildir = maildir
        b.check_delivery(client, expected[user], 2)
    for r in rows:
        bench.log("    %-40s %10s %s" % (r[1], fmt(r[2]), r[3]))
    return rows


def fmt(v):
    return "%.2f" % v if isinstance(v, float) else str(v)

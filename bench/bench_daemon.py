# SPDX-License-Identifier: GPL-3.0-or-later
"""The daemon cells of bench.py: buzond as a desktop runs it, on a private
session bus, syncing from the bench's dovecot.

  daemon6k   one account, a 6,000-message first download: D-Bus latency
             during it (ListMessages and a property Get, timed by
             bz-bench-dbus, an in-process GIO client), RSS when it ends and
             a minute later, then the wakeups of the idle daemon in 60 s
  accounts40 40 accounts of 150 messages each: RSS a minute after they
             all synced
  index10k   the full cell's 10,000 realistic messages: download time, then
             how long the daemon's indexer (idle priority, after the sync)
             takes, against the download, and the index's size against the
             Maildir's (issue 17's targets)
  search50k  seed50k's 50,000 small messages downloaded and indexed, then
             one- and two-word Manager.Search calls timed by bz-bench-dbus

Every account's Maildir is checked like the other cells' (every message
once, nothing else, a sample byte-exact). Accounts have interval = 15, so
nothing is due during the idle minute.
"""

import csv
import os
import random
import signal
import sqlite3
import subprocess
import time

SETTLE_S = 60          # "one minute after the sync"
IDLE_S = 60            # the idle window for wakeups
QUICK_SETTLE_S = 10
QUICK_IDLE_S = 15
INDEX_POLL_S = 0.05    # the index time's resolution
SEARCH_LIMIT = 20
SCHED_IDLE = 5         # sched_setscheduler(2)


def proc_status(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), as an int."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_breakdown(pid):
    """Where the RSS is, from /proc/PID/smaps: (anonymous KiB, file-backed
    KiB, PSS KiB, [(KiB, library)] of the largest file mappings). File pages
    of shared libraries count in every process that maps them (PSS shares
    them out)."""
    anon = filed = pss = 0
    by_file = {}
    name = ""
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if not head:
                continue
            if not head[0].endswith(":"):
                name = head[5] if len(head) > 5 else ""
            elif head[0] == "Rss:":
                kib = int(head[1])
                if name.startswith("/"):
                    filed += kib
                    lib = os.path.basename(name)
                    by_file[lib] = by_file.get(lib, 0) + kib
            elif head[0] == "Anonymous:":
                anon += int(head[1])
            elif head[0] == "Pss:":
                pss += int(head[1])
    top = sorted(((v, k) for k, v in by_file.items()), reverse=True)[:6]
    return anon, filed, pss, top


def check_maildir(bench, user, maildir, expected, sample):
    """The daemon's Maildir holds every expected message once and nothing
    else (the same check as the --once cells'; @sample byte-exact)."""
    import bench as b
    client = b.Buzon(bench.srv, user, bench.tools)
    client.maildir = maildir
    b.check_delivery(client, expected, sample)


def breakdown_row(cell, pid):
    anon, filed, pss, top = rss_breakdown(pid)
    # BZ_BENCH_KEEP_SMAPS=DIR: the whole map, and glibc's malloc_info()
    # (written by buzond itself, as the mail user, through gdb), for a
    # closer look at where the memory is
    keep = os.environ.get("BZ_BENCH_KEEP_SMAPS")
    if keep:
        os.makedirs(keep, exist_ok=True)
        os.chmod(keep, 0o1777)
        with open("/proc/%d/smaps" % pid) as f, \
                open(os.path.join(keep, "smaps-%s.txt" % cell), "w") as out:
            out.write(f.read())
        info = os.path.join(keep, "malloc-info-%s.xml" % cell)
        try:
            subprocess.run(["gdb", "-p", str(pid), "-batch",
                            "-ex", 'call (void *) fopen ("%s", "w")' % info,
                            "-ex", "call (int) malloc_info (0, $1)",
                            "-ex", "call (int) fclose ($1)"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("bench: no malloc_info for %s: %s" % (cell, e))
    return (cell, "RSS: anonymous / file-backed / PSS",
            "%.1f / %.1f / %.1f" % (anon / 1024, filed / 1024, pss / 1024),
            "MB; largest files: " + ", ".join("%s %.1f" % (k.split(".so")[0], v / 1024)
                                            for v, k in top))


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
            # BZ_BENCH_DAEMON_WRAP: a profiler around buzond, e.g.
            # "heaptrack -o /tmp/ht" (the smaps rows then measure it)
            self.as_user(os.environ.get("BZ_BENCH_DAEMON_WRAP", "").split()
                         + [self.tools.buzond, "--config", self.conf]),
            env=self.env, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)

    def wait_stored(self, n, latency=False, from_sync=False, timeout=900):
        """Runs bz-bench-dbus until the accounts hold n messages and are
        idle; returns its output line split into words. from_sync: the time
        it prints runs from the sync's start, not from now (the daemon
        waits 3 s before its first sync)."""
        argv = ["--stored", str(n), "--timeout", str(timeout)]
        if latency:
            argv.append("--latency")
        if from_sync:
            argv.append("--from-sync")
        argv += [a[0] for a in self.accounts]
        return self.client(argv, "store %d messages" % n, timeout).split()

    def client(self, args, what, timeout=900):
        """bz-bench-dbus with args on the daemon's bus: its output."""
        r = subprocess.run(self.as_user([self.tools.dbusclient] + args), env=self.env,
                           capture_output=True, text=True, timeout=timeout + 30)
        if r.returncode != 0 or self.proc.poll() is not None:
            raise RuntimeError("buzond did not %s: %s%s" % (what, r.stderr.strip(), self.tail()))
        return r.stdout

    @property
    def db_path(self):
        return os.path.join(self.state, "data", "buzon.db")

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
        rows.append(breakdown_row("daemon6k", d.proc.pid))
    finally:
        d.stop()
    check_maildir(bench, user, maildir, expected, 20)
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
        rows.append(breakdown_row("accounts40", d.proc.pid))
        rows.append(("accounts40", "peak RSS (VmHWM)",
                     proc_status(d.proc.pid, "VmHWM") / 1024, "MB"))
    finally:
        d.stop()
    for (name, user, maildir) in accounts:
        check_maildir(bench, user, maildir, expected[user], 2)
    for r in rows:
        bench.log("    %-40s %10s %s" % (r[1], fmt(r[2]), r[3]))
    return rows


# --- the full-text index (issue 17) ------------------------------------------

TODO_SQL = ("SELECT count(*) FROM messages m "
            "WHERE m.path IS NOT NULL AND m.state != 'pending' "
            "AND NOT EXISTS (SELECT 1 FROM message_indexed i WHERE i.id = m.id)")


def open_ro(db_path):
    """A read-only connection: the bench never writes buzond's database."""
    return sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30,
                           isolation_level=None)


def wait_indexed(d, t0, timeout=1800):
    """Seconds from t0 (monotonic) until buzond's indexer has every stored
    message (bz_db_index_count_todo()'s query says 0). Between the exact
    checks it polls the count of indexed rows, which costs next to nothing:
    the indexer runs at idle priority and any CPU the bench took would be
    its time."""
    con = open_ro(d.db_path)
    try:
        stored = con.execute("SELECT count(*) FROM messages "
                             "WHERE path IS NOT NULL AND state != 'pending'").fetchone()[0]
        while True:
            done = con.execute("SELECT count(*) FROM message_indexed").fetchone()[0]
            t = time.monotonic()
            if done >= stored and con.execute(TODO_SQL).fetchone()[0] == 0:
                return t - t0
            if t - t0 > timeout:
                raise RuntimeError("the index has %d of %d messages after %d s"
                                   % (done, stored, timeout))
            if d.proc.poll() is not None:
                raise RuntimeError("buzond exited while indexing" + d.tail())
            time.sleep(INDEX_POLL_S)
    finally:
        con.close()


def index_size(db_path):
    """(bytes, detail): the pages of every table and index that is not the
    mail's own record (accounts, messages and their indices), i.e. the
    full-text index whatever its tables are called; from SQLite's dbstat."""
    con = open_ro(db_path)
    try:
        rows = con.execute(
            "SELECT name, sum(pgsize) FROM dbstat "
            "WHERE name NOT IN (SELECT name FROM sqlite_schema "
            "                   WHERE tbl_name IN ('accounts', 'messages')) "
            "AND name NOT LIKE 'sqlite_%' GROUP BY name ORDER BY 2 DESC").fetchall()
    finally:
        con.close()
    total = sum(r[1] for r in rows)
    detail = ", ".join("%s %.1f" % (name, size / 1e6) for name, size in rows if size >= 1e5)
    return total, detail + " (MB)"


def file_bytes(*paths):
    n = 0
    for p in paths:
        try:
            n += os.stat(p).st_size
        except OSError:
            pass
    return n


def maildir_bytes(maildir):
    return sum(os.stat(os.path.join(maildir, sub, f)).st_size
               for sub in ("new", "cur") for f in os.listdir(os.path.join(maildir, sub)))


def indexer_thread(pid):
    """(scheduling policy, nice, seconds on a CPU, seconds waiting for one)
    of buzond's bz-indexer thread so far, from /proc (schedstat: the
    scheduler's own account); None when there is none."""
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                on_cpu, queued = f.read().split()[:2]
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if name != "bz-indexer":
            continue
        fields = stat[stat.rindex(")") + 2:].split()   # fields from 3 (state) on
        return (int(fields[41 - 3]), int(fields[19 - 3]), int(on_cpu) / 1e9, int(queued) / 1e9)
    return None


def indexer_row(cell, pid, before, wall):
    """The indexer thread's time over the indexing: on a CPU, waiting for
    one (other processes' CPU: SCHED_IDLE yields to all of them), and the
    rest, blocked (the disk, a lock)."""
    t = indexer_thread(pid)
    if t is None:
        return (cell, "indexer thread CPU time", "-", "no bz-indexer thread found")
    policy, nice, on_cpu, queued = t
    if before is not None:
        on_cpu -= before[2]
        queued -= before[3]
    return (cell, "indexer thread CPU time", on_cpu,
            "s; %.2f s waiting for a CPU, %.2f s blocked; bz-indexer %s, nice %d"
            % (queued, max(0.0, wall - on_cpu - queued),
               "SCHED_IDLE" if policy == SCHED_IDLE else "policy %d (NOT idle)" % policy, nice))


def download_and_index(bench, cell, d, n, profile):
    """Starts the daemon, waits for the download of n messages and then
    for the indexer: rows of the download, the indexing and the index.
    Issue 17's targets are for the realistic profile."""
    import bench as b
    os.sync()
    if bench.cold and b.drop_caches():
        # as in the full cell: a desktop would have buzond's program loaded
        subprocess.run([bench.tools.buzond, "--version"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    d.start()
    out = d.wait_stored(n, from_sync=True)
    synced = time.monotonic()
    # the thread waits for work from the start: its times so far are not
    # the indexing's (it may have begun a few ms ago, when the sync ended)
    thread_before = indexer_thread(d.proc.pid)
    db_before = file_bytes(d.db_path, d.db_path + "-wal")
    download = float(out[3])
    try:
        index = wait_indexed(d, synced)
        size, detail = index_size(d.db_path)
    except sqlite3.Error as e:
        # a failed cell, not a failed bench (see Bench.daemon_cell())
        raise RuntimeError("reading buzond's database: %s" % e) from e
    mail = maildir_bytes(d.accounts[0][2])
    judged = profile == "realistic"
    return [
        (cell, "messages indexed", n, profile),
        (cell, "download time (daemon, from the sync's start)", download, "s"),
        (cell, "indexing time after the download", index,
         "s (to the %d ms poll)" % (INDEX_POLL_S * 1000)),
        (cell, "indexing time / download time", index / download,
         "target <= 2" if judged else ""),
        indexer_row(cell, d.proc.pid, thread_before, index),
        (cell, "Maildir", mail / 1e6, "MB"),
        (cell, "index size", size / 1e6, "MB: " + detail),
        (cell, "index size / Maildir", 100.0 * size / mail,
         "%, target <= 30 %" if judged else "%"),
        (cell, "database growth while indexing",
         (file_bytes(d.db_path, d.db_path + "-wal") - db_before) / 1e6,
         "MB (file + WAL; for information)"),
        (cell, "RSS after indexing", d.rss_kib() / 1024, "MB"),
        (cell, "peak RSS (VmHWM)", proc_status(d.proc.pid, "VmHWM") / 1024, "MB"),
    ]


def cell_index10k(bench, user, n, seed):
    """index10k: the full cell's mailbox, downloaded and indexed by buzond as
    a daemon."""
    import bench as b
    expected = bench.mailbox(user, n, seed, "realistic")
    bench.log("index10k: %d realistic messages for %s, buzond downloads and indexes them"
              % (len(expected), user))
    root = os.path.join(bench.srv.clients_dir, "index10k")
    maildir = os.path.join(root, "Maildir")
    d = Daemon(bench.srv, bench.tools, root, [("bench", user, maildir)])
    try:
        rows = download_and_index(bench, "index10k", d, len(expected), "realistic")
    finally:
        d.stop()
    check_maildir(bench, user, maildir, expected, 20)
    log_rows(bench, rows)
    return rows


# mailgen's text: every message has the filler words (its 256 KiB corpus
# draws each line from one list of 27), "Hello from message K", a subject
# of one of three kinds and a sender of one of four, by K modulo 3 and 4.
COMMON = ("pop3", "maildir", "server", "message", "socket", "token", "café", "sync",
          "daemon", "stream", "agent", "client", "folder", "hello")    # ~every message
FEWER = ("weekly", "report", "köln", "nachricht", "genève", "crème", "alice",
         "sørensen", "müller", "doe")                                   # 1/3 or 1/4
PAIRS = ("weekly report", "köln nachricht", "genève crème", "alice example",
         "josé müller", "françois sørensen", "john ops")


def search_queries(n_messages, count, seed):
    """count one-word and count two-word queries over mailgen's text, from
    words in nearly every message to words in one: a common word, a word of
    a third or a quarter of the messages, a message's number (one hit)."""
    rng = random.Random(seed)

    def number():
        return str(rng.randint(min(10, n_messages), n_messages))  # not the seed
    out = []
    for i in range(count):
        out.append(("1word", (rng.choice(COMMON), rng.choice(COMMON), rng.choice(FEWER),
                              number())[i % 4]))
    for i in range(count):
        k = i % 4
        if k == 0:
            q = "%s %s" % tuple(rng.sample(COMMON, 2))
        elif k == 1:
            q = "%s %s" % (rng.choice(COMMON), rng.choice(FEWER))
        elif k == 2:
            q = rng.choice(PAIRS)
        else:
            q = "message " + number()
        out.append(("2words", q))
    return out


def cell_search50k(bench, user, n, seed, count):
    """search50k: seed50k's mailbox downloaded and indexed by buzond as a
    daemon, then count one-word and count two-word Search calls."""
    import bench as b
    expected = bench.mailbox(user, n, seed, "small", warm_last=0)
    n = len(expected)
    bench.log("search50k: %d small messages for %s, buzond downloads and indexes them, "
              "then %d + %d searches" % (n, user, count, count))
    root = os.path.join(bench.srv.clients_dir, "search50k")
    maildir = os.path.join(root, "Maildir")
    d = Daemon(bench.srv, bench.tools, root, [("bench", user, maildir)])
    rows = []
    try:
        rows += [r for r in download_and_index(bench, "search50k", d, n, "small")
                 if "RSS" not in r[1]]
        queries = os.path.join(root, "queries")
        with open(queries, "w") as f:
            for kind, q in search_queries(n, count, seed):
                f.write("%s\t%s\n" % (kind, q))
        out = d.client(["--queries", queries, "--limit", str(SEARCH_LIMIT)], "answer Search")
        # KIND COUNT P50 P99 MAX HITS ZERO, then "query KIND MS HITS QUERY"
        each = [ln.split(" ", 4) for ln in out.splitlines() if ln.startswith("query ")]
        zero = [q[4] for q in each if q[3] == "0"]
        os.makedirs(bench.args.out, exist_ok=True)
        with open(os.path.join(bench.args.out, "search.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["kind", "query", "ms", "hits"])
            for q in each:
                w.writerow([q[1], q[4], q[2], q[3]])
        for ln in out.splitlines():
            w = ln.split()
            if not w or w[0] not in ("1word", "2words"):
                continue
            what = "one-word" if w[0] == "1word" else "two-word"
            rows += [("search50k", "%s Search p50" % what, float(w[2]), "ms"),
                     ("search50k", "%s Search p99" % what, float(w[3]), "ms, target < 50"),
                     ("search50k", "%s Search max" % what, float(w[4]), "ms"),
                     ("search50k", "%s Search hits" % what, float(w[5]),
                      "average of %s queries, limit %d; %s found nothing"
                      % (w[1], SEARCH_LIMIT, w[6]))]
        rows.append(("search50k", "RSS after the searches", d.rss_kib() / 1024, "MB"))
        if zero:
            # a latency of searches that find nothing says little
            raise RuntimeError("%d searches found nothing, e.g. %s"
                               % (len(zero), "; ".join(zero[:5])))
    finally:
        d.stop()
    check_maildir(bench, user, maildir, expected, 20)
    log_rows(bench, rows)
    return rows


def issue17_targets(daemon_rows, summary, quick):
    """Lines judging issue 17's targets on this run's rows (empty when
    neither index cell nor full ran)."""
    v = {(r[0], r[1]): (r[2], r[3]) for r in daemon_rows}

    def judge(ok):
        return "met" if ok else "**NOT met**"
    lines = []
    n = v.get(("search50k", "messages indexed"), (0,))[0]
    for what in ("one-word", "two-word"):
        p99 = v.get(("search50k", "%s Search p99" % what), (None,))[0]
        if p99 is not None:
            lines.append("- search over {:,} indexed messages, {} queries through D-Bus: "
                         "p99 {:.1f} ms (target < 50 ms): {}".format(n, what, p99,
                                                                  judge(p99 < 50)))
    n = v.get(("index10k", "messages indexed"), (0,))[0]
    pct = v.get(("index10k", "index size / Maildir"), (None,))[0]
    if pct is not None:
        lines.append("- index size on the realistic profile: {:.1f}% of the Maildir "
                     "(target <= 30%): {}".format(pct, judge(pct <= 30)))
    r = v.get(("index10k", "indexing time / download time"), (None,))[0]
    if r is not None:
        cpu = v.get(("index10k", "indexer thread CPU time"), ("", ""))[1]
        idle = "SCHED_IDLE" in cpu
        lines.append("- indexing {:,} realistic messages: {:.2f} s = {:.2f}x their download "
                     "({:.2f} s), {} (target <= 2x, at idle priority): {}".format(
                         n, v[("index10k", "indexing time after the download")][0], r,
                         v[("index10k", "download time (daemon, from the sync's start)")][0],
                         "at idle priority" if idle else "NOT at idle priority",
                         judge(r <= 2 and idle)))
    full = summary.get("full", {})
    if "buzon" in full:
        ceiling = full.get("ceiling", (0,))[0]
        lines.append("- full download (buzond --once, which never indexes): buzon {:.3f} s "
                     "(median){}; target: unchanged within noise against the build before "
                     "the index, to be compared with that build's run".format(
                         full["buzon"][0], ", %.2fx the ceiling" % (full["buzon"][0] / ceiling)
                         if ceiling else ""))
    if lines and quick:
        lines.append("- (a --quick run: smaller mailboxes than the targets name; the "
                     "verdicts only hint)")
    return lines


def log_rows(bench, rows):
    for r in rows:
        bench.log("    %-45s %10s %s" % (r[1], fmt(r[2]), r[3]))


def fmt(v):
    return "%.2f" % v if isinstance(v, float) else str(v)

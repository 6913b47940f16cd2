#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A scriptable POP3 server that misbehaves on request.

Serves an in-memory mailbox made by mailgen.generate_message() on 127.0.0.1
(port chosen by the kernel) and prints "PORT <n>" as its first stdout line.
It is a correct POP3 server (RFC 1939, 2449, 2595, 5034) unless a fault flag
says otherwise.  It always stops by itself: after --lifetime seconds, or
once --max-connections connections have ended.  Deletions committed at QUIT
persist for later connections of the same run.  Connections are served one
at a time, in order.  Counters of --drop-in-retr / --stall-in-retr count
RETR commands across all connections of the run.

Run with --help for the flags; tests/README.md explains each fault.
"""

import argparse
import base64
import hashlib
import os
import random
import selectors
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailgen  # noqa: E402

MAX_LINE = 4096


class Closed(Exception):
    """The client went away or a fault closed the connection."""


class Dropped(Closed):
    """A fault ends the connection after sending something. What was sent
    must still arrive: a close() with the client's pipelined commands
    unread would reset the connection and throw away what the kernel had
    not sent yet (seen: 292 of 299 whole messages arrived)."""


class Stall(Exception):
    """A fault wants the connection kept open and silent."""


class Mailbox:
    def __init__(self, count, seed, profile, size, uidl_suffix=b"", opt=None):
        self.msgs = []
        # Bytes that are not UTF-8 ride in the str as surrogates and go out
        # unchanged (see Session.send_text).
        suffix = uidl_suffix.decode("utf-8", "surrogateescape")
        pad = dict(opt.pad) if opt else {}
        claim = dict(opt.claim_size) if opt else {}
        for k in range(1, count + 1):
            data = mailgen.generate_message(k, seed, profile, size)
            if k in pad:
                data += b"".join(b"%075d\n" % i for i in range(pad[k] // 76 + 1))
            data = data.replace(b"\n", b"\r\n")
            uidl = "bz%d-%d%s" % (seed, k, suffix)
            if opt and opt.uidl_len > len(uidl):
                uidl += "x" * (opt.uidl_len - len(uidl))
            size_claimed = len(data)
            if opt and opt.lf_sizes:
                size_claimed -= data.count(b"\r\n")
            size_claimed = claim.get(k, size_claimed)
            self.msgs.append({
                "data": data,
                "uidl": uidl,
                "size": size_claimed,
                "gone": False,
            })

    def snapshot(self):
        """Messages of a new session, numbered 1..n as RFC 1939 wants."""
        return [m for m in self.msgs if not m["gone"]]


class Session:
    def __init__(self, server, sock):
        self.srv = server
        self.opt = server.opt
        self.sock = sock
        self.rbuf = b""
        self.state = "AUTH"
        self.user = None
        self.deleted = set()
        self.view = []
        self.tls = isinstance(sock, ssl.SSLSocket)
        self.stamp = "<%d.%d@faultpop>" % (os.getpid(), int(time.time() * 1000))

    # --- I/O ---------------------------------------------------------------
    def send(self, data):
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise Closed() from e

    def reply(self, cmd, text):
        """Send one status line for cmd, unless a fault takes over."""
        o = self.opt
        if cmd in o.stall_after:
            raise Stall()
        if cmd in o.garbage_after:
            rng = random.Random(cmd)
            junk = bytes(rng.choice(range(0x80, 0x100)) for _ in range(40))
            self.send(b"\x01\x7f" + junk + b" <garbage>\r\n")
            return False
        if cmd in o.long_line_after:
            n = o.long_line_after[cmd]
            chunk = b"+" + b"X" * 65535
            while n > 0:
                self.send(chunk[:n])
                n -= min(n, len(chunk))
            raise Dropped()
        if cmd in o.raw_after:
            self.send(o.raw_after[cmd])
            return False
        if cmd in o.plain_err and text.startswith("+OK") and self.srv.take_plain_err(cmd):
            self.send(b"-ERR maildrop locked, try later\r\n")
            return False
        if cmd in o.resp_code and text.startswith("+OK"):
            self.send(("-ERR [%s] refused by --resp-code\r\n"
                       % o.resp_code[cmd]).encode())
            return False
        self.send(text.encode("utf-8", "surrogateescape") + b"\r\n")
        return text.startswith("+OK")

    def readline(self):
        while b"\n" not in self.rbuf:
            if len(self.rbuf) > MAX_LINE:
                raise Closed()
            try:
                data = self.sock.recv(65536)
            except (OSError, ssl.SSLError) as e:
                raise Closed() from e
            if not data:
                raise Closed()
            self.rbuf += data
        line, self.rbuf = self.rbuf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def multiline(self, cmd, status, lines):
        if not self.reply(cmd, status):
            return
        out = []
        for ln in lines:
            out.append(ln.encode("utf-8", "surrogateescape") + b"\r\n")
        out.append(b".\r\n")
        self.send(b"".join(out))

    # --- helpers -------------------------------------------------------------
    def capa(self):
        o = self.opt
        sasl = "SASL PLAIN"
        if o.oauth2 == "google":
            sasl += " XOAUTH2 OAUTHBEARER"
        elif o.oauth2 == "microsoft":
            sasl += " XOAUTH2"
        caps = ["TOP", "USER", "RESP-CODES", "AUTH-RESP-CODE", sasl]
        if not o.no_uidl:
            caps.insert(1, "UIDL")
        if not o.no_pipelining:
            caps.append("PIPELINING")
        if self.state == "AUTH" and self.can_stls():
            caps.append("STLS")
        caps.append("IMPLEMENTATION faultpop")
        return caps

    def can_stls(self):
        return bool(self.opt.stls_cert) and not self.opt.no_stls_capa and not self.tls

    def msg(self, arg):
        try:
            n = int(arg)
        except (TypeError, ValueError):
            return None, None
        if n < 1 or n > len(self.view) or n in self.deleted:
            return None, None
        return n, self.view[n - 1]

    def login_ok(self, cmd, user):
        if not self.reply(cmd, "+OK logged in"):
            return
        self.user = user
        self.state = "TRANSACTION"
        with self.srv.lock:
            self.view = self.srv.box.snapshot()

    # --- commands ------------------------------------------------------------
    def run(self):
        if (not self.reply("GREETING", "+OK faultpop ready %s" % self.stamp)
                and "GREETING" in self.opt.resp_code):
            raise Closed()   # an -ERR greeting ends the session (RFC 1939)
        while True:
            line = self.readline()
            word, _, arg = line.partition(" ")
            cmd = word.upper()
            self.srv.log_cmd(cmd, line)
            if self.dispatch(cmd, arg) is False:
                return

    def dispatch(self, cmd, arg):
        o = self.opt
        if cmd == "QUIT":
            if self.state == "TRANSACTION":
                with self.srv.lock:
                    for n in self.deleted:
                        self.view[n - 1]["gone"] = True
                    self.srv.write_state()
            self.reply(cmd, "+OK bye")
            return False
        if cmd == "CAPA":
            self.multiline(cmd, "+OK capabilities follow", self.capa())
        elif cmd == "NOOP":
            self.reply(cmd, "+OK")
        elif self.state == "AUTH":
            self.dispatch_auth(cmd, arg)
        elif cmd == "STAT":
            live = [m for i, m in enumerate(self.view) if i + 1 not in self.deleted]
            self.reply(cmd, "+OK %d %d" % (len(live), sum(m["size"] for m in live)))
        elif cmd in ("LIST", "UIDL"):
            if cmd == "UIDL" and o.no_uidl:
                self.reply(cmd, "-ERR UIDL not supported")
                return True
            field = (lambda m: str(m["size"])) if cmd == "LIST" else (lambda m: m["uidl"])
            if arg:
                n, m = self.msg(arg)
                if m is None:
                    self.reply(cmd, "-ERR no such message")
                else:
                    self.reply(cmd, "+OK %d %s" % (n, field(m)))
            else:
                lines = ["%d %s" % (i + 1, field(m)) for i, m in enumerate(self.view)
                         if i + 1 not in self.deleted]
                if cmd == "UIDL" and o.uidl_extra:
                    # made-up entries past the real ones: a listing too long
                    first = len(self.view) + 1
                    lines += ["%d %s" % (n, ("bzextra-%d" % n).ljust(o.uidl_len, "x"))
                              for n in range(first, first + o.uidl_extra)]
                self.multiline(cmd, "+OK listing follows", lines)
        elif cmd in ("RETR", "TOP"):
            self.retr(cmd, arg)
        elif cmd == "DELE":
            n, m = self.msg(arg)
            if m is None:
                self.reply(cmd, "-ERR no such message")
            else:
                self.deleted.add(n)
                self.reply(cmd, "+OK marked")
        elif cmd == "RSET":
            self.deleted.clear()
            self.reply(cmd, "+OK")
        else:
            self.reply(cmd, "-ERR unknown command")
        return True

    def dispatch_auth(self, cmd, arg):
        o = self.opt
        if cmd == "STLS":
            if not self.can_stls():
                self.reply(cmd, "-ERR STLS not available")
                return
            if not self.reply(cmd, "+OK begin TLS"):
                return
            if self.rbuf:
                # RFC 2595: nothing may be pipelined after STLS
                raise Closed()
            self.sock = self.srv.stls_ctx.wrap_socket(self.sock, server_side=True)
            self.tls = True
        elif cmd == "USER":
            self.user = arg
            self.reply(cmd, "+OK")
        elif cmd == "PASS":
            if self.user == o.user and arg == o.password:
                self.login_ok(cmd, self.user)
            else:
                self.user = None
                self.reply(cmd, "-ERR [AUTH] invalid user or password")
        elif cmd == "APOP":
            name, _, digest = arg.rpartition(" ")
            want = hashlib.md5((self.stamp + o.password).encode()).hexdigest()
            if name == o.user and digest.lower() == want:
                self.login_ok(cmd, name)
            else:
                self.reply(cmd, "-ERR [AUTH] invalid APOP digest")
        elif cmd == "AUTH":
            mech, _, initial = arg.partition(" ")
            if not mech:
                self.multiline(cmd, "+OK mechanisms", ["PLAIN"])
                return
            if mech.upper() in ("XOAUTH2", "OAUTHBEARER") and self.oauth2_offers(mech.upper()):
                self.oauth2_auth(cmd, mech.upper(), initial)
                return
            if mech.upper() != "PLAIN":
                self.reply(cmd, "-ERR unsupported mechanism")
                return
            if not initial:
                self.send(b"+ \r\n")
                initial = self.readline()
                self.srv.log_cmd("AUTH", "AUTH (response)")
            if initial == "*":
                self.reply(cmd, "-ERR authentication aborted")
                return
            try:
                _, authc, passwd = base64.b64decode(initial, validate=True).split(b"\0")
            except ValueError:
                self.reply(cmd, "-ERR bad base64")
                return
            if authc.decode(errors="replace") == o.user and passwd.decode(errors="replace") == o.password:
                self.login_ok(cmd, o.user)
            else:
                self.reply(cmd, "-ERR [AUTH] authentication failed")
        else:
            self.reply(cmd, "-ERR not in this state")

    # --- OAuth2: what Gmail and Outlook do (see --oauth2) --------------------
    def oauth2_offers(self, mech):
        o = self.opt
        return (o.oauth2 == "google" or (o.oauth2 == "microsoft" and mech == "XOAUTH2"))

    def oauth2_tokens(self):
        o = self.opt
        tokens = set(o.token)
        if o.token_file:
            try:
                with open(o.token_file) as f:
                    tokens.update(t.strip() for t in f if t.strip())
            except OSError:
                pass
        return tokens

    @staticmethod
    def oauth2_parse(mech, raw):
        """(user, host, port, token) of a client response, or None."""
        try:
            text = base64.b64decode(raw, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        if not text.endswith("\x01\x01"):
            return None
        if mech == "XOAUTH2":
            parts = text[:-2].split("\x01")
            if len(parts) != 2 or not parts[0].startswith("user="):
                return None
            user, host, port, auth = parts[0][5:], None, None, parts[1]
        else:
            gs2, _, rest = text.partition("\x01")
            if not gs2.startswith("n,a=") or not gs2.endswith(","):
                return None
            user = gs2[4:-1].replace("=2C", ",").replace("=3D", "=")
            fields = dict(f.split("=", 1) for f in rest[:-2].split("\x01") if "=" in f)
            host, port, auth = fields.get("host"), fields.get("port"), "auth=" + fields.get("auth", "")
            if not host or not port:
                return None
        if not auth.startswith("auth=Bearer "):
            return None
        return user, host, port, auth[len("auth=Bearer "):]

    def oauth2_auth(self, cmd, mech, initial):
        o = self.opt
        line = "AUTH %s %s" % (mech, initial) if initial else "AUTH %s" % mech
        if initial and o.oauth2 == "microsoft" and len(line) + 2 > 255:
            # Outlook: an initial response over RFC 5034's 255 octets
            self.reply(cmd, "-ERR Protocol error")
            return
        step = "one-step" if initial else "two-step"
        if not initial:
            self.send(b"+ \r\n")
            initial = self.readline()
        if initial == "*":
            self.reply(cmd, "-ERR authentication aborted")
            return
        parsed = self.oauth2_parse(mech, initial)
        token = parsed[3] if parsed else ""
        digest = hashlib.sha256(token.encode()).hexdigest()[:16]
        good = (parsed is not None and parsed[0] == o.user
                and token in self.oauth2_tokens())
        if good and mech == "OAUTHBEARER" and parsed[2] != str(self.srv.port):
            good = False
        self.srv.log_line("OAUTH2 %s %s %s token-sha256=%s" % (
            mech, step, "ok" if good else "refused", digest))
        if good:
            self.login_ok(cmd, o.user)
            return
        if o.oauth2 == "microsoft":
            self.reply(cmd, "-ERR Authentication failure")
            return
        # Google: a challenge with the error as base64 JSON; the client
        # must answer it (XOAUTH2: empty line, OAUTHBEARER: AQ==) first
        js = b'{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}'
        self.send(b"+ " + base64.b64encode(js) + b"\r\n")
        answer = self.readline()
        want = "" if mech == "XOAUTH2" else "AQ=="
        self.srv.log_line("OAUTH2 %s challenge-answer %s" % (
            mech, "ok" if answer == want else "wrong"))
        if answer != want:
            self.reply(cmd, "-ERR protocol error: bad answer to the error challenge")
            return
        self.reply(cmd, "-ERR [AUTH] Invalid credentials (Failure)")

    def retr(self, cmd, arg):
        o = self.opt
        args = arg.split()
        n, m = self.msg(args[0] if args else None)
        if m is None:
            self.reply(cmd, "-ERR no such message")
            return
        data = m["data"]
        if cmd == "TOP":
            try:
                nlines = int(args[1])
            except (IndexError, ValueError):
                self.reply(cmd, "-ERR usage TOP msg n")
                return
            if nlines < 0:
                self.reply(cmd, "-ERR usage TOP msg n")
                return
            head, sep, body = data.partition(b"\r\n\r\n")
            body_lines = body.split(b"\r\n")[:nlines] if nlines else []
            data = head + sep + b"\r\n".join(body_lines)
            if body_lines:
                data += b"\r\n"
        ordinal = 0
        if cmd == "RETR" and o.retr_delay_ms > 0:
            time.sleep(o.retr_delay_ms / 1000.0)
        if cmd == "RETR":
            with self.srv.lock:
                self.srv.retr_count += 1
                ordinal = self.srv.retr_count
        if ordinal and ordinal == o.extra_ok_before_retr:
            # an unsolicited status line between pipelined answers
            self.send(b"+OK\r\n")
        if not self.reply(cmd, "+OK %d octets" % m["size"]):
            return
        lines = data.split(b"\r\n")
        if lines and lines[-1] == b"":
            lines.pop()
        stuffed = b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n"
                           for ln in lines) + b".\r\n"
        if ordinal and ordinal == o.repeat_retr:
            # the same answer twice: every later answer is one behind
            self.send(("+OK %d octets\r\n" % m["size"]).encode() + stuffed)
        if ordinal and ordinal == o.drop_in_retr:
            self.send(stuffed[:len(stuffed) // 2])
            raise Dropped()
        if ordinal and ordinal == o.stall_in_retr:
            self.send(stuffed[:len(stuffed) // 2])
            raise Stall()
        self.send(stuffed)


class Server:
    def __init__(self, opt):
        self.opt = opt
        self.lock = threading.Lock()
        self.retr_count = 0
        self.plain_err_sent = {}
        self.box = Mailbox(opt.messages, opt.seed, opt.profile, opt.size, opt.uidl_suffix, opt)
        self.logf = open(opt.log, "a", buffering=1) if opt.log else None
        self.tls_ctx = self.ctx(opt.cert, opt.key) if opt.tls else None
        self.stls_ctx = self.ctx(opt.stls_cert, opt.stls_key) if opt.stls_cert else None

    @staticmethod
    def ctx(cert, key):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(cert, key)
        return c

    def take_plain_err(self, cmd):
        """Whether CMD gets --plain-err's -ERR this time (counted per run)."""
        limit = self.opt.plain_err[cmd]
        with self.lock:
            sent = self.plain_err_sent.get(cmd, 0)
            if limit and sent >= limit:
                return False
            self.plain_err_sent[cmd] = sent + 1
            return True

    def log_line(self, line):
        if self.logf:
            self.logf.write(line + "\n")

    def write_state(self):
        """The UIDLs still in the mailbox, one a line, replaced atomically."""
        if not self.opt.state_file:
            return
        tmp = self.opt.state_file + ".tmp"
        with open(tmp, "w") as f:
            for m in self.box.snapshot():
                f.write(m["uidl"] + "\n")
        os.replace(tmp, self.opt.state_file)

    def log_cmd(self, cmd, line):
        if not self.logf:
            return
        if cmd in ("PASS", "AUTH"):
            line = cmd + " ***"
        elif cmd == "APOP":
            line = " ".join(line.split(" ")[:2]) + " ***"
        self.logf.write(line + "\n")

    def serve(self):
        deadline = time.monotonic() + self.opt.lifetime
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(16)
        self.port = lsock.getsockname()[1]
        with self.lock:
            self.write_state()
        print("PORT %d" % self.port, flush=True)
        draining = []
        sel = selectors.DefaultSelector()
        sel.register(lsock, selectors.EVENT_READ)
        try:
            return self.serve_loop(lsock, sel, deadline, draining)
        finally:
            # a dropped connection's data must reach its client before we
            # exit and the kernel resets what is still open
            for t in draining:
                t.join(max(0.0, deadline - time.monotonic()))

    def serve_loop(self, lsock, sel, deadline, draining):
        ended = 0
        while ended < self.opt.max_connections:
            left = deadline - time.monotonic()
            if left <= 0:
                return 0
            if not sel.select(timeout=min(left, 1.0)):
                continue
            conn, _ = lsock.accept()
            conn.settimeout(max(0.1, deadline - time.monotonic()))
            dropped = False
            try:
                if self.tls_ctx:
                    conn = self.tls_ctx.wrap_socket(conn, server_side=True)
                Session(self, conn).run()
            except Dropped:
                # ended in a thread of its own: the next connection is
                # served meanwhile (a client may keep this one open)
                dropped = True
                t = threading.Thread(target=end_gracefully, args=(conn, deadline),
                                     daemon=True)
                t.start()
                draining.append(t)
            except Closed:
                pass
            except (socket.timeout, TimeoutError):
                return 0
            except Stall:
                # keep the socket open and silent until our lifetime ends
                time.sleep(max(0.0, deadline - time.monotonic()))
                return 0
            except (OSError, ssl.SSLError):
                pass
            finally:
                if not dropped:
                    try:
                        conn.close()
                    except OSError:
                        pass
            ended += 1
        return 0


def end_gracefully(conn, deadline):
    """FIN after all that was sent, then read (and drop) until the client
    closes too, for 5 s at most, so that the close is no reset."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(max(0.1, min(5.0, deadline - time.monotonic())))
        while conn.recv(65536):
            pass
    except (OSError, ssl.SSLError):
        pass
    try:
        conn.close()
    except OSError:
        pass


def cmd_names(values):
    return {v.upper() for v in values}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", choices=mailgen.PROFILES, default="small")
    ap.add_argument("--size", type=int)
    ap.add_argument("--user", default="test")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--lifetime", type=float, default=60.0)
    ap.add_argument("--max-connections", type=int, default=1)
    ap.add_argument("--tls", action="store_true", help="implicit TLS")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--stls-cert")
    ap.add_argument("--stls-key")
    ap.add_argument("--no-stls-capa", action="store_true")
    ap.add_argument("--no-uidl", action="store_true")
    ap.add_argument("--no-pipelining", action="store_true")
    ap.add_argument("--drop-in-retr", type=int, default=0, metavar="N")
    ap.add_argument("--stall-in-retr", type=int, default=0, metavar="N")
    ap.add_argument("--retr-delay-ms", type=float, default=0, metavar="MS",
                    help="wait MS before answering each RETR: a slow server, "
                    "for tests that need a sync to last")
    ap.add_argument("--garbage-after", action="append", default=[], metavar="CMD")
    ap.add_argument("--stall-after", action="append", default=[], metavar="CMD")
    ap.add_argument("--long-line-after", action="append", nargs=2, default=[],
                    metavar=("CMD", "BYTES"))
    ap.add_argument("--resp-code", action="append", nargs=2, default=[],
                    metavar=("CMD", "CODE"))
    ap.add_argument("--plain-err", action="append", nargs=2, default=[],
                    metavar=("CMD", "N"),
                    help="answer CMD with '-ERR maildrop locked, try later' (no "
                    "response code) the first N times of the run; 0: always")
    ap.add_argument("--raw-after", action="append", nargs=2, default=[],
                    metavar=("CMD", "HEX"),
                    help="answer CMD with these bytes (hex) instead of its response")
    ap.add_argument("--extra-ok-before-retr", type=int, default=0, metavar="N",
                    help="an unsolicited +OK line before the answer to the Nth RETR of the run")
    ap.add_argument("--repeat-retr", type=int, default=0, metavar="N",
                    help="the answer to the Nth RETR of the run is sent twice")
    ap.add_argument("--claim-size", action="append", nargs=2, type=int, default=[],
                    metavar=("K", "OCTETS"),
                    help="LIST, STAT and RETR say message K has OCTETS octets")
    ap.add_argument("--pad", action="append", nargs=2, type=int, default=[],
                    metavar=("K", "BYTES"), help="message K gets about BYTES more body")
    ap.add_argument("--lf-sizes", action="store_true",
                    help="sizes count LF line ends, not CRLF (a consistent miscount)")
    ap.add_argument("--uidl-len", type=int, default=0, metavar="L",
                    help="every UIDL padded with x to L characters")
    ap.add_argument("--uidl-extra", type=int, default=0, metavar="N",
                    help="N made-up entries appended to the UIDL listing")
    ap.add_argument("--state-file", metavar="FILE",
                    help="the UIDLs left in the mailbox, one a line, rewritten at start and "
                    "after each QUIT")
    ap.add_argument("--log", metavar="FILE")
    ap.add_argument("--oauth2", choices=["google", "microsoft"],
                    help="offer SASL XOAUTH2 and OAUTHBEARER as Gmail does, or "
                    "XOAUTH2 only as Outlook does, with their ways of refusing")
    ap.add_argument("--token", action="append", default=[],
                    help="an access token --oauth2 accepts (repeatable)")
    ap.add_argument("--token-file", metavar="FILE",
                    help="access tokens --oauth2 accepts, one a line, read at each login")
    ap.add_argument("--uidl-suffix-hex", default="", metavar="HEX",
                    help="bytes appended to every UIDL, e.g. e9 (not UTF-8)")
    opt = ap.parse_args()
    if opt.tls and not (opt.cert and opt.key):
        ap.error("--tls needs --cert and --key")
    if bool(opt.stls_cert) != bool(opt.stls_key):
        ap.error("--stls-cert and --stls-key go together")
    if opt.profile == "large" and not opt.size:
        ap.error("--profile large needs --size")
    opt.garbage_after = cmd_names(opt.garbage_after)
    opt.stall_after = cmd_names(opt.stall_after)
    try:
        opt.long_line_after = {c.upper(): int(n) for c, n in opt.long_line_after}
    except ValueError:
        ap.error("--long-line-after CMD BYTES: BYTES must be a number")
    opt.resp_code = {c.upper(): code for c, code in opt.resp_code}
    try:
        opt.plain_err = {c.upper(): int(n) for c, n in opt.plain_err}
    except ValueError:
        ap.error("--plain-err CMD N: N must be a number")
    try:
        opt.raw_after = {c.upper(): bytes.fromhex(h) for c, h in opt.raw_after}
    except ValueError:
        ap.error("--raw-after CMD HEX: HEX must be hex digits")
    try:
        opt.uidl_suffix = bytes.fromhex(opt.uidl_suffix_hex)
    except ValueError:
        ap.error("--uidl-suffix-hex HEX: HEX must be hex digits")
    if any(b <= 0x20 or b == 0x7f for b in opt.uidl_suffix):
        ap.error("--uidl-suffix-hex HEX: a UIDL has no blanks or control bytes")

    # Hard stop whatever state we are in (a stalled send, a blocked read).
    killer = threading.Timer(opt.lifetime + 1.0, lambda: os._exit(0))
    killer.daemon = True
    killer.start()
    return Server(opt).serve()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-test of the harness; runs under run-with-dovecot.py (suite 'harness').

Checks what the other suites take for granted: the dovecot ports, logins,
certificates (good, hostname mismatch, expired, wrong CA, pin), mailgen and
faultpop with a few of its faults.
"""

import base64
import hashlib
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

E = os.environ
sys.path.insert(0, os.path.dirname(E["BZ_TEST_MAILGEN"]))
import mailgen  # noqa: E402

TIMEOUT = 5


class Pop3:
    """Just enough of a POP3 client to check the servers."""

    def __init__(self, port, host="127.0.0.1", tls_ctx=None, server_hostname=None):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        if tls_ctx:
            self.sock = tls_ctx.wrap_socket(self.sock, server_hostname=server_hostname)
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def line(self):
        ln = self.f.readline(1 << 20)
        if not ln:
            raise EOFError("server closed")
        return ln.rstrip(b"\r\n").decode("utf-8", "replace")

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def multi(self):
        out = []
        while True:
            ln = self.f.readline(1 << 20)
            if not ln:
                raise EOFError("server closed in multi-line")
            if ln == b".\r\n":
                return out
            out.append(ln[1:] if ln.startswith(b".") else ln)

    def stls(self, ctx, server_hostname):
        self.assert_ok(self.cmd("STLS"))
        self.f.close()
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server_hostname)
        self.f = self.sock.makefile("rb")

    def login(self, user, password):
        self.assert_ok(self.cmd("USER " + user))
        return self.cmd("PASS " + password)

    @staticmethod
    def assert_ok(reply):
        if not reply.startswith("+OK"):
            raise AssertionError("expected +OK, got %r" % reply)

    def hangup(self):
        """Closes the connection for real: the file from makefile() holds
        the socket open until it is closed too."""
        self.f.close()
        self.sock.close()

    def close(self):
        try:
            self.cmd("QUIT")
        except (OSError, EOFError):
            pass
        self.hangup()


def ctx_for(cafile):
    c = ssl.create_default_context(cafile=cafile)
    return c


def start_faultpop(*args):
    p = subprocess.Popen([E["BZ_TEST_PYTHON"], E["BZ_TEST_FAULTPOP"], *args],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("PORT "):
        p.kill()
        raise AssertionError("faultpop said %r" % line)
    return p, int(line.split()[1])


def reap(p):
    p.kill()
    p.wait()
    p.stdout.close()


class Dovecot(unittest.TestCase):
    def test_plain_login_and_capa(self):
        c = Pop3(int(E["BZ_TEST_POP3_PORT"]))
        self.assertTrue(c.greeting.startswith("+OK"))
        Pop3.assert_ok(c.cmd("CAPA"))
        caps = [x.strip().decode() for x in c.multi()]
        self.assertIn("STLS", caps)
        self.assertIn("UIDL", caps)
        self.assertIn("PIPELINING", caps)
        Pop3.assert_ok(c.login("test1", E["BZ_TEST_PASSWORD"]))
        self.assertEqual(c.cmd("STAT"), "+OK 0 0")
        c.close()

    def test_wrong_password_is_fast(self):
        t0 = time.monotonic()
        for _ in range(3):
            c = Pop3(int(E["BZ_TEST_POP3_PORT"]))
            self.assertTrue(c.login("test1", "nope").startswith("-ERR"))
            c.close()
        # dovecot 2.3.19 answers a failure on a 0.5 s tick; with the anvil
        # penalty it would be 2 + 4 + 8 s
        self.assertLess(time.monotonic() - t0, 2.5)

    def test_apop_and_sasl_plain(self):
        c = Pop3(int(E["BZ_TEST_POP3_PORT"]))
        stamp = c.greeting[c.greeting.index("<"):c.greeting.index(">") + 1]
        digest = hashlib.md5((stamp + E["BZ_TEST_PASSWORD"]).encode()).hexdigest()
        Pop3.assert_ok(c.cmd("APOP test3 " + digest))
        c.close()
        c = Pop3(int(E["BZ_TEST_POP3_PORT"]))
        tok = base64.b64encode(b"\0test4\0" + E["BZ_TEST_PASSWORD"].encode()).decode()
        Pop3.assert_ok(c.cmd("AUTH PLAIN " + tok))
        c.close()

    def test_stls(self):
        c = Pop3(int(E["BZ_TEST_POP3_PORT"]), host=E["BZ_TEST_HOST"])
        c.stls(ctx_for(E["BZ_TEST_CA_FILE"]), E["BZ_TEST_HOST"])
        Pop3.assert_ok(c.login("test1", E["BZ_TEST_PASSWORD"]))
        c.close()

    def test_implicit_tls_and_pin(self):
        c = Pop3(int(E["BZ_TEST_POP3S_PORT"]), host=E["BZ_TEST_HOST"],
                 tls_ctx=ctx_for(E["BZ_TEST_CA_FILE"]),
                 server_hostname=E["BZ_TEST_HOST"])
        der = c.sock.getpeercert(binary_form=True)
        c.close()
        pem = ssl.DER_cert_to_PEM_cert(der).encode()
        spki = subprocess.run(
            "openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER",
            shell=True, input=pem, capture_output=True, check=True).stdout
        self.assertEqual(hashlib.sha256(spki).hexdigest(), E["BZ_TEST_PIN_SHA256"])

    def verify_fails(self, port, host, cafile, code):
        with self.assertRaises(ssl.SSLCertVerificationError) as cm:
            Pop3(port, host=host, tls_ctx=ctx_for(cafile), server_hostname=host)
        self.assertIn(cm.exception.verify_code, code, cm.exception.verify_message)

    def test_bad_certificates(self):
        pop3s = int(E["BZ_TEST_POP3S_PORT"])
        # X509_V_ERR_CERT_HAS_EXPIRED = 10, HOSTNAME_MISMATCH = 62 (IP_ADDRESS_
        # MISMATCH = 64 when the name is checked as an address),
        # UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
        self.verify_fails(int(E["BZ_TEST_EXPIRED_PORT"]),
                          E.get("BZ_TEST_EXPIRED_HOST", E["BZ_TEST_HOST"]),
                          E["BZ_TEST_CA_FILE"], (10,))
        self.verify_fails(pop3s, E["BZ_TEST_WRONG_HOST"], E["BZ_TEST_CA_FILE"], (62, 64))
        self.verify_fails(pop3s, E["BZ_TEST_HOST"], E["BZ_TEST_WRONG_CA_FILE"], (20,))

    def test_mailgen_and_stat(self):
        md = os.path.join(E["BZ_TEST_MAIL_ROOT"], "test2", "Maildir")
        out = subprocess.run([E["BZ_TEST_PYTHON"], E["BZ_TEST_MAILGEN"],
                              "--maildir", md, "--count", "20", "--seed", "7"],
                             capture_output=True, text=True, check=True).stdout
        rows = [ln.split("\t") for ln in out.splitlines()]
        self.assertEqual(len(rows), 20)
        self.assertEqual(rows[0][0], "bz-1-7@test.buzon")
        for mid, path, size in rows:
            st = os.stat(path)
            self.assertEqual(st.st_size, int(size))
            self.assertEqual(st.st_uid, int(E["BZ_TEST_MAIL_UID"]))
        c = Pop3(int(E["BZ_TEST_POP3_PORT"]))
        Pop3.assert_ok(c.login("test2", E["BZ_TEST_PASSWORD"]))
        stat = c.cmd("STAT").split()
        self.assertEqual(stat[:2], ["+OK", "20"])
        # dovecot counts CRLF octets: one more per line
        lf_total = sum(int(r[2]) for r in rows)
        lines = sum(mailgen.generate_message(k, 7).count(b"\n") for k in range(1, 21))
        self.assertEqual(int(stat[2]), lf_total + lines)
        Pop3.assert_ok(c.cmd("RETR 1"))
        body = b"".join(c.multi()).replace(b"\r\n", b"\n")
        self.assertEqual(body, mailgen.generate_message(1, 7))
        c.close()

    def test_parallel_connections(self):
        errors = []

        def one(i):
            try:
                c = Pop3(int(E["BZ_TEST_POP3_PORT"]))
                Pop3.assert_ok(c.login("test%d" % (5 + i % 4), E["BZ_TEST_PASSWORD"]))
                Pop3.assert_ok(c.cmd("STAT"))
                c.close()
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT * 2)
        self.assertEqual(errors, [])

    def test_environment(self):
        for var in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
                    "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
            self.assertTrue(E[var].startswith(E["BZ_TEST_TMPDIR"] + "/"), var)
            self.assertTrue(os.path.isdir(E[var]), var)
        self.assertEqual(os.stat(E["XDG_RUNTIME_DIR"]).st_mode & 0o777, 0o700)
        self.assertEqual(len(E["BZ_TEST_USERS"].split()), 12)
        self.assertTrue(os.path.exists(E["BZ_TEST_DOVECOT_LOG"]))


class FaultPop(unittest.TestCase):
    def test_serves_and_exits(self):
        p, port = start_faultpop("--messages", "3", "--seed", "2")
        try:
            c = Pop3(port)
            self.assertIn("<", c.greeting)
            Pop3.assert_ok(c.login("test", "secret"))
            self.assertEqual(c.cmd("STAT").split()[1], "3")
            Pop3.assert_ok(c.cmd("UIDL"))
            self.assertEqual(len(c.multi()), 3)
            Pop3.assert_ok(c.cmd("RETR 2"))
            body = b"".join(c.multi()).replace(b"\r\n", b"\n")
            self.assertEqual(body, mailgen.generate_message(2, 2, "small"))
            c.close()
            self.assertEqual(p.wait(TIMEOUT), 0)
        finally:
            reap(p)

    def test_dele_persists_and_drop(self):
        log = tempfile.mktemp(dir=E["BZ_TEST_TMPDIR"])
        p, port = start_faultpop("--max-connections", "3", "--drop-in-retr", "2",
                                 "--log", log)
        try:
            c = Pop3(port)
            Pop3.assert_ok(c.login("test", "secret"))
            Pop3.assert_ok(c.cmd("DELE 1"))
            c.close()
            c = Pop3(port)
            Pop3.assert_ok(c.login("test", "secret"))
            self.assertEqual(c.cmd("STAT").split()[1], "4")
            Pop3.assert_ok(c.cmd("RETR 1"))
            c.multi()
            Pop3.assert_ok(c.cmd("RETR 2"))
            with self.assertRaises(EOFError):
                c.multi()
            c.hangup()
            c = Pop3(port)
            Pop3.assert_ok(c.login("test", "secret"))
            Pop3.assert_ok(c.cmd("RETR 2"))   # only the 2nd RETR of the run drops
            c.multi()
            c.close()
            self.assertEqual(p.wait(TIMEOUT), 0)
            with open(log) as f:
                text = f.read()
            self.assertIn("PASS ***", text)
            self.assertNotIn("secret", text)
        finally:
            reap(p)

    def test_faults(self):
        p, port = start_faultpop("--resp-code", "PASS", "IN-USE", "--no-uidl",
                                 "--no-pipelining")
        try:
            c = Pop3(port)
            Pop3.assert_ok(c.cmd("CAPA"))
            caps = b"".join(c.multi()).decode()
            self.assertNotIn("UIDL", caps)
            self.assertNotIn("PIPELINING", caps)
            self.assertNotIn("STLS", caps)
            self.assertEqual(c.cmd("STLS")[:4], "-ERR")
            self.assertTrue(c.login("test", "secret").startswith("-ERR [IN-USE]"))
            c.close()
        finally:
            reap(p)
        p, port = start_faultpop("--stall-after", "STAT", "--lifetime", "1.5")
        try:
            c = Pop3(port)
            Pop3.assert_ok(c.login("test", "secret"))
            c.sock.settimeout(0.3)
            with self.assertRaises(socket.timeout):
                c.cmd("STAT")
            self.assertEqual(p.wait(TIMEOUT), 0)   # the lifetime ends it
        finally:
            reap(p)

    def test_tls_pipelining_garbage_long_line(self):
        p, port = start_faultpop("--tls", "--cert", E["BZ_TEST_SERVER_CERT"],
                                 "--key", E["BZ_TEST_SERVER_KEY"],
                                 "--garbage-after", "NOOP",
                                 "--long-line-after", "LIST", "100000",
                                 "--messages", "2")
        try:
            c = Pop3(port, host=E["BZ_TEST_HOST"], tls_ctx=ctx_for(E["BZ_TEST_CA_FILE"]),
                     server_hostname=E["BZ_TEST_HOST"])
            tok = base64.b64encode(b"\0test\0secret").decode()
            c.sock.sendall(("AUTH PLAIN\r\n%s\r\nSTAT\r\nUIDL 2\r\n" % tok).encode())
            self.assertEqual(c.line(), "+ ")
            Pop3.assert_ok(c.line())
            self.assertEqual(c.line().split()[1], "2")
            self.assertEqual(c.line(), "+OK 2 bz0-2")
            garbage = c.cmd("NOOP")
            self.assertFalse(garbage.startswith(("+OK", "-ERR")))
            c.sock.sendall(b"LIST\r\n")
            data = c.f.read()
            self.assertEqual(len(data), 100000)
            self.assertNotIn(b"\n", data)
            c.hangup()
            self.assertEqual(p.wait(TIMEOUT), 0)
        finally:
            reap(p)

    def test_stall_in_retr(self):
        p, port = start_faultpop("--stall-in-retr", "1", "--lifetime", "1.5",
                                 "--profile", "large", "--size", "200000")
        try:
            c = Pop3(port)
            Pop3.assert_ok(c.login("test", "secret"))
            Pop3.assert_ok(c.cmd("RETR 1"))
            c.sock.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                c.multi()
            self.assertEqual(p.wait(TIMEOUT), 0)
        finally:
            reap(p)

    def test_stls_upgrade(self):
        p, port = start_faultpop("--stls-cert", E["BZ_TEST_SERVER_CERT"],
                                 "--stls-key", E["BZ_TEST_SERVER_KEY"])
        try:
            c = Pop3(port, host=E["BZ_TEST_HOST"])
            c.stls(ctx_for(E["BZ_TEST_CA_FILE"]), E["BZ_TEST_HOST"])
            Pop3.assert_ok(c.login("test", "secret"))
            c.close()
            self.assertEqual(p.wait(TIMEOUT), 0)
        finally:
            reap(p)


if __name__ == "__main__":
    unittest.main(verbosity=2)

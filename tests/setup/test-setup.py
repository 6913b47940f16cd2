#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""buzonctl add / remove end to end (suite 'setup').

Runs under tests/config/run-with-keyring.sh (private bus, real
gnome-keyring) and tests/harness/run-with-dovecot.py. It drives the real
buzonctl and buzond binaries against:
  - a loopback HTTPS server serving autoconfig XML, trusted through the
    harness test CA given as SSL_CERT_FILE (OpenSSL's own variable), and
    one on port 443 of a 127.44.x.y address for the standard URLs
    (autoconfig.DOMAIN, DOMAIN/.well-known) with a certificate for those
    names from a CA the test makes;
  - a tiny DNS server on 127.x.y.z:53 answering SRV, MX and A queries;
    buzonctl sees it through a private mount namespace (unshare -m) where
    /etc/resolv.conf is bind-mounted to a file naming that server, so
    GResolver (glibc's res_query, getaddrinfo) asks it and nothing else;
  - the harness dovecot as the server that is found.
"""

import http.server
import os
import random
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import unittest

E = os.environ
BUZONCTL = E["BZ_SETUP_BUZONCTL"]
BUILT_GOOGLE_ID = os.environ.get("BZ_SETUP_GOOGLE_ID") == "1"
BUILT_MICROSOFT_ID = os.environ.get("BZ_SETUP_MICROSOFT_ID") == "1"
BUZOND = E["BZ_SETUP_BUZOND"]
PTY = E["BZ_SETUP_PTY"]
PASSWORD = E["BZ_TEST_PASSWORD"]
POP3S = int(E["BZ_TEST_POP3S_PORT"])
POP3 = int(E["BZ_TEST_POP3_PORT"])
EXPIRED = int(E["BZ_TEST_EXPIRED_PORT"])
TMP = E["BZ_TEST_TMPDIR"]
CMD_TIMEOUT = 90


# --- a DNS server, just enough for SRV, MX and A ---------------------------

def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def decode_name(data, pos):
    labels = []
    while data[pos] != 0:
        n = data[pos]
        labels.append(data[pos + 1:pos + 1 + n].decode())
        pos += 1 + n
    return ".".join(labels), pos + 1


QTYPE = {"A": 1, "MX": 15, "AAAA": 28, "SRV": 33}


class FakeDns:
    """records: {(name, type): [rdata tuples]}; unknown names get NXDOMAIN,
    known names with another type an empty NOERROR answer."""

    def __init__(self, records):
        self.records = {(n.lower(), t): v for (n, t), v in records.items()}
        self.names = {n for (n, _) in self.records}
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(50):
            self.addr = "127.53.%d.%d" % (random.randint(0, 255), random.randint(1, 254))
            try:
                self.sock.bind((self.addr, 53))
                break
            except OSError:
                continue
        else:
            raise RuntimeError("no free 127.53.x.y:53")
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        self.resolv = os.path.join(TMP, "resolv-%s.conf" % self.addr)
        with open(self.resolv, "w") as f:
            f.write("nameserver %s\noptions timeout:2 attempts:2\n" % self.addr)

    def rdata(self, qtype, value):
        if qtype == "A":
            return socket.inet_aton(value)
        if qtype == "MX":
            return struct.pack("!H", value[0]) + encode_name(value[1])
        if qtype == "SRV":
            prio, weight, port, target = value
            return struct.pack("!HHH", prio, weight, port) + encode_name(target)
        raise ValueError(qtype)

    def answer(self, data):
        qid, flags = struct.unpack("!HH", data[:4])
        name, pos = decode_name(data, 12)
        qtype_n, qclass = struct.unpack("!HH", data[pos:pos + 4])
        question = data[12:pos + 4]
        qtype = {v: k for k, v in QTYPE.items()}.get(qtype_n, str(qtype_n))
        self.queries.append((name.lower(), qtype))
        rrs = self.records.get((name.lower(), qtype), [])
        rcode = 0 if name.lower() in self.names else 3
        answers = b""
        for value in rrs:
            rd = self.rdata(qtype, value)
            answers += (encode_name(name) + struct.pack("!HHIH", qtype_n, 1, 60, len(rd)) + rd)
        header = struct.pack("!HHHHHH", qid, 0x8180 | rcode | (flags & 0x0100), 1,
                             len(rrs), 0, 0)
        return header + question + answers

    def serve(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            try:
                self.sock.sendto(self.answer(data), peer)
            except Exception as e:  # a malformed query: no answer
                print("fake dns: %r" % e, file=sys.stderr)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()

    def wrap(self, cmd):
        """cmd run in a mount namespace whose /etc/resolv.conf names us."""
        return ["unshare", "-m", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.resolv] + cmd


# --- an HTTP(S) server with fixed answers ----------------------------------

class Web:
    def __init__(self, pages, tls=True, addr=("127.0.0.1", 0), cert=None):
        self.pages = pages
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                page = outer.pages.get(self.path.split("?")[0])
                if page is None:
                    self.send_error(404)
                    return
                status, headers, body = page
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                if ("Transfer-Encoding", "chunked") in headers:
                    self.end_headers()
                    for i in range(0, len(body), 100):
                        piece = body[i:i + 100]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(addr, Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*(cert or (E["BZ_TEST_SERVER_CERT"], E["BZ_TEST_SERVER_KEY"])))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.base = "%s://%s:%d" % ("https" if tls else "http",
                                    "localhost" if tls else "127.0.0.1", self.port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def client_config(servers):
    """A clientConfig file with the given <incomingServer> elements."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">\n'
             '  <emailProvider id="example.test">\n    <domain>example.test</domain>\n']
    for s in servers:
        parts.append('    <incomingServer type="%s">\n' % s.get("type", "pop3"))
        for key in ("hostname", "port", "socketType", "username"):
            if key in s:
                parts.append("      <%s>%s</%s>\n" % (key, s[key], key))
        for a in s.get("auth", ["password-cleartext"]):
            parts.append("      <authentication>%s</authentication>\n" % a)
        parts.append("      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>\n"
                     "    </incomingServer>\n")
    parts.append("  </emailProvider>\n</clientConfig>\n")
    return "".join(parts).encode()


def xml_page(servers):
    return (200, [("Content-Type", "application/xml")], client_config(servers))


# --- running the binaries --------------------------------------------------

def run(args, stdin=None, env=None, wrap=None):
    full_env = dict(E)
    full_env["SSL_CERT_FILE"] = E["BZ_TEST_CA_FILE"]
    full_env.pop("SSL_CERT_DIR", None)
    full_env.update(env or {})
    cmd = [BUZONCTL] + args
    if wrap is not None:
        cmd = wrap(cmd)
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=full_env,
                       timeout=CMD_TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def keyring_lookup(account):
    p = subprocess.run(["secret-tool", "lookup", "account", account], capture_output=True,
                       text=True, timeout=CMD_TIMEOUT)
    return p.stdout if p.returncode == 0 else None


def fill(user, count):
    maildir = os.path.join(E["BZ_TEST_MAIL_ROOT"], user, "Maildir")
    subprocess.run([E["BZ_TEST_PYTHON"], E["BZ_TEST_MAILGEN"], "--maildir", maildir,
                    "--count", str(count), "--profile", "small"],
                   check=True, capture_output=True, timeout=CMD_TIMEOUT)


def mail_files(maildir):
    return sorted(os.listdir(os.path.join(maildir, "new")) +
                  os.listdir(os.path.join(maildir, "cur")))


ORIGINAL = """# buzon accounts, written by hand
[general]
max-parallel = 2   # two at once

# the old server, kept for its archive
[account old]   # a comment after the header
host = localhost
user = nobody
enabled = false
# password-command = pass show old
"""


class Case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=TMP)
        self.conf = os.path.join(self.dir, "accounts.conf")

    def write_conf(self, text):
        with open(self.conf, "w", newline="") as f:
            f.write(text)

    def read_conf(self):
        if not os.path.exists(self.conf):
            return None
        with open(self.conf, newline="") as f:
            return f.read()

    def assert_nothing_written(self, before, account):
        self.assertEqual(self.read_conf(), before)
        self.assertIsNone(keyring_lookup(account))
        self.assertEqual([f for f in os.listdir(self.dir) if f.startswith(".")], [])


class TestAutoconfig(Case):
    def test_add_sync_remove(self):
        """autoconfig over HTTPS -> SSL server chosen, placeholders filled,
        login checked, password in the keyring, file edited in place; then
        buzond --once syncs it and remove restores the file byte for byte,
        keeping the mail."""
        fill("test1", 4)
        web = Web({"/mail/config-v1.1.xml": xml_page([
            {"type": "imap", "hostname": "imap.example.test", "port": "993",
             "socketType": "SSL"},
            {"hostname": "%EMAILDOMAIN%", "port": str(POP3), "socketType": "STARTTLS",
             "username": "%EMAILLOCALPART%"},
            {"hostname": "localhost", "port": str(POP3S), "socketType": "SSL",
             "username": "%EMAILLOCALPART%"},
        ])})
        self.addCleanup(web.close)
        self.write_conf(ORIGINAL)
        url = web.base + "/mail/config-v1.1.xml?emailaddress=test1%40localhost"
        rc, out, err = run(["add", "test1@localhost", "--name", "work", "--config", self.conf,
                            "--autoconfig-url", url], stdin=PASSWORD + "\n")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(web.requests, ["/mail/config-v1.1.xml?emailaddress=test1%40localhost"])
        self.assertIn("through the provider's autoconfig file", out)
        self.assertIn("certificate verified", out)
        self.assertIn("buzond is not running", out)
        self.assertEqual(self.read_conf(), ORIGINAL +
                         "\n[account work]\nhost = localhost\nport = %d\nuser = test1\n" % POP3S)
        self.assertEqual(keyring_lookup("work"), PASSWORD)
        maildir = os.path.join(E["XDG_DATA_HOME"], "buzon", "mail", "work")
        self.assertIn(maildir, out)

        env = dict(E, SSL_CERT_FILE=E["BZ_TEST_CA_FILE"])
        p = subprocess.run([BUZOND, "--once", "--config", self.conf], capture_output=True,
                           text=True, env=env, timeout=CMD_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("work: 4 new", p.stdout)
        self.assertEqual(len(mail_files(maildir)), 4)

        rc, out, err = run(["remove", "work", "--config", self.conf])
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.read_conf(), ORIGINAL)
        self.assertIn(maildir, out)
        self.assertEqual(len(mail_files(maildir)), 4)
        self.assertEqual(keyring_lookup("work"), PASSWORD)  # only --forget-password clears it

        rc, out, err = run(["remove", "work", "--config", self.conf])
        self.assertEqual(rc, 2, out + err)
        self.assertIn('no account named "work"', err)

    def test_flags_override_discovery(self):
        """--host naming the server found keeps its port and security;
        --user overrides the user name the file gave; naming another host
        drops the found port (it belonged to the other server)."""
        web = Web({"/s.xml": xml_page([{"hostname": "localhost", "port": str(POP3),
                                        "socketType": "STARTTLS", "username": "nobody"}])},
                  tls=False)
        self.addCleanup(web.close)
        rc, out, err = run(["add", "test9@example.test", "--name", "same", "--config", self.conf,
                            "--autoconfig-url", web.base + "/s.xml", "--host", "LOCALHOST",
                            "--user", "test9"], stdin=PASSWORD + "\n")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.read_conf(), "[account same]\nhost = localhost\nport = %d\n"
                         "security = starttls\nuser = test9\n" % POP3)
        rc, out, err = run(["add", "test9@example.test", "--name", "other", "--config",
                            self.conf, "--autoconfig-url", web.base + "/s.xml", "--host",
                            "127.0.0.1", "--user", "test9"], stdin=PASSWORD + "\n")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("checking 127.0.0.1 port 995", out)
        self.assertNotIn("[account other]", self.read_conf())

    def test_http_redirect_chunked_and_errors(self):
        """The autoconfig fetch follows a redirect and reads a chunked body;
        a 404, a redirect to plain http:// off loopback and a file that is
        not clientConfig each say what went wrong."""
        servers = [{"hostname": "localhost", "port": str(POP3S), "username": "test10"}]
        body = client_config(servers)
        web = Web({
            "/moved": (302, [("Location", "/chunked.xml")], b""),
            "/chunked.xml": (200, [("Transfer-Encoding", "chunked")], body),
            "/to-plain": (301, [("Location", "http://example.test/c.xml")], b""),
            "/html": (200, [("Content-Type", "text/html")], b"<html><body>hi</body></html>"),
        })
        self.addCleanup(web.close)
        rc, out, err = run(["add", "test10@example.test", "--name", "chunked", "--config",
                            self.conf, "--autoconfig-url", web.base + "/moved",
                            "--no-discover"], stdin=PASSWORD + "\n")
        self.assertEqual(rc, 2, out + err)  # the URL means discovery
        rc, out, err = run(["add", "test10@example.test", "--name", "chunked", "--config",
                            self.conf, "--autoconfig-url", web.base + "/moved"],
                           stdin=PASSWORD + "\n")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(web.requests[-2:], ["/moved", "/chunked.xml"])
        self.assertIn("[account chunked]\nhost = localhost\nport = %d\nuser = test10\n" % POP3S,
                      self.read_conf())

        dns = FakeDns({})
        self.addCleanup(dns.close)
        for path, message in [("/missing", 'the server answered "404 Not Found"'),
                              ("/to-plain", "http:// is accepted only for a loopback host"),
                              ("/html", "not an autoconfig file")]:
            with self.subTest(path=path):
                rc, out, err = run(["add", "y@nowhere.test", "--config", self.conf,
                                    "--autoconfig-url", web.base + path], wrap=dns.wrap)
                self.assertEqual(rc, 1, out + err)
                self.assertIn("autoconfig %s%s: " % (web.base, path), err)
                self.assertIn(message, err)

    def test_untrusted_server_certificate(self):
        """The found server's certificate is not trusted (wrong CA) or has
        expired: exit 1 with the problem in words, nothing written."""
        web = Web({"/a.xml": xml_page([{"hostname": "localhost", "port": str(POP3S),
                                        "socketType": "SSL", "username": "test2"}]),
                   "/b.xml": xml_page([{"hostname": "localhost", "port": str(EXPIRED),
                                        "socketType": "SSL", "username": "test2"}])},
                  tls=False)
        self.addCleanup(web.close)
        rc, out, err = run(["add", "test2@example.test", "--name", "untrusted", "--config",
                            self.conf, "--autoconfig-url", web.base + "/a.xml"],
                           stdin=PASSWORD + "\n",
                           env={"SSL_CERT_FILE": E["BZ_TEST_WRONG_CA_FILE"]})
        self.assertEqual(rc, 1, out + err)
        self.assertIn("certificate is not trusted", err)
        self.assert_nothing_written(None, "untrusted")

        rc, out, err = run(["add", "test2@example.test", "--name", "expired", "--config",
                            self.conf, "--autoconfig-url", web.base + "/b.xml"],
                           stdin=PASSWORD + "\n")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("outside its validity period", err)
        self.assert_nothing_written(None, "expired")

    def test_untrusted_autoconfig_server(self):
        """An autoconfig server whose certificate is not trusted is not
        believed: discovery goes on and says why it skipped it."""
        web = Web({"/mail/config-v1.1.xml": xml_page([{"hostname": "localhost",
                                                       "port": str(POP3S)}])})
        self.addCleanup(web.close)
        dns = FakeDns({})
        self.addCleanup(dns.close)
        rc, out, err = run(["add", "x@nowhere.test", "--config", self.conf,
                            "--autoconfig-url", web.base + "/mail/config-v1.1.xml"],
                           env={"SSL_CERT_FILE": E["BZ_TEST_WRONG_CA_FILE"]}, wrap=dns.wrap)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("certificate is not trusted", err)
        self.assertIn("no POP3 server found for x@nowhere.test", err)
        self.assertIsNone(self.read_conf())

    def test_wrong_password(self):
        web = Web({"/c.xml": xml_page([{"hostname": "localhost", "port": str(POP3S),
                                        "username": "%EMAILLOCALPART%"}])})
        self.addCleanup(web.close)
        self.write_conf(ORIGINAL)
        rc, out, err = run(["add", "test3@localhost", "--name", "wrongpw", "--config",
                            self.conf, "--autoconfig-url", web.base + "/c.xml"],
                           stdin="not the password\n")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("did not accept the password of test3", err)
        self.assertIn("nothing was written", err)
        self.assertNotIn("not the password", out + err)
        self.assert_nothing_written(ORIGINAL, "wrongpw")

    def test_oauth2_in_autoconfig(self):
        """An autoconfig file that asks for OAuth2 on a provider buzon knows
        gives oauth2 = ..., no password and the authorize hint (or, in a
        build without a Microsoft client id, an error naming
        oauth2-client-id and nothing written)."""
        web = Web({"/o.xml": xml_page([{"hostname": "outlook.office365.com", "port": "995",
                                        "socketType": "SSL", "username": "%EMAILADDRESS%",
                                        "auth": ["OAuth2", "password-cleartext"]}])})
        self.addCleanup(web.close)
        rc, out, err = run(["add", "dana@contoso.test", "--config", self.conf,
                            "--autoconfig-url", web.base + "/o.xml"], stdin="")
        self.assertIsNone(keyring_lookup("dana-contoso.test"))
        if not BUILT_MICROSOFT_ID:
            self.assertEqual(rc, 1, out + err)
            self.assertIn("oauth2-client-id", err)
            self.assertIn("nothing was written", err)
            self.assertIsNone(self.read_conf())
            return
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.read_conf(),
                         "[account dana-contoso.test]\nhost = outlook.office365.com\n"
                         "user = dana@contoso.test\noauth2 = microsoft\n")
        self.assertIn("buzonctl authorize dana-contoso.test", out)
        self.assertEqual(os.stat(self.conf).st_mode & 0o777, 0o600)


class TestFlags(Case):
    def test_no_discover_and_forget_password(self):
        """--no-discover with --host/--port/--security/--user/--keep writes
        only keys that differ from the defaults; remove --forget-password
        clears the keyring item."""
        self.write_conf("[general]\r\nnotify = false\r\n")
        rc, out, err = run(["add", "test4@example.test", "--name", "flags", "--config",
                            self.conf, "--no-discover", "--host", "localhost", "--port",
                            str(POP3), "--security", "starttls", "--user", "test4", "--keep",
                            "days:7"], stdin=PASSWORD + "\n")
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn("looking for", out)
        self.assertEqual(self.read_conf(),
                         "[general]\r\nnotify = false\r\n\r\n[account flags]\r\n"
                         "host = localhost\r\nport = %d\r\nsecurity = starttls\r\n"
                         "user = test4\r\nkeep = days:7\r\n" % POP3)
        self.assertEqual(keyring_lookup("flags"), PASSWORD)
        rc, out, err = run(["remove", "flags", "--forget-password", "--config", self.conf])
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.read_conf(), "[general]\r\nnotify = false\r\n")
        self.assertIsNone(keyring_lookup("flags"))

    def test_bad_input(self):
        self.write_conf(ORIGINAL)
        cases = [
            (["add", "no-at-sign.example.test"], "not an e-mail address"),
            (["add", "@example.test"], "not an e-mail address"),
            (["add", "a@b.test", "--name", "old"], 'an account named "old" exists already'),
            (["add", "a@b.test", "--name", "bad/name"], 'account name "bad/name" is not allowed'),
            (["add", "a@b.test", "--name", ".."], 'account name ".." is not allowed'),
            (["add", "a@b.test", "--autoconfig-url", "http://example.test/c.xml"],
             "http:// is accepted only for a loopback host"),
            (["add", "a@b.test", "--autoconfig-url", "ftp://localhost/c.xml"],
             "expected an https:// URL"),
            (["add", "a@b.test", "--no-discover"], "--no-discover needs --host"),
            (["add", "a@b.test", "--host", "h", "--security", "ssl"], "expected tls, starttls"),
            (["add", "a@b.test", "--host", "h", "--keep", "sometimes"], "expected forever"),
            (["add", "a@b.test", "--host", "h", "--port", "70000"], "expected 1 to 65535"),
            (["add"], "give exactly one EMAIL"),
            (["remove", "nosuch"], 'no account named "nosuch"'),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                rc, out, err = run(args + ["--config", self.conf], stdin="")
                self.assertEqual(rc, 2, out + err)
                self.assertIn(message, err)
                self.assertEqual(self.read_conf(), ORIGINAL)

    def test_broken_config_is_left_alone(self):
        broken = "[general]\nmax-parallel = banana\n"
        self.write_conf(broken)
        rc, out, err = run(["add", "test11@example.test", "--name", "broken", "--config",
                            self.conf, "--no-discover", "--host", "localhost", "--port",
                            str(POP3S), "--user", "test11"], stdin=PASSWORD + "\n")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("max-parallel = banana", err)
        self.assertNotIn("checking", out)
        self.assert_nothing_written(broken, "broken")

    def test_plaintext_refused_off_loopback(self):
        rc, out, err = run(["add", "a@b.test", "--config", self.conf, "--host", "pop.b.test",
                            "--security", "none", "--no-discover"], stdin=PASSWORD + "\n")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("has no encryption", err)
        self.assertIsNone(self.read_conf())


class TestDns(Case):
    def setUp(self):
        super().setUp()
        self.dns = FakeDns({
            ("_pop3s._tcp.localhost", "SRV"): [(0, 0, POP3S, "localhost")],
            ("_pop3s._tcp.srv.test", "SRV"): [(10, 0, POP3S, "localhost"),
                                              (20, 0, 1, "backup.srv.test")],
            ("_pop3s._tcp.st.test", "SRV"): [(0, 0, 0, ".")],
            ("_pop3._tcp.st.test", "SRV"): [(0, 0, POP3, "localhost")],
            ("_pop3s._tcp.dot.test", "SRV"): [(0, 0, 0, ".")],
            ("_pop3._tcp.dot.test", "SRV"): [(0, 0, 0, ".")],
            ("m365.test", "MX"): [(0, "m365-test.mail.protection.outlook.com")],
            ("dot.test", "MX"): [(10, "mx.dot.test")],
            ("pop.guess.test", "A"): ["127.0.0.1"],
        })
        self.addCleanup(self.dns.close)

    def add(self, args, stdin=PASSWORD + "\n"):
        return run(args + ["--config", self.conf], stdin=stdin, wrap=self.dns.wrap)

    def test_srv_in_domain(self):
        rc, out, err = self.add(["add", "test5@localhost", "--user", "test5"])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("through a DNS SRV record (_pop3s._tcp.localhost)", out)
        self.assertIn(("_pop3s._tcp.localhost", "SRV"), self.dns.queries)
        self.assertEqual(self.read_conf(), "[account test5-localhost]\nhost = localhost\n"
                         "port = %d\nuser = test5\n" % POP3S)

    def test_srv_outside_domain_needs_confirmation(self):
        rc, out, err = self.add(["add", "test6@srv.test", "--user", "test6"])
        self.assertEqual(rc, 1, out + err)
        self.assertIn("localhost is outside the domain of test6@srv.test", out)
        self.assertIn("--host localhost --port %d --security tls" % POP3S, err)
        self.assert_nothing_written(None, "test6-srv.test")

        # at a terminal the user is asked; "n" keeps everything as it was
        cmd = self.dns.wrap([BUZONCTL, "add", "test6@srv.test", "--user", "test6",
                             "--config", self.conf])
        env = dict(E, SSL_CERT_FILE=E["BZ_TEST_CA_FILE"])
        p = subprocess.run([E["BZ_TEST_PYTHON"], PTY, "--answer", "[y/N]", "n", "--"] + cmd,
                           capture_output=True, text=True, env=env, timeout=CMD_TIMEOUT)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("not confirmed", p.stdout)
        self.assert_nothing_written(None, "test6-srv.test")

        p = subprocess.run([E["BZ_TEST_PYTHON"], PTY, "--answer", "[y/N]", "y", "--answer",
                            "Password for test6 at localhost:", PASSWORD, "--"] + cmd,
                           capture_output=True, text=True, env=env, timeout=CMD_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn(PASSWORD, p.stdout)  # no echo
        self.assertEqual(self.read_conf(), "[account test6-srv.test]\nhost = localhost\n"
                         "port = %d\nuser = test6\n" % POP3S)
        self.assertEqual(keyring_lookup("test6-srv.test"), PASSWORD)

    def test_srv_pop3_starttls_after_dot_target(self):
        cmd = self.dns.wrap([BUZONCTL, "add", "test7@st.test", "--user", "test7",
                             "--config", self.conf])
        env = dict(E, SSL_CERT_FILE=E["BZ_TEST_CA_FILE"])
        p = subprocess.run([E["BZ_TEST_PYTHON"], PTY, "--answer", "[y/N]", "y", "--answer",
                            "Password for", PASSWORD, "--"] + cmd,
                           capture_output=True, text=True, env=env, timeout=CMD_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("(STARTTLS) through a DNS SRV record (_pop3._tcp.st.test)", p.stdout)
        self.assertEqual(self.read_conf(), "[account test7-st.test]\nhost = localhost\n"
                         "port = %d\nsecurity = starttls\nuser = test7\n" % POP3)

    def test_nothing_found_says_what_was_tried(self):
        rc, out, err = self.add(["add", "someone@dot.test"])
        self.assertEqual(rc, 1, out + err)
        for tried in [
            "autoconfig https://autoconfig.dot.test/mail/config-v1.1.xml"
            "?emailaddress=someone%40dot.test:",
            "autoconfig https://dot.test/.well-known/autoconfig/mail/config-v1.1.xml:",
            'SRV _pop3s._tcp.dot.test: target "." (no such service)',
            'SRV _pop3._tcp.dot.test: target "." (no such service)',
            "known providers: dot.test is none of them (mail exchangers: mx.dot.test)",
            "guess pop.dot.test:995:",
        ]:
            self.assertIn(tried, err)
        self.assertIn("no POP3 server found for someone@dot.test", err)
        self.assertIsNone(self.read_conf())

    def test_presets(self):
        """gmail.com by name, Microsoft 365 by the domain's MX: OAuth2
        accounts, no login check (buzonctl authorize does the sign-in).
        A build without default client ids cannot sign in to them: add
        stops, names oauth2-client-id and writes nothing."""
        rc, out, err = self.add(["add", "bob@gmail.com"], stdin="")
        self.assertIn("through buzon's list of known providers", out)
        if not BUILT_GOOGLE_ID:
            self.assertEqual(rc, 1, out + err)
            self.assertIn("oauth2-client-id", err)
            self.assertIn("nothing was written", err)
            self.assertIsNone(self.read_conf())
        else:
            self.assertEqual(rc, 0, out + err)
            self.assertIn("buzonctl authorize bob-gmail.com", out)
        rc, out, err = self.add(["add", "eve@m365.test", "--name", "m365"], stdin="")
        self.assertIn("mail exchanger m365-test.mail.protection.outlook.com", out)
        if not BUILT_MICROSOFT_ID:
            self.assertEqual(rc, 1, out + err)
            self.assertIn("oauth2-client-id", err)
            self.assertIn("nothing was written", err)
        else:
            self.assertEqual(rc, 0, out + err)
        expected = ""
        if BUILT_GOOGLE_ID:
            expected += ("[account bob-gmail.com]\nhost = pop.gmail.com\nuser = bob@gmail.com\n"
                         "oauth2 = google\n")
        if BUILT_MICROSOFT_ID:
            expected += "\n" if expected else ""
            expected += ("[account m365]\nhost = outlook.office365.com\nuser = eve@m365.test\n"
                         "oauth2 = microsoft\n")
        self.assertEqual(self.read_conf(), expected or None)

    def test_guess(self):
        """pop.<domain> resolves: it is tried on 995 (nothing listens there
        on loopback, so the check fails and nothing is written)."""
        rc, out, err = self.add(["add", "carol@guess.test"])
        self.assertIn("found pop.guess.test port 995 (TLS) through a guess", out)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("nothing was written", err)
        self.assertIsNone(self.read_conf())


def make_ca_and_cert(folder, names):
    """A CA of our own and a certificate it signed for @names (DNS SANs):
    the harness certificate only names localhost. Returns (ca.pem, cert, key)."""
    def openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True,
                       timeout=CMD_TIMEOUT)
    ca_key, ca = os.path.join(folder, "ca.key"), os.path.join(folder, "ca.pem")
    key, csr = os.path.join(folder, "web.key"), os.path.join(folder, "web.csr")
    cert, ext = os.path.join(folder, "web.pem"), os.path.join(folder, "web.ext")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=buzon setup test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=" + names[0])
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + n for n in names) + "\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


class TestStandardAutoconfig(Case):
    """The two standard autoconfig URLs, found through DNS and fetched over
    HTTPS on port 443 of a loopback address, with a certificate for the
    provider's names signed by a CA given in SSL_CERT_FILE."""

    def setUp(self):
        super().setUp()
        ca, cert, key = make_ca_and_cert(self.dir, ["autoconfig.ac.test", "ac2.test"])
        self.bundle = os.path.join(self.dir, "bundle.pem")
        with open(self.bundle, "w") as out:
            for pem in (E["BZ_TEST_CA_FILE"], ca):
                with open(pem) as f:
                    out.write(f.read())
        for _ in range(50):
            ip = "127.44.%d.%d" % (random.randint(0, 255), random.randint(1, 254))
            try:
                self.web = Web({
                    "/mail/config-v1.1.xml": xml_page([
                        {"hostname": "localhost", "port": str(POP3S),
                         "username": "%EMAILLOCALPART%"}]),
                    "/.well-known/autoconfig/mail/config-v1.1.xml": xml_page([
                        {"hostname": "localhost", "port": str(POP3S), "username": "test12"}]),
                }, addr=(ip, 443), cert=(cert, key))
                break
            except OSError:
                continue
        else:
            self.fail("no free 127.44.x.y:443")
        self.addCleanup(self.web.close)
        self.dns = FakeDns({("autoconfig.ac.test", "A"): [ip], ("ac2.test", "A"): [ip]})
        self.addCleanup(self.dns.close)

    def add(self, address, name):
        return run(["add", address, "--name", name, "--config", self.conf],
                   stdin=PASSWORD + "\n", env={"SSL_CERT_FILE": self.bundle},
                   wrap=self.dns.wrap)

    def test_autoconfig_host(self):
        rc, out, err = self.add("test12@ac.test", "ac")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.web.requests,
                         ["/mail/config-v1.1.xml?emailaddress=test12%40ac.test"])
        self.assertIn("(https://autoconfig.ac.test/mail/config-v1.1.xml?emailaddress="
                      "test12%40ac.test)", out)
        self.assertEqual(self.read_conf(), "[account ac]\nhost = localhost\nport = %d\n"
                         "user = test12\n" % POP3S)

    def test_well_known(self):
        rc, out, err = self.add("someone@ac2.test", "ac2")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.web.requests, ["/.well-known/autoconfig/mail/config-v1.1.xml"])
        self.assertIn(("autoconfig.ac2.test", "A"), self.dns.queries)
        self.assertIn("(https://ac2.test/.well-known/autoconfig/mail/config-v1.1.xml)", out)
        self.assertEqual(self.read_conf(), "[account ac2]\nhost = localhost\nport = %d\n"
                         "user = test12\n" % POP3S)

    def test_untrusted_without_our_ca(self):
        """Without the CA in SSL_CERT_FILE the same servers are not believed."""
        rc, out, err = run(["add", "test12@ac.test", "--name", "ac3", "--config", self.conf],
                           stdin=PASSWORD + "\n", wrap=self.dns.wrap)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("autoconfig https://autoconfig.ac.test/mail/config-v1.1.xml"
                      "?emailaddress=test12%40ac.test: autoconfig.ac.test:443: TLS certificate "
                      "is not trusted", err)
        self.assertEqual(self.web.requests, [])
        self.assertIsNone(self.read_conf())


class TestDaemon(Case):
    def test_reload_running_daemon(self):
        self.write_conf("[account idle]\nhost = localhost\nuser = nobody\nenabled = false\n")
        env = dict(E, SSL_CERT_FILE=E["BZ_TEST_CA_FILE"])
        log = open(os.path.join(self.dir, "buzond.log"), "w")
        self.addCleanup(log.close)
        daemon = subprocess.Popen([BUZOND, "--config", self.conf], env=env,
                                  stdout=log, stderr=log)
        self.addCleanup(lambda: (daemon.terminate(), daemon.wait(30)))
        # bounded wait for the bus name
        for _ in range(300):
            p = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus",
                                "--object-path", "/org/freedesktop/DBus", "--method",
                                "org.freedesktop.DBus.NameHasOwner", "org.buzon.Agent1"],
                               capture_output=True, text=True, timeout=CMD_TIMEOUT)
            if "true" in p.stdout:
                break
            if daemon.poll() is not None:
                self.fail("buzond exited with %d" % daemon.returncode)
            threading.Event().wait(0.1)
        else:
            self.fail("buzond did not take its bus name")
        rc, out, err = run(["add", "test8@example.test", "--name", "live", "--config", self.conf,
                            "--no-discover", "--host", "localhost", "--port", str(POP3S),
                            "--user", "test8"],
                           stdin=PASSWORD + "\n")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("buzond reloaded its config", out)
        rc, out, err = run(["status"])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("live", out)
        rc, out, err = run(["remove", "live", "--config", self.conf])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("buzond reloaded its config", out)
        rc, out, err = run(["status"])
        self.assertNotIn("live", out)


if __name__ == "__main__":
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        # the DNS cases need a mount namespace and port 53 on loopback
        print("test-setup: needs root (mount namespace, port 53)", file=sys.stderr)
        sys.exit(77 if not E.get("BZ_TEST_NO_SKIP") else 1)
    unittest.main(verbosity=2)

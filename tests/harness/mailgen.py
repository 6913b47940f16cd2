#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write deterministic test messages into a Maildir.

    mailgen.py --maildir DIR --count N [--seed S] [--start K]
               [--profile mixed|small|large|realistic] [--size BYTES]
               [--owner UID:GID]

Message K of seed S is always the same bytes (LF line ends), with Message-ID
<bz-K-S@test.buzon>.  The messages exercise what a POP3 client gets wrong:
RFC 2047 subjects and display names (UTF-8 B and ISO-8859-1 Q), body lines
starting with '.' and '..' and a line that is only '.', 8-bit UTF-8 bodies,
base64 attachments and a spread of sizes.  Prints one line per message:
"<message-id without brackets>\\t<path>\\t<size in bytes>".

Importable: faultpop.py serves generate_message() from memory.
"""

import argparse
import base64
import datetime
import os
import random
import sys
import time

PROFILES = ("mixed", "small", "large", "realistic")

_WORDS = ("pop3 maildir buzon uidl retr stat list dele quit sync mail "
          "server client message folder token socket stream agent daemon "
          "Grüße señor naïve café smörgåsbord 日本語 тест ελληνικά").split()

_SUBJECTS = (
    ("plain", "Test message {k} about the weekly report"),
    ("utf8", "Grüße aus Köln – Nachricht {k} ✓"),
    ("latin1", "Café crème n°{k} à Genève"),
)

_FROMS = (
    ("plain", "Alice Example", "alice@example.org"),
    ("utf8", "José Müller 山田", "jose@example.es"),
    ("latin1", "François Sørensen", "francois@example.fr"),
    ("quoted", "Doe, John (ops)", "john.doe@example.com"),
)

_TZ = (0, 120, -300, 330, -60)


def message_id(index, seed):
    """The Message-ID of message index/seed, without angle brackets."""
    return "bz-%d-%d@test.buzon" % (index, seed)


def _b_word(text):
    return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode("utf-8")).decode()


def _q_word(text):
    out = []
    for b in text.encode("iso-8859-1"):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isascii() and c.isalnum():
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "=?ISO-8859-1?Q?%s?=" % "".join(out)


def _encode(kind, text):
    if kind == "utf8":
        return _b_word(text)
    if kind == "latin1":
        return _q_word(text)
    if kind == "quoted":
        return '"%s"' % text
    return text


_CORPUS = None


def _corpus():
    """~256 KiB of filler text shared by all messages: slicing it is what
    makes generating thousands of messages cheap."""
    global _CORPUS
    if _CORPUS is None:
        rng = random.Random(4242)
        lines = []
        size = 0
        while size < 256 * 1024:
            n = rng.randint(3, 12)
            line = " ".join(rng.choice(_WORDS) for _ in range(n))
            r = rng.random()
            if r < 0.04:
                line = "." + line          # needs dot-stuffing on the wire
            elif r < 0.06:
                line = ".." + line
            elif r < 0.07:
                line = "."
            lines.append(line)
            size += len(line.encode()) + 1
        _CORPUS = ("\n".join(lines) + "\n").encode("utf-8")
    return _CORPUS


def _filler(rng, n):
    """n bytes of text ending in LF, cut at a line boundary (so never in the
    middle of a UTF-8 sequence) and padded with ASCII to the exact length."""
    if n <= 0:
        return b""
    corpus = _corpus()
    out = []
    left = n
    while left > 0:
        off = rng.randrange(0, len(corpus) // 2)
        off = corpus.index(b"\n", off) + 1
        chunk = corpus[off:off + min(left, len(corpus) // 2)]
        cut = chunk.rfind(b"\n") + 1
        chunk = chunk[:cut]
        if len(chunk) == 0 or left - len(chunk) < 0:
            break
        out.append(chunk)
        left -= len(chunk)
        if left < 80:
            break
    if left > 0:
        # ASCII pad lines of at most 76 bytes, the last one exact
        while left > 0:
            k = min(left, 77)
            out.append(b"x" * (k - 1) + b"\n")
            left -= k
    return b"".join(out)


def _target_size(rng, profile, size):
    if profile == "large":
        return size
    if profile == "small":
        return rng.randint(1024, 5 * 1024)
    if profile == "realistic":
        # what a mailbox looks like (bench/): sizes spread evenly on a log
        # scale, 95% 2-50 KB, 5% 200 KB-2 MB (those carry an attachment)
        if rng.random() < 0.05:
            return int(200 * 1024 * 10 ** rng.random())
        return int(2 * 1024 * 25 ** rng.random())
    if rng.random() < 0.04:
        return rng.randint(512 * 1024, 3 * 1024 * 1024)
    return rng.randint(1024, 50 * 1024)


def generate_message(index, seed=0, profile="mixed", size=None):
    """The bytes (LF line ends) of message index for seed and profile.
    For profile 'large' size is required; every message is at least big
    enough for its headers (~1 KiB) and otherwise exactly the target size."""
    if profile not in PROFILES:
        raise ValueError("unknown profile %r" % profile)
    if profile == "large" and not size:
        raise ValueError("profile 'large' needs a size")
    rng = random.Random("%d/%d/%s" % (seed, index, profile))
    target = _target_size(rng, profile, size)

    skind, stext = _SUBJECTS[index % len(_SUBJECTS)]
    fkind, fname, faddr = _FROMS[index % len(_FROMS)]
    tz = datetime.timezone(datetime.timedelta(minutes=_TZ[index % len(_TZ)]))
    date = (datetime.datetime(2024, 1, 1, 9, 0, tzinfo=datetime.timezone.utc)
            + datetime.timedelta(minutes=index * 37 + seed)).astimezone(tz)
    boundary = "=_bz_%d_%d" % (index, seed)
    attach = index % 5 == 2 or (target > 100 * 1024 and index % 2 == 0)
    if profile == "realistic":
        attach = index % 5 == 2 or target > 100 * 1024

    head = [
        "Return-Path: <%s>" % faddr,
        "Message-ID: <%s>" % message_id(index, seed),
        "Date: %s" % date.strftime("%a, %d %b %Y %H:%M:%S %z"),
        "From: %s <%s>" % (_encode(fkind, fname), faddr),
        "To: Buzon Tester <tester@localhost>",
        "Subject: %s" % _encode(skind, stext.format(k=index)),
        "MIME-Version: 1.0",
        "X-Buzon-Test: index=%d seed=%d profile=%s" % (index, seed, profile),
    ]
    text_head = ["Content-Type: text/plain; charset=UTF-8",
                 "Content-Transfer-Encoding: 8bit"]
    if attach:
        head.append('Content-Type: multipart/mixed; boundary="%s"' % boundary)
        pre = "\n".join(head) + "\n\nThis is a MIME message.\n\n--%s\n%s\n\n" % (
            boundary, "\n".join(text_head))
    else:
        pre = "\n".join(head + text_head) + "\n\n"

    # The dot lines POP3 must stuff and unstuff, in every message.
    intro = ("Hello from message %d (seed %d).\n"
             ".a line starting with one dot\n"
             "..a line starting with two dots\n"
             ".\n"
             "Grüße, ñandú, 日本語 — 8-bit UTF-8 body text.\n"
             "\n" % (index, seed))
    parts = [pre.encode("utf-8"), intro.encode("utf-8")]
    tail = []
    if attach:
        # the attachment carries most of a big message
        raw_len = max(64, (target * 3) // 5)
        raw = rng.randbytes(raw_len)
        tail.append(("\n--%s\nContent-Type: application/octet-stream; "
                     "name=\"blob-%d.bin\"\nContent-Transfer-Encoding: base64\n"
                     "Content-Disposition: attachment; filename=\"blob-%d.bin\""
                     "\n\n" % (boundary, index, index)).encode())
        tail.append(base64.encodebytes(raw))
        tail.append(("--%s--\n" % boundary).encode())
    fixed = sum(len(p) for p in parts) + sum(len(p) for p in tail)
    parts.append(_filler(rng, target - fixed if target else 0))
    return b"".join(parts + tail)


def _owner(maildir, owner):
    if owner:
        uid, gid = owner.split(":")
        return int(uid), int(gid)
    if os.getuid() != 0:
        return None
    if os.environ.get("BZ_TEST_MAIL_UID"):
        return (int(os.environ["BZ_TEST_MAIL_UID"]),
                int(os.environ.get("BZ_TEST_MAIL_GID", "0")))
    # fall back to whoever owns the folder above the Maildir
    st = os.stat(os.path.dirname(os.path.abspath(maildir)))
    return st.st_uid, st.st_gid


_counter = 0


def write_maildir(maildir, count, seed=0, start=1, profile="mixed",
                  size=None, owner=None):
    """Write count messages; returns [(message_id, path, size)]."""
    global _counter
    ids = _owner(maildir, owner)
    for sub in ("", "cur", "new", "tmp"):
        d = os.path.join(maildir, sub)
        os.makedirs(d, exist_ok=True)
        if ids:
            os.chown(d, *ids)
    host = "buzon-test"
    pid = os.getpid()
    out = []
    for k in range(start, start + count):
        data = generate_message(k, seed, profile, size)
        now = time.time()
        _counter += 1
        # maildir(5) unique name; R<hex> covers the same K written twice
        name = "%d.M%dP%dQ%dR%s.%s" % (int(now), int((now % 1) * 1e6), pid,
                                      _counter, os.urandom(4).hex(), host)
        tmp = os.path.join(maildir, "tmp", name)
        final = os.path.join(maildir, "new", name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            if ids:
                os.fchown(fd, *ids)
            f.write(data)
        os.rename(tmp, final)
        out.append((message_id(k, seed), final, len(data)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("--profile", choices=PROFILES, default="mixed")
    ap.add_argument("--size", type=int)
    ap.add_argument("--owner", help="UID:GID (default: the dovecot mail uid "
                    "from BZ_TEST_MAIL_UID/GID when root)")
    args = ap.parse_args()
    if args.count < 0:
        ap.error("--count must be >= 0")
    if args.profile == "large" and not args.size:
        ap.error("--profile large needs --size")
    if args.size and args.profile != "large":
        ap.error("--size only goes with --profile large")
    lines = []
    for mid, path, size in write_maildir(args.maildir, args.count, args.seed,
                                         args.start, args.profile, args.size,
                                         args.owner):
        lines.append("%s\t%s\t%d\n" % (mid, path, size))
    sys.stdout.write("".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A password-command for tests: prints the first line of FILE once a TCP
connection to PORT is established on this host, then waits SLEEP seconds
more (optional); with no such connection within 10 s it fails.

    password-when-connected.py PORT FILE [SLEEP]

buzond looks the password up while it connects: this command can only
answer a buzond that does."""
import sys
import time

port, path = int(sys.argv[1]), sys.argv[2]
sleep = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0


def connected():
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # remote address "HEX:PORT", state 01 = ESTABLISHED
            if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port:
                return True
    return False


for _ in range(200):
    if connected():
        time.sleep(sleep)
        with open(path) as f:
            sys.stdout.write(f.readline())
        sys.exit(0)
    time.sleep(0.05)
sys.exit("no connection to port %d while the password was asked for" % port)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs a command on a pseudo-terminal, as a user at a terminal would.

ctl-pty.py [--answer PROMPT TEXT]... -- CMD [ARGS...]

Each time PROMPT appears in the output (in order), TEXT and a newline are
typed. Everything the terminal showed is written to stdout as it was
(escapes included); the exit code is CMD's (128+N on signal N). The whole
run is bounded: after 25 s the command is killed and the exit code is 124.
"""
import argparse
import os
import pty
import select
import signal
import sys
import time

TIMEOUT = 25.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--answer", nargs=2, action="append", default=[],
                    metavar=("PROMPT", "TEXT"))
    ap.add_argument("cmd", nargs="+")
    args = ap.parse_args()

    pid, fd = pty.fork()
    if pid == 0:
        os.environ.setdefault("TERM", "xterm")
        try:
            os.execvp(args.cmd[0], args.cmd)
        finally:
            os._exit(127)

    answers = [(p.encode(), t.encode()) for p, t in args.answer]
    seen = b""
    searched = 0
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        seen += data
        while answers:
            at = seen.find(answers[0][0], searched)
            if at < 0:
                break
            searched = at + len(answers[0][0])
            os.write(fd, answers[0][1] + b"\n")
            answers.pop(0)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stdout.buffer.write(seen)
        return 124
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(seen)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A scripted "browser" for buzonctl authorize: GIO starts it through a
test .desktop file that handles x-scheme-handler/http. It opens the URL
(the fake provider redirects to buzonctl's loopback listener) and records
the final answer in $BZ_OAUTH2_BROWSER_LOG."""

import os
import sys
import urllib.request

url = sys.argv[1]
log = os.environ.get("BZ_OAUTH2_BROWSER_LOG")
try:
    with urllib.request.urlopen(url, timeout=30) as r:
        result = "%d %s" % (r.status, r.read().decode(errors="replace").strip()[:200])
except Exception as e:  # noqa: BLE001 -- whatever failed goes to the log
    result = "ERROR %s" % e
if log:
    with open(log, "a") as f:
        f.write(result + "\n")

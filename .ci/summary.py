#!/usr/bin/env python3
"""Prints one closing line for CI from meson's test logs:
'suite-run: N passed, N failed, N skipped'. Exits 1 when a test failed."""
import json
import os
import sys

counts = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as log:
        for line in log:
            result = json.loads(line).get("result", "")
            if result in ("OK", "EXPECTEDFAIL"):
                counts["passed"] += 1
            elif result == "SKIP":
                counts["skipped"] += 1
            else:
                counts["failed"] += 1
print(f"tests: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
# In CI (BZ_TEST_NO_SKIP) a skipped test would hide what it was meant to prove.
no_skip = os.environ.get("BZ_TEST_NO_SKIP") is not None
sys.exit(1 if counts["failed"] or not counts["passed"] or (no_skip and counts["skipped"]) else 0)

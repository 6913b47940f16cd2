#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the POP3 parser fuzzer with clang and libFuzzer in its own build
# folder and runs it for a bounded time (default 60 s) on a scratch copy of
# the seed corpus, so the committed corpus only changes by hand.
#
#   tests/fuzz/run-fuzzer.sh [SECONDS] [BUILD_DIR]
set -eu

seconds=${1:-60}
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${2:-$srcdir/build-fuzz}

if [ ! -d "$builddir" ]; then
  CC=clang meson setup "$builddir" "$srcdir" \
    -Dfuzzing=true -Dtest-hooks=true -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$builddir" tests/fuzz/bz-pop3-parser-fuzzer

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/corpus"
mkdir -p "$builddir/fuzz-artifacts"
cp "$srcdir"/tests/fuzz/corpus/* "$work/corpus/"
cd "$work"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$builddir/tests/fuzz/bz-pop3-parser-fuzzer" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$builddir/fuzz-artifacts/" \
    "$work/corpus"

#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the fuzz targets with clang and libFuzzer in their own build
# folder and runs each for a share of a bounded time (default 60 s in all)
# on a scratch copy of its seed corpus, so the committed corpora only
# change by hand.
#
#   tests/fuzz/run-fuzzer.sh [SECONDS] [BUILD_DIR]
set -eu

seconds=${1:-60}
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${2:-$srcdir/build-fuzz}
# target:corpus folder
targets="bz-pop3-parser:corpus bz-pop3-listing:corpus-listing bz-store-headers:corpus-headers bz-text:corpus-text"
n=$(echo $targets | wc -w)
each=$((seconds / n))
[ "$each" -ge 1 ] || each=1

if [ ! -d "$builddir" ]; then
  CC=clang meson setup "$builddir" "$srcdir" \
    -Dfuzzing=true -Dtest-hooks=true -Db_sanitize=address,undefined -Db_lundef=false
fi
for t in $targets; do
  ninja -C "$builddir" "tests/fuzz/${t%%:*}-fuzzer"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$builddir/fuzz-artifacts"
status=0
for t in $targets; do
  name=${t%%:*}
  mkdir "$work/$name"
  cp "$srcdir/tests/fuzz/${t#*:}"/* "$work/$name/"
  echo "== $name: $each s"
  (cd "$work" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$builddir/tests/fuzz/$name-fuzzer" \
      -max_total_time="$each" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$builddir/fuzz-artifacts/$name-" \
      "$work/$name") || status=1
done
exit $status

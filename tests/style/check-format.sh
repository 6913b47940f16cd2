#!/bin/sh
# Fails when a C file of the tree differs from what .clang-format makes of
# it. Run `tests/style/check-format.sh --fix` to reformat in place.
set -eu
cd "$(dirname "$0")/../.."
files=$(find agent db include tests bench -name '*.[ch]' | sort)
if [ "${1:-}" = --fix ]; then
  exec clang-format -i $files
fi
exec clang-format --dry-run --Werror $files

#!/bin/sh
# Builds the Debian package from this checkout:
#   packaging/build-deb.sh [OUTDIR]          (default OUTDIR: build-deb/)
# debian/ lives in packaging/debian so the source tree stays tool-neutral.
# This copies the sources to a temporary tree, puts packaging/debian there
# as debian/ and runs "dpkg-buildpackage -us -uc -b". By hand, in a clean
# checkout, the same is:
#   ln -sfn packaging/debian debian && dpkg-buildpackage -us -uc -b
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/buzon-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

sh "$src/packaging/copy-source.sh" "$work/buzon"
rm -rf "$work/buzon/debian"
cp -r "$src/packaging/debian" "$work/buzon/debian"

(cd "$work/buzon" && dpkg-buildpackage -us -uc -b)
for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
  if [ -e "$f" ]; then cp "$f" "$out/"; fi
done
ls "$out"/*.deb

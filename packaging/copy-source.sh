#!/bin/sh
# Copies the source tree of this checkout to DEST (which must not exist):
# tracked and untracked files, without what .gitignore names (build dirs),
# so a package is built from sources only. Usage: copy-source.sh DEST
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir "$1"
dest=$(cd "$1" && pwd)
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$src" ls-files -z --cached --others --exclude-standard |
    (cd "$src" && xargs -0 sh -c \
      'for f; do if [ -e "$f" ]; then cp --parents -- "$f" "$0" || exit 1; fi; done' "$dest")
else
  tar -C "$src" --exclude='./build*' --exclude='./_build*' --exclude=./debian \
      -cf - . | tar -C "$dest" -xf -
fi

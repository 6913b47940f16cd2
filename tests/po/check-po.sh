#!/bin/sh
# The translations are complete and the template is current:
#  - po/buzon.pot equals what xgettext makes of the sources today (the
#    POT-Creation-Date header aside), with the arguments po/meson.build
#    gives meson;
#  - every language in po/LINGUAS compiles with msgfmt --check, has every
#    msgid of the template, and no untranslated or fuzzy entry.
# Usage: check-po.sh SOURCE_ROOT XGETTEXT_ARG...
set -eu
src=$1
shift
po=$src/po
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# as meson's "gettext pot" step calls it (meson --internal gettext pot)
(cd "$src" && xgettext --package-name=buzon -p "$tmp" -f "$po/POTFILES.in" -D "$src" -k_ \
  -o buzon.pot "$@")
strip_date() { grep -v '^"POT-Creation-Date: ' "$1"; }
if ! strip_date "$po/buzon.pot" > "$tmp/committed.pot" ||
   ! strip_date "$tmp/buzon.pot" > "$tmp/fresh.pot" ||
   ! diff -u "$tmp/committed.pot" "$tmp/fresh.pot"; then
  echo "FAIL: po/buzon.pot is out of date: run 'ninja -C BUILD buzon-pot buzon-update-po'," \
       "translate, and commit po/" >&2
  status=1
fi

# every source file with marked strings is in POTFILES.in
for f in $(cd "$src" && grep -lE '(^|[^A-Za-z0-9_])(N?C?_|g_dngettext|g_dpgettext2|PLURAL) \(' \
             agent/*/*.c agent/*/*.h 2>/dev/null); do
  if ! grep -qx "$f" "$po/POTFILES.in"; then
    echo "FAIL: $f marks strings but is not in po/POTFILES.in" >&2
    status=1
  fi
done

for lang in $(grep -v '^#' "$po/LINGUAS"); do
  file=$po/$lang.po
  echo "$lang:"
  if ! msgfmt --check --statistics -o /dev/null "$file"; then
    echo "FAIL: $file does not compile cleanly" >&2
    status=1
  fi
  # msgids of the template missing from the translation
  if ! msgcmp "$file" "$po/buzon.pot"; then
    echo "FAIL: $file lacks msgids of po/buzon.pot: run 'ninja -C BUILD buzon-update-po'" >&2
    status=1
  fi
  untranslated=$(msgattrib --untranslated --no-obsolete "$file")
  fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$file")
  if [ -n "$untranslated" ]; then
    printf '%s\n' "$untranslated" >&2
    echo "FAIL: $file has untranslated entries (above)" >&2
    status=1
  fi
  if [ -n "$fuzzy" ]; then
    printf '%s\n' "$fuzzy" >&2
    echo "FAIL: $file has fuzzy entries (above)" >&2
    status=1
  fi
done
exit $status

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-dbus-utf8.h"

char *
bz_dbus_utf8 (const char *s)
{
  if (s == NULL)
    return g_strdup ("");
  /* g_utf8_make_valid() also turns embedded NULs into U+FFFD; with -1 there
   * are none. */
  return g_utf8_make_valid (s, -1);
}

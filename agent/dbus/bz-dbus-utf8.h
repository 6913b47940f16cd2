/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every string on the bus must be valid UTF-8 (GVariant refuses anything
 * else with a critical), but not every string we hold is: a UIDL is any
 * non-blank bytes the server chose, a path is whatever the file system
 * allows, an error message may quote either. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @s made fit for a D-Bus string: NULL becomes "", invalid bytes become
 * U+FFFD. Returns a new string; never fails. */
char *bz_dbus_utf8 (const char *s);

G_END_DECLS

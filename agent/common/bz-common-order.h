/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The order of a UIDL listing, for the merge joins against the database
 * (sync, prune): indices sorted by strcmp, the order of SQLite's BINARY
 * collation for strings without NUL. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns the indices 0 .. @n-1 of @strings in strcmp order, equal strings
 * in their given order (a new array of MAX (@n, 1), g_free()). Never fails.
 * A listing that is in order already, as servers that number their UIDLs
 * send it (dovecot), costs one pass instead of a sort. */
guint *bz_common_order_strings (const char *const *strings, guint n);

G_END_DECLS

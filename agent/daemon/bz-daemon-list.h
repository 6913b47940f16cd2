/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ListMessages off the main thread: the query, and the paths of files a
 * mail client moved since (new/ -> cur/ with flags), which means reading
 * directories and writing the database -- neither may block the loop. */
#pragma once

#include <gio/gio.h>

#include "bz-db.h"

G_BEGIN_DECLS

/* Lists the newest @limit messages of @account (NULL: every account) from
 * the database at @db_path, in a worker with its own connection. */
void bz_daemon_list_async (const char *db_path, const char *account, guint limit,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
/* Transfer full: the aa{sv} of ListMessages (DESIGN.md), newest first,
 * with current paths and every string valid UTF-8; NULL with @error when
 * the database cannot be read. */
GVariant *bz_daemon_list_finish (GAsyncResult *res, GError **error);

/* Adds the ListMessages keys of @m (DESIGN.md) to the a{sv} @builder;
 * strings are made valid UTF-8. */
void bz_daemon_list_add_fields (GVariantBuilder *builder, const BzDbMessage *m);

G_END_DECLS

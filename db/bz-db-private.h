/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared between the files of db/ only. */
#pragma once

#include <sqlite3.h>

#include "bz-db.h"

G_BEGIN_DECLS

/* One-off statements are finalized by scope. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* A statement borrowed from the BzDb cache: reset and unbound by scope, so
 * that no cached SELECT keeps a read transaction open. */
typedef sqlite3_stmt BzDbCachedStmt;
static inline void
bz_db_cached_stmt_release (BzDbCachedStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzDbCachedStmt, bz_db_cached_stmt_release)

sqlite3 *bz_db_get_handle (BzDb *self);
/* Borrowed from the cache (prepared on first use), or NULL with @error. */
BzDbCachedStmt *bz_db_cached (BzDb *self, const char *sql, GError **error);
/* Sets @error from the connection's last error, prefixed with @what. */
gboolean bz_db_fail (BzDb *self, GError **error, const char *what);
/* Checks an sqlite3_bind_* result. */
gboolean bz_db_check_bind (BzDb *self, int rc, GError **error);
/* Runs a PRAGMA that answers one integer. */
gboolean bz_db_pragma_int (BzDb *self, const char *sql, gint64 *value, GError **error);
/* Executes SQL without results. */
gboolean bz_db_exec (BzDb *self, const char *sql, GError **error);
/* The id of @account; created when @create, else 0 when unknown. */
gboolean bz_db_account_id (BzDb *self, const char *account, gboolean create, gint64 *id,
                           GError **error);

/* bz-db-migrate.c: brings the schema from @from_version to the current one
 * inside one transaction; on failure nothing is changed. */
gboolean bz_db_migrate (BzDb *self, guint from_version, GError **error);

/* bz-db-messages.c: a column as a new string (NULL for NULL). */
char *bz_db_column_dup (sqlite3_stmt *stmt, int col);
/* A new BzDbMessage from ten columns starting at @first: account, uidl,
 * state, path, size, fetched, message_id, sender, subject, date. */
BzDbMessage *bz_db_message_from_row (sqlite3_stmt *stmt, int first);

/* bz-db-rank.c: makes bz_rank(message_text) known to @handle; FALSE when
 * this SQLite has no FTS5. */
gboolean bz_db_rank_register (sqlite3 *handle);

/* bz-db-deflate.c: @text deflated (raw), or NULL with @error. */
GBytes *bz_db_deflate (const char *text, GError **error);
/* The text deflated in @data; NULL with @error when it is damaged or would
 * inflate past a few megabytes. Returns a new string. */
char *bz_db_inflate (const void *data, gsize len, GError **error);

#define BZ_DB_APPLICATION_ID 0x427a4442 /* "BzDB" */

G_END_DECLS

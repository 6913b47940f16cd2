/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The queries of the sync, the store and the D-Bus service. Statements are
 * cached in the BzDb; every bind is checked. */

#include "config.h"

#include <string.h>

#include "bz-common-order.h"
#include "bz-db-private.h"

#define MESSAGE_COLUMNS                                  \
  "a.name, m.uidl, m.state, m.path, m.size, m.fetched, " \
  "m.message_id, m.sender, m.subject, m.date "           \
  "FROM messages m JOIN accounts a ON a.id = m.account_id "

static gboolean
bind_text (BzDb *self, sqlite3_stmt *stmt, int idx, const char *text, GError **error)
{
  /* NULL binds SQL NULL */
  return bz_db_check_bind (self, sqlite3_bind_text (stmt, idx, text, -1, SQLITE_TRANSIENT), error);
}

static gboolean
bind_int64 (BzDb *self, sqlite3_stmt *stmt, int idx, gint64 value, GError **error)
{
  return bz_db_check_bind (self, sqlite3_bind_int64 (stmt, idx, value), error);
}

static gboolean
bind_headers (BzDb *self, sqlite3_stmt *stmt, int first, const BzDbHeaders *headers, GError **error)
{
  BzDbHeaders empty = { NULL, NULL, NULL, 0 };

  if (headers == NULL)
    headers = &empty;
  return bind_text (self, stmt, first, headers->message_id, error) &&
         bind_text (self, stmt, first + 1, headers->from, error) &&
         bind_text (self, stmt, first + 2, headers->subject, error) &&
         bind_int64 (self, stmt, first + 3, headers->date, error);
}

char *
bz_db_column_dup (sqlite3_stmt *stmt, int col)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, col));
}

static BzDbState
state_from_string (const char *text)
{
  for (guint i = 0; i < BZ_DB_STATE_LAST; i++)
    {
      if (g_strcmp0 (text, bz_db_state_to_string (i)) == 0)
        return i;
    }
  /* the CHECK constraint makes this unreachable */
  return BZ_DB_STATE_PENDING;
}

BzDbMessage *
bz_db_message_from_row (sqlite3_stmt *stmt, int first)
{
  BzDbMessage *msg = g_new0 (BzDbMessage, 1);

  msg->account = bz_db_column_dup (stmt, first);
  msg->uidl = bz_db_column_dup (stmt, first + 1);
  msg->state = state_from_string ((const char *) sqlite3_column_text (stmt, first + 2));
  msg->path = bz_db_column_dup (stmt, first + 3);
  msg->size = (guint64) sqlite3_column_int64 (stmt, first + 4);
  msg->fetched = sqlite3_column_int64 (stmt, first + 5);
  msg->headers.message_id = bz_db_column_dup (stmt, first + 6);
  msg->headers.from = bz_db_column_dup (stmt, first + 7);
  msg->headers.subject = bz_db_column_dup (stmt, first + 8);
  msg->headers.date = sqlite3_column_int64 (stmt, first + 9);
  return msg;
}

/* Runs a prepared, bound SELECT of MESSAGE_COLUMNS into a new array. */
static GPtrArray *
collect_messages (BzDb *self, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_message_free);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, bz_db_message_from_row (stmt, 0));
  if (rc != SQLITE_DONE)
    {
      bz_db_fail (self, error, "cannot list messages");
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* Walks the account's rows in UIDL order beside the server's list sorted
 * the same way: a merge join, one pass over the (account_id, uidl, state)
 * index and no hash table of the server's list. SQLite's BINARY collation
 * is memcmp, the same order as strcmp for UIDLs (no NUL inside).
 * @new_out: indices into @uidls unknown in any state, in the order given.
 * @vanished (optional): receives the stored, skipped or known UIDLs not in
 * @uidls. */
static gboolean
diff_uidls (BzDb *self, gint64 account_id, const char *const *uidls, gsize n_uidls,
            const guint *sorted, GArray **new_out, GPtrArray *vanished, GError **error)
{
  g_autofree guint *own_order = NULL;
  const guint *order = sorted;
  g_autofree guint8 *known = g_new0 (guint8, MAX (n_uidls, 1));
  gsize pos = 0;
  int rc;

  if (order == NULL)
    {
      own_order = bz_common_order_strings (uidls, (guint) n_uidls);
      order = own_order;
    }
  if (account_id != 0)
    {
      g_autoptr (BzDbCachedStmt) stmt =
          bz_db_cached (self,
                        "SELECT uidl, state FROM messages WHERE account_id = ?1 "
                        "ORDER BY uidl",
                        error);
      if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error))
        return FALSE;
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          const char *uidl = (const char *) sqlite3_column_text (stmt, 0);
          const char *state = (const char *) sqlite3_column_text (stmt, 1);
          gboolean on_server = FALSE;
          int cmp = -1;

          while (pos < n_uidls && (cmp = strcmp (uidls[order[pos]], uidl)) < 0)
            pos++;
          /* a server may list one UIDL twice: every copy is known */
          for (gsize k = pos; k < n_uidls && strcmp (uidls[order[k]], uidl) == 0; k++)
            {
              known[order[k]] = 1;
              on_server = TRUE;
            }
          if (!on_server && vanished != NULL &&
              (g_strcmp0 (state, "stored") == 0 || g_strcmp0 (state, "skipped") == 0 ||
               g_strcmp0 (state, "known") == 0))
            g_ptr_array_add (vanished, g_strdup (uidl));
        }
      if (rc != SQLITE_DONE)
        return bz_db_fail (self, error, "cannot list known UIDLs");
    }
  if (new_out != NULL)
    {
      GArray *out = g_array_new (FALSE, FALSE, sizeof (guint));
      for (gsize i = 0; i < n_uidls; i++)
        {
          guint idx = (guint) i;
          if (!known[i])
            g_array_append_val (out, idx);
        }
      *new_out = out;
    }
  return TRUE;
}

GArray *
bz_db_find_new_uidls (BzDb *self, const char *account, const char *const *uidls, gsize n_uidls,
                      GError **error)
{
  GArray *out = NULL;
  gint64 account_id = 0;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);

  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return NULL;
  if (!diff_uidls (self, account_id, uidls, n_uidls, NULL, &out, NULL, error))
    return NULL;
  return out;
}

/* Runs @sql (binds: ?1 account id, ?2 uidl) for each UIDL, in a transaction. */
static gboolean
update_each (BzDb *self, const char *account, const char *sql, const char *const *uidls,
             gsize n_uidls, guint *n_changed, GError **error)
{
  gint64 account_id = 0;
  guint changed = 0;

  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return FALSE;
  if (account_id != 0 && n_uidls > 0)
    {
      if (!bz_db_begin (self, error))
        return FALSE;
      for (gsize i = 0; i < n_uidls; i++)
        {
          g_autoptr (BzDbCachedStmt) stmt = bz_db_cached (self, sql, error);
          if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
              !bind_text (self, stmt, 2, uidls[i], error))
            {
              bz_db_rollback (self);
              return FALSE;
            }
          if (sqlite3_step (stmt) != SQLITE_DONE)
            {
              bz_db_fail (self, error, "cannot update a message");
              bz_db_rollback (self);
              return FALSE;
            }
          changed += sqlite3_changes (bz_db_get_handle (self));
        }
      if (!bz_db_commit (self, error))
        {
          bz_db_rollback (self);
          return FALSE;
        }
    }
  if (n_changed != NULL)
    *n_changed = changed;
  return TRUE;
}

#define MARK_GONE_SQL                                         \
  "UPDATE messages SET state = 'gone' WHERE account_id = ?1 " \
  "AND uidl = ?2 AND state IN ('stored', 'skipped', 'known')"

GArray *
bz_db_sync_uidls (BzDb *self, const char *account, const char *const *server_uidls, gsize n_uidls,
                  const guint *sorted, guint *n_gone, GError **error)
{
  return bz_db_sync_uidls_merged (self, account, NULL, server_uidls, n_uidls, sorted, n_gone,
                                  error);
}

GArray *
bz_db_sync_uidls_merged (BzDb *self, const char *account, BzDbUidlMerge *merge,
                         const char *const *server_uidls, gsize n_uidls, const guint *sorted,
                         guint *n_gone, GError **error)
{
  g_autoptr (GPtrArray) vanished = NULL;
  g_autoptr (GArray) out = NULL;
  gint64 account_id = 0;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);

  if (n_gone != NULL)
    *n_gone = 0;
  if (merge == NULL || !bz_db_uidl_merge_take (merge, n_uidls, &out, &vanished))
    {
      vanished = g_ptr_array_new_with_free_func (g_free);
      if (!bz_db_account_id (self, account, FALSE, &account_id, error) ||
          !diff_uidls (self, account_id, server_uidls, n_uidls, sorted, &out, vanished, error))
        return NULL;
    }
  if (!update_each (self, account, MARK_GONE_SQL, (const char *const *) vanished->pdata,
                    vanished->len, n_gone, error))
    return NULL;
  return g_steal_pointer (&out);
}

gboolean
bz_db_mark_deleted (BzDb *self, const char *account, const char *const *uidls, gsize n_uidls,
                    GError **error)
{
  g_return_val_if_fail (BZ_IS_DB (self), FALSE);
  return update_each (self, account,
                      "UPDATE messages SET state = 'deleted' WHERE account_id = ?1 "
                      "AND uidl = ?2 AND state IN ('stored', 'known')",
                      uidls, n_uidls, NULL, error);
}

GPtrArray *
bz_db_list_stored_before (BzDb *self, const char *account, gint64 before, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;
  int rc;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);

  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return NULL;
  if (account_id == 0)
    return g_steal_pointer (&out);
  stmt = bz_db_cached (self,
                       "SELECT uidl FROM messages WHERE account_id = ?1 "
                       "AND state IN ('stored', 'known') AND fetched < ?2",
                       error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
      !bind_int64 (self, stmt, 2, before, error))
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (out, bz_db_column_dup (stmt, 0));
  if (rc != SQLITE_DONE)
    {
      bz_db_fail (self, error, "cannot list old messages");
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* Inserts or replaces a skipped row; *changed is FALSE when the UIDL is
 * known in a state the upsert's WHERE refuses. */
static gboolean
upsert (BzDb *self, const char *account, const char *uidl, const char *state, const char *path,
        guint64 size, gint64 fetched, const BzDbHeaders *headers, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;

  if (!bz_db_account_id (self, account, TRUE, &account_id, error))
    return FALSE;
  stmt = bz_db_cached (self,
                       "INSERT INTO messages (account_id, uidl, state, path, size, "
                       "fetched, message_id, sender, subject, date) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                       "ON CONFLICT (account_id, uidl) DO UPDATE SET "
                       "state = excluded.state, path = excluded.path, "
                       "size = excluded.size, fetched = excluded.fetched, "
                       "message_id = excluded.message_id, sender = excluded.sender, "
                       "subject = excluded.subject, date = excluded.date "
                       "WHERE messages.state = 'skipped'",
                       error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
      !bind_text (self, stmt, 2, uidl, error) || !bind_text (self, stmt, 3, state, error) ||
      !bind_text (self, stmt, 4, path, error) ||
      !bind_int64 (self, stmt, 5, (gint64) size, error) ||
      !bind_int64 (self, stmt, 6, fetched, error) || !bind_headers (self, stmt, 7, headers, error))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot record a message");
  if (sqlite3_changes (bz_db_get_handle (self)) == 0)
    {
      g_set_error (error, BZ_DB_ERROR, BZ_DB_ERROR_CONFLICT,
                   "Message %s of account %s is already known to %s", uidl, account,
                   bz_db_get_path (self));
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_db_record_skipped (BzDb *self, const char *account, const char *uidl, guint64 size,
                      const BzDbHeaders *headers, GError **error)
{
  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  if (!bz_db_begin (self, error))
    return FALSE;
  if (!upsert (self, account, uidl, "skipped", NULL, size, g_get_real_time () / G_USEC_PER_SEC,
               headers, error) ||
      !bz_db_commit (self, error))
    {
      bz_db_rollback (self);
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_db_add_pending (BzDb *self, const char *account, const char *uidl, const char *path,
                   guint64 size, gint64 fetched, const BzDbHeaders *headers, GError **error)
{
  g_return_val_if_fail (BZ_IS_DB (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  return upsert (self, account, uidl, "pending", path, size, fetched, headers, error);
}

/* Runs a bound cached statement @sql (?1 account id, ?2 uidl, ?3 text). */
static gboolean
run_one (BzDb *self, const char *account, const char *sql, const char *uidl, const char *text,
         GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;

  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return FALSE;
  if (account_id == 0)
    return TRUE;
  stmt = bz_db_cached (self, sql, error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
      !bind_text (self, stmt, 2, uidl, error) ||
      (text != NULL && !bind_text (self, stmt, 3, text, error)))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot update a message");
  return TRUE;
}

gboolean
bz_db_set_stored (BzDb *self, const char *account, const char *uidl, const char *path,
                  GError **error)
{
  g_return_val_if_fail (BZ_IS_DB (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  return run_one (self, account,
                  "UPDATE messages SET path = ?3, state = CASE state "
                  "WHEN 'pending' THEN 'stored' ELSE state END "
                  "WHERE account_id = ?1 AND uidl = ?2 "
                  "AND (state = 'pending' OR path IS NOT NULL)",
                  uidl, path, error);
}

gboolean
bz_db_drop_pending (BzDb *self, const char *account, const char *uidl, GError **error)
{
  g_return_val_if_fail (BZ_IS_DB (self), FALSE);
  return run_one (self, account,
                  "DELETE FROM messages WHERE account_id = ?1 AND uidl = ?2 "
                  "AND state = 'pending'",
                  uidl, NULL, error);
}

/* SELECT MESSAGE_COLUMNS with ?1 = the account id. */
static GPtrArray *
list_for_account (BzDb *self, const char *account, const char *sql, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;

  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return NULL;
  if (account_id == 0)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_message_free);
  stmt = bz_db_cached (self, sql, error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error))
    return NULL;
  return collect_messages (self, stmt, error);
}

GPtrArray *
bz_db_list_pending (BzDb *self, const char *account, GError **error)
{
  g_return_val_if_fail (BZ_IS_DB (self), NULL);
  return list_for_account (
      self, account, "SELECT " MESSAGE_COLUMNS "WHERE m.account_id = ?1 AND m.state = 'pending'",
      error);
}

GPtrArray *
bz_db_list_skipped (BzDb *self, const char *account, GError **error)
{
  g_return_val_if_fail (BZ_IS_DB (self), NULL);
  return list_for_account (
      self, account, "SELECT " MESSAGE_COLUMNS "WHERE m.account_id = ?1 AND m.state = 'skipped'",
      error);
}

GPtrArray *
bz_db_list_newest (BzDb *self, const char *account, guint limit, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;
  gint64 sql_limit = limit > 0 ? (gint64) limit : -1;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);

  if (account == NULL)
    {
      stmt = bz_db_cached (self,
                           "SELECT " MESSAGE_COLUMNS
                           "WHERE m.path IS NOT NULL AND m.state != 'pending' "
                           "ORDER BY m.fetched DESC, m.id DESC LIMIT ?1",
                           error);
      if (stmt == NULL || !bind_int64 (self, stmt, 1, sql_limit, error))
        return NULL;
      return collect_messages (self, stmt, error);
    }
  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return NULL;
  if (account_id == 0)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_message_free);
  stmt = bz_db_cached (self,
                       "SELECT " MESSAGE_COLUMNS "WHERE m.account_id = ?1 AND m.path IS NOT NULL "
                       "AND m.state != 'pending' "
                       "ORDER BY m.fetched DESC, m.id DESC LIMIT ?2",
                       error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
      !bind_int64 (self, stmt, 2, sql_limit, error))
    return NULL;
  return collect_messages (self, stmt, error);
}

gboolean
bz_db_count_states (BzDb *self, const char *account, guint counts[BZ_DB_STATE_LAST], GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;
  int rc;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  memset (counts, 0, sizeof (guint) * BZ_DB_STATE_LAST);
  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return FALSE;
  if (account_id == 0)
    return TRUE;
  stmt = bz_db_cached (self,
                       "SELECT state, count(*) FROM messages "
                       "WHERE account_id = ?1 GROUP BY state",
                       error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error))
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      BzDbState state = state_from_string ((const char *) sqlite3_column_text (stmt, 0));
      counts[state] = (guint) sqlite3_column_int64 (stmt, 1);
    }
  if (rc != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot count messages");
  return TRUE;
}

gboolean
bz_db_count_stored (BzDb *self, const char *account, guint *count, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  *count = 0;
  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return FALSE;
  if (account_id == 0)
    return TRUE;
  stmt = bz_db_cached (self,
                       "SELECT count(*) FROM messages WHERE account_id = ?1 "
                       "AND path IS NOT NULL AND state != 'pending'",
                       error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return bz_db_fail (self, error, "cannot count messages");
  *count = (guint) sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
bz_db_get_mark (BzDb *self, BzDbMark *mark, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  stmt = bz_db_cached (self, "PRAGMA data_version", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return bz_db_fail (self, error, "cannot read the data version");
  mark->data_version = sqlite3_column_int64 (stmt, 0);
  mark->changes = sqlite3_total_changes64 (bz_db_get_handle (self));
  return TRUE;
}

gboolean
bz_db_get_size (BzDb *self, const char *account, const char *uidl, guint64 *size, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;
  int rc;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  *size = 0;
  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return FALSE;
  if (account_id == 0)
    return TRUE;
  stmt =
      bz_db_cached (self, "SELECT size FROM messages WHERE account_id = ?1 AND uidl = ?2", error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
      !bind_text (self, stmt, 2, uidl, error))
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *size = (guint64) sqlite3_column_int64 (stmt, 0);
  else if (rc != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot read a message's size");
  return TRUE;
}

gboolean
bz_db_set_size (BzDb *self, const char *account, const char *uidl, guint64 size, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return FALSE;
  if (account_id == 0)
    return TRUE;
  stmt = bz_db_cached (self,
                       "UPDATE messages SET size = ?3 WHERE account_id = ?1 AND uidl = ?2 "
                       "AND state = 'stored'",
                       error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, account_id, error) ||
      !bind_text (self, stmt, 2, uidl, error) ||
      !bind_int64 (self, stmt, 3, (gint64) MIN (size, (guint64) G_MAXINT64), error))
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot record a message's size");
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The full-text index (schema version 5): what the indexer has still to
 * read, the rows it writes, and the search. message_text's rowid is the
 * messages row id, so a hit joins back to its message without a lookup
 * table. */

#include "config.h"

#include "bz-db-private.h"

/* Subject and sender weigh more in the ranking than a word somewhere in a
 * long body. No snippet() here: SQLite would make one for every match
 * before sorting (0.3 s for a word in 2,000 realistic messages); agent/index
 * makes them from bz_db_index_get_body() for the hits it keeps. */
#define HIT_COLUMNS                                                 \
  "m.id, a.name, m.uidl, m.state, m.path, m.size, m.fetched, "      \
  "m.message_id, m.sender, m.subject, m.date "                      \
  "FROM message_text JOIN messages m ON m.id = message_text.rowid " \
  "JOIN accounts a ON a.id = m.account_id "                         \
  "WHERE message_text MATCH ?1 AND m.path IS NOT NULL "             \
  "AND m.state != 'pending' "

#define HIT_ORDER "ORDER BY bm25(message_text, 4.0, 2.0, 1.0, 1.0), m.id DESC LIMIT ?2"

void
bz_db_index_todo_free (BzDbIndexTodo *todo)
{
  if (todo == NULL)
    return;
  g_free (todo->account);
  g_free (todo->path);
  g_free (todo->from);
  g_free (todo->subject);
  g_free (todo);
}

void
bz_db_hit_free (BzDbHit *hit)
{
  if (hit == NULL)
    return;
  bz_db_message_free (hit->message);
  g_free (hit->snippet);
  g_free (hit);
}

static char *
column_dup (sqlite3_stmt *stmt, int col)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, col));
}

static gboolean
bind_text (BzDb *self, sqlite3_stmt *stmt, int idx, const char *text, GError **error)
{
  return bz_db_check_bind (self, sqlite3_bind_text (stmt, idx, text, -1, SQLITE_TRANSIENT), error);
}

static gboolean
bind_int64 (BzDb *self, sqlite3_stmt *stmt, int idx, gint64 value, GError **error)
{
  return bz_db_check_bind (self, sqlite3_bind_int64 (stmt, idx, value), error);
}

GPtrArray *
bz_db_index_list_todo (BzDb *self, gint64 after, guint limit, GError **error)
{
  g_autoptr (GPtrArray) out =
      g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_index_todo_free);
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);

  stmt = bz_db_cached (self,
                       "SELECT m.id, a.name, m.path, m.sender, m.subject "
                       "FROM messages m JOIN accounts a ON a.id = m.account_id "
                       "WHERE m.id > ?1 AND m.path IS NOT NULL AND m.state != 'pending' "
                       "AND NOT EXISTS (SELECT 1 FROM message_indexed i WHERE i.id = m.id) "
                       "ORDER BY m.id LIMIT ?2",
                       error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, after, error) ||
      !bind_int64 (self, stmt, 2, limit, error))
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      BzDbIndexTodo *todo = g_new0 (BzDbIndexTodo, 1);

      todo->id = sqlite3_column_int64 (stmt, 0);
      todo->account = column_dup (stmt, 1);
      todo->path = column_dup (stmt, 2);
      todo->from = column_dup (stmt, 3);
      todo->subject = column_dup (stmt, 4);
      g_ptr_array_add (out, todo);
    }
  if (rc != SQLITE_DONE)
    {
      bz_db_fail (self, error, "cannot list messages to index");
      return NULL;
    }
  return g_steal_pointer (&out);
}

gboolean
bz_db_index_count_todo (BzDb *self, guint *count, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  *count = 0;
  stmt = bz_db_cached (self,
                       "SELECT count(*) FROM messages m "
                       "WHERE m.path IS NOT NULL AND m.state != 'pending' "
                       "AND NOT EXISTS (SELECT 1 FROM message_indexed i WHERE i.id = m.id)",
                       error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return bz_db_fail (self, error, "cannot count messages to index");
  *count = (guint) sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
bz_db_index_put (BzDb *self, gint64 id, const BzDbIndexText *text, GError **error)
{
  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  {
    /* The row may have gone (account removed) since it was listed: the
     * foreign key would refuse the marker, and there is nothing to index. */
    g_autoptr (BzDbCachedStmt) stmt =
        bz_db_cached (self,
                      "INSERT OR REPLACE INTO message_indexed (id, has_text) "
                      "SELECT id, ?2 FROM messages WHERE id = ?1",
                      error);
    if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error) ||
        !bind_int64 (self, stmt, 2, text != NULL, error))
      return FALSE;
    if (sqlite3_step (stmt) != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot mark a message indexed");
    if (sqlite3_changes (bz_db_get_handle (self)) == 0 || text == NULL)
      return TRUE;
  }
  {
    /* FTS5 tables have no UNIQUE rowid conflict clause: delete first so a
     * second put of the same row replaces it. */
    g_autoptr (BzDbCachedStmt) stmt =
        bz_db_cached (self, "DELETE FROM message_text WHERE rowid = ?1", error);
    if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error))
      return FALSE;
    if (sqlite3_step (stmt) != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot replace indexed text");
  }
  {
    g_autoptr (BzDbCachedStmt) stmt =
        bz_db_cached (self,
                      "INSERT INTO message_text (rowid, subject, sender, recipients, body) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                      error);
    if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error) ||
        !bind_text (self, stmt, 2, text->subject, error) ||
        !bind_text (self, stmt, 3, text->sender, error) ||
        !bind_text (self, stmt, 4, text->recipients, error) ||
        !bind_text (self, stmt, 5, text->body, error))
      return FALSE;
    if (sqlite3_step (stmt) != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot index a message");
  }
  return TRUE;
}

gboolean
bz_db_index_drop (BzDb *self, gint64 id, GError **error)
{
  g_autoptr (BzDbCachedStmt) del = NULL;
  g_autoptr (BzDbCachedStmt) mark = NULL;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  del = bz_db_cached (self, "DELETE FROM message_text WHERE rowid = ?1", error);
  if (del == NULL || !bind_int64 (self, del, 1, id, error))
    return FALSE;
  if (sqlite3_step (del) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot drop a message from the index");
  mark = bz_db_cached (self, "UPDATE message_indexed SET has_text = 0 WHERE id = ?1", error);
  if (mark == NULL || !bind_int64 (self, mark, 1, id, error))
    return FALSE;
  if (sqlite3_step (mark) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot drop a message from the index");
  return TRUE;
}

static BzDbState
state_from_string (const char *text)
{
  for (guint i = 0; i < BZ_DB_STATE_LAST; i++)
    {
      if (g_strcmp0 (text, bz_db_state_to_string (i)) == 0)
        return i;
    }
  return BZ_DB_STATE_STORED;
}

/* Columns 1..10 of HIT_COLUMNS (or of the same list without the snippet). */
static BzDbMessage *
message_from_row (sqlite3_stmt *stmt)
{
  BzDbMessage *msg = g_new0 (BzDbMessage, 1);

  msg->account = column_dup (stmt, 1);
  msg->uidl = column_dup (stmt, 2);
  msg->state = state_from_string ((const char *) sqlite3_column_text (stmt, 3));
  msg->path = column_dup (stmt, 4);
  msg->size = (guint64) sqlite3_column_int64 (stmt, 5);
  msg->fetched = sqlite3_column_int64 (stmt, 6);
  msg->headers.message_id = column_dup (stmt, 7);
  msg->headers.from = column_dup (stmt, 8);
  msg->headers.subject = column_dup (stmt, 9);
  msg->headers.date = sqlite3_column_int64 (stmt, 10);
  return msg;
}

GPtrArray *
bz_db_index_search (BzDb *self, const char *match, const char *account, guint limit, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_hit_free);
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  gint64 account_id = 0;
  int rc;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);
  g_return_val_if_fail (match != NULL, NULL);

  if (account != NULL)
    {
      if (!bz_db_account_id (self, account, FALSE, &account_id, error))
        return NULL;
      if (account_id == 0)
        return g_steal_pointer (&out);
      stmt = bz_db_cached (self, "SELECT " HIT_COLUMNS "AND m.account_id = ?3 " HIT_ORDER, error);
    }
  else
    stmt = bz_db_cached (self, "SELECT " HIT_COLUMNS HIT_ORDER, error);
  if (stmt == NULL || !bind_text (self, stmt, 1, match, error) ||
      !bind_int64 (self, stmt, 2, limit > 0 ? (gint64) limit : -1, error) ||
      (account_id != 0 && !bind_int64 (self, stmt, 3, account_id, error)))
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      BzDbHit *hit = g_new0 (BzDbHit, 1);

      hit->id = sqlite3_column_int64 (stmt, 0);
      hit->message = message_from_row (stmt);
      g_ptr_array_add (out, hit);
    }
  if (rc == SQLITE_DONE)
    return g_steal_pointer (&out);
  else
    {
      /* FTS5 reports a bad expression as a plain SQLITE_ERROR at step
       * time; keep the engine's words out of what callers show users. */
      if ((sqlite3_extended_errcode (bz_db_get_handle (self)) & 0xff) == SQLITE_ERROR)
        {
          g_debug ("full-text query %s refused: %s", match,
                   sqlite3_errmsg (bz_db_get_handle (self)));
          g_set_error_literal (error, BZ_DB_ERROR, BZ_DB_ERROR_QUERY,
                               "the search engine cannot read this query");
          return NULL;
        }
      bz_db_fail (self, error, "cannot search the index");
      return NULL;
    }
}

BzDbMessage *
bz_db_get_message (BzDb *self, gint64 id, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);

  stmt = bz_db_cached (self,
                       "SELECT m.id, a.name, m.uidl, m.state, m.path, m.size, m.fetched, "
                       "m.message_id, m.sender, m.subject, m.date "
                       "FROM messages m JOIN accounts a ON a.id = m.account_id "
                       "WHERE m.id = ?1 AND m.path IS NOT NULL AND m.state != 'pending'",
                       error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error))
    return NULL;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return message_from_row (stmt);
  if (rc != SQLITE_DONE)
    bz_db_fail (self, error, "cannot read a message");
  return NULL;
}

char *
bz_db_index_get_body (BzDb *self, gint64 id, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);

  stmt = bz_db_cached (self, "SELECT body FROM message_text WHERE rowid = ?1", error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error))
    return NULL;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      const char *body = (const char *) sqlite3_column_text (stmt, 0);
      return g_strdup (body != NULL ? body : "");
    }
  if (rc != SQLITE_DONE)
    {
      bz_db_fail (self, error, "cannot read indexed text");
      return NULL;
    }
  return g_strdup ("");
}

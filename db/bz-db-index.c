/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The full-text index (schema version 7): what the indexer has still to
 * read, the rows it writes, and the search. message_text's rowid is the
 * messages row id, so a hit joins back to its message without a lookup
 * table. message_text is contentless: message_body keeps what went into
 * it (the body deflated), because a contentless FTS5 table forgets a row
 * only when told the very text it indexed. */

#include "config.h"

#include "bz-db-private.h"

/* The columns of a hit: messages joined to the ranked rows as "t". No
 * snippet() here (the table keeps no text, and SQLite would make one for
 * every match before sorting); agent/index cuts them from
 * bz_db_index_get_body() for the hits it keeps. */
#define HIT_COLUMNS                                            \
  "m.id, a.name, m.uidl, m.state, m.path, m.size, m.fetched, " \
  "m.message_id, m.sender, m.subject, m.date "

/* Ranked in the index alone, then joined: joining every match before the
 * LIMIT cost a lookup in messages per match (20 ms for a word in most of
 * 50,000 messages). A ranked row whose message is gone or not in a
 * Maildir comes back with m.id NULL and is skipped, so that the caller
 * can tell "filtered" from "no more matches". */
#define HIT_RANKED                                                                           \
  "SELECT " HIT_COLUMNS                                                                      \
  "FROM (SELECT rowid AS id, bz_rank(message_text) AS score FROM message_text "              \
  "      WHERE message_text MATCH ?1 ORDER BY score DESC, rowid DESC LIMIT ?2 OFFSET ?3) t " \
  "LEFT JOIN messages m ON m.id = t.id AND m.path IS NOT NULL AND m.state != 'pending' "     \
  "LEFT JOIN accounts a ON a.id = m.account_id "                                             \
  "ORDER BY t.score DESC, t.id DESC"

/* One account's hits: most matches may be another account's, so the
 * filter goes before the LIMIT, join and all. */
#define HIT_ACCOUNT                                                                       \
  "SELECT " HIT_COLUMNS "FROM message_text JOIN messages m ON m.id = message_text.rowid " \
  "JOIN accounts a ON a.id = m.account_id "                                               \
  "WHERE message_text MATCH ?1 AND m.account_id = ?3 AND m.path IS NOT NULL "             \
  "AND m.state != 'pending' "                                                             \
  "ORDER BY bz_rank(message_text) DESC, m.id DESC LIMIT ?2"

/* Rounds of HIT_RANKED when ranked rows were skipped: the index sweep
 * keeps such rows rare, and each round ranks every match again. */
#define MAX_RANKED_ROUNDS 8

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
      todo->account = bz_db_column_dup (stmt, 1);
      todo->path = bz_db_column_dup (stmt, 2);
      todo->from = bz_db_column_dup (stmt, 3);
      todo->subject = bz_db_column_dup (stmt, 4);
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

static const char *
or_empty (const char *text)
{
  return text != NULL ? text : "";
}

/* Empties the index, its text and the indexer's markers, in the caller's
 * transaction: without a row's exact text FTS5 cannot take that row out,
 * and a row indexed twice breaks its doclists. The indexer reads every
 * message again; nothing is downloaded. */
static gboolean
reset_index (BzDb *self, GError **error)
{
  return bz_db_exec (self,
                     "INSERT INTO message_text (message_text) VALUES ('delete-all');"
                     "DELETE FROM message_body;"
                     "DELETE FROM message_indexed;",
                     error);
}

/* Takes row @id's text out of message_text and message_body, if it is
 * there: FTS5 needs the same values it indexed to find the row's tokens. */
static gboolean
remove_entry (BzDb *self, gint64 id, GError **error)
{
  g_autofree char *subject = NULL;
  g_autofree char *sender = NULL;
  g_autofree char *recipients = NULL;
  g_autofree char *body = NULL;
  g_autoptr (GError) local_error = NULL;

  {
    g_autoptr (BzDbCachedStmt) stmt = bz_db_cached (
        self, "SELECT subject, sender, recipients, body FROM message_body WHERE id = ?1", error);
    int rc;

    if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error))
      return FALSE;
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_DONE)
      return TRUE;
    if (rc != SQLITE_ROW)
      return bz_db_fail (self, error, "cannot read indexed text");
    subject = bz_db_column_dup (stmt, 0);
    sender = bz_db_column_dup (stmt, 1);
    recipients = bz_db_column_dup (stmt, 2);
    body = bz_db_inflate (sqlite3_column_blob (stmt, 3), (gsize) sqlite3_column_bytes (stmt, 3),
                          &local_error);
  }
  if (body == NULL)
    {
      g_warning ("Database %s: the indexed text of message %" G_GINT64_FORMAT
                 " is damaged (%s): the full-text index is built again",
                 bz_db_get_path (self), id, local_error->message);
      return reset_index (self, error);
    }
  {
    g_autoptr (BzDbCachedStmt) stmt =
        bz_db_cached (self,
                      "INSERT INTO message_text "
                      "(message_text, rowid, subject, sender, recipients, body) "
                      "VALUES ('delete', ?1, ?2, ?3, ?4, ?5)",
                      error);
    if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error) ||
        !bind_text (self, stmt, 2, or_empty (subject), error) ||
        !bind_text (self, stmt, 3, or_empty (sender), error) ||
        !bind_text (self, stmt, 4, or_empty (recipients), error) ||
        !bind_text (self, stmt, 5, body, error))
      return FALSE;
    if (sqlite3_step (stmt) != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot take a message out of the index");
  }
  {
    g_autoptr (BzDbCachedStmt) stmt =
        bz_db_cached (self, "DELETE FROM message_body WHERE id = ?1", error);
    if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error))
      return FALSE;
    if (sqlite3_step (stmt) != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot take a message out of the index");
  }
  return TRUE;
}

static gboolean
add_entry (BzDb *self, gint64 id, const BzDbIndexText *text, GError **error)
{
  g_autoptr (GBytes) body = bz_db_deflate (or_empty (text->body), error);

  if (body == NULL)
    return FALSE;
  {
    g_autoptr (BzDbCachedStmt) stmt =
        bz_db_cached (self,
                      "INSERT INTO message_body (id, subject, sender, recipients, body) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                      error);
    gsize size;
    gconstpointer data = g_bytes_get_data (body, &size);

    if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error) ||
        !bind_text (self, stmt, 2, or_empty (text->subject), error) ||
        !bind_text (self, stmt, 3, or_empty (text->sender), error) ||
        !bind_text (self, stmt, 4, or_empty (text->recipients), error) ||
        !bz_db_check_bind (
            self, sqlite3_bind_blob64 (stmt, 5, data != NULL ? data : "", size, SQLITE_STATIC),
            error))
      return FALSE;
    if (sqlite3_step (stmt) != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot index a message");
  }
  {
    g_autoptr (BzDbCachedStmt) stmt =
        bz_db_cached (self,
                      "INSERT INTO message_text (rowid, subject, sender, recipients, body) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                      error);
    if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error) ||
        !bind_text (self, stmt, 2, or_empty (text->subject), error) ||
        !bind_text (self, stmt, 3, or_empty (text->sender), error) ||
        !bind_text (self, stmt, 4, or_empty (text->recipients), error) ||
        !bind_text (self, stmt, 5, or_empty (text->body), error))
      return FALSE;
    if (sqlite3_step (stmt) != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot index a message");
  }
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
    if (sqlite3_changes (bz_db_get_handle (self)) == 0)
      return TRUE;
  }
  /* A second put of the same row replaces it; so does a new message that
   * was given the id of a deleted one whose text is still indexed. */
  if (!remove_entry (self, id, error))
    return FALSE;
  return text == NULL || add_entry (self, id, text, error);
}

gboolean
bz_db_index_drop (BzDb *self, gint64 id, GError **error)
{
  g_autoptr (BzDbCachedStmt) mark = NULL;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  if (!remove_entry (self, id, error))
    return FALSE;
  mark = bz_db_cached (self, "UPDATE message_indexed SET has_text = 0 WHERE id = ?1", error);
  if (mark == NULL || !bind_int64 (self, mark, 1, id, error))
    return FALSE;
  if (sqlite3_step (mark) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot drop a message from the index");
  return TRUE;
}

gboolean
bz_db_index_sweep (BzDb *self, guint limit, guint *removed, GError **error)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);

  *removed = 0;
  {
    g_autoptr (BzDbCachedStmt) stmt =
        bz_db_cached (self,
                      "SELECT b.id FROM message_body b WHERE NOT EXISTS "
                      "(SELECT 1 FROM messages m WHERE m.id = b.id AND m.path IS NOT NULL "
                      " AND m.state != 'pending') LIMIT ?1",
                      error);
    int rc;

    if (stmt == NULL || !bind_int64 (self, stmt, 1, limit, error))
      return FALSE;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      {
        gint64 id = sqlite3_column_int64 (stmt, 0);
        g_array_append_val (ids, id);
      }
    if (rc != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot look for index rows of deleted messages");
  }
  for (guint i = 0; i < ids->len; i++)
    {
      if (!remove_entry (self, g_array_index (ids, gint64, i), error))
        return FALSE;
    }
  *removed = ids->len;
  return TRUE;
}

/* FTS5 reports a bad expression as a plain SQLITE_ERROR at step time;
 * keep the engine's words out of what callers show users. */
static void
search_failed (BzDb *self, const char *match, GError **error)
{
  if ((sqlite3_extended_errcode (bz_db_get_handle (self)) & 0xff) == SQLITE_ERROR)
    {
      g_debug ("full-text query %s refused: %s", match, sqlite3_errmsg (bz_db_get_handle (self)));
      g_set_error_literal (error, BZ_DB_ERROR, BZ_DB_ERROR_QUERY,
                           "the search engine cannot read this query");
      return;
    }
  bz_db_fail (self, error, "cannot search the index");
}

/* Adds the hits of @stmt (HIT_COLUMNS) to @out; @rows counts every row,
 * the skipped ones (m.id NULL) too. */
static gboolean
read_hits (BzDb *self, sqlite3_stmt *stmt, const char *match, GPtrArray *out, guint *rows,
           GError **error)
{
  int rc;

  *rows = 0;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      BzDbHit *hit;

      (*rows)++;
      if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
        continue;
      hit = g_new0 (BzDbHit, 1);
      hit->id = sqlite3_column_int64 (stmt, 0);
      hit->message = bz_db_message_from_row (stmt, 1);
      g_ptr_array_add (out, hit);
    }
  if (rc == SQLITE_DONE)
    return TRUE;
  search_failed (self, match, error);
  return FALSE;
}

GPtrArray *
bz_db_index_search (BzDb *self, const char *match, const char *account, guint limit, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_hit_free);
  gint64 account_id = 0;
  gint64 offset = 0;
  guint rows = 0;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);
  g_return_val_if_fail (match != NULL, NULL);
  g_return_val_if_fail (limit > 0, NULL);

  if (account != NULL)
    {
      g_autoptr (BzDbCachedStmt) stmt = NULL;

      if (!bz_db_account_id (self, account, FALSE, &account_id, error))
        return NULL;
      if (account_id == 0)
        return g_steal_pointer (&out);
      stmt = bz_db_cached (self, HIT_ACCOUNT, error);
      if (stmt == NULL || !bind_text (self, stmt, 1, match, error) ||
          !bind_int64 (self, stmt, 2, limit, error) ||
          !bind_int64 (self, stmt, 3, account_id, error) ||
          !read_hits (self, stmt, match, out, &rows, error))
        return NULL;
      return g_steal_pointer (&out);
    }
  for (guint round = 0; round < MAX_RANKED_ROUNDS && out->len < limit; round++)
    {
      g_autoptr (BzDbCachedStmt) stmt = bz_db_cached (self, HIT_RANKED, error);
      gint64 want = limit - out->len;

      if (stmt == NULL || !bind_text (self, stmt, 1, match, error) ||
          !bind_int64 (self, stmt, 2, want, error) || !bind_int64 (self, stmt, 3, offset, error) ||
          !read_hits (self, stmt, match, out, &rows, error))
        return NULL;
      if (rows < want)
        break; /* every match seen */
      offset += rows;
    }
  return g_steal_pointer (&out);
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
    return bz_db_message_from_row (stmt, 1);
  if (rc != SQLITE_DONE)
    bz_db_fail (self, error, "cannot read a message");
  return NULL;
}

char *
bz_db_index_get_body (BzDb *self, gint64 id, GError **error)
{
  g_autoptr (BzDbCachedStmt) stmt = NULL;
  char *body;
  int rc;

  g_return_val_if_fail (BZ_IS_DB (self), NULL);

  stmt = bz_db_cached (self, "SELECT body FROM message_body WHERE id = ?1", error);
  if (stmt == NULL || !bind_int64 (self, stmt, 1, id, error))
    return NULL;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return g_strdup ("");
  if (rc != SQLITE_ROW)
    {
      bz_db_fail (self, error, "cannot read indexed text");
      return NULL;
    }
  body =
      bz_db_inflate (sqlite3_column_blob (stmt, 0), (gsize) sqlite3_column_bytes (stmt, 0), error);
  if (body == NULL)
    g_prefix_error (error, "Database %s: indexed text of message %" G_GINT64_FORMAT ": ",
                    bz_db_get_path (self), id);
  return body;
}

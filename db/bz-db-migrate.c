/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Schema versions (PRAGMA user_version):
 *
 *  version  change
 *  0        empty file
 *  1        accounts; messages: uidl, state, path, size, fetched
 *  2        header index on messages: message_id, sender, subject, date;
 *           indexes for days:N (state, fetched) and the newest messages
 *  3        covering indexes for the sync: (account_id, uidl, state) for
 *           the one-pass UIDL diff, and the Maildir count (StoredCount)
 *  4        state 'known' (delivered by another client, imported by
 *           `buzonctl import`; fetched holds the other client's first-seen
 *           time, or the import time) and getmail_form (the UIDL as getmail
 *           writes it: '/' replaced by '-'). The table is rebuilt: SQLite
 *           cannot change a CHECK constraint in place
 *  5        left_at: unix time a gone or deleted row was first seen in
 *           that state (0: not yet stamped), and a partial index on it, so
 *           that rows of messages that left the server long ago can be
 *           pruned (bz-db-prune.c)
 *  6        full-text index: message_text (FTS5 over subject, sender,
 *           recipients, body; rowid = messages.id) and message_indexed
 *           (which rows the indexer has done, so it resumes after a kill)
 *  7        the index without a copy of the text: message_text becomes
 *           contentless, and message_body keeps what was indexed, the
 *           body deflated (a third of the size), for snippets and to take
 *           a row back out. The version 6 index is dropped: re-indexing
 *           costs the idle indexer minutes, never a download
 *  8        messages rebuilt with the same columns and rows, its state
 *           CHECK written as comparisons joined by OR instead of IN (...):
 *           SQLite built a temporary table for the IN list on every row
 *           written, 3.5 us of each insert and update of a download
 *
 * Each step is one migrate_vN() that turns version N-1 into N. All the
 * steps from the file's version to ours run in ONE transaction together
 * with the new user_version: a failure rolls everything back and the file
 * is left as it was. We never delete a database to start over: that would
 * download every message again. */

#include "config.h"

#include "bz-db-private.h"

#define BZ_DB_SCHEMA_VERSION 8

guint
bz_db_schema_version (void)
{
  return BZ_DB_SCHEMA_VERSION;
}

static gboolean
migrate_v1 (BzDb *self, GError **error)
{
  return bz_db_exec (self,
                     "CREATE TABLE accounts ("
                     "  id INTEGER PRIMARY KEY,"
                     "  name TEXT NOT NULL UNIQUE);"
                     "CREATE TABLE messages ("
                     "  id INTEGER PRIMARY KEY,"
                     "  account_id INTEGER NOT NULL"
                     "    REFERENCES accounts (id) ON DELETE CASCADE,"
                     "  uidl TEXT NOT NULL,"
                     "  state TEXT NOT NULL CHECK (state IN"
                     "    ('pending', 'stored', 'skipped', 'gone', 'deleted')),"
                     "  path TEXT,"
                     "  size INTEGER NOT NULL DEFAULT 0,"
                     "  fetched INTEGER NOT NULL DEFAULT 0,"
                     "  UNIQUE (account_id, uidl));",
                     error);
}

static gboolean
migrate_v2 (BzDb *self, GError **error)
{
  return bz_db_exec (self,
                     "ALTER TABLE messages ADD COLUMN message_id TEXT;"
                     "ALTER TABLE messages ADD COLUMN sender TEXT;"
                     "ALTER TABLE messages ADD COLUMN subject TEXT;"
                     "ALTER TABLE messages ADD COLUMN date INTEGER NOT NULL DEFAULT 0;"
                     "CREATE INDEX messages_state_fetched"
                     "  ON messages (account_id, state, fetched);"
                     "CREATE INDEX messages_fetched ON messages (fetched);",
                     error);
}

/* Every sync reads (uidl, state) of all the account's rows and StoredCount
 * counts its Maildir: both answered from an index alone, without a table
 * lookup per row. */
static gboolean
migrate_v3 (BzDb *self, GError **error)
{
  return bz_db_exec (self,
                     "CREATE INDEX messages_uidl_state"
                     "  ON messages (account_id, uidl, state);"
                     "CREATE INDEX messages_in_maildir ON messages (account_id)"
                     "  WHERE path IS NOT NULL AND state != 'pending';",
                     error);
}

/* SQLite's documented way to change a constraint: a new table inside the
 * migration's transaction, the rows copied with their ids, the old table
 * dropped (with its indexes) and the new one renamed; then the indexes of
 * versions 2 and 3 again, and one for the getmail rows. Nothing references
 * messages, so the drop cascades nowhere. */
static gboolean
migrate_v4 (BzDb *self, GError **error)
{
  return bz_db_exec (self,
                     "CREATE TABLE messages_v4 ("
                     "  id INTEGER PRIMARY KEY,"
                     "  account_id INTEGER NOT NULL"
                     "    REFERENCES accounts (id) ON DELETE CASCADE,"
                     "  uidl TEXT NOT NULL,"
                     "  state TEXT NOT NULL CHECK (state IN"
                     "    ('pending', 'stored', 'skipped', 'gone', 'deleted', 'known')),"
                     "  path TEXT,"
                     "  size INTEGER NOT NULL DEFAULT 0,"
                     "  fetched INTEGER NOT NULL DEFAULT 0,"
                     "  message_id TEXT,"
                     "  sender TEXT,"
                     "  subject TEXT,"
                     "  date INTEGER NOT NULL DEFAULT 0,"
                     "  getmail_form INTEGER NOT NULL DEFAULT 0,"
                     "  UNIQUE (account_id, uidl));"
                     "INSERT INTO messages_v4 (id, account_id, uidl, state, path, size,"
                     "  fetched, message_id, sender, subject, date)"
                     "  SELECT id, account_id, uidl, state, path, size, fetched,"
                     "  message_id, sender, subject, date FROM messages;"
                     "DROP TABLE messages;"
                     "ALTER TABLE messages_v4 RENAME TO messages;"
                     "CREATE INDEX messages_state_fetched"
                     "  ON messages (account_id, state, fetched);"
                     "CREATE INDEX messages_fetched ON messages (fetched);"
                     "CREATE INDEX messages_uidl_state"
                     "  ON messages (account_id, uidl, state);"
                     "CREATE INDEX messages_in_maildir ON messages (account_id)"
                     "  WHERE path IS NOT NULL AND state != 'pending';"
                     "CREATE INDEX messages_getmail_form ON messages (account_id)"
                     "  WHERE getmail_form != 0 AND state = 'known';",
                     error);
}

/* Existing gone and deleted rows get 0: the next sync stamps them with its
 * time, so their grace period starts at the upgrade, never before. */
static gboolean
migrate_v5 (BzDb *self, GError **error)
{
  return bz_db_exec (self,
                     "ALTER TABLE messages ADD COLUMN left_at INTEGER NOT NULL DEFAULT 0;"
                     "CREATE INDEX messages_left ON messages (account_id, left_at)"
                     "  WHERE state IN ('gone', 'deleted');",
                     error);
}

/* The full-text index lives beside messages, never in it: a damaged or
 * dropped index costs a re-index, not a download. message_indexed marks
 * every row the indexer has handled (has_text = 0: the file was missing or
 * unreadable then), so the indexer resumes after a kill and catches up on
 * mail stored before this version. remove_diacritics: "cafe" finds "café".
 * message_indexed references messages: a later migration that rebuilds
 * messages as v4 did (DROP TABLE) empties it, which only costs a re-index;
 * copy it across to keep the index. */
static gboolean
migrate_v6 (BzDb *self, GError **error)
{
  return bz_db_exec (self,
                     "CREATE VIRTUAL TABLE message_text USING fts5 ("
                     "  subject, sender, recipients, body,"
                     "  tokenize = 'unicode61 remove_diacritics 2');"
                     "CREATE TABLE message_indexed ("
                     "  id INTEGER PRIMARY KEY"
                     "    REFERENCES messages (id) ON DELETE CASCADE,"
                     "  has_text INTEGER NOT NULL DEFAULT 1);",
                     error);
}

/* content = '': FTS5 keeps only its index (version 6's copy of every
 * row was three quarters of it). columnsize = 0: bz_rank() needs no row
 * lengths (bz-db-rank.c). message_body has no foreign key on purpose: a
 * row of messages may go (account removed, pruned) while its text is
 * still in the index, and only message_body's copy can take it out again
 * (bz_db_index_sweep). */
static gboolean
migrate_v7 (BzDb *self, GError **error)
{
  return bz_db_exec (self,
                     "DROP TABLE message_text;"
                     "DELETE FROM message_indexed;"
                     "CREATE TABLE message_body ("
                     "  id INTEGER PRIMARY KEY,"
                     "  subject TEXT NOT NULL, sender TEXT NOT NULL,"
                     "  recipients TEXT NOT NULL, body BLOB NOT NULL);"
                     "CREATE VIRTUAL TABLE message_text USING fts5 ("
                     "  subject, sender, recipients, body,"
                     "  content = '', columnsize = 0,"
                     "  tokenize = 'unicode61 remove_diacritics 2');",
                     error);
}

/* As migrate_v4, and the rows of message_indexed kept: dropping messages
 * deletes them by their foreign key (a re-index of every message
 * otherwise). Ids are copied, so the full-text index stays valid. */
static gboolean
migrate_v8 (BzDb *self, GError **error)
{
  return bz_db_exec (
      self,
      "CREATE TEMP TABLE indexed_v8 AS SELECT id, has_text FROM message_indexed;"
      "CREATE TABLE messages_v8 ("
      "  id INTEGER PRIMARY KEY,"
      "  account_id INTEGER NOT NULL"
      "    REFERENCES accounts (id) ON DELETE CASCADE,"
      "  uidl TEXT NOT NULL,"
      "  state TEXT NOT NULL CHECK (state = 'pending' OR state = 'stored'"
      "    OR state = 'skipped' OR state = 'gone' OR state = 'deleted'"
      "    OR state = 'known'),"
      "  path TEXT,"
      "  size INTEGER NOT NULL DEFAULT 0,"
      "  fetched INTEGER NOT NULL DEFAULT 0,"
      "  message_id TEXT,"
      "  sender TEXT,"
      "  subject TEXT,"
      "  date INTEGER NOT NULL DEFAULT 0,"
      "  getmail_form INTEGER NOT NULL DEFAULT 0,"
      "  left_at INTEGER NOT NULL DEFAULT 0,"
      "  UNIQUE (account_id, uidl));"
      "INSERT INTO messages_v8 SELECT id, account_id, uidl, state, path, size,"
      "  fetched, message_id, sender, subject, date, getmail_form, left_at"
      "  FROM messages;"
      "DROP TABLE messages;"
      "ALTER TABLE messages_v8 RENAME TO messages;"
      "CREATE INDEX messages_state_fetched"
      "  ON messages (account_id, state, fetched);"
      "CREATE INDEX messages_fetched ON messages (fetched);"
      "CREATE INDEX messages_uidl_state"
      "  ON messages (account_id, uidl, state);"
      "CREATE INDEX messages_in_maildir ON messages (account_id)"
      "  WHERE path IS NOT NULL AND state != 'pending';"
      "CREATE INDEX messages_getmail_form ON messages (account_id)"
      "  WHERE getmail_form != 0 AND state = 'known';"
      "CREATE INDEX messages_left ON messages (account_id, left_at)"
      "  WHERE state IN ('gone', 'deleted');"
      "INSERT INTO message_indexed (id, has_text) SELECT id, has_text FROM indexed_v8;"
      "DROP TABLE indexed_v8;",
      error);
}

typedef gboolean (*BzDbMigrateFunc) (BzDb *self, GError **error);

static const BzDbMigrateFunc migrations[BZ_DB_SCHEMA_VERSION] = {
  migrate_v1, migrate_v2, migrate_v3, migrate_v4, migrate_v5, migrate_v6, migrate_v7, migrate_v8,
};

gboolean
bz_db_migrate (BzDb *self, guint from_version, GError **error)
{
  g_autofree char *sql = NULL;
  gint64 current = 0;

  g_return_val_if_fail (from_version < BZ_DB_SCHEMA_VERSION, FALSE);

  if (!bz_db_exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  /* Another connection (two accounts' first syncs at once) may have
   * migrated the file between our look and taking the write lock. */
  if (!bz_db_pragma_int (self, "PRAGMA user_version", &current, error))
    {
      bz_db_rollback (self);
      return FALSE;
    }
  if (current >= BZ_DB_SCHEMA_VERSION)
    {
      bz_db_rollback (self);
      return TRUE;
    }
  if ((guint) current > from_version)
    from_version = (guint) current;
  for (guint v = from_version; v < BZ_DB_SCHEMA_VERSION; v++)
    {
      g_autoptr (GError) error_local = NULL;
      if (!migrations[v](self, &error_local))
        {
          bz_db_rollback (self);
          g_propagate_prefixed_error (error, g_steal_pointer (&error_local),
                                      "Cannot upgrade the schema from version %u "
                                      "to %u (the file was left unchanged): ",
                                      v, v + 1);
          return FALSE;
        }
    }
  sql = g_strdup_printf ("PRAGMA application_id = %d; PRAGMA user_version = %d",
                         BZ_DB_APPLICATION_ID, BZ_DB_SCHEMA_VERSION);
  if (!bz_db_exec (self, sql, error) || !bz_db_exec (self, "COMMIT", error))
    {
      bz_db_rollback (self);
      return FALSE;
    }
  g_debug ("database %s migrated from version %u to %u", bz_db_get_path (self), from_version,
           BZ_DB_SCHEMA_VERSION);
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* db/ for imported state: schema version 4 (the known state, the table
 * rebuilt with its ids and indexes), recording known UIDLs without
 * downgrading any row, the sync's questions about known rows, and the
 * adoption of getmail's rewritten UIDLs. */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "bz-db.h"

#define APP_ID 0x427a4442

/* Version 3 exactly as migrate_v1..v3 made it, with rows. */
static const char *schema_v3 =
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE messages (id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  uidl TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'stored', 'skipped', 'gone', 'deleted')),"
    "  path TEXT, size INTEGER NOT NULL DEFAULT 0, fetched INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (account_id, uidl));"
    "ALTER TABLE messages ADD COLUMN message_id TEXT;"
    "ALTER TABLE messages ADD COLUMN sender TEXT;"
    "ALTER TABLE messages ADD COLUMN subject TEXT;"
    "ALTER TABLE messages ADD COLUMN date INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX messages_state_fetched ON messages (account_id, state, fetched);"
    "CREATE INDEX messages_fetched ON messages (fetched);"
    "CREATE INDEX messages_uidl_state ON messages (account_id, uidl, state);"
    "CREATE INDEX messages_in_maildir ON messages (account_id)"
    "  WHERE path IS NOT NULL AND state != 'pending';"
    "INSERT INTO accounts (name) VALUES ('work');"
    "INSERT INTO messages (id, account_id, uidl, state, path, size, fetched, subject)"
    "  VALUES (7, 1, 'u1', 'stored', '/m/new/a', 10, 100, 'Hola'),"
    "         (9, 1, 'u2', 'gone', NULL, 20, 200, NULL);";

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->dir = g_dir_make_tmp ("bz-test-import-db-XXXXXX", &error);
  g_assert_no_error (error);
  fx->path = g_build_filename (fx->dir, "buzon.db", NULL);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (fx->path, suffixes[i], NULL);
      g_remove (p);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
  g_free (fx->path);
}

static void
make_db (const char *path, const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

static gint64
query_int (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static void
test_migrate_v4 (Fixture *fx, gconstpointer data)
{
  g_autofree char *sql = g_strdup_printf ("%s PRAGMA application_id = %d; PRAGMA user_version = 3;",
                                          schema_v3, APP_ID);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autoptr (BzDb) ro = NULL;
  BzDbKnownUidl known[] = { { "k1", 50 } };
  guint counts[BZ_DB_STATE_LAST];
  guint version = 99, existing = 0;

  make_db (fx->path, sql);
  /* the read-only handle reads version 3 as it is, changing nothing */
  ro = bz_db_open_read_only (fx->path, &version, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (version, ==, 3);
  g_assert_true (bz_db_count_existing (ro, "work", known, 1, &existing, &error));
  g_assert_cmpuint (existing, ==, 0);
  g_clear_object (&ro);
  g_assert_cmpint (query_int (fx->path, "PRAGMA user_version"), ==, 3);

  db = bz_db_open (fx->path, &error);
  g_assert_no_error (error);
  /* through version 4 to the current one (5 adds the full-text index) */
  g_assert_cmpuint (bz_db_schema_version (), >=, 4);
  g_assert_cmpint (query_int (fx->path, "PRAGMA user_version"), ==, bz_db_schema_version ());
  /* ids, values and every index survive the rebuild */
  g_assert_cmpint (query_int (fx->path, "SELECT id FROM messages WHERE uidl = 'u1'"), ==, 7);
  g_assert_cmpint (query_int (fx->path, "SELECT id FROM messages WHERE uidl = 'u2'"), ==, 9);
  g_assert_cmpint (query_int (fx->path,
                              "SELECT count(*) FROM messages WHERE subject = 'Hola' AND size = 10 "
                              "AND fetched = 100 AND path = '/m/new/a' AND state = 'stored'"),
                   ==, 1);
  g_assert_cmpint (query_int (fx->path,
                              "SELECT count(*) FROM sqlite_schema WHERE type = 'index' "
                              "AND name IN ('messages_state_fetched', 'messages_fetched', "
                              "'messages_uidl_state', 'messages_in_maildir', "
                              "'messages_getmail_form')"),
                   ==, 5);
  g_assert_cmpint (query_int (fx->path, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                        "'messages_v4'"),
                   ==, 0);
  g_assert_true (bz_db_import_known (db, "work", known, 1, FALSE, 0, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_KNOWN], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_GONE], ==, 1);
  g_assert_cmpint (query_int (fx->path, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);
}

static void
test_migrate_v4_failure (Fixture *fx, gconstpointer data)
{
  /* a table in the way of the rebuild: the v3 file is left as it was */
  g_autofree char *sql =
      g_strdup_printf ("%s CREATE TABLE messages_v4 (x); PRAGMA application_id = %d;"
                       "PRAGMA user_version = 3;",
                       schema_v3, APP_ID);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;

  make_db (fx->path, sql);
  db = bz_db_open (fx->path, &error);
  g_assert_null (db);
  g_assert_error (error, BZ_DB_ERROR, BZ_DB_ERROR_FAILED);
  g_assert_cmpint (query_int (fx->path, "PRAGMA user_version"), ==, 3);
  g_assert_cmpint (query_int (fx->path, "SELECT count(*) FROM messages"), ==, 2);
}

static void
add_stored (BzDb *db, const char *uidl, gint64 fetched)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_strdup_printf ("/mail/new/%s", uidl);

  g_assert_true (bz_db_begin (db, &error));
  g_assert_true (bz_db_add_pending (db, "work", uidl, path, 100, fetched, NULL, &error));
  g_assert_true (bz_db_set_stored (db, "work", uidl, path, &error));
  g_assert_true (bz_db_commit (db, &error));
  g_assert_no_error (error);
}

static gboolean
array_has (GPtrArray *uidls, const char *uidl)
{
  for (guint i = 0; i < uidls->len; i++)
    {
      if (g_strcmp0 (uidls->pdata[i], uidl) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_known (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  BzDbKnownUidl known[] = { { "s1", 10 }, { "k1", 1000 }, { "k2", 0 }, { "k3", 5000 } };
  g_autoptr (GPtrArray) old = NULL;
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) newest = NULL;
  g_autoptr (GArray) fresh = NULL;
  const char *server[] = { "k1", "s1", "n1", "k2" };
  const char *dele[] = { "k1" };
  guint counts[BZ_DB_STATE_LAST];
  guint added = 0, existing = 0, stored = 0, gone = 0;

  g_assert_no_error (error);
  add_stored (db, "s1", 3000);
  g_assert_true (bz_db_import_known (db, "work", known, G_N_ELEMENTS (known), FALSE, 2000, &added,
                                     &existing, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (added, ==, 3);
  g_assert_cmpuint (existing, ==, 1);
  /* again: everything is known now, nothing changes */
  g_assert_true (bz_db_import_known (db, "work", known, G_N_ELEMENTS (known), FALSE, 2000, &added,
                                     &existing, &error));
  g_assert_cmpuint (added, ==, 0);
  g_assert_cmpuint (existing, ==, 4);
  g_assert_true (bz_db_count_existing (db, "work", known, G_N_ELEMENTS (known), &existing, &error));
  g_assert_cmpuint (existing, ==, 4);
  /* the stored row stays stored; known rows are not in the Maildir */
  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_KNOWN], ==, 3);
  g_assert_true (bz_db_count_stored (db, "work", &stored, &error));
  g_assert_cmpuint (stored, ==, 1);
  newest = bz_db_list_newest (db, "work", 0, &error);
  g_assert_cmpuint (newest->len, ==, 1);

  /* days:N counts from the first-seen time, the import time without one */
  old = bz_db_list_stored_before (db, "work", 2500, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (old->len, ==, 2);
  g_assert_true (array_has (old, "k1"));
  g_assert_true (array_has (old, "k2"));
  all = bz_db_list_stored_before (db, "work", G_MAXINT64, &error);
  g_assert_cmpuint (all->len, ==, 4);

  /* never fetched; gone when vanished (k3) */
  fresh = bz_db_sync_uidls (db, "work", server, G_N_ELEMENTS (server), NULL, &gone, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fresh->len, ==, 1);
  g_assert_cmpuint (g_array_index (fresh, guint, 0), ==, 2);
  g_assert_cmpuint (gone, ==, 1);
  g_assert_true (bz_db_mark_deleted (db, "work", dele, 1, &error));
  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_KNOWN], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_GONE], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_DELETED], ==, 1);
}

static void
test_adopt_getmail (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  /* getmail wrote a/1 as a-1, b/2 as b-2; c-3 is the server's own name */
  BzDbKnownUidl known[] = { { "a-1", 0 }, { "b-2", 0 }, { "c-3", 0 }, { "plain", 0 } };
  const char *server[] = { "a/1", "b/2", "c-3", "plain", "new/4" };
  g_autoptr (GArray) fresh = NULL;
  guint adopted = 0, gone = 0;

  g_assert_no_error (error);
  /* b/2 was stored by buzon before the import: its row wins */
  add_stored (db, "b/2", 100);
  g_assert_true (
      bz_db_import_known (db, "work", known, G_N_ELEMENTS (known), TRUE, 100, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (fx->path, "SELECT count(*) FROM messages WHERE getmail_form != 0"),
                   ==, 3);
  g_assert_true (
      bz_db_adopt_getmail_uidls (db, "work", server, G_N_ELEMENTS (server), &adopted, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (adopted, ==, 1);
  g_assert_cmpint (query_int (fx->path, "SELECT count(*) FROM messages WHERE getmail_form != 0"),
                   ==, 0);
  g_assert_cmpint (query_int (fx->path, "SELECT count(*) FROM messages WHERE uidl = 'a/1' "
                                        "AND state = 'known'"),
                   ==, 1);
  g_assert_cmpint (query_int (fx->path, "SELECT count(*) FROM messages WHERE uidl = 'b/2' "
                                        "AND state = 'stored'"),
                   ==, 1);
  g_assert_cmpint (query_int (fx->path, "SELECT count(*) FROM messages"), ==, 4);
  /* only new/4 is fetched, nothing is gone */
  fresh = bz_db_sync_uidls (db, "work", server, G_N_ELEMENTS (server), NULL, &gone, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fresh->len, ==, 1);
  g_assert_cmpuint (g_array_index (fresh, guint, 0), ==, 4);
  g_assert_cmpuint (gone, ==, 0);
}

static void
test_rollback (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  BzDbKnownUidl known[] = { { "k1", 0 }, { "k2", 0 } };
  guint counts[BZ_DB_STATE_LAST];

  g_assert_no_error (error);
  /* the second row fails (a trigger stands in for a full disk): the
   * first is not kept either, one transaction */
  make_db (fx->path, "CREATE TRIGGER fail_k2 BEFORE INSERT ON messages WHEN NEW.uidl = 'k2' "
                     "BEGIN SELECT RAISE(ABORT, 'no room for k2'); END;");
  g_assert_false (bz_db_import_known (db, "work", known, 2, FALSE, 1, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_KNOWN], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/import-db/migrate-v4", Fixture, NULL, fixture_setup, test_migrate_v4,
              fixture_teardown);
  g_test_add ("/import-db/migrate-v4-failure-unchanged", Fixture, NULL, fixture_setup,
              test_migrate_v4_failure, fixture_teardown);
  g_test_add ("/import-db/known", Fixture, NULL, fixture_setup, test_known, fixture_teardown);
  g_test_add ("/import-db/adopt-getmail", Fixture, NULL, fixture_setup, test_adopt_getmail,
              fixture_teardown);
  g_test_add ("/import-db/one-transaction", Fixture, NULL, fixture_setup, test_rollback,
              fixture_teardown);
  return g_test_run ();
}

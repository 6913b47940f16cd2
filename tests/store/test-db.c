/* SPDX-License-Identifier: GPL-3.0-or-later */
/* db/: migrations, refusal of newer/corrupt files, and the sync's queries. */

#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "bz-db.h"

#define APP_ID 0x427a4442

/* The version 1 schema exactly as migrate_v1() made it. */
static const char *schema_v1 =
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE messages (id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  uidl TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'stored', 'skipped', 'gone', 'deleted')),"
    "  path TEXT, size INTEGER NOT NULL DEFAULT 0, fetched INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (account_id, uidl));"
    "INSERT INTO accounts (name) VALUES ('work');"
    "INSERT INTO messages (account_id, uidl, state, path, size, fetched)"
    "  VALUES (1, 'u1', 'stored', '/m/new/a', 10, 100), (1, 'u2', 'gone', NULL, 20, 200);";

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->dir = g_dir_make_tmp ("bz-test-db-XXXXXX", &error);
  g_assert_no_error (error);
  fx->path = g_build_filename (fx->dir, "sub", "buzon.db", NULL);
}

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
    }
  g_remove (path);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  rm_rf (fx->dir);
  g_free (fx->dir);
  g_free (fx->path);
}

/* Creates a file with @sql through plain SQLite, in rollback-journal mode. */
static void
make_fixture_db (const char *path, const char *sql)
{
  g_autofree char *dir = g_path_get_dirname (path);
  sqlite3 *db = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
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
assert_refused_unchanged (const char *path, gint code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len = 0, after_len = 0;

  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));
  db = bz_db_open (path, &error);
  g_assert_null (db);
  g_assert_error (error, BZ_DB_ERROR, code);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
}

static void
test_open_new (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  g_autoptr (BzDb) again = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (db);
  g_assert_cmpint (query_int (fx->path, "PRAGMA user_version"), ==, bz_db_schema_version ());
  g_assert_cmpint (query_int (fx->path, "PRAGMA application_id"), ==, APP_ID);
  g_assert_cmpint (
      query_int (fx->path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
      ==, 1);
  g_clear_object (&db);
  again = bz_db_open (fx->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);
}

static void
test_migrate_v1 (Fixture *fx, gconstpointer data)
{
  g_autofree char *sql = g_strdup_printf ("%s PRAGMA application_id = %d; PRAGMA user_version = 1;",
                                          schema_v1, APP_ID);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GPtrArray) newest = NULL;
  guint counts[BZ_DB_STATE_LAST];

  make_fixture_db (fx->path, sql);
  db = bz_db_open (fx->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (fx->path, "PRAGMA user_version"), ==, bz_db_schema_version ());
  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_GONE], ==, 1);
  /* version 5: a row gone before the upgrade is not stamped yet, so its
   * grace period starts at the first sync after it */
  g_assert_cmpint (query_int (fx->path, "SELECT left_at FROM messages WHERE uidl = 'u2'"), ==, 0);
  newest = bz_db_list_newest (db, "work", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (newest->len, ==, 1);
  g_assert_cmpstr (((BzDbMessage *) newest->pdata[0])->path, ==, "/m/new/a");
  g_assert_null (((BzDbMessage *) newest->pdata[0])->headers.subject);
}

/* The version 2 additions, exactly as migrate_v2() made them. */
static const char *schema_v2_step =
    "ALTER TABLE messages ADD COLUMN message_id TEXT;"
    "ALTER TABLE messages ADD COLUMN sender TEXT;"
    "ALTER TABLE messages ADD COLUMN subject TEXT;"
    "ALTER TABLE messages ADD COLUMN date INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX messages_state_fetched ON messages (account_id, state, fetched);"
    "CREATE INDEX messages_fetched ON messages (fetched);"
    "UPDATE messages SET subject = 'Hola' WHERE uidl = 'u1';";

/* Whether the plan of @sql (with ?1 = 1) searches by @want ("INDEX x")
 * without sorting. */
static gboolean
plan_uses_index (const char *path, const char *sql, const char *want)
{
  g_autofree char *explain = g_strdup_printf ("EXPLAIN QUERY PLAN %s", sql);
  g_autoptr (GString) plan = g_string_new (NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, explain, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_bind_int64 (stmt, 1, 1), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_string_append (plan, (const char *) sqlite3_column_text (stmt, 3));
      g_string_append (plan, "; ");
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  g_test_message ("%s: %s", sql, plan->str);
  /* "USE TEMP B-TREE FOR ORDER BY" would mean a sort of every row */
  return strstr (plan->str, want) != NULL && strstr (plan->str, "TEMP B-TREE") == NULL;
}

static void
test_migrate_v2 (Fixture *fx, gconstpointer data)
{
  g_autofree char *sql =
      g_strdup_printf ("%s %s PRAGMA application_id = %d; PRAGMA user_version = 2;", schema_v1,
                       schema_v2_step, APP_ID);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GPtrArray) newest = NULL;
  g_autoptr (GArray) fresh = NULL;
  const char *server[] = { "u3", "u1" };
  guint n = 0;

  make_fixture_db (fx->path, sql);
  db = bz_db_open (fx->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (fx->path, "PRAGMA user_version"), ==, bz_db_schema_version ());
  newest = bz_db_list_newest (db, "work", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (newest->len, ==, 1);
  g_assert_cmpstr (((BzDbMessage *) newest->pdata[0])->headers.subject, ==, "Hola");
  g_assert_true (bz_db_count_stored (db, "work", &n, &error));
  g_assert_cmpuint (n, ==, 1);
  fresh = bz_db_sync_uidls (db, "work", server, G_N_ELEMENTS (server), NULL, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fresh->len, ==, 1);
  g_assert_cmpuint (g_array_index (fresh, guint, 0), ==, 0);
  g_assert_cmpuint (n, ==, 0);

  /* the sync's questions are answered from the new indexes */
  g_assert_true (plan_uses_index (
      fx->path, "SELECT uidl, state FROM messages WHERE account_id = ?1 ORDER BY uidl",
      "COVERING INDEX messages_uidl_state "));
  /* the partial index holds exactly the rows counted */
  g_assert_true (plan_uses_index (fx->path,
                                  "SELECT count(*) FROM messages WHERE account_id = ?1 "
                                  "AND path IS NOT NULL AND state != 'pending'",
                                  "INDEX messages_in_maildir "));
}

static void
test_migrate_v3_failure (Fixture *fx, gconstpointer data)
{
  /* an object in the way of migrate_v3's index: the v2 file stays as it was */
  g_autofree char *sql = g_strdup_printf ("%s %s CREATE TABLE messages_uidl_state (x);"
                                          "PRAGMA application_id = %d; PRAGMA user_version = 2;",
                                          schema_v1, schema_v2_step, APP_ID);
  make_fixture_db (fx->path, sql);
  assert_refused_unchanged (fx->path, BZ_DB_ERROR_FAILED);
  g_assert_cmpint (query_int (fx->path, "PRAGMA user_version"), ==, 2);
}

static void
test_migrate_failure (Fixture *fx, gconstpointer data)
{
  /* an object in the way of migrate_v2's index makes the step fail */
  g_autofree char *sql = g_strdup_printf ("%s CREATE TABLE messages_fetched (x);"
                                          "PRAGMA application_id = %d; PRAGMA user_version = 1;",
                                          schema_v1, APP_ID);
  make_fixture_db (fx->path, sql);
  assert_refused_unchanged (fx->path, BZ_DB_ERROR_FAILED);
  g_assert_cmpint (query_int (fx->path, "PRAGMA user_version"), ==, 1);
}

static void
test_too_new (Fixture *fx, gconstpointer data)
{
  g_autofree char *sql = g_strdup_printf ("CREATE TABLE future (x); PRAGMA application_id = %d;"
                                          "PRAGMA user_version = 99;",
                                          APP_ID);
  make_fixture_db (fx->path, sql);
  assert_refused_unchanged (fx->path, BZ_DB_ERROR_TOO_NEW);
}

static guint aside_warnings;

/* The warning that a damaged file was moved aside is counted, not fatal;
 * everything else goes to GLib's writer (fatal warnings stay fatal). */
static GLogWriterOutput
count_aside_warnings (GLogLevelFlags log_level, const GLogField *fields, gsize n_fields,
                      gpointer user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0 &&
          strstr (fields[i].value, "moved it aside as") != NULL)
        {
          aside_warnings++;
          return G_LOG_WRITER_HANDLED;
        }
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

/* The one "buzon.db.damaged-<unix time>" beside @path (transfer full). */
static char *
find_aside (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = g_strconcat (base, ".damaged-", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  char *found = NULL;
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      const char *digits = name + strlen (prefix);

      if (!g_str_has_prefix (name, prefix) || strchr (digits, '-') != NULL)
        continue;
      g_assert_null (found);
      g_assert_cmpint (g_ascii_strtoll (digits, NULL, 10), >, 1700000000);
      found = g_build_filename (dir, name, NULL);
    }
  g_assert_nonnull (found);
  return found;
}

/* DESIGN.md: a damaged database is moved aside byte for byte as
 * buzon.db.damaged-<unix time> (with its -wal), never deleted, with a
 * warning naming it, and a new one takes its place. */
static void
assert_moved_aside (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *aside = NULL;
  g_autofree char *aside_wal = NULL;
  g_autofree char *wal_after = NULL;
  gsize before_len = 0, after_len = 0, wal_len = 0;
  const char wal_bytes[] = "not really a write-ahead log";

  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));
  g_assert_true (g_file_set_contents (wal, wal_bytes, sizeof wal_bytes, NULL));
  aside_warnings = 0;
  db = bz_db_open (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (db);
  g_assert_cmpuint (aside_warnings, ==, 1);
  aside = find_aside (path);
  g_assert_true (g_file_get_contents (aside, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
  aside_wal = g_strconcat (aside, "-wal", NULL);
  g_assert_true (g_file_get_contents (aside_wal, &wal_after, &wal_len, NULL));
  g_assert_cmpmem (wal_bytes, sizeof wal_bytes, wal_after, wal_len);
  g_clear_object (&db);
  g_assert_cmpint (query_int (path, "PRAGMA user_version"), ==, bz_db_schema_version ());
  g_assert_cmpint (query_int (path, "SELECT count(*) FROM messages"), ==, 0);
}

static void
test_corrupt (Fixture *fx, gconstpointer data)
{
  g_autofree char *garbage = g_malloc (8192);

  for (guint i = 0; i < 8192; i++)
    garbage[i] = (char) (i * 7 + 3);
  g_autofree char *dir = g_path_get_dirname (fx->path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (fx->path, garbage, 8192, NULL));
  assert_moved_aside (fx->path);
}

static void
test_foreign (Fixture *fx, gconstpointer data)
{
  make_fixture_db (fx->path,
                   "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x');");
  assert_moved_aside (fx->path);
}

/* An empty (0 bytes) file is a new database, not damage. */
static void
test_empty_file (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autofree char *dir = g_path_get_dirname (fx->path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (fx->path, "", 0, NULL));
  db = bz_db_open (fx->path, &error);
  g_assert_no_error (error);
  g_clear_object (&db);
  g_assert_cmpint (query_int (fx->path, "PRAGMA user_version"), ==, bz_db_schema_version ());
}

/* Damage behind a good first page shows only when a query reads it: the
 * query fails as damaged, and the next open checks the whole file and
 * moves it aside. */
static void
test_damaged_later (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree char *bytes = NULL;
  gsize len = 0;
  gint64 page_size = query_int (fx->path, "PRAGMA page_size");

  g_assert_no_error (error);
  g_assert_true (bz_db_begin (db, &error));
  for (guint i = 0; i < 2000; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("uidl-%04u-with-some-length-to-fill-pages", i);
      g_autofree char *path = g_strdup_printf ("/mail/new/%s", uidl);
      g_assert_true (bz_db_add_pending (db, "work", uidl, path, 100, 1, NULL, &error));
      g_assert_true (bz_db_set_stored (db, "work", uidl, path, &error));
    }
  g_assert_true (bz_db_commit (db, &error));
  g_clear_object (&db);
  /* every page after the first few becomes garbage */
  g_assert_true (g_file_get_contents (fx->path, &bytes, &len, NULL));
  g_assert_cmpuint (len, >, (gsize) page_size * 8);
  for (gsize i = (gsize) page_size * 3; i < len; i++)
    bytes[i] = (char) (i * 13 + 5);
  g_assert_true (g_file_set_contents (fx->path, bytes, (gssize) len, NULL));

  db = bz_db_open (fx->path, &error);
  g_assert_no_error (error);
  rows = bz_db_list_newest (db, "work", 0, &error);
  g_assert_error (error, BZ_DB_ERROR, BZ_DB_ERROR_CORRUPT);
  g_assert_null (rows);
  g_clear_object (&db);
  assert_moved_aside (fx->path);
}

/* Any row, in any state, means the database knew the account. */
static void
test_account_has_messages (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  gboolean has = TRUE;

  g_assert_no_error (error);
  g_assert_true (bz_db_account_has_messages (db, "work", &has, &error));
  g_assert_false (has);
  g_assert_true (bz_db_record_skipped (db, "work", "u1", 100, NULL, &error));
  g_assert_true (bz_db_account_has_messages (db, "work", &has, &error));
  g_assert_true (has);
  g_assert_true (bz_db_account_has_messages (db, "other", &has, &error));
  g_assert_false (has);
}

/* A sync reuses the count it made before the session only while the
 * marks agree: a change through this connection or a commit through any
 * other must tell them apart, reads must not. */
static void
test_mark (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  g_autoptr (BzDb) other = NULL;
  BzDbMark a, b;
  gboolean has = FALSE;
  guint count = 0;

  g_assert_no_error (error);
  other = bz_db_open (fx->path, &error);
  g_assert_no_error (error);
  g_assert_true (bz_db_get_mark (db, &a, &error));
  g_assert_true (bz_db_account_has_messages (db, "work", &has, &error));
  g_assert_true (bz_db_count_stored (db, "work", &count, &error));
  g_assert_true (bz_db_get_mark (db, &b, &error));
  g_assert_no_error (error);
  g_assert_true (a.changes == b.changes && a.data_version == b.data_version);

  g_assert_true (bz_db_record_skipped (db, "work", "u1", 100, NULL, &error));
  g_assert_true (bz_db_get_mark (db, &b, &error));
  g_assert_no_error (error);
  g_assert_cmpint (b.changes, !=, a.changes);

  g_assert_true (bz_db_get_mark (db, &a, &error));
  g_assert_true (bz_db_record_skipped (other, "work", "u2", 100, NULL, &error));
  g_assert_true (bz_db_get_mark (db, &b, &error));
  g_assert_no_error (error);
  g_assert_cmpint (b.changes, ==, a.changes);
  g_assert_cmpint (b.data_version, !=, a.data_version);
}

static void
test_unreadable (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;

  /* a folder where the file should be: an error naming it, nothing made */
  g_assert_cmpint (g_mkdir_with_parents (fx->path, 0700), ==, 0);
  db = bz_db_open (fx->path, &error);
  g_assert_null (db);
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, fx->path));
  g_assert_true (g_file_test (fx->path, G_FILE_TEST_IS_DIR));
}

static void
add_stored (BzDb *db, const char *account, const char *uidl, gint64 fetched)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_strdup_printf ("/mail/%s/new/%s", account, uidl);
  BzDbHeaders headers = { (char *) uidl, "Zoë <z@example.org>", "Café", 1700000000 };

  g_assert_true (bz_db_add_pending (db, account, uidl, path, 100, fetched, &headers, &error));
  g_assert_no_error (error);
  g_assert_true (bz_db_set_stored (db, account, uidl, path, &error));
  g_assert_no_error (error);
}

static void
test_uidl_diff (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  g_autoptr (GPtrArray) server = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) fresh = NULL;
  g_autoptr (GTimer) timer = g_timer_new ();
  const guint n_known = 100000;
  guint new_at[10];
  guint next_new = 0;
  double best = G_MAXDOUBLE;

  g_assert_no_error (error);
  g_assert_true (bz_db_begin (db, &error));
  for (guint i = 0; i < n_known; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("%08x-known-%u", g_str_hash (&i), i);
      add_stored (db, "work", uidl, 1);
      g_ptr_array_add (server, g_steal_pointer (&uidl));
    }
  g_assert_true (bz_db_commit (db, &error));
  /* 10 new ones spread through the list, as a server lists them */
  for (guint k = 0; k < 10; k++)
    {
      new_at[k] = k * 10000 + 5000 + k;
      g_ptr_array_insert (server, (gint) new_at[k], g_strdup_printf ("new-%u", k));
    }
  g_assert_cmpuint (server->len, ==, 100010);

  for (guint round = 0; round < 3; round++)
    {
      g_clear_pointer (&fresh, g_array_unref);
      g_timer_start (timer);
      fresh = bz_db_find_new_uidls (db, "work", (const char *const *) server->pdata, server->len,
                                    &error);
      g_timer_stop (timer);
      g_assert_no_error (error);
      g_test_message ("UIDL diff of 100010 against %u known: %.1f ms", n_known,
                      g_timer_elapsed (timer, NULL) * 1000);
      best = MIN (best, g_timer_elapsed (timer, NULL) * 1000);
    }
  g_print ("# UIDL diff, 100000 known, 100010 on the server: best of 3 %.1f ms\n", best);
  g_assert_cmpuint (fresh->len, ==, 10);
  for (guint k = 0; k < fresh->len; k++)
    {
      guint idx = g_array_index (fresh, guint, k);
      g_assert_cmpuint (idx, ==, new_at[next_new++]);
      g_assert_true (g_str_has_prefix (server->pdata[idx], "new-"));
    }
  /* an account the database never saw: everything is new */
  g_clear_pointer (&fresh, g_array_unref);
  fresh = bz_db_find_new_uidls (db, "other", (const char *const *) server->pdata, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fresh->len, ==, 5);
}

static void
test_states (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  g_autoptr (GPtrArray) old = NULL;
  g_autoptr (GPtrArray) skipped = NULL;
  g_autoptr (GPtrArray) newest = NULL;
  g_autoptr (GArray) fresh = NULL;
  const char *server[] = { "a", "b", "c", "s1" };
  const char *dele[] = { "a", "s1", "zz" };
  BzDbHeaders top0 = { "big@x", "Big <big@x>", "Large", 5 };
  guint counts[BZ_DB_STATE_LAST];
  guint n = 0;

  g_assert_no_error (error);
  g_assert_true (bz_db_begin (db, &error));
  add_stored (db, "work", "a", 1000);
  add_stored (db, "work", "b", 2000);
  add_stored (db, "work", "c", 3000);
  add_stored (db, "work", "d", 4000);
  add_stored (db, "home", "a", 5000);
  g_assert_true (bz_db_commit (db, &error));

  g_assert_true (bz_db_record_skipped (db, "work", "s1", 99999999, &top0, &error));
  g_assert_no_error (error);
  g_assert_true (bz_db_record_skipped (db, "work", "s2", 88888888, NULL, &error));
  /* skipping a stored message would hide it: refused */
  g_assert_false (bz_db_record_skipped (db, "work", "a", 1, NULL, &error));
  g_assert_error (error, BZ_DB_ERROR, BZ_DB_ERROR_CONFLICT);
  g_clear_error (&error);

  /* days:N */
  old = bz_db_list_stored_before (db, "work", 2500, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (old->len, ==, 2);

  /* d and s2 vanished from the server (marked as the sync does it, which
   * also answers which of the server's UIDLs are new: none here) */
  {
    g_autoptr (GArray) unknown =
        bz_db_sync_uidls (db, "work", server, G_N_ELEMENTS (server), NULL, &n, &error);

    g_assert_no_error (error);
    g_assert_nonnull (unknown);
    g_assert_cmpuint (unknown->len, ==, 0);
    g_assert_cmpuint (n, ==, 2);
  }
  /* only stored messages become deleted */
  g_assert_true (bz_db_mark_deleted (db, "work", dele, G_N_ELEMENTS (dele), &error));
  g_assert_no_error (error);

  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 2);  /* b c */
  g_assert_cmpuint (counts[BZ_DB_STATE_DELETED], ==, 1); /* a */
  g_assert_cmpuint (counts[BZ_DB_STATE_GONE], ==, 2);    /* d s2 */
  g_assert_cmpuint (counts[BZ_DB_STATE_SKIPPED], ==, 1); /* s1 */
  g_assert_cmpuint (counts[BZ_DB_STATE_PENDING], ==, 0);
  g_assert_true (bz_db_count_stored (db, "work", &n, &error));
  g_assert_cmpuint (n, ==, 4); /* a b c d are in the Maildir whatever the server did */

  /* known in any state is not new */
  fresh = bz_db_find_new_uidls (db, "work", dele, G_N_ELEMENTS (dele), &error);
  g_assert_cmpuint (fresh->len, ==, 1);
  g_assert_cmpuint (g_array_index (fresh, guint, 0), ==, 2);

  skipped = bz_db_list_skipped (db, "work", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (skipped->len, ==, 1);
  g_assert_cmpstr (((BzDbMessage *) skipped->pdata[0])->uidl, ==, "s1");
  g_assert_cmpuint (((BzDbMessage *) skipped->pdata[0])->size, ==, 99999999);
  g_assert_cmpstr (((BzDbMessage *) skipped->pdata[0])->headers.subject, ==, "Large");

  /* a raised max-size: the skipped message can now be stored */
  g_assert_true (bz_db_begin (db, &error));
  add_stored (db, "work", "s1", 6000);
  g_assert_false (bz_db_add_pending (db, "work", "b", "/x", 1, 1, NULL, &error));
  g_assert_error (error, BZ_DB_ERROR, BZ_DB_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_true (bz_db_commit (db, &error));

  newest = bz_db_list_newest (db, "work", 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (newest->len, ==, 2);
  g_assert_cmpstr (((BzDbMessage *) newest->pdata[0])->uidl, ==, "s1");
  g_assert_cmpstr (((BzDbMessage *) newest->pdata[1])->uidl, ==, "d");
  g_assert_cmpstr (((BzDbMessage *) newest->pdata[1])->headers.from, ==, "Zoë <z@example.org>");
  g_assert_cmpint (((BzDbMessage *) newest->pdata[1])->headers.date, ==, 1700000000);
  g_clear_pointer (&newest, g_ptr_array_unref);
  newest = bz_db_list_newest (db, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (newest->len, ==, 6);
  g_assert_cmpstr (((BzDbMessage *) newest->pdata[1])->account, ==, "home");
}

/* The rows both diffs are checked against: work has a b d é stored, c
 * deleted, s and zz skipped; home has n1. */
static void
add_diff_rows (BzDb *db)
{
  g_autoptr (GError) error = NULL;
  const char *dele[] = { "c" };

  g_assert_true (bz_db_begin (db, &error));
  add_stored (db, "work", "a", 1);
  add_stored (db, "work", "b", 1);
  add_stored (db, "work", "c", 1);
  add_stored (db, "work", "d", 1);
  add_stored (db, "work", "é-utf8", 1);
  add_stored (db, "home", "n1", 1);
  g_assert_true (bz_db_commit (db, &error));
  g_assert_true (bz_db_record_skipped (db, "work", "s", 10, NULL, &error));
  g_assert_true (bz_db_record_skipped (db, "work", "zz", 10, NULL, &error));
  g_assert_true (bz_db_mark_deleted (db, "work", dele, 1, &error));
  g_assert_no_error (error);
}

/* One pass: new indices in the server's order, duplicates in the list,
 * and the vanished stored/skipped ones marked gone (not the others). */
static void
test_sync_uidls (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  g_autoptr (GArray) fresh = NULL;
  const char *server[] = { "n2", "b", "a", "n1", "a", "zz", "é-utf8", "B" };
  const guint sorted[] = { 7, 2, 4, 1, 3, 0, 5, 6 }; /* strcmp: B a a b n1 n2 zz é */
  guint counts[BZ_DB_STATE_LAST];
  guint n = 99;

  g_assert_no_error (error);
  add_diff_rows (db);

  fresh = bz_db_sync_uidls (db, "work", server, G_N_ELEMENTS (server), NULL, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fresh->len, ==, 3);
  g_assert_cmpuint (g_array_index (fresh, guint, 0), ==, 0); /* n2 */
  g_assert_cmpuint (g_array_index (fresh, guint, 1), ==, 3); /* n1: known to home only */
  g_assert_cmpuint (g_array_index (fresh, guint, 2), ==, 7); /* B: case matters */
  g_assert_cmpuint (n, ==, 2); /* d (stored) and s (skipped); c is deleted already */
  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 3);
  g_assert_cmpuint (counts[BZ_DB_STATE_GONE], ==, 2);
  g_assert_cmpuint (counts[BZ_DB_STATE_DELETED], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_SKIPPED], ==, 1);
  g_assert_true (bz_db_count_stored (db, "work", &n, &error));
  g_assert_cmpuint (n, ==, 5); /* a b c d é: in the Maildir whatever the server did */

  /* again, with the caller's sorted order: nothing more is gone, the same
   * are new */
  g_clear_pointer (&fresh, g_array_unref);
  fresh = bz_db_sync_uidls (db, "work", server, G_N_ELEMENTS (server), sorted, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fresh->len, ==, 3);
  g_assert_cmpuint (g_array_index (fresh, guint, 0), ==, 0);
  g_assert_cmpuint (g_array_index (fresh, guint, 1), ==, 3);
  g_assert_cmpuint (g_array_index (fresh, guint, 2), ==, 7);
  g_assert_cmpuint (n, ==, 0);

  /* an empty server list marks every stored and skipped one gone */
  g_clear_pointer (&fresh, g_array_unref);
  fresh = bz_db_sync_uidls (db, "work", NULL, 0, NULL, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fresh->len, ==, 0);
  g_assert_cmpuint (n, ==, 4);

  /* an account the database never saw: everything is new, nothing gone */
  g_clear_pointer (&fresh, g_array_unref);
  fresh = bz_db_sync_uidls (db, "never", server, 3, NULL, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fresh->len, ==, 3);
  g_assert_cmpuint (n, ==, 0);
}

/* Gone and deleted rows without a local copy are forgotten only after the
 * grace period, and only when their UIDL is absent from the server's list
 * of that session. Rows of messages in the Maildir stay: ListMessages,
 * StoredCount and the search know the local copy by them. */
static void
test_prune_left (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  g_autoptr (GArray) fresh = NULL;
  const char *server1[] = { "a", "e" };
  const char *server2[] = { "c", "a" };      /* c is offered again */
  const char *server3[] = { "c", "a", "b" }; /* b, after it was forgotten */
  const char *dele[] = { "e" };
  const char *stored[] = { "a", "c", "e" };
  const char *skipped[] = { "b", "d" }; /* too large: never in the Maildir */
  const gint64 t0 = 1700000000, grace = 100;
  guint counts[BZ_DB_STATE_LAST];
  guint n = 99;

  g_assert_no_error (error);
  g_assert_true (bz_db_begin (db, &error));
  for (guint i = 0; i < G_N_ELEMENTS (stored); i++)
    add_stored (db, "work", stored[i], 1);
  add_stored (db, "home", "b", 1);
  g_assert_true (bz_db_commit (db, &error));
  for (guint i = 0; i < G_N_ELEMENTS (skipped); i++)
    g_assert_true (bz_db_record_skipped (db, "work", skipped[i], 1 << 30, NULL, &error));
  fresh = bz_db_sync_uidls (db, "work", server1, G_N_ELEMENTS (server1), NULL, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 3); /* b c d */
  g_assert_true (bz_db_mark_deleted (db, "work", dele, 1, &error));
  g_clear_pointer (&fresh, g_array_unref);
  /* e was DELEd and the server committed it: it is no longer listed */
  server1[1] = "x";

  /* the first look stamps b c d e with t0: nothing goes */
  g_assert_true (bz_db_prune_left (db, "work", server1, 2, NULL, t0, grace, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 0);
  /* a second before the grace ends: nothing goes */
  g_assert_true (bz_db_prune_left (db, "work", server1, 2, NULL, t0 + grace, grace, &n, &error));
  g_assert_cmpuint (n, ==, 0);
  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_GONE], ==, 3);
  g_assert_cmpuint (counts[BZ_DB_STATE_DELETED], ==, 1);

  /* after it: b and d (gone, never stored) go; c is on the server again
   * and stays, so it is still known and not fetched twice; e (deleted from
   * the server, its copy in the Maildir) stays */
  g_assert_true (bz_db_prune_left (db, "work", server2, G_N_ELEMENTS (server2), NULL,
                                   t0 + grace + 1, grace, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_GONE], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_DELETED], ==, 1);
  g_assert_cmpuint (counts[BZ_DB_STATE_SKIPPED], ==, 0);
  /* what RFC 1939 forbids, a forgotten UIDL given out again, would be
   * fetched as new: the reason for the grace period */
  fresh = bz_db_sync_uidls (db, "work", server3, G_N_ELEMENTS (server3), NULL, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fresh->len, ==, 1);
  g_assert_cmpuint (g_array_index (fresh, guint, 0), ==, 2);
  /* another account's row of the same name is untouched */
  g_assert_true (bz_db_count_states (db, "home", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 1);
  /* an account the database never saw: nothing to do */
  g_assert_true (bz_db_prune_left (db, "never", NULL, 0, NULL, t0, grace, &n, &error));
  g_assert_cmpuint (n, ==, 0);
}

/* Two accounts' first syncs open a new database at the same moment: both
 * see version 0, and the second migration must notice the first. */
#define RACE_THREADS 6
#define RACE_ROUNDS 15

typedef struct
{
  const char *path;
  GMutex lock;
  GCond cond;
  guint waiting;
  guint failures;
  char *first_error;
} RaceRound;

static gpointer
race_open_thread (gpointer data)
{
  RaceRound *round = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;

  /* Start together, so the opens overlap. */
  g_mutex_lock (&round->lock);
  round->waiting++;
  g_cond_broadcast (&round->cond);
  while (round->waiting < RACE_THREADS)
    g_cond_wait (&round->cond, &round->lock);
  g_mutex_unlock (&round->lock);

  db = bz_db_open (round->path, &error);
  if (db == NULL)
    {
      g_mutex_lock (&round->lock);
      round->failures++;
      if (round->first_error == NULL)
        round->first_error = g_strdup (error->message);
      g_mutex_unlock (&round->lock);
    }
  return NULL;
}

static void
test_concurrent_first_open (Fixture *fx, gconstpointer data)
{
  for (guint r = 0; r < RACE_ROUNDS; r++)
    {
      g_autofree char *name = g_strdup_printf ("race-%u.db", r);
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);
      GThread *threads[RACE_THREADS];
      RaceRound round = { 0 };

      round.path = path;
      g_mutex_init (&round.lock);
      g_cond_init (&round.cond);
      for (guint i = 0; i < RACE_THREADS; i++)
        threads[i] = g_thread_new ("race", race_open_thread, &round);
      for (guint i = 0; i < RACE_THREADS; i++)
        g_thread_join (threads[i]);
      g_mutex_clear (&round.lock);
      g_cond_clear (&round.cond);
      if (round.failures > 0)
        g_test_message ("round %u: %u of %d opens failed: %s", r, round.failures, RACE_THREADS,
                        round.first_error);
      g_assert_cmpuint (round.failures, ==, 0);
      g_free (round.first_error);
    }
}

/* The merge's answer for a listing fed in full. */
static gboolean
merge_listing (BzDb *db, const char *account, const char *const *uidls, gsize n, gsize n_fed,
               GArray **fresh, GPtrArray **vanished)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDbUidlMerge) merge = bz_db_uidl_merge_new (db, account, &error);

  g_assert_no_error (error);
  for (gsize i = 0; i < n_fed; i++)
    bz_db_uidl_merge_feed (merge, uidls[i]);
  bz_db_uidl_merge_end (merge);
  return bz_db_uidl_merge_take (merge, n, fresh, vanished);
}

/* The diff made while a sorted listing arrives gives the diff's answer;
 * a listing out of order, a UIDL listed twice, a listing not fed in full
 * or a row written meanwhile make it unusable, and the sync then diffs
 * after the listing with the same result. */
static void
test_uidl_merge (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (fx->path, &error);
  g_autoptr (GArray) fresh = NULL;
  g_autoptr (GPtrArray) vanished = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (1818);
  const char *server[] = { "B", "a", "b", "n1", "n2", "zz", "é-utf8" };
  const char *unsorted[] = { "a", "B", "b" };
  const char *twice[] = { "a", "a", "b" };
  guint n = 99;

  g_assert_no_error (error);
  add_diff_rows (db);

  g_assert_true (merge_listing (db, "work", server, G_N_ELEMENTS (server), G_N_ELEMENTS (server),
                                &fresh, &vanished));
  g_assert_cmpuint (fresh->len, ==, 3);
  g_assert_cmpuint (g_array_index (fresh, guint, 0), ==, 0); /* B */
  g_assert_cmpuint (g_array_index (fresh, guint, 1), ==, 3); /* n1: known to home only */
  g_assert_cmpuint (g_array_index (fresh, guint, 2), ==, 4); /* n2 */
  g_assert_cmpuint (vanished->len, ==, 2);                   /* not c: deleted already */
  g_assert_cmpstr (vanished->pdata[0], ==, "d");
  g_assert_cmpstr (vanished->pdata[1], ==, "s");
  g_clear_pointer (&fresh, g_array_unref);
  g_clear_pointer (&vanished, g_ptr_array_unref);

  g_assert_false (merge_listing (db, "work", unsorted, 3, 3, &fresh, &vanished));
  g_assert_false (merge_listing (db, "work", twice, 3, 3, &fresh, &vanished));
  g_assert_false (merge_listing (db, "work", server, G_N_ELEMENTS (server), 4, &fresh, &vanished));
  g_assert_null (fresh);
  g_assert_null (vanished);

  /* an account without rows: all new, nothing vanished */
  g_assert_true (merge_listing (db, "never", server, 3, 3, &fresh, &vanished));
  g_assert_cmpuint (fresh->len, ==, 3);
  g_assert_cmpuint (vanished->len, ==, 0);
  g_clear_pointer (&fresh, g_array_unref);
  g_clear_pointer (&vanished, g_ptr_array_unref);

  /* a row written after the merge began: its answer may be stale */
  {
    g_autoptr (BzDbUidlMerge) merge = bz_db_uidl_merge_new (db, "work", &error);

    g_assert_no_error (error);
    for (gsize i = 0; i < G_N_ELEMENTS (server); i++)
      bz_db_uidl_merge_feed (merge, server[i]);
    bz_db_uidl_merge_end (merge);
    g_assert_true (bz_db_record_skipped (db, "work", "n2", 10, NULL, &error));
    g_assert_no_error (error);
    /* ...and the sync falls back to the diff: n2 is skipped now, known */
    fresh = bz_db_sync_uidls_merged (db, "work", merge, server, G_N_ELEMENTS (server), NULL, &n,
                                     &error);
    g_assert_no_error (error);
    g_assert_cmpuint (fresh->len, ==, 2);
    g_assert_cmpuint (g_array_index (fresh, guint, 0), ==, 0);
    g_assert_cmpuint (g_array_index (fresh, guint, 1), ==, 3);
    g_assert_cmpuint (n, ==, 2);
    g_clear_pointer (&fresh, g_array_unref);
  }

  /* random rows and listings: the merge and the diff always agree */
  for (guint round = 0; round < 40; round++)
    {
      g_autoptr (GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) listing = g_ptr_array_new ();
      g_autoptr (GArray) expected = NULL;
      g_autofree char *account = g_strdup_printf ("r%u", round);
      guint expected_vanished = 0;

      for (guint i = 0; i < 300; i++)
        g_ptr_array_add (pool, g_strdup_printf ("u%05u", i * 7 + g_rand_int_range (rand, 0, 7)));
      g_assert_true (bz_db_begin (db, &error));
      for (guint i = 0; i < pool->len; i++)
        {
          gboolean in_db = g_rand_boolean (rand);

          if (in_db)
            add_stored (db, account, pool->pdata[i], 1);
          if (g_rand_int_range (rand, 0, 3) > 0)
            g_ptr_array_add (listing, pool->pdata[i]);
          else if (in_db)
            expected_vanished++;
        }
      g_assert_true (bz_db_commit (db, &error));
      expected = bz_db_find_new_uidls (db, account, (const char *const *) listing->pdata,
                                       listing->len, &error);
      g_assert_no_error (error);
      g_assert_true (merge_listing (db, account, (const char *const *) listing->pdata, listing->len,
                                    listing->len, &fresh, &vanished));
      g_assert_cmpuint (fresh->len, ==, expected->len);
      g_assert_cmpmem (fresh->data, fresh->len * sizeof (guint), expected->data,
                       expected->len * sizeof (guint));
      g_assert_cmpuint (vanished->len, ==, expected_vanished);
      g_clear_pointer (&fresh, g_array_unref);
      g_clear_pointer (&vanished, g_ptr_array_unref);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (count_aside_warnings, NULL, NULL);
  g_test_add ("/db/open-new", Fixture, NULL, fixture_setup, test_open_new, fixture_teardown);
  g_test_add ("/db/migrate-v1", Fixture, NULL, fixture_setup, test_migrate_v1, fixture_teardown);
  g_test_add ("/db/migrate-v2", Fixture, NULL, fixture_setup, test_migrate_v2, fixture_teardown);
  g_test_add ("/db/migrate-v3-failure-unchanged", Fixture, NULL, fixture_setup,
              test_migrate_v3_failure, fixture_teardown);
  g_test_add ("/db/migrate-failure-unchanged", Fixture, NULL, fixture_setup, test_migrate_failure,
              fixture_teardown);
  g_test_add ("/db/too-new-refused", Fixture, NULL, fixture_setup, test_too_new, fixture_teardown);
  g_test_add ("/db/corrupt-moved-aside", Fixture, NULL, fixture_setup, test_corrupt,
              fixture_teardown);
  g_test_add ("/db/foreign-moved-aside", Fixture, NULL, fixture_setup, test_foreign,
              fixture_teardown);
  g_test_add ("/db/empty-file", Fixture, NULL, fixture_setup, test_empty_file, fixture_teardown);
  g_test_add ("/db/damaged-later", Fixture, NULL, fixture_setup, test_damaged_later,
              fixture_teardown);
  g_test_add ("/db/account-has-messages", Fixture, NULL, fixture_setup, test_account_has_messages,
              fixture_teardown);
  g_test_add ("/db/unreadable", Fixture, NULL, fixture_setup, test_unreadable, fixture_teardown);
  g_test_add ("/db/mark", Fixture, NULL, fixture_setup, test_mark, fixture_teardown);
  g_test_add ("/db/uidl-diff", Fixture, NULL, fixture_setup, test_uidl_diff, fixture_teardown);
  g_test_add ("/db/states", Fixture, NULL, fixture_setup, test_states, fixture_teardown);
  g_test_add ("/db/sync-uidls", Fixture, NULL, fixture_setup, test_sync_uidls, fixture_teardown);
  g_test_add ("/db/uidl-merge", Fixture, NULL, fixture_setup, test_uidl_merge, fixture_teardown);
  g_test_add ("/db/prune-left", Fixture, NULL, fixture_setup, test_prune_left, fixture_teardown);
  g_test_add ("/db/concurrent-first-open", Fixture, NULL, fixture_setup, test_concurrent_first_open,
              fixture_teardown);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Crash test: ingest-helper is killed with SIGKILL at random moments, at
 * least 100 times. After every kill, recovery must leave each message in
 * the Maildir at most once, every stored row on an existing file, every
 * file under a stored row, and no pending row; a final complete run must
 * have every message exactly once and an intact database. Every other
 * run makes its files as on a file system without O_TMPFILE (named in
 * tmp/, then renamed), so that both ways, and each recovering after the
 * other, are killed. */

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "bz-store.h"
#include "bz-test-messages.h"

#define N_MESSAGES 300
#define BATCH_SIZE "25"
#define MIN_KILLS 100
#define TARGET_KILLS 150
#define MAX_RUNS 3000

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

static GSubprocess *
spawn_helper (const char *datadir, gboolean named)
{
  g_autoptr (GError) error = NULL;
  const char *helper = g_getenv ("BZ_INGEST_HELPER");
  GSubprocess *proc;

  g_assert_nonnull (helper);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, helper, datadir,
                           G_STRINGIFY (N_MESSAGES), BATCH_SIZE, named ? "named" : NULL, NULL);
  g_assert_no_error (error);
  return proc;
}

static void
scan_dir (const char *dir, GHashTable *files)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  const char *name;

  /* a kill between the mkdir() of new/ and of cur/ leaves no cur/ until
   * the next run makes it: nothing can be in it */
  if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return;
  g_assert_no_error (error);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      char *uidl = bz_test_message_read_uidl (path);

      g_assert_nonnull (uidl);
      /* the same message twice in the Maildir is the failure we hunt */
      if (g_hash_table_contains (files, uidl))
        g_error ("%s is in the Maildir twice: %s and %s", uidl,
                 (char *) g_hash_table_lookup (files, uidl), path);
      g_hash_table_insert (files, uidl, g_steal_pointer (&path));
    }
}

static void
check_integrity (const char *db_path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

/* Recovery, then the invariants; returns the number of stored messages.
 * Now and then plays a mail client moving a file to cur/. */
static guint
verify (const char *datadir, gboolean move_one)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db_path = g_build_filename (datadir, "buzon.db", NULL);
  g_autofree char *maildir = g_build_filename (datadir, "mail", NULL);
  g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
  g_autofree char *cur_dir = g_build_filename (maildir, "cur", NULL);
  g_autoptr (GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GPtrArray) stored = NULL;
  guint counts[BZ_DB_STATE_LAST];

  if (!g_file_test (db_path, G_FILE_TEST_EXISTS))
    return 0;
  db = bz_db_open (db_path, &error);
  g_assert_no_error (error);
  g_assert_true (bz_store_recover (db, "work", maildir, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bz_db_count_states (db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_PENDING], ==, 0);

  stored = bz_db_list_newest (db, "work", 0, &error);
  g_assert_no_error (error);
  g_assert_true (bz_store_refresh_paths (db, stored, &error));
  g_assert_no_error (error);
  if (g_file_test (new_dir, G_FILE_TEST_IS_DIR))
    {
      scan_dir (new_dir, files);
      scan_dir (cur_dir, files);
    }
  /* files and stored rows match one to one */
  g_assert_cmpuint (g_hash_table_size (files), ==, stored->len);
  for (guint i = 0; i < stored->len; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (stored, i);
      g_assert_cmpuint (msg->state, ==, BZ_DB_STATE_STORED);
      g_assert_cmpstr (g_hash_table_lookup (files, msg->uidl), ==, msg->path);
    }
  if (move_one && stored->len > 0)
    {
      BzDbMessage *msg = g_ptr_array_index (stored, g_random_int_range (0, (gint) stored->len));
      g_autofree char *base = g_path_get_basename (msg->path);
      g_autofree char *to = NULL;

      if (strchr (base, ':') == NULL)
        {
          to = g_strdup_printf ("%s/%s:2,S", cur_dir, base);
          g_assert_cmpint (g_rename (msg->path, to), ==, 0);
        }
    }
  g_clear_object (&db);
  check_integrity (db_path);
  return stored->len;
}

static void
test_crash (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bz-test-crash-XXXXXX", &error);
  g_autofree char *calib = g_build_filename (dir, "calibrate", NULL);
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_autoptr (GTimer) timer = g_timer_new ();
  g_autoptr (GSubprocess) first = NULL;
  g_autoptr (GSubprocess) last = NULL;
  double full_run, max_delay;
  guint kills = 0, completed = 0, runs = 0, partial_max = 0;

  g_assert_no_error (error);

  /* how long a complete run takes, so that kills spread over all of it */
  first = spawn_helper (calib, FALSE);
  g_assert_true (g_subprocess_wait_check (first, NULL, &error));
  g_assert_no_error (error);
  full_run = g_timer_elapsed (timer, NULL);
  g_assert_cmpuint (verify (calib, FALSE), ==, N_MESSAGES);
  g_test_message ("a complete run takes %.0f ms", full_run * 1000);
  rm_rf (calib);

  /* A kill that comes too late lets the run finish, and a finished
   * round costs a whole run: shrink the window when that happens. */
  max_delay = full_run;
  g_timer_start (timer);
  /* bounded by the number of runs, not by time: a slower machine only
   * makes each run longer */
  while ((kills < TARGET_KILLS || completed == 0) && runs < MAX_RUNS)
    {
      g_autoptr (GSubprocess) proc = spawn_helper (data, runs % 2 == 1);
      gulong delay_us = (gulong) g_random_double_range (0, max_delay * G_USEC_PER_SEC);
      guint n;

      runs++;
      g_usleep (delay_us);
      g_subprocess_force_exit (proc);
      g_assert_true (g_subprocess_wait (proc, NULL, &error));
      g_assert_no_error (error);
      if (g_subprocess_get_if_signaled (proc))
        {
          kills++;
          n = verify (data, kills % 7 == 0);
          partial_max = MAX (partial_max, n);
          continue;
        }
      /* it finished before the kill: complete, so start a new round */
      g_assert_true (g_subprocess_get_successful (proc));
      g_assert_cmpuint (verify (data, FALSE), ==, N_MESSAGES);
      completed++;
      max_delay = MAX (max_delay * 0.7, 0.005);
      rm_rf (data);
    }
  g_print ("# crash test: %u runs, %u killed (largest partial state %u messages), "
           "%u completed, %.1f s\n",
           runs, kills, partial_max, completed, g_timer_elapsed (timer, NULL));
  g_assert_cmpuint (kills, >=, MIN_KILLS);

  /* and once more to the end */
  last = spawn_helper (data, FALSE);
  g_assert_true (g_subprocess_wait_check (last, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (verify (data, FALSE), ==, N_MESSAGES);
  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/crash", test_crash);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The state and durability promises of DESIGN.md, end to end with the
 * real `buzond --once`: a lost, emptied or damaged buzon.db never makes
 * buzon download again what is in the Maildir; on a slow link a message
 * is durable (in new/ and stored) while the sync still runs; and buzond
 * killed with SIGKILL at random moments with keep = delete loses nothing
 * and stores nothing twice. faultpop serves mailgen messages, so mailgen
 * with the same seed and profile gives the reference copies. */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <utime.h>

#include "sync-test-common.h"

#define SEED 11

/* Message-ID -> checksum of mailgen messages @start .. @start + @n - 1. */
static GHashTable *
reference (SyncCase *c, guint n, guint start, const char *name)
{
  g_autofree char *dir = g_build_filename (c->dir, name, NULL);
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (GError) error = NULL;

  mails = bz_test_mailgen (dir, n, SEED, start, "small", &error);
  g_assert_no_error (error);
  return sync_mails_checksums (mails);
}

static GSubprocess *
faultpop (guint16 *port, const char *messages, const char *log, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;
  va_list ap;
  const char *fixed[] = {
    "--messages", messages,     "--seed", G_STRINGIFY (SEED),  "--profile", "small", "--log",
    log,          "--lifetime", "120",    "--max-connections", "4"
  };

  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (args, (gpointer) fixed[i]);
  va_start (ap, log);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  proc = bz_test_faultpop_startv ((const char *const *) args->pdata, port, &error);
  g_assert_no_error (error);
  return proc;
}

/* RETR commands faultpop received so far (its --log). */
static guint
count_retrs (const char *log)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (log, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    n += g_ascii_strncasecmp (lines[i], "RETR ", 5) == 0;
  return n;
}

static void
assert_contains (const char *text, const char *fragment)
{
  if (text == NULL || strstr (text, fragment) == NULL)
    g_error ("\"%s\" does not say \"%s\"", text != NULL ? text : "(nothing)", fragment);
}

typedef enum
{
  LOSS_DELETED,
  LOSS_EMPTIED,
  LOSS_DAMAGED,
} Loss;

static void
lose_database (SyncCase *c, Loss loss)
{
  g_autofree char *db = sync_case_db_path (c);
  const char *suffixes[] = { "", "-wal", "-shm" };

  switch (loss)
    {
    case LOSS_DELETED:
      for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *path = g_strconcat (db, suffixes[i], NULL);
          g_assert_true (g_unlink (path) == 0 || !g_file_test (path, G_FILE_TEST_EXISTS));
        }
      break;
    case LOSS_EMPTIED:
      g_assert_true (g_file_set_contents (db, "", 0, NULL));
      break;
    case LOSS_DAMAGED:
      {
        g_autofree char *garbage = g_malloc (16384);
        for (guint i = 0; i < 16384; i++)
          garbage[i] = (char) (i * 7 + 3);
        g_assert_true (g_file_set_contents (db, garbage, 16384, NULL));
      }
      break;
    }
}

/* 30 messages synced; the database is lost; a mail client has moved two
 * of them to cur/ with flags meanwhile. The next run downloads nothing
 * (faultpop saw 30 RETRs in all), the Maildir holds each message once,
 * and the database has them all stored again. */
static void
run_lost_database (Loss loss)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) ref = reference (c, 30, 1, "reference");
  g_autofree char *log = g_build_filename (c->dir, "faultpop.log", NULL);
  g_autofree char *maildir = sync_case_maildir (c, "lost");
  g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
  g_autofree char *db = sync_case_db_path (c);
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (SyncRun) r3 = NULL;
  g_autoptr (GDir) dir = NULL;
  g_autofree char *account = NULL;
  const char *name;
  guint16 port = 0;
  guint moved = 0;

  server = faultpop (&port, "30", log, NULL);
  account = sync_case_faultpop_account (c, "lost", port, NULL);
  sync_case_write_config (c, account);
  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_contains (sync_run_summary (r1, "lost"), "lost: 30 new,");
  g_assert_cmpuint (count_retrs (log), ==, 30);

  dir = g_dir_open (new_dir, 0, NULL);
  g_assert_nonnull (dir);
  while (moved < 2 && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *from = g_build_filename (new_dir, name, NULL);
      g_autofree char *to = g_strdup_printf ("%s/cur/%s:2,%s", maildir, name, moved ? "RS" : "S");
      g_assert_cmpint (g_rename (from, to), ==, 0);
      moved++;
    }
  lose_database (c, loss);

  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_contains (sync_run_summary (r2, "lost"), "lost: 0 new,");
  assert_contains (sync_run_summary (r2, "lost"), "30 stored");
  g_assert_cmpuint (count_retrs (log), ==, 30);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, ref), ==, 30);
  g_assert_cmpuint (sync_db_count (c, "lost", BZ_DB_STATE_STORED), ==, 30);
  if (loss == LOSS_DAMAGED)
    {
      g_autofree char *parent = g_path_get_dirname (db);
      g_autoptr (GDir) d = g_dir_open (parent, 0, NULL);
      guint n_aside = 0;

      while ((name = g_dir_read_name (d)) != NULL)
        {
          if (g_str_has_prefix (name, "buzon.db.damaged-") && strchr (name + 17, '-') == NULL)
            {
              g_autofree char *path = g_build_filename (parent, name, NULL);
              GStatBuf st;
              g_assert_cmpint (g_stat (path, &st), ==, 0);
              g_assert_cmpint (st.st_size, ==, 16384);
              n_aside++;
            }
        }
      g_assert_cmpuint (n_aside, ==, 1);
      assert_contains (r2->err, "moved it aside as");
    }

  /* The rebuilt rows are as good as the lost ones: keep = delete removes
   * every message from the server (a rebuilt row must not record a size
   * the server's LIST would never agree with). */
  g_free (account);
  account = sync_case_faultpop_account (c, "lost", port, "keep = delete");
  sync_case_write_config (c, account);
  r3 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_contains (sync_run_summary (r3, "lost"), "lost: 0 new, 30 removed from server,");
  g_assert_cmpuint (count_retrs (log), ==, 30);
  g_subprocess_force_exit (server);
}

static void
test_db_deleted (void)
{
  run_lost_database (LOSS_DELETED);
}

static void
test_db_emptied (void)
{
  run_lost_database (LOSS_EMPTIED);
}

static void
test_db_damaged (void)
{
  run_lost_database (LOSS_DAMAGED);
}

static guint
count_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  if (dir == NULL)
    return 0;
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* A slow link (each RETR answered 1.5 s late): batches close on time, so
 * messages are in new/ and stored while the sync is still running, long
 * before any batch could fill. buzond is then killed with SIGKILL; what
 * it had stored stays, and the next run fetches the rest exactly once.
 * No clock is asserted: only that durable messages appear before the
 * sync ends. */
static void
test_slow_link (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) ref = reference (c, 8, 1, "reference");
  g_autofree char *log = g_build_filename (c->dir, "faultpop.log", NULL);
  g_autofree char *maildir = sync_case_maildir (c, "slow");
  g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *account = NULL;
  guint16 port = 0;
  guint stored = 0, visible = 0;
  gboolean running = TRUE;

  server = faultpop (&port, "8", log, "--retr-delay-ms", "1500", NULL);
  account = sync_case_faultpop_account (c, "slow", port, "timeout = 30");
  sync_case_write_config (c, account);
  proc = sync_case_spawn (c, NULL);
  /* bounded: the sync takes 8 x 1.5 s, the loop ends when it does */
  for (guint i = 0; i < 6000 && running; i++)
    {
      g_usleep (10 * 1000);
      visible = count_dir (new_dir);
      if (visible >= 2)
        {
          stored = sync_db_count (c, "slow", BZ_DB_STATE_STORED);
          if (stored >= 2)
            break;
        }
      running = g_subprocess_get_identifier (proc) != NULL;
    }
  g_assert_nonnull (g_subprocess_get_identifier (proc));
  g_test_message ("%u messages visible and %u stored while the sync ran", visible, stored);
  g_assert_cmpuint (stored, >=, 2);
  g_subprocess_send_signal (proc, SIGKILL);
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (proc));
  /* what was stored before the kill is still stored */
  g_assert_cmpuint (sync_db_count (c, "slow", BZ_DB_STATE_STORED), >=, stored);

  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, ref), ==, 8);
  g_assert_cmpuint (sync_db_count (c, "slow", BZ_DB_STATE_STORED), ==, 8);
  g_subprocess_force_exit (server);
}

/* Message-IDs of the files in new/ and cur/ of @maildir, or NULL when a
 * file vanished while it was read (dovecot renames and expunges as it
 * finishes a session, also after its client was killed). */
static GHashTable *
scan_ids_once (const char *maildir)
{
  g_autoptr (GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *subdirs[] = { "new", "cur" };

  for (guint s = 0; s < G_N_ELEMENTS (subdirs); s++)
    {
      g_autofree char *dir_path = g_build_filename (maildir, subdirs[s], NULL);
      g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
      const char *name;

      if (dir == NULL)
        continue;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir_path, name, NULL);
          g_autofree char *data = NULL;
          const char *id;

          if (!g_file_get_contents (path, &data, NULL, NULL))
            return NULL;
          id = strstr (data, "Message-ID: <");
          g_assert_nonnull (id);
          id += strlen ("Message-ID: <");
          g_hash_table_add (ids, g_strndup (id, strcspn (id, ">")));
        }
    }
  return g_steal_pointer (&ids);
}

static gboolean
same_keys (GHashTable *a, GHashTable *b)
{
  GHashTableIter iter;
  gpointer key;

  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (!g_hash_table_contains (b, key))
        return FALSE;
    }
  return TRUE;
}

/* Message-IDs of what the dovecot user @user still has on the server: two
 * scans in a row that agree (bounded: 200 tries). */
static GHashTable *
server_ids (const char *user)
{
  g_autofree char *maildir =
      g_build_filename (bz_test_env ("BZ_TEST_MAIL_ROOT"), user, "Maildir", NULL);
  g_autoptr (GHashTable) last = NULL;

  for (guint i = 0; i < 200; i++)
    {
      g_autoptr (GHashTable) now = scan_ids_once (maildir);

      if (now != NULL && last != NULL && same_keys (now, last))
        return g_steal_pointer (&now);
      g_clear_pointer (&last, g_hash_table_unref);
      last = g_steal_pointer (&now);
      g_usleep (20 * 1000);
    }
  g_error ("the server's Maildir %s did not settle", maildir);
  return NULL;
}

/* After any kill: no message twice in the Maildir, and every message is
 * still on the server or in the Maildir (a DELE without a stored copy, or
 * a deletion committed for a message not stored, would lose it). */
static void
check_exactly_once (const char *maildir, const char *user, GHashTable *ref)
{
  guint n_local = 0;
  g_autoptr (GHashTable) local = sync_maildir_scan (maildir, &n_local);
  g_autoptr (GHashTable) remote = server_ids (user);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, local);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (((GPtrArray *) value)->len != 1)
        g_error ("%s is in the Maildir %u times", (char *) key, ((GPtrArray *) value)->len);
    }
  g_hash_table_iter_init (&iter, ref);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (!g_hash_table_contains (local, key) && !g_hash_table_contains (remote, key))
        g_error ("%s is neither on the server nor in the Maildir: lost", (char *) key);
    }
}

/* kill -9 of `buzond --once` itself at random moments, keep = delete,
 * against dovecot: after every kill nothing is lost or doubled; a final
 * complete run leaves every message exactly once in the Maildir and none
 * on the server. Bounded: 30 runs at most. */
static void
test_kill_once (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) ref = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *maildir = sync_case_maildir (c, "kill");
  g_autofree char *account = sync_case_dovecot_account (c, "kill", "test5", "keep = delete");
  g_autoptr (SyncRun) last = NULL;
  g_autoptr (GError) error = NULL;
  guint kills = 0, completed = 0, start = 1;
  gdouble window_s = 1.0;

  sync_case_write_config (c, account);
  for (guint run = 0; run < 30; run++)
    {
      g_autoptr (GSubprocess) proc = NULL;
      g_autoptr (GHashTable) remote = server_ids ("test5");

      /* refill the server when a run emptied it */
      if (g_hash_table_size (remote) == 0)
        {
          g_autoptr (GPtrArray) filled = NULL;
          g_autoptr (GHashTable) sums = NULL;
          GHashTableIter iter;
          gpointer key, value;

          g_assert_true (bz_test_fill_user ("test5", 150, SEED, start, "small", &filled, &error));
          g_assert_no_error (error);
          sums = sync_mails_checksums (filled);
          g_hash_table_iter_init (&iter, sums);
          while (g_hash_table_iter_next (&iter, &key, &value))
            g_hash_table_insert (ref, g_strdup (key), g_strdup (value));
          start += 150;
        }
      proc = sync_case_spawn (c, NULL);
      g_usleep ((gulong) g_random_double_range (0, window_s * G_USEC_PER_SEC));
      g_subprocess_send_signal (proc, SIGKILL);
      g_assert_true (g_subprocess_wait (proc, NULL, &error));
      g_assert_no_error (error);
      if (g_subprocess_get_if_signaled (proc))
        kills++;
      else
        {
          g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
          completed++;
          /* it finished before the kill: aim earlier */
          window_s = MAX (window_s * 0.6, 0.02);
        }
      check_exactly_once (maildir, "test5", ref);
    }
  g_test_message ("%u runs killed, %u completed", kills, completed);
  g_assert_cmpuint (kills, >, 0);

  last = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (last->status, ==, 0);
  check_exactly_once (maildir, "test5", ref);
  g_assert_cmpuint (sync_server_count ("test5"), ==, 0);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, ref), ==, g_hash_table_size (ref));
  g_assert_cmpuint (sync_db_count (c, "kill", BZ_DB_STATE_PENDING), ==, 0);
}

static void
assert_no_duplicates (const char *maildir)
{
  guint n = 0;
  g_autoptr (GHashTable) local = sync_maildir_scan (maildir, &n);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, local);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (((GPtrArray *) value)->len != 1)
        g_error ("%s is in the Maildir %u times", (char *) key, ((GPtrArray *) value)->len);
    }
}

/* The same against faultpop, whose RETRs are answered 30 ms late so that
 * kills land between and inside messages: no message twice after any
 * kill; at the end every message is in the Maildir exactly once, and a
 * fresh buzon (its own database and Maildir) finds the server empty:
 * every deletion was of a stored message, and every stored one went. */
static void
test_kill_faultpop (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (SyncCase) probe = sync_case_new ();
  g_autoptr (GHashTable) ref = reference (c, 60, 1, "reference");
  g_autofree char *log = g_build_filename (c->dir, "faultpop.log", NULL);
  g_autofree char *maildir = sync_case_maildir (c, "fp");
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (SyncRun) last = NULL;
  g_autoptr (SyncRun) empty = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *account = NULL;
  g_autofree char *probe_account = NULL;
  guint16 port = 0;
  guint kills = 0;
  gdouble window_s = 1.0;

  server = faultpop (&port, "60", log, "--retr-delay-ms", "30", "--max-connections", "60", NULL);
  account = sync_case_faultpop_account (c, "fp", port, "keep = delete");
  sync_case_write_config (c, account);
  for (guint run = 0; run < 40; run++)
    {
      g_autoptr (GSubprocess) proc = sync_case_spawn (c, NULL);

      g_usleep ((gulong) g_random_double_range (0, window_s * G_USEC_PER_SEC));
      g_subprocess_send_signal (proc, SIGKILL);
      g_assert_true (g_subprocess_wait (proc, NULL, &error));
      g_assert_no_error (error);
      assert_no_duplicates (maildir);
      if (!g_subprocess_get_if_signaled (proc))
        {
          /* it got through: the server is empty, later runs do nothing */
          g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
          break;
        }
      kills++;
    }
  g_test_message ("%u runs killed", kills);
  g_assert_cmpuint (kills, >, 0);

  last = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (last->status, ==, 0);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, ref), ==, 60);
  g_assert_cmpuint (sync_db_count (c, "fp", BZ_DB_STATE_PENDING), ==, 0);

  probe_account = sync_case_faultpop_account (probe, "probe", port, NULL);
  sync_case_write_config (probe, probe_account);
  empty = sync_case_run (probe, NULL, NULL);
  g_assert_cmpint (empty->status, ==, 0);
  assert_contains (sync_run_summary (empty, "probe"), "probe: 0 new,");
  g_subprocess_force_exit (server);
}

/* Another program delivers into the same Maildir: its file in tmp/ (a
 * delivery in progress) survives buzond's recovery, one untouched for more
 * than 36 hours is removed, and so is a leftover of buzon's own. */
static void
test_foreign_tmp (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *log = g_build_filename (c->dir, "faultpop.log", NULL);
  g_autofree char *maildir = sync_case_maildir (c, "shared");
  g_autofree char *tmp_dir = g_build_filename (maildir, "tmp", NULL);
  g_autofree char *fresh = g_build_filename (tmp_dir, "1700000000.4242_0.otherhost", NULL);
  g_autofree char *old = g_build_filename (tmp_dir, "1600000000.4242_1.otherhost", NULL);
  g_autofree char *ours = g_build_filename (
      tmp_dir, "1700000000.M1P1Q1B0123456789abcdef0123456789abcdef.somehost", NULL);
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (SyncRun) r = NULL;
  g_autofree char *account = NULL;
  struct utimbuf times;
  guint16 port = 0;

  g_assert_cmpint (g_mkdir_with_parents (tmp_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (fresh, "Subject: being written\n", -1, NULL));
  g_assert_true (g_file_set_contents (old, "Subject: abandoned\n", -1, NULL));
  g_assert_true (g_file_set_contents (ours, "Subject: half\n", -1, NULL));
  times.actime = times.modtime = (time_t) (g_get_real_time () / G_USEC_PER_SEC - 37 * 3600);
  g_assert_cmpint (utime (old, &times), ==, 0);
  server = faultpop (&port, "3", log, NULL);
  account = sync_case_faultpop_account (c, "shared", port, NULL);
  sync_case_write_config (c, account);
  r = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_contains (sync_run_summary (r, "shared"), "shared: 3 new,");
  g_assert_true (g_file_test (fresh, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (old, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (ours, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_dir (tmp_dir), ==, 1);
  g_subprocess_force_exit (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/state/db-deleted", test_db_deleted);
  g_test_add_func ("/sync/state/db-emptied", test_db_emptied);
  g_test_add_func ("/sync/state/db-damaged", test_db_damaged);
  g_test_add_func ("/sync/state/slow-link", test_slow_link);
  g_test_add_func ("/sync/state/kill-once", test_kill_once);
  g_test_add_func ("/sync/state/foreign-tmp", test_foreign_tmp);
  g_test_add_func ("/sync/state/kill-faultpop", test_kill_faultpop);
  return g_test_run ();
}

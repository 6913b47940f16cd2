/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `buzond --once` against the harness dovecot: what a complete sync stores,
 * the keep policies, max-size, a failing account beside a good one, and
 * memory use on a large message. Each case uses its own dovecot user
 * (dovecot keeps UIDLs and deletions for the whole run). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string.h>

#include <glib/gstdio.h>

#include "sync-test-common.h"

static void
fill (const char *user, guint count, guint start, const char *profile, GHashTable *sources)
{
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (GHashTable) sums = NULL;
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer k, v;

  bz_test_fill_user (user, count, 1, start, profile, &mails, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mails->len, ==, count);
  /* Read now: dovecot may move or delete the files later. */
  sums = sync_mails_checksums (mails);
  g_hash_table_iter_init (&iter, sums);
  while (g_hash_table_iter_next (&iter, &k, &v))
    g_hash_table_insert (sources, g_strdup (k), g_strdup (v));
}

static void
fill_large (const char *user, guint start, guint64 size, GHashTable *sources)
{
  g_autofree char *maildir =
      g_build_filename (bz_test_env ("BZ_TEST_MAIL_ROOT"), user, "Maildir", NULL);
  g_autofree char *start_str = g_strdup_printf ("%u", start);
  g_autofree char *size_str = g_strdup_printf ("%" G_GUINT64_FORMAT, size);
  g_autoptr (GPtrArray) mails =
      sync_mailgen (maildir, "--count", "1", "--seed", "1", "--start", start_str, "--profile",
                    "large", "--size", size_str, NULL);
  g_autoptr (GHashTable) sums = NULL;
  GHashTableIter iter;
  gpointer k, v;

  g_assert_cmpuint (mails->len, ==, 1);
  if (sources == NULL)
    return;
  sums = sync_mails_checksums (mails);
  g_hash_table_iter_init (&iter, sums);
  while (g_hash_table_iter_next (&iter, &k, &v))
    g_hash_table_insert (sources, g_strdup (k), g_strdup (v));
}

static GHashTable *
sources_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* Asserts the summary line of @name starts with @prefix (e.g. "a: 5 new,")
 * and contains every NULL-terminated fragment after it. */
static void
assert_summary (SyncRun *run, const char *name, const char *prefix, ...)
{
  const char *line = sync_run_summary (run, name);
  va_list ap;

  if (line == NULL)
    g_error ("no summary line for %s in:\n%s", name, run->out);
  if (!g_str_has_prefix (line, prefix))
    g_error ("summary \"%s\" does not start with \"%s\"", line, prefix);
  va_start (ap, prefix);
  for (const char *f = va_arg (ap, const char *); f != NULL; f = va_arg (ap, const char *))
    if (strstr (line, f) == NULL)
      g_error ("summary \"%s\" does not say \"%s\"", line, f);
  va_end (ap);
}

static void
assert_summary_lacks (SyncRun *run, const char *name, const char *fragment)
{
  const char *line = sync_run_summary (run, name);

  g_assert_nonnull (line);
  if (strstr (line, fragment) != NULL)
    g_error ("summary \"%s\" should not say \"%s\"", line, fragment);
}

/* 1,000 messages (mostly small, some mixed, some 1 MB), byte-exact;
 * then nothing new; then 5 new. */
static void
test_first_1000 (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = sync_case_dovecot_account (c, "main", "test1", NULL);
  g_autofree char *maildir = sync_case_maildir (c, "main");
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (SyncRun) r3 = NULL;

  fill ("test1", 985, 1, "small", sources);
  fill ("test1", 10, 986, "mixed", sources);
  for (guint k = 996; k <= 1000; k++)
    fill_large ("test1", k, 1024 * 1024, sources);
  g_assert_cmpuint (g_hash_table_size (sources), ==, 1000);
  sync_case_write_config (c, account);

  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_summary (r1, "main", "main: 1000 new,", "1000 stored", NULL);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 1000);
  g_assert_cmpuint (sync_db_count (c, "main", BZ_DB_STATE_STORED), ==, 1000);
  /* keep = forever (the default): the server keeps everything. */
  g_assert_cmpuint (sync_server_count ("test1"), ==, 1000);

  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_summary (r2, "main", "main: 0 new,", "1000 stored", NULL);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 1000);

  fill ("test1", 5, 1001, "small", sources);
  r3 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_summary (r3, "main", "main: 5 new,", "1005 stored", NULL);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 1005);
  g_assert_cmpuint (sync_db_count (c, "main", BZ_DB_STATE_STORED), ==, 1005);
}

static void
test_keep_delete (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = sync_case_dovecot_account (c, "del", "test2", "keep = delete");
  g_autofree char *maildir = sync_case_maildir (c, "del");
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;

  fill ("test2", 50, 1, "small", sources);
  sync_case_write_config (c, account);
  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_summary (r1, "del", "del: 50 new,", "50 removed from server", NULL);
  g_assert_cmpuint (sync_server_count ("test2"), ==, 0);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 50);
  g_assert_cmpuint (sync_db_count (c, "del", BZ_DB_STATE_DELETED), ==, 50);

  /* Deleted messages stay in the Maildir and are not "gone". */
  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_summary (r2, "del", "del: 0 new,", "50 stored", NULL);
  assert_summary_lacks (r2, "del", "removed");
  assert_summary_lacks (r2, "del", "gone");
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 50);
}

/* keep = delete over several batches: the commits overlap the download
 * (one batch commits while the next one fills), and every one of them is
 * done before DELE, so each message is stored once and all are deleted. */
static void
test_keep_delete_batches (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = sync_case_dovecot_account (c, "delb", "test12", "keep = delete");
  g_autofree char *maildir = sync_case_maildir (c, "delb");
  g_autoptr (SyncRun) r1 = NULL;

  fill ("test12", 700, 1, "small", sources);
  sync_case_write_config (c, account);
  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_summary (r1, "delb", "delb: 700 new,", "700 removed from server", NULL);
  g_assert_cmpuint (sync_server_count ("test12"), ==, 0);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 700);
  g_assert_cmpuint (sync_db_count (c, "delb", BZ_DB_STATE_DELETED), ==, 700);
  g_assert_cmpuint (sync_db_count (c, "delb", BZ_DB_STATE_PENDING), ==, 0);
}

/* keep = days:3 with the test clock: only what was stored more than three
 * days before "now" is deleted. */
static void
test_keep_days (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = sync_case_dovecot_account (c, "days", "test3", "keep = days:3");
  g_autofree char *maildir = sync_case_maildir (c, "days");
  /* A clock well away from the real one, so that a sync that ignores it
   * cannot pass by accident. */
  gint64 t0 = g_get_real_time () / G_USEC_PER_SEC - 40 * 24 * 3600;
  g_autofree char *now0 = g_strdup_printf ("%" G_GINT64_FORMAT, t0);
  g_autofree char *now1 = g_strdup_printf ("%" G_GINT64_FORMAT, t0 + 1 * 24 * 3600);
  g_autofree char *now3 = g_strdup_printf ("%" G_GINT64_FORMAT, t0 + 3 * 24 * 3600 + 1);
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (SyncRun) r3 = NULL;
  g_autoptr (SyncRun) r4 = NULL;

  fill ("test3", 10, 1, "small", sources);
  sync_case_write_config (c, account);
  r1 = sync_case_run (c, now0, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_summary (r1, "days", "days: 10 new,", NULL);
  assert_summary_lacks (r1, "days", "removed");
  g_assert_cmpuint (sync_server_count ("test3"), ==, 10);

  fill ("test3", 5, 11, "small", sources);
  /* One day later: nothing is old enough. */
  r2 = sync_case_run (c, now1, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_summary (r2, "days", "days: 5 new,", NULL);
  assert_summary_lacks (r2, "days", "removed");
  g_assert_cmpuint (sync_server_count ("test3"), ==, 15);

  /* Three days and a second after the first sync: its 10 go, the 5 of
   * the second sync (one day younger) stay. */
  r3 = sync_case_run (c, now3, NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_summary (r3, "days", "days: 0 new,", "10 removed from server", NULL);
  g_assert_cmpuint (sync_server_count ("test3"), ==, 5);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 15);

  r4 = sync_case_run (c, now3, NULL);
  g_assert_cmpint (r4->status, ==, 0);
  assert_summary (r4, "days", "days: 0 new,", "15 stored", NULL);
  assert_summary_lacks (r4, "days", "removed");
  g_assert_cmpuint (sync_server_count ("test3"), ==, 5);
}

static void
test_keep_forever (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = sync_case_dovecot_account (c, "fv", "test4", "keep = forever");
  g_autofree char *maildir = sync_case_maildir (c, "fv");
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  gint64 t0 = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *far = g_strdup_printf ("%" G_GINT64_FORMAT, t0 + 3650 * 24 * 3600);

  fill ("test4", 20, 1, "small", sources);
  sync_case_write_config (c, account);
  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_summary (r1, "fv", "fv: 20 new,", NULL);
  assert_summary_lacks (r1, "fv", "removed");
  /* Ten years later, still nothing deleted. */
  r2 = sync_case_run (c, far, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_summary (r2, "fv", "fv: 0 new,", NULL);
  assert_summary_lacks (r2, "fv", "removed");
  g_assert_cmpuint (sync_server_count ("test4"), ==, 20);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 20);
}

static void
test_max_size (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autoptr (GHashTable) small = sources_new ();
  g_autofree char *limited = sync_case_dovecot_account (c, "ms", "test5", "max-size = 100K");
  g_autofree char *raised = sync_case_dovecot_account (c, "ms", "test5", "max-size = 1M");
  g_autofree char *maildir = sync_case_maildir (c, "ms");
  g_autofree char *db_path = sync_case_db_path (c);
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (SyncRun) r3 = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GPtrArray) skipped = NULL;
  g_autoptr (GError) error = NULL;

  fill ("test5", 10, 1, "small", small);
  {
    GHashTableIter iter;
    gpointer k, v;
    g_hash_table_iter_init (&iter, small);
    while (g_hash_table_iter_next (&iter, &k, &v))
      g_hash_table_insert (sources, g_strdup (k), g_strdup (v));
  }
  fill_large ("test5", 11, 200 * 1024, sources);
  fill_large ("test5", 12, 300 * 1024, sources);
  sync_case_write_config (c, limited);

  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_summary (r1, "ms", "ms: 10 new,", "2 skipped (too large)", "10 stored", NULL);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, small), ==, 10);
  g_assert_cmpuint (sync_db_count (c, "ms", BZ_DB_STATE_SKIPPED), ==, 2);

  /* The skipped ones are indexed from TOP 0. */
  db = bz_db_open (db_path, &error);
  g_assert_no_error (error);
  skipped = bz_db_list_skipped (db, "ms", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (skipped->len, ==, 2);
  for (guint i = 0; i < skipped->len; i++)
    {
      BzDbMessage *m = g_ptr_array_index (skipped, i);
      g_assert_true (g_strcmp0 (m->headers.message_id, "bz-11-1@test.buzon") == 0 ||
                     g_strcmp0 (m->headers.message_id, "bz-12-1@test.buzon") == 0);
      g_assert_nonnull (m->headers.subject);
      g_assert_nonnull (m->headers.from);
      g_assert_cmpint (m->headers.date, >, 0);
      g_assert_cmpuint (m->size, >, 100 * 1024);
      g_assert_null (m->path);
    }
  g_clear_object (&db);

  /* Recorded once, not fetched, not reported again. */
  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_summary (r2, "ms", "ms: 0 new,", NULL);
  assert_summary_lacks (r2, "ms", "skipped");
  g_assert_cmpuint (sync_db_count (c, "ms", BZ_DB_STATE_SKIPPED), ==, 2);

  sync_case_write_config (c, raised);
  r3 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_summary (r3, "ms", "ms: 2 new,", "12 stored", NULL);
  assert_summary_lacks (r3, "ms", "skipped");
  g_assert_cmpuint (sync_db_count (c, "ms", BZ_DB_STATE_SKIPPED), ==, 0);
  g_assert_cmpuint (sync_db_count (c, "ms", BZ_DB_STATE_STORED), ==, 12);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 12);
}

/* An account "bad" whose password dovecot refuses. */
static char *
bad_password_account (const char *user)
{
  return g_strdup_printf ("[account bad]\n"
                          "host = localhost\nport = %u\n"
                          "security = none\nuser = %s\nauth = user\n"
                          "password-command = echo wrong-password\n",
                          bz_test_env_port ("BZ_TEST_POP3_PORT"), user);
}

static void
test_two_accounts_bad_password (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *good = sync_case_dovecot_account (c, "good", "test6", NULL);
  g_autofree char *bad = bad_password_account ("test7");
  g_autofree char *conf = g_strconcat (bad, "\n", good, NULL);
  g_autofree char *maildir = sync_case_maildir (c, "good");
  g_autofree char *bad_maildir = sync_case_maildir (c, "bad");
  g_autoptr (SyncRun) r = NULL;
  g_autofree char *bad_line = NULL;
  guint n_bad = 0;
  g_autoptr (GHashTable) bad_ids = NULL;

  fill ("test6", 7, 1, "small", sources);
  {
    g_autoptr (GHashTable) ignored = sources_new ();
    fill ("test7", 3, 100, "small", ignored);
  }
  sync_case_write_config (c, conf);
  r = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 1);
  assert_summary (r, "good", "good: 7 new,", NULL);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 7);
  assert_summary (r, "bad", "bad: ", NULL);
  bad_line = g_ascii_strdown (sync_run_summary (r, "bad"), -1);
  if (strstr (bad_line, "auth") == NULL || strstr (bad_line, "failed (permanent)") == NULL)
    g_error ("the summary of the bad account does not name the cause: %s", bad_line);
  g_assert_null (strstr (bad_line, "wrong-password"));
  bad_ids = sync_maildir_scan (bad_maildir, &n_bad);
  g_assert_cmpuint (n_bad, ==, 0);
  g_assert_cmpuint (sync_server_count ("test7"), ==, 3);
}

/* The database is opened while the session connects; when it cannot be,
 * that is the cause a summary names, not what the session met meanwhile
 * (a refused password here), and nothing is stored or deleted. */
static void
test_database_unusable (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *good = sync_case_dovecot_account (c, "good", "test8", "keep = delete\n");
  g_autofree char *bad = bad_password_account ("test7");
  g_autofree char *conf = g_strconcat (bad, "\n", good, NULL);
  g_autofree char *db_path = sync_case_db_path (c);
  g_autofree char *maildir = sync_case_maildir (c, "good");
  g_autoptr (SyncRun) r = NULL;
  guint n = 0;
  g_autoptr (GHashTable) ids = NULL;

  fill ("test8", 4, 1, "small", sources);
  sync_case_write_config (c, conf);
  /* a folder where the database file belongs: SQLite cannot open it */
  g_assert_cmpint (g_mkdir_with_parents (db_path, 0700), ==, 0);
  r = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r->status, !=, 0);
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i == 0 ? "good" : "bad";
      g_autofree char *line = g_ascii_strdown (sync_run_summary (r, name), -1);

      if (strstr (line, "database") == NULL && strstr (line, "buzon.db") == NULL)
        g_error ("the summary of %s does not name the database: %s", name, line);
      g_assert_null (strstr (line, "auth"));
    }
  ids = sync_maildir_scan (maildir, &n);
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpuint (sync_server_count ("test8"), ==, 4);
}

/* An account whose password-command answers only while a connection to
 * the server is up (@sleep: seconds it takes after that). */
static char *
connected_password_account (SyncCase *c, const char *name, const char *user, const char *sleep)
{
  return g_strdup_printf ("[account %s]\n"
                          "host = localhost\nport = %u\n"
                          "security = none\nuser = %s\nauth = user\ntimeout = 20\n"
                          "password-command = %s %u %s %s\n",
                          name, bz_test_env_port ("BZ_TEST_POP3_PORT"), user,
                          bz_test_env ("BZ_TEST_PASSWORD_WHEN_CONNECTED"),
                          bz_test_env_port ("BZ_TEST_POP3_PORT"), c->password_file, sleep);
}

/* The password is looked up while the session connects, not before: a
 * password-command that answers only once buzond's connection is up lets
 * the sync through. */
static void
test_password_while_connecting (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = connected_password_account (c, "early", "test6", "0");
  g_autofree char *maildir = sync_case_maildir (c, "early");
  g_autoptr (SyncRun) r = NULL;

  fill ("test6", 5, 1, "small", sources);
  sync_case_write_config (c, account);
  r = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_summary (r, "early", "early: 5 new,", NULL);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 5);
}

/* A connection that waited long for its password is not trusted to be
 * open still: the sync connects again, and goes through. */
static void
test_password_slow (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = connected_password_account (c, "slow", "test6", "0.5");
  g_autofree char *maildir = sync_case_maildir (c, "slow");
  g_autoptr (SyncRun) r = NULL;

  fill ("test6", 3, 1, "small", sources);
  sync_case_write_config (c, account);
  g_setenv ("BUZON_TEST_PASSWORD_KEEP_MS", "100", TRUE);
  g_setenv ("G_MESSAGES_DEBUG", "buzon-sync", TRUE);
  r = sync_case_run (c, NULL, NULL);
  g_unsetenv ("BUZON_TEST_PASSWORD_KEEP_MS");
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_assert_cmpint (r->status, ==, 0);
  assert_summary (r, "slow", "slow: 3 new,", NULL);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 3);
  /* GLib writes debug messages to stdout */
  if (strstr (r->out, "connecting again") == NULL && strstr (r->err, "connecting again") == NULL)
    g_error ("no second connection after a slow password: %s%s", r->out, r->err);
}

/* A sync that fails before it needs the password (another process holds
 * the account) stops the password-command it started: nothing of it runs
 * on after buzond has given up. */
static void
test_password_not_needed (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *lock_dir = g_build_filename (c->data_home, "buzon", "locks", NULL);
  g_autofree char *lock_path = g_build_filename (lock_dir, "slow.lock", NULL);
  g_autofree char *marker = g_build_filename (c->dir, "password-command-finished", NULL);
  g_autofree char *account = g_strdup_printf (
      "[account slow]\nhost = localhost\nport = %u\nsecurity = none\nuser = test6\n"
      "auth = user\npassword-command = sleep 4; touch '%s'; cat '%s'\n",
      bz_test_env_port ("BZ_TEST_POP3_PORT"), marker, c->password_file);
  g_autoptr (SyncRun) r = NULL;
  int fd;

  sync_case_write_config (c, account);
  g_assert_cmpint (g_mkdir_with_parents (lock_dir, 0700), ==, 0);
  fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);
  r = sync_case_run (c, NULL, NULL);
  close (fd);
  g_assert_cmpint (r->status, ==, 1);
  assert_summary (r, "slow",
                  "slow: failed (temporary):", "another buzon process is syncing this account",
                  NULL);
  /* buzond waits 2 s for the lock; the command would finish 4 s after
   * it started */
  g_usleep (3 * G_USEC_PER_SEC);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
}

/* A password that cannot be had is the cause a summary names, also when
 * the database cannot be opened either: the lookup used to come first. */
static void
test_password_error_first (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *db_path = sync_case_db_path (c);
  g_autofree char *account =
      g_strdup_printf ("[account nopw]\nhost = localhost\nport = %u\nsecurity = none\n"
                       "user = test6\nauth = user\npassword-command = exit 3\n",
                       bz_test_env_port ("BZ_TEST_POP3_PORT"));
  g_autoptr (SyncRun) r = NULL;
  g_autofree char *line = NULL;

  sync_case_write_config (c, account);
  g_assert_cmpint (g_mkdir_with_parents (db_path, 0700), ==, 0);
  r = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r->status, !=, 0);
  line = g_ascii_strdown (sync_run_summary (r, "nopw"), -1);
  if (strstr (line, "password-command") == NULL)
    g_error ("the summary does not name the password-command: %s", line);
  g_assert_null (strstr (line, "database"));
}

/* A 50 MB message streams to disk: peak RSS stays far below its size. */
static void
test_memory_large_message (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = sync_case_dovecot_account (c, "big", "test8", NULL);
  g_autofree char *maildir = sync_case_maildir (c, "big");
  g_autoptr (SyncRun) r = NULL;
  /* Also under AddressSanitizer, whose overhead is ~10 MB here. */
  const glong limit_kb = 40 * 1024;

  fill_large ("test8", 1, 50 * 1024 * 1024, sources);
  sync_case_write_config (c, account);
  r = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_summary (r, "big", "big: 1 new,", NULL);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 1);
  g_test_message ("peak RSS of buzond syncing one 50 MB message: %ld KiB", r->maxrss_kb);
  g_assert_cmpint (r->maxrss_kb, >, 0);
  g_assert_cmpint (r->maxrss_kb, <, limit_kb);
}

/* A daemon and a `buzond --once` must never sync one account at once: the
 * second's recovery would remove the first's live tmp/ files. Another
 * process holding the account's lock makes the sync fail as busy, and it
 * goes through once the lock is free. */
static void
test_account_busy (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = sync_case_dovecot_account (c, "main", "test11", NULL);
  g_autofree char *maildir = sync_case_maildir (c, "main");
  g_autofree char *lock_dir = g_build_filename (c->data_home, "buzon", "locks", NULL);
  g_autofree char *lock_path = g_build_filename (lock_dir, "main.lock", NULL);
  g_autoptr (SyncRun) busy = NULL;
  g_autoptr (SyncRun) ok = NULL;
  int fd;

  fill ("test11", 20, 1, "small", sources);
  sync_case_write_config (c, account);
  g_assert_cmpint (g_mkdir_with_parents (lock_dir, 0700), ==, 0);
  fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);

  busy = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (busy->status, ==, 1);
  assert_summary (busy, "main",
                  "main: failed (temporary):", "another buzon process is syncing this account",
                  NULL);
  g_assert_cmpuint (sync_db_count (c, "main", BZ_DB_STATE_STORED), ==, 0);

  close (fd);
  ok = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (ok->status, ==, 0);
  assert_summary (ok, "main", "main: 20 new,", NULL);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 20);
}

/* The Maildir's disk fills up during a sync: buzond says which account
 * and why, exits 1, and leaves every stored row with its file and nothing
 * pending or half-written; once there is room, the next run stores the
 * rest, each message once. The Maildir is a 1 MiB tmpfs in a private
 * mount namespace (buzond inherits it; it vanishes with the test). */
static void
test_disk_full (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *mnt = g_build_filename (c->dir, "small-disk", NULL);
  g_autofree char *maildir = g_build_filename (mnt, "df", NULL);
  g_autofree char *extra = g_strdup_printf ("maildir = %s", maildir);
  g_autofree char *account = sync_case_dovecot_account (c, "df", "test8", extra);
  g_autofree char *tmp_dir = g_build_filename (maildir, "tmp", NULL);
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (GDir) tmp = NULL;
  g_autofree char *line = NULL;
  guint n_files = 0, stored;

  if (unshare (CLONE_NEWNS) != 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    {
      g_autofree char *why = g_strdup_printf ("no mount namespace here (%s)", g_strerror (errno));
      bz_test_skip_or_fail (why);
      return;
    }
  g_assert_cmpint (g_mkdir (mnt, 0700), ==, 0);
  if (mount ("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0700") != 0)
    {
      g_autofree char *why = g_strdup_printf ("cannot mount a tmpfs (%s)", g_strerror (errno));
      bz_test_skip_or_fail (why);
      return;
    }
  /* 300 messages of 1-5 KiB take a page or two each: about 2 MiB */
  fill ("test8", 300, 1, "small", sources);
  sync_case_write_config (c, account);

  r1 = sync_case_run (c, NULL, NULL);
  g_test_message ("full disk: status %d\n%s%s", r1->status, r1->out, r1->err);
  g_assert_cmpint (r1->status, ==, 1);
  line = g_strdup (sync_run_summary (r1, "df"));
  g_assert_nonnull (line);
  if (strstr (line, "No space left on device") == NULL)
    g_error ("the summary does not name the cause: %s", line);
  stored = sync_db_count (c, "df", BZ_DB_STATE_STORED);
  g_assert_cmpuint (sync_db_count (c, "df", BZ_DB_STATE_PENDING), ==, 0);
  g_assert_cmpuint (stored, >, 0);
  g_assert_cmpuint (stored, <, 300);
  g_hash_table_unref (sync_maildir_scan (maildir, &n_files));
  g_assert_cmpuint (n_files, ==, stored);
  tmp = g_dir_open (tmp_dir, 0, NULL);
  g_assert_nonnull (tmp);
  g_assert_null (g_dir_read_name (tmp));
  g_assert_cmpuint (sync_server_count ("test8"), ==, 300);

  /* room again: the rest, exactly once */
  g_assert_cmpint (mount (NULL, mnt, NULL, MS_REMOUNT, "size=64m,mode=0700"), ==, 0);
  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  {
    g_autofree char *prefix = g_strdup_printf ("df: %u new,", 300 - stored);
    assert_summary (r2, "df", prefix, NULL);
  }
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 300);
  g_assert_cmpuint (sync_db_count (c, "df", BZ_DB_STATE_STORED), ==, 300);
}

/* Room for fewer messages than a batch holds (512), with the database on
 * the same full disk: the messages written completely before the disk
 * filled are kept (stored), so every run stores some more once a little
 * room is made, and the account gets through; each message once. The
 * whole XDG_DATA_HOME is a 224 KiB tmpfs in a private mount namespace (the
 * database alone takes 72 KiB of it). */
static void
test_disk_full_small (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *mnt = g_build_filename (c->dir, "tiny-disk", NULL);
  g_autofree char *account = sync_case_dovecot_account (c, "tiny", "test9", NULL);
  g_autofree char *maildir = NULL;
  guint stored = 0, runs = 0;

  if (unshare (CLONE_NEWNS) != 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    {
      g_autofree char *why = g_strdup_printf ("no mount namespace here (%s)", g_strerror (errno));
      bz_test_skip_or_fail (why);
      return;
    }
  g_assert_cmpint (g_mkdir (mnt, 0700), ==, 0);
  if (mount ("tmpfs", mnt, "tmpfs", 0, "size=224k,mode=0700") != 0)
    {
      g_autofree char *why = g_strdup_printf ("cannot mount a tmpfs (%s)", g_strerror (errno));
      bz_test_skip_or_fail (why);
      return;
    }
  g_free (c->data_home);
  c->data_home = g_strdup (mnt);
  maildir = sync_case_maildir (c, "tiny");
  /* 1-5 KiB each, a page or two of the tmpfs: about 40 fit */
  fill ("test9", 200, 3, "small", sources);
  sync_case_write_config (c, account);

  /* each run fills the disk, then the test makes room by growing it a
   * little: a run that stored nothing would loop here until the bound */
  while (stored < 200 && runs < 12)
    {
      g_autoptr (SyncRun) r = sync_case_run (c, NULL, NULL);
      g_autofree char *size = NULL;
      guint now_stored = sync_db_count (c, "tiny", BZ_DB_STATE_STORED);

      runs++;
      g_test_message ("run %u: status %d, %u stored", runs, r->status, now_stored);
      g_assert_cmpuint (sync_db_count (c, "tiny", BZ_DB_STATE_PENDING), ==, 0);
      if (now_stored < 200)
        {
          g_assert_cmpint (r->status, ==, 1);
          assert_summary (r, "tiny", "tiny: failed", "No space left on device", NULL);
          /* progress: the complete messages of the batch were kept */
          g_assert_cmpuint (now_stored, >, stored);
        }
      else
        g_assert_cmpint (r->status, ==, 0);
      stored = now_stored;
      size = g_strdup_printf ("size=%uk,mode=0700", 224 + 160 * runs);
      g_assert_cmpint (mount (NULL, mnt, NULL, MS_REMOUNT, size), ==, 0);
    }
  g_assert_cmpuint (stored, ==, 200);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 200);
}

/* Pruning after 30 days (test clock) forgets only rows without a local
 * copy: messages buzon stored and then deleted from the server keep their
 * rows (their files are what ListMessages and the search show), however
 * long ago they left; nothing is fetched twice. */
static void
test_prune_left (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) sources = sources_new ();
  g_autofree char *account = sync_case_dovecot_account (c, "old", "test2", "keep = delete");
  g_autofree char *maildir = sync_case_maildir (c, "old");
  gint64 t0 = g_get_real_time () / G_USEC_PER_SEC - 100 * 24 * 3600;
  gint64 grace = (gint64) BZ_DB_PRUNE_GRACE_DAYS * 24 * 3600;
  g_autofree char *now0 = g_strdup_printf ("%" G_GINT64_FORMAT, t0);
  g_autofree char *now_edge = g_strdup_printf ("%" G_GINT64_FORMAT, t0 + grace);
  g_autofree char *now_after = g_strdup_printf ("%" G_GINT64_FORMAT, t0 + grace + 1);
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (SyncRun) r3 = NULL;
  g_autoptr (SyncRun) r4 = NULL;

  fill ("test2", 20, 1, "small", sources);
  sync_case_write_config (c, account);
  r1 = sync_case_run (c, now0, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_summary (r1, "old", "old: 20 new,", "20 removed from server", NULL);
  g_assert_cmpuint (sync_db_count (c, "old", BZ_DB_STATE_DELETED), ==, 20);

  /* the next sync sees them deleted: their grace period starts */
  r2 = sync_case_run (c, now0, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  g_assert_cmpuint (sync_db_count (c, "old", BZ_DB_STATE_DELETED), ==, 20);

  /* exactly the grace period later: kept */
  fill ("test2", 5, 21, "small", sources);
  r3 = sync_case_run (c, now_edge, NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_summary (r3, "old", "old: 5 new,", "5 removed from server", NULL);
  g_assert_cmpuint (sync_db_count (c, "old", BZ_DB_STATE_DELETED), ==, 25);

  /* a second more: the 20 are past the grace period but have their copy
   * in the Maildir, so they stay known, as stored mail */
  r4 = sync_case_run (c, now_after, NULL);
  g_assert_cmpint (r4->status, ==, 0);
  assert_summary (r4, "old", "old: 0 new,", "25 stored", NULL);
  g_assert_cmpuint (sync_db_count (c, "old", BZ_DB_STATE_DELETED), ==, 25);
  g_assert_cmpuint (sync_server_count ("test2"), ==, 0);
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, sources), ==, 25);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/first-1000", test_first_1000);
  g_test_add_func ("/sync/keep-delete", test_keep_delete);
  g_test_add_func ("/sync/prune-left", test_prune_left);
  g_test_add_func ("/sync/keep-delete-batches", test_keep_delete_batches);
  g_test_add_func ("/sync/keep-days", test_keep_days);
  g_test_add_func ("/sync/keep-forever", test_keep_forever);
  g_test_add_func ("/sync/max-size", test_max_size);
  g_test_add_func ("/sync/two-accounts-bad-password", test_two_accounts_bad_password);
  g_test_add_func ("/sync/database-unusable", test_database_unusable);
  g_test_add_func ("/sync/password-while-connecting", test_password_while_connecting);
  g_test_add_func ("/sync/password-slow", test_password_slow);
  g_test_add_func ("/sync/password-error-first", test_password_error_first);
  g_test_add_func ("/sync/password-not-needed", test_password_not_needed);
  g_test_add_func ("/sync/memory-50mb", test_memory_large_message);
  g_test_add_func ("/sync/account-busy", test_account_busy);
  g_test_add_func ("/sync/disk-full", test_disk_full);
  g_test_add_func ("/sync/disk-full-small", test_disk_full_small);
  return g_test_run ();
}

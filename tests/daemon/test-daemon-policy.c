/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzond's error and request policy (issue 13 item 5, buzond(1) "Retries"):
 * an unexplained login refusal is retried before it counts as a wrong
 * password, an untrusted certificate is retried at a long interval and at
 * once after Reload or a network change, clients' Sync() calls are
 * coalesced to one login per 10 s; and the main loop answers while the
 * start-up recovery waits for the database. Each case runs as its own
 * meson test (-p PATH). */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>

#include "bz-db.h"
#include "daemon-test-common.h"

/* Lines of faultpop's --log that are a login attempt. */
static guint
count_logins (const char *log_path)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (log_path, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "PASS ") || g_str_has_prefix (lines[i], "AUTH ") ||
        g_str_has_prefix (lines[i], "APOP "))
      n++;
  return n;
}

/* NextSync in seconds from now (negative: none, or in the past). */
static gint64
next_sync_in_s (BzDbusAccount *account)
{
  gint64 next = bz_dbus_account_get_next_sync (account);

  return next == 0 ? -1 : next - g_get_real_time () / G_USEC_PER_SEC;
}

/* Every SyncFinished error text of one account, in order. */
static void
collect_error_cb (BzDbusAccount *proxy, gboolean ok, guint new_messages, const char *error,
                  gpointer data)
{
  g_ptr_array_add (data, g_strdup (error));
}

/* --- an unexplained login refusal ---------------------------------------- */

/* "-ERR maildrop locked, try later" at PASS: no [AUTH], so it may be a lock
 * and is retried with the back-off; only the third in a row counts as a
 * wrong password, and even then the account is tried again after the long
 * delay (6 h, scaled to about 6.5 s here). A server that lets us in on the
 * third try just syncs. */
static void
test_login_refused (void)
{
  g_autofree char *log_path = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "locked.log", NULL);
  g_autoptr (GSubprocess) locked_server = NULL;
  g_autoptr (GSubprocess) busy_server = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) locked = NULL;
  g_autoptr (BzDbusAccount) busy = NULL;
  g_autofree char *locked_conf = NULL;
  g_autofree char *busy_conf = NULL;
  g_autofree char *conf = NULL;
  SyncFinishedLog locked_log, busy_log;
  g_autoptr (GPtrArray) locked_errors = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) busy_errors = g_ptr_array_new_with_free_func (g_free);
  guint16 locked_port = 0, busy_port = 0;
  gint64 wait_s;

  locked_server = daemon_test_faultpop (&locked_port, "lk", "--plain-err", "PASS", "0", "--log",
                                        log_path, NULL);
  busy_server = daemon_test_faultpop (&busy_port, "bs", "--plain-err", "PASS", "2", NULL);
  /* interval 1 day: scaled to 26 s, longer than the test */
  locked_conf = daemon_test_account ("locked", "lk", locked_port, 1440, "auth = user");
  busy_conf = daemon_test_account ("busy", "bs", busy_port, 1440, "auth = user");
  conf = g_strconcat (locked_conf, busy_conf, NULL);
  daemon_test_write_config (conf);
  run = daemon_test_start ("BUZON_TEST_BACKOFF_BASE_MS=250", "BUZON_TEST_FIRST_SYNC_DELAY_MS=200",
                           "BUZON_TEST_INTERVAL_SCALE=0.0003", NULL);
  locked = daemon_test_account_proxy (run, "locked");
  busy = daemon_test_account_proxy (run, "busy");
  daemon_test_watch_finished (locked, &locked_log);
  daemon_test_watch_finished (busy, &busy_log);
  g_signal_connect (locked, "sync-finished", G_CALLBACK (collect_error_cb), locked_errors);
  g_signal_connect (busy, "sync-finished", G_CALLBACK (collect_error_cb), busy_errors);

  /* refused twice, then in: retried, and not taken for a wrong password */
  g_assert_true (daemon_test_wait_finished (&busy_log, 3, 20000));
  for (guint i = 0; i < 2; i++)
    {
      const char *e = g_ptr_array_index (busy_errors, i);

      g_test_message ("busy, %u: %s", i + 1, e);
      g_assert_nonnull (strstr (e, "maildrop locked"));
      g_assert_null (strstr (e, "wrong password"));
    }
  g_assert_true (busy_log.ok);
  g_assert_cmpuint (busy_log.new_messages, ==, 5);
  g_assert_cmpstr (bz_dbus_account_get_last_error (busy), ==, "");

  /* always refused: two retries, then it counts as a wrong password */
  g_assert_true (daemon_test_wait_finished (&locked_log, 3, 20000));
  for (guint i = 0; i < 2; i++)
    {
      const char *e = g_ptr_array_index (locked_errors, i);

      g_test_message ("locked, %u: %s", i + 1, e);
      g_assert_nonnull (strstr (e, "maildrop locked"));
      g_assert_null (strstr (e, "wrong password"));
    }
  g_test_message ("locked, 3rd: %s", locked_log.error);
  g_assert_false (locked_log.ok);
  g_assert_nonnull (strstr (locked_log.error, "maildrop locked"));
  g_assert_nonnull (strstr (locked_log.error, "wrong password"));
  g_assert_cmpstr (bz_dbus_account_get_last_error (locked), ==, locked_log.error);
  g_assert_cmpstr (bz_dbus_account_get_state (locked), ==, "error");
  /* no quick retry any more: the long delay (6.5 s), not the back-off */
  wait_s = next_sync_in_s (locked);
  g_test_message ("locked: next sync in %" G_GINT64_FORMAT " s", wait_s);
  g_assert_cmpint (wait_s, >=, 3);
  g_assert_cmpint (wait_s, <=, 10);
  g_assert_cmpuint (count_logins (log_path), ==, 3);
  /* but not dead forever */
  g_assert_true (daemon_test_wait_finished (&locked_log, 4, 30000));
  g_assert_false (locked_log.ok);
  g_assert_cmpuint (count_logins (log_path), ==, 4);

  daemon_test_finished_clear (&locked_log);
  daemon_test_finished_clear (&busy_log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  g_subprocess_force_exit (locked_server);
  g_subprocess_force_exit (busy_server);
}

/* --- an untrusted certificate --------------------------------------------- */

/* faultpop with the harness's certificate, which only the test CA (not in
 * the system's trust store, not in the config) vouches for. */
static char *
untrusted_account (GSubprocess **server)
{
  guint16 port = 0;
  g_autofree char *pw_file = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "tls-pw", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (pw_file, "secret", -1, &error));
  *server =
      daemon_test_faultpop (&port, "tl", "--tls", "--cert", bz_test_env ("BZ_TEST_SERVER_CERT"),
                            "--key", bz_test_env ("BZ_TEST_SERVER_KEY"), NULL);
  return g_strdup_printf ("[account tls]\nhost = localhost\nport = %u\nsecurity = tls\nuser = tl\n"
                          "interval = 1440\npassword-command = cat '%s'\n",
                          port, pw_file);
}

/* Retried at the long TLS delay (6 h, scaled to about 4 s), not never. */
static void
test_tls_retry (void)
{
  g_autoptr (GSubprocess) server = NULL;
  g_autofree char *conf = untrusted_account (&server);
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  SyncFinishedLog log;
  gint64 wait_s;

  daemon_test_write_config (conf);
  run = daemon_test_start ("BUZON_TEST_FIRST_SYNC_DELAY_MS=200", "BUZON_TEST_INTERVAL_SCALE=0.0002",
                           NULL);
  account = daemon_test_account_proxy (run, "tls");
  daemon_test_watch_finished (account, &log);
  g_assert_true (daemon_test_wait_finished (&log, 1, 20000));
  g_test_message ("tls: %s", log.error);
  g_assert_false (log.ok);
  g_assert_nonnull (strstr (log.error, "certificate"));
  wait_s = next_sync_in_s (account);
  g_test_message ("tls: next sync in %" G_GINT64_FORMAT " s", wait_s);
  g_assert_cmpint (wait_s, >=, 2);
  g_assert_cmpint (wait_s, <=, 6);
  g_assert_true (daemon_test_wait_finished (&log, 2, 30000));
  g_assert_false (log.ok);
  daemon_test_finished_clear (&log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  g_subprocess_force_exit (server);
}

/* With the real delay (6 h), Reload() with the same file, and a change of
 * the network, each bring an attempt soon: the user may have installed
 * the CA, or left a network that intercepts TLS. */
static void
test_tls_reload (void)
{
  g_autoptr (GSubprocess) server = NULL;
  g_autofree char *conf = untrusted_account (&server);
  g_autofree char *flag = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "offline", NULL);
  g_autofree char *flag_env = g_strdup_printf ("BUZON_TEST_OFFLINE_FILE=%s", flag);
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  SyncFinishedLog log;

  daemon_test_write_config (conf);
  run = daemon_test_start ("BUZON_TEST_FIRST_SYNC_DELAY_MS=200", flag_env, NULL);
  account = daemon_test_account_proxy (run, "tls");
  daemon_test_watch_finished (account, &log);
  g_assert_true (daemon_test_wait_finished (&log, 1, 20000));
  g_assert_false (log.ok);
  g_assert_nonnull (strstr (log.error, "certificate"));
  g_assert_cmpint (next_sync_in_s (account), >, 3600);

  /* Reload() of an unchanged file */
  g_assert_true (bz_dbus_manager_call_reload_sync (run->manager, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&log, 2, 30000));
  g_assert_false (log.ok);
  g_assert_cmpint (next_sync_in_s (account), >, 3600);

  /* the network changes (here: away and back) */
  g_assert_true (g_file_set_contents (flag, "", 0, &error));
  g_assert_cmpint (g_unlink (flag), ==, 0);
  g_assert_true (daemon_test_wait_finished (&log, 3, 30000));
  g_assert_false (log.ok);
  g_assert_cmpint (next_sync_in_s (account), >, 3600);

  daemon_test_finished_clear (&log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  g_subprocess_force_exit (server);
}

/* --- coalesced requests --------------------------------------------------- */

typedef struct
{
  guint replied;
  guint failed;
} CallCount;

static void
sync_replied_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  CallCount *count = data;
  g_autoptr (GError) error = NULL;

  if (!bz_dbus_account_call_sync_finish (BZ_DBUS_ACCOUNT (source), res, &error))
    count->failed++;
  count->replied++;
}

typedef struct
{
  CallCount *count;
  guint n;
} RepliedWait;

static gboolean
replied_cond (gpointer data)
{
  RepliedWait *w = data;
  return w->count->replied >= w->n;
}

static GVariant *
get_property (DaemonRun *run, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  GVariant *value = NULL;

  /* asked now, not the proxy's cache: PropertiesChanged comes later */
  reply = g_dbus_connection_call_sync (
      run->bus, BZ_DBUS_NAME, "/org/buzon/Agent1/accounts/box", "org.freedesktop.DBus.Properties",
      "Get", g_variant_new ("(ss)", "org.buzon.Agent1.Account", name), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return value;
}

typedef struct
{
  DaemonRun *run;
  SyncFinishedLog *log;
} SettledWait;

/* A sync has finished, none runs and none waits for the pause. */
static gboolean
settled_cond (gpointer data)
{
  SettledWait *w = data;
  g_autoptr (GVariant) next = NULL;
  g_autoptr (GVariant) state = NULL;

  if (w->log->n == 0)
    return FALSE;
  next = get_property (w->run, "NextSync");
  state = get_property (w->run, "State");
  return g_variant_get_int64 (next) == 0 &&
         g_strcmp0 (g_variant_get_string (state, NULL), "idle") == 0;
}

/* 1,000 Sync() calls as fast as the bus takes them: one login for the
 * first, and at most one more when the 10 s pause ends (197 before). */
static void
test_coalesce (void)
{
  g_autofree char *log_path = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "box.log", NULL);
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autofree char *conf = NULL;
  SyncFinishedLog log;
  CallCount count = { 0, 0 };
  SettledWait settled;
  guint16 port = 0;

  server = daemon_test_faultpop (&port, "bx", "--log", log_path, "--max-connections", "1000", NULL);
  conf = daemon_test_account ("box", "bx", port, 0, "auth = user");
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "box");
  daemon_test_watch_finished (account, &log);

  /* ten rounds of a hundred, about a second in all: some come while the
   * first sync runs, some after it */
  for (guint round = 0; round < 10; round++)
    {
      RepliedWait w = { &count, (round + 1) * 100 };

      for (guint i = 0; i < 100; i++)
        bz_dbus_account_call_sync (account, NULL, sync_replied_cb, &count);
      g_assert_true (bz_test_wait_until (replied_cond, &w, 60000));
      g_usleep (100 * 1000);
    }
  g_assert_cmpuint (count.failed, ==, 0);
  g_test_message ("1000 calls answered, %u login(s) so far", count_logins (log_path));
  /* Every call is handled: all joined the first sync, or the later ones
   * wait for the end of the pause (10 s); then nothing more is pending. */
  settled.run = run;
  settled.log = &log;
  g_assert_true (bz_test_wait_until (settled_cond, &settled, 60000));
  g_test_message ("1000 Sync() calls: %u login(s), %u SyncFinished", count_logins (log_path),
                  log.n);
  g_assert_true (log.ok);
  g_assert_cmpuint (count_logins (log_path), >=, 1);
  g_assert_cmpuint (count_logins (log_path), <=, 2);
  /* each sync said SyncFinished (signals already sent may still be on
   * their way to this process) */
  g_assert_true (daemon_test_wait_finished (&log, count_logins (log_path), 10000));
  g_assert_cmpuint (log.n, ==, count_logins (log_path));

  daemon_test_finished_clear (&log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  g_subprocess_force_exit (server);
}

/* --- the main loop during start-up recovery ------------------------------- */

static gboolean
stored_count_is_one (gpointer data)
{
  return bz_dbus_account_get_stored_count (data) == 1;
}

/* Another process holds the database (a long migration or import, here an
 * exclusive lock) while buzond starts: the recovery waits for it in its
 * worker, and the main loop owns the name and answers meanwhile. Before,
 * the main loop opened the database itself and sat in SQLite's busy wait
 * (10 s per account) before it even asked for its name. */
static void
test_startup_responsive (void)
{
  g_autofree char *conf =
      daemon_test_account ("rec", "test2", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autofree char *maildir = daemon_test_maildir ("rec");
  g_autofree char *db_path = g_build_filename (g_get_user_data_dir (), "buzon", "buzon.db", NULL);
  g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
  g_autofree char *cur_dir = g_build_filename (maildir, "cur", NULL);
  g_autofree char *tmp_dir = g_build_filename (maildir, "tmp", NULL);
  g_autofree char *file = g_build_filename (new_dir, "1700000000.M1P1Q1.crashed", NULL);
  static const char message[] = "From: a@example.com\nSubject: left pending\n\nbody\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GVariant) reply = NULL;
  sqlite3 *holder = NULL;

  daemon_test_write_config (conf);
  g_assert_cmpint (g_mkdir_with_parents (new_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (cur_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (tmp_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, message, -1, &error));
  db = bz_db_open (db_path, &error);
  g_assert_no_error (error);
  g_assert_true (bz_db_begin (db, &error));
  g_assert_true (bz_db_add_pending (db, "rec", "uidl-crashed", file, sizeof message - 1, 1700000000,
                                    NULL, &error));
  g_assert_true (bz_db_commit (db, &error));
  g_clear_object (&db);

  /* Nobody else may even read until we close. */
  g_assert_cmpint (sqlite3_open (db_path, &holder), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (holder,
                                 "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; "
                                 "CREATE TABLE IF NOT EXISTS test_lock (x); "
                                 "INSERT INTO test_lock VALUES (1);",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);

  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "rec");
  reply = g_dbus_connection_call_sync (
      run->bus, BZ_DBUS_NAME, "/org/buzon/Agent1/accounts/rec", "org.freedesktop.DBus.Properties",
      "Get", g_variant_new ("(ss)", "org.buzon.Agent1.Account", "State"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  g_assert_no_error (error);
  /* answered while the recovery still waits for the database */
  g_assert_cmpint (daemon_test_log_find (run, "locked"), <, 0);
  g_assert_cmpuint (bz_dbus_account_get_stored_count (account), ==, 0);

  sqlite3_exec (holder, "ROLLBACK", NULL, NULL, NULL);
  g_assert_cmpint (sqlite3_close (holder), ==, SQLITE_OK);
  /* then it finishes */
  g_assert_true (bz_test_wait_until (stored_count_is_one, account, 20000));
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  (void) BZ_DBUS_ERROR;
  g_test_add_func ("/daemon/login-refused", test_login_refused);
  g_test_add_func ("/daemon/tls-retry", test_tls_retry);
  g_test_add_func ("/daemon/tls-reload", test_tls_reload);
  g_test_add_func ("/daemon/coalesce", test_coalesce);
  g_test_add_func ("/daemon/startup-responsive", test_startup_responsive);
  return g_test_run ();
}

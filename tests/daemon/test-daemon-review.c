/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzond defects found in review, each pinned by a case that failed before
 * its fix: a UIDL that is not UTF-8, ListMessages over many moved files,
 * removing a running account on reload, Sync() while offline. Each case
 * runs as its own meson test (-p PATH). */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include "bz-db.h"
#include "daemon-test-common.h"

static char *
db_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "buzon", "buzon.db", NULL);
}

/* --- a UIDL that is not UTF-8 ----------------------------------------------- */

typedef struct
{
  guint n;
  guint bad;
} StoredLog;

static void
odd_stored_cb (BzDbusManager *manager, const char *account, const char *uidl, const char *path,
               const char *from, const char *subject, gint64 date, gpointer data)
{
  StoredLog *log = data;

  log->n++;
  /* the UIDL bz0-K\xe9 arrives as bz0-K followed by U+FFFD */
  if (g_strcmp0 (account, "odd") != 0 || !g_utf8_validate (uidl, -1, NULL) ||
      !g_str_has_prefix (uidl, "bz0-") || !g_str_has_suffix (uidl, "\xef\xbf\xbd") ||
      !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    log->bad++;
}

static void
test_utf8_uidl (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GVariant) list = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *path = db_path ();
  SyncFinishedLog finished;
  StoredLog stored = { 0, 0 };
  guint16 port = 0;

  server = daemon_test_faultpop (&port, "odd", "--messages", "3", "--uidl-suffix-hex", "e9", NULL);
  conf = daemon_test_account ("odd", "odd", port, 0, NULL);
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "odd");
  g_signal_connect (run->manager, "message-stored", G_CALLBACK (odd_stored_cb), &stored);
  daemon_test_watch_finished (account, &finished);

  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&finished, 1, 30000));
  g_test_message ("SyncFinished: ok %d, %u new, \"%s\"", finished.ok, finished.new_messages,
                  finished.error);
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, 3);
  g_assert_cmpuint (stored.n, ==, 3);
  g_assert_cmpuint (stored.bad, ==, 0);

  g_assert_true (
      bz_dbus_manager_call_list_messages_sync (run->manager, "odd", 10, &list, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (list), ==, 3);
  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      g_autoptr (GVariant) m = g_variant_get_child_value (list, i);
      const char *uidl = NULL;
      const char *file = NULL;

      g_assert_true (g_variant_lookup (m, "uidl", "&s", &uidl));
      g_assert_true (g_str_has_prefix (uidl, "bz0-"));
      g_assert_true (g_str_has_suffix (uidl, "\xef\xbf\xbd"));
      g_assert_true (g_variant_lookup (m, "path", "&s", &file));
      g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
    }

  /* the database keeps the server's bytes: the next sync must match them */
  db = bz_db_open (path, &error);
  g_assert_no_error (error);
  rows = bz_db_list_newest (db, "odd", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 3);
  for (guint i = 0; i < rows->len; i++)
    g_assert_true (g_str_has_suffix (((BzDbMessage *) g_ptr_array_index (rows, i))->uidl, "\xe9"));
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_true (daemon_test_wait_finished (&finished, 2, 30000));
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, 0);

  g_assert_false (run->exited);
  g_assert_cmpstr (bz_dbus_manager_get_version (run->manager), ==, BZ_VERSION);
  daemon_test_finished_clear (&finished);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

/* --- ListMessages over files a mail client moved ----------------------------- */

#define MOVED_COUNT 2000

static void
move_all_to_cur (const char *maildir)
{
  g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
  g_autoptr (GDir) dir = g_dir_open (new_dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_assert_cmpuint (names->len, ==, MOVED_COUNT);
  for (guint i = 0; i < names->len; i++)
    {
      const char *base = g_ptr_array_index (names, i);
      g_autofree char *from = g_build_filename (new_dir, base, NULL);
      g_autofree char *cur_name = g_strconcat (base, ":2,S", NULL);
      g_autofree char *to = g_build_filename (maildir, "cur", cur_name, NULL);

      g_assert_cmpint (g_rename (from, to), ==, 0);
    }
}

static void
listed_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GVariant **out = data;
  g_autoptr (GError) error = NULL;

  g_assert_true (
      bz_dbus_manager_call_list_messages_finish (BZ_DBUS_MANAGER (source), out, res, &error));
  g_assert_no_error (error);
}

#define PROBE_COUNT 50

typedef struct
{
  GVariant **list; /* set by listed_cb() */
  guint answered;
  guint before_list; /* answered while the list was not */
} ProbeLog;

static void
probe_get_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  ProbeLog *log = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);

  g_assert_no_error (error);
  log->answered++;
  if (*log->list == NULL)
    log->before_list++;
}

static gboolean
probes_done (gpointer data)
{
  ProbeLog *log = data;

  return log->answered == PROBE_COUNT && *log->list != NULL;
}

static void
test_list_moved (void)
{
  g_autofree char *conf =
      daemon_test_account ("box", "test5", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autofree char *maildir = daemon_test_maildir ("box");
  g_autofree char *path = db_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GVariant) list = NULL;
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GDBusConnection) probe = NULL;
  g_autofree char *address = NULL;
  SyncFinishedLog finished;
  ProbeLog probes = { 0 };

  g_assert_true (bz_test_fill_user ("test5", MOVED_COUNT, 5, 1, "small", NULL, &error));
  g_assert_no_error (error);
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "box");
  daemon_test_watch_finished (account, &finished);
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_true (daemon_test_wait_finished (&finished, 1, 120000));
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, MOVED_COUNT);

  /* a mail client read them all: new/BASE -> cur/BASE:2,S */
  move_all_to_cur (maildir);

  /* The Get calls go on a connection of their own: what is measured is
   * the daemon, not our reading of the large ListMessages reply. */
  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  probe =
      g_dbus_connection_new_for_address_sync (address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  g_assert_no_error (error);
  /* ListMessages first, then the Get calls at once: they are answered
   * before the list, while its scan of the moved files runs off the main
   * loop. Before the fix every Get waited 0.9-1.3 s behind the scan, and
   * all came back after the list. */
  probes.list = &list;
  bz_dbus_manager_call_list_messages (run->manager, "box", 10000, NULL, listed_cb, &list);
  for (guint i = 0; i < PROBE_COUNT; i++)
    g_dbus_connection_call (
        probe, BZ_DBUS_NAME, "/org/buzon/Agent1/accounts/box", "org.freedesktop.DBus.Properties",
        "Get", g_variant_new ("(ss)", "org.buzon.Agent1.Account", "State"), G_VARIANT_TYPE ("(v)"),
        G_DBUS_CALL_FLAGS_NONE, 60000, NULL, probe_get_cb, &probes);
  g_assert_true (bz_test_wait_until (probes_done, &probes, 120000));
  g_test_message ("%u of %u Get calls answered before ListMessages of %u moved files",
                  probes.before_list, PROBE_COUNT, MOVED_COUNT);
  g_assert_cmpuint (probes.before_list, >=, 1);

  g_assert_cmpuint (g_variant_n_children (list), ==, MOVED_COUNT);
  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      g_autoptr (GVariant) m = g_variant_get_child_value (list, i);
      const char *file = NULL;

      g_assert_true (g_variant_lookup (m, "path", "&s", &file));
      g_assert_true (g_str_has_suffix (file, ":2,S"));
      g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
    }
  /* and the index follows the files, so the next call need not search */
  db = bz_db_open (path, &error);
  g_assert_no_error (error);
  rows = bz_db_list_newest (db, "box", 10000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, MOVED_COUNT);
  for (guint i = 0; i < rows->len; i++)
    g_assert_true (
        g_file_test (((BzDbMessage *) g_ptr_array_index (rows, i))->path, G_FILE_TEST_IS_REGULAR));
  daemon_test_finished_clear (&finished);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

/* --- removing a running account on reload ---------------------------------- */

#define BIG_COUNT 2000

/* "big" is served slowly (2 ms a message, 4 s in all) by faultpop, so
 * that its sync is still running when the tests act on it, however fast
 * buzon and the machine are: with dovecot, 2,000 messages once took
 * longer than the 300 ms these tests wait, and no longer do. */
static GSubprocess *
start_big_server (guint16 *port)
{
  return daemon_test_faultpop (port, "big", "--messages", G_STRINGIFY (BIG_COUNT),
                               "--retr-delay-ms", "2", NULL);
}

static char *
two_accounts (guint16 big_port, guint16 port, gboolean with_big)
{
  g_autofree char *big = daemon_test_account ("big", "big", big_port, 0, NULL);
  g_autofree char *small = daemon_test_account ("small", "test7", port, 0, NULL);

  return g_strconcat ("[general]\nmax-parallel = 1\n", with_big ? big : "", small, NULL);
}

static gboolean
syncing_cond (gpointer data)
{
  guint done = 0, total = 0;
  GVariant *p = bz_dbus_account_get_progress (data);

  if (p != NULL)
    g_variant_get (p, "(uu)", &done, &total);
  return g_strcmp0 (bz_dbus_account_get_state (data), "syncing") == 0 && done >= 50;
}

/* No pending row left behind and every stored row has its file. */
static void
assert_settled (const char *account, guint *stored_out)
{
  g_autofree char *path = db_path ();
  g_autofree char *maildir = daemon_test_maildir (account);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (path, &error);
  guint counts[BZ_DB_STATE_LAST] = { 0 };

  g_assert_no_error (error);
  g_assert_true (bz_db_count_states (db, account, counts, &error));
  g_assert_no_error (error);
  g_test_message ("%s: %u pending, %u stored, %u files", account, counts[BZ_DB_STATE_PENDING],
                  counts[BZ_DB_STATE_STORED], daemon_test_count_files (maildir));
  g_assert_cmpuint (counts[BZ_DB_STATE_PENDING], ==, 0);
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, daemon_test_count_files (maildir));
  if (stored_out != NULL)
    *stored_out = counts[BZ_DB_STATE_STORED];
}

/* max-parallel = 1: "small" waits for the slot of "big"; a reload removes
 * "big" mid-download. Its sync still runs to a safe point, and only then
 * may "small" start. */
static void
test_reload_running (void)
{
  guint16 port = bz_test_env_port ("BZ_TEST_POP3_PORT");
  guint16 big_port = 0;
  g_autoptr (GSubprocess) server = start_big_server (&big_port);
  g_autofree char *conf = two_accounts (big_port, port, TRUE);
  g_autofree char *conf2 = two_accounts (big_port, port, FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) big = NULL;
  g_autoptr (BzDbusAccount) small = NULL;
  SyncFinishedLog finished;
  guint stored = 0;

  g_assert_true (bz_test_fill_user ("test7", 5, 7, 1, "small", NULL, &error));
  g_assert_no_error (error);
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  big = daemon_test_account_proxy (run, "big");
  small = daemon_test_account_proxy (run, "small");
  daemon_test_watch_finished (small, &finished);
  g_assert_true (bz_dbus_account_call_sync_sync (big, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bz_test_wait_until (syncing_cond, big, 30000));
  g_assert_true (bz_dbus_account_call_sync_sync (small, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (daemon_test_wait_finished (&finished, 1, 300));
  g_assert_cmpstr (bz_dbus_account_get_state (small), ==, "idle");

  daemon_test_write_config (conf2);
  g_assert_true (bz_dbus_manager_call_reload_sync (run->manager, NULL, &error));
  g_assert_no_error (error);
  /* the slot comes free when the removed sync has really ended */
  g_assert_true (daemon_test_wait_finished (&finished, 1, 30000));
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, 5);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  assert_settled ("big", &stored);
  g_assert_cmpuint (stored, <, BIG_COUNT);
  assert_settled ("small", NULL);
  daemon_test_finished_clear (&finished);
  g_subprocess_force_exit (server);
  g_assert_true (g_subprocess_wait (server, NULL, NULL));
}

/* SIGTERM right after such a reload waits for the removed account's sync
 * too: nothing is left half-done, and a restart stores the rest once. */
static void
test_reload_sigterm (void)
{
  guint16 big_port = 0;
  g_autoptr (GSubprocess) server = start_big_server (&big_port);
  g_autofree char *account = daemon_test_account ("big", "big", big_port, 0, NULL);
  g_autofree char *conf = g_strconcat ("[general]\nmax-parallel = 1\n", account, NULL);
  const char *conf2 = "[general]\nmax-parallel = 1\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (DaemonRun) again = NULL;
  g_autoptr (BzDbusAccount) big = NULL;
  SyncFinishedLog finished;
  guint stored = 0;
  gssize ended, exit_at;

  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  big = daemon_test_account_proxy (run, "big");
  g_assert_true (bz_dbus_account_call_sync_sync (big, NULL, &error));
  g_assert_true (bz_test_wait_until (syncing_cond, big, 30000));
  daemon_test_write_config (conf2);
  g_assert_true (bz_dbus_manager_call_reload_sync (run->manager, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_stop (run, SIGTERM, 10000));
  /* the removed sync ended (cancelled at a safe point) before the exit */
  ended = daemon_test_log_find (run, "big: sync failed");
  exit_at = daemon_test_log_find (run, "exiting with status 0");
  g_test_message ("log offsets: big's end %" G_GSSIZE_FORMAT ", exit %" G_GSSIZE_FORMAT, ended,
                  exit_at);
  g_assert_cmpint (exit_at, >=, 0);
  g_assert_cmpint (ended, >=, 0);
  g_assert_cmpint (ended, <, exit_at);
  assert_settled ("big", &stored);
  g_test_message ("%u of %u stored before SIGTERM", stored, BIG_COUNT);
  g_clear_object (&big);

  /* back in the config: the rest, exactly once */
  daemon_test_write_config (conf);
  again = daemon_test_start (NULL);
  big = daemon_test_account_proxy (again, "big");
  daemon_test_watch_finished (big, &finished);
  g_assert_true (bz_dbus_account_call_sync_sync (big, NULL, &error));
  g_assert_true (daemon_test_wait_finished (&finished, 1, 120000));
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, BIG_COUNT - stored);
  g_assert_true (daemon_test_stop (again, SIGTERM, 5000));
  assert_settled ("big", &stored);
  g_assert_cmpuint (stored, ==, BIG_COUNT);
  daemon_test_finished_clear (&finished);
  g_subprocess_force_exit (server);
  g_assert_true (g_subprocess_wait (server, NULL, NULL));
}

/* --- Sync() while offline ------------------------------------------------------ */

static gboolean
exited_cond (gpointer data)
{
  return *(gboolean *) data;
}

static void
ctl_exited_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  *(gboolean *) data = TRUE;
}

static void
test_sync_offline (void)
{
  g_autofree char *flag = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "offline", NULL);
  g_autofree char *env = g_strdup_printf ("BUZON_TEST_OFFLINE_FILE=%s", flag);
  /* a name that never resolves (RFC 2606): offline matters for it */
  const char *conf = "[account far]\nhost = pop.buzon.invalid\nuser = u\ninterval = 0\n"
                     "password-command = echo x\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) far = NULL;
  g_autoptr (GSubprocess) ctl = NULL;
  SyncFinishedLog log;
  gboolean ctl_exited = FALSE;
  gint64 t0;

  g_assert_true (g_file_set_contents (flag, "", 0, &error));
  daemon_test_write_config (conf);
  run = daemon_test_start (env, NULL);
  far = daemon_test_account_proxy (run, "far");
  daemon_test_watch_finished (far, &log);
  g_assert_false (bz_dbus_manager_get_online (run->manager));
  g_assert_cmpstr (bz_dbus_account_get_state (far), ==, "offline");

  /* Sync(): the answer comes at once, the sync waits for the network */
  t0 = g_get_monotonic_time ();
  g_assert_true (bz_dbus_account_call_sync_sync (far, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&log, 1, 30000));
  g_test_message ("SyncFinished after %.1f ms: %s", (g_get_monotonic_time () - t0) / 1000.0,
                  log.error);
  g_assert_false (log.ok);
  g_assert_cmpuint (log.new_messages, ==, 0);
  g_assert_true (g_str_has_prefix (log.error, "far: offline: "));
  g_assert_cmpstr (bz_dbus_account_get_state (far), ==, "offline");
  g_assert_cmpstr (bz_dbus_account_get_last_error (far), ==, "");

  /* SyncAll() too */
  g_assert_true (bz_dbus_manager_call_sync_all_sync (run->manager, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&log, 2, 30000));
  g_assert_false (log.ok);

  /* buzonctl sync --wait does not hang: it reports the failure */
  t0 = g_get_monotonic_time ();
  ctl = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                          bz_test_env ("BZ_TEST_BUZONCTL"), "sync", "far", "--wait", NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (ctl, NULL, ctl_exited_cb, &ctl_exited);
  if (!bz_test_wait_until (exited_cond, &ctl_exited, 10000))
    {
      g_subprocess_force_exit (ctl);
      bz_test_wait_until (exited_cond, &ctl_exited, 5000);
      g_assert_not_reached ();
    }
  g_test_message ("buzonctl sync --wait: %.1f ms", (g_get_monotonic_time () - t0) / 1000.0);
  g_assert_true (g_subprocess_get_if_exited (ctl));
  g_assert_cmpint (g_subprocess_get_exit_status (ctl), ==, 1);
  g_assert_true (daemon_test_wait_finished (&log, 3, 30000));
  g_assert_cmpstr (bz_dbus_account_get_state (far), ==, "offline");

  /* the network is back: the sync that was asked for runs (and fails: the
   * name does not resolve), without being asked again */
  g_assert_cmpint (g_unlink (flag), ==, 0);
  g_assert_true (daemon_test_wait_finished (&log, 4, 15000));
  g_assert_false (log.ok);
  g_assert_null (strstr (log.error, "offline"));
  g_assert_false (daemon_test_wait_finished (&log, 5, 500));
  daemon_test_finished_clear (&log);
  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  (void) BZ_DBUS_ERROR;
  g_test_add_func ("/daemon/utf8-uidl", test_utf8_uidl);
  g_test_add_func ("/daemon/list-moved", test_list_moved);
  g_test_add_func ("/daemon/reload-running", test_reload_running);
  g_test_add_func ("/daemon/reload-sigterm", test_reload_sigterm);
  g_test_add_func ("/daemon/sync-offline", test_sync_offline);
  return g_test_run ();
}

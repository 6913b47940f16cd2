/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every buzonctl command against a running buzond, on a private bus with
 * a real gnome-keyring-daemon and dovecot: tables, --json parsed by
 * Python, sync --wait exit codes, watch, the set-password hint after
 * forget-password, set-password making the daemon sync, and no password in the daemon's log, the database or
 * the bus. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "bz-ctl-test-util.h"
#include "bz-test-util.h"

#define WRONG_PASSWORD "Wr0ng-Qz9k p4ss"
#define WATCH_MS 30000

static char *config_path;
static char *data_dir;

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("\"%s\" not found in:\n%s", needle, haystack);
}

static void
set_password (const char *account, const char *password)
{
  g_autofree char *input = g_strdup_printf ("%s\n", password);
  g_autoptr (CtlResult) r =
      ctl_run_input (input, "set-password", "--config", config_path, account, NULL);
  g_assert_cmpint (r->status, ==, 0);
}

/* status --json, evaluated by Python */
static char *
status_eval (const char *expr)
{
  g_autoptr (CtlResult) r = ctl_run ("status", "--json", NULL);

  g_assert_cmpint (r->status, ==, 0);
  return ctl_json_eval (r->out, expr);
}

static void
test_status (void)
{
  g_autoptr (CtlResult) table = ctl_run ("status", NULL);
  g_autofree char *names = status_eval ("[a['name'] for a in d['accounts']]");
  g_autofree char *version = status_eval ("d['version']");
  g_autofree char *d1 = status_eval ("[(a['state'], a['last_sync'], a['stored_count'], "
                                     "a['host'], a['user'], a['enabled']) "
                                     "for a in d['accounts'] if a['name'] == 'd1'][0]");
  g_autofree char *off = status_eval ("[(a['state'], a['enabled']) for a in d['accounts'] "
                                      "if a['name'] == 'off'][0]");

  g_assert_cmpint (table->status, ==, 0);
  assert_contains (table->out, "ACCOUNT");
  assert_contains (table->out, "LAST SYNC");
  assert_contains (table->out, "NEXT SYNC");
  assert_contains (table->out, "never");
  for (const char *n = "bad\0d1\0d2\0off\0"; *n != '\0'; n += strlen (n) + 1)
    assert_contains (table->out, n);
  g_assert_cmpstr (names, ==, "['bad', 'd1', 'd2', 'off']");
  g_assert_cmpstr (version, ==, BZ_VERSION);
  g_assert_cmpstr (d1, ==, "('idle', 0, 0, 'localhost', 'test4', True)");
  g_assert_cmpstr (off, ==, "('disabled', False)");
}

static void
test_sync_wait_ok (void)
{
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CtlResult) sync = NULL;
  g_autoptr (CtlResult) table = NULL;
  g_autofree char *d1 = NULL;

  g_assert_true (bz_test_fill_user ("test4", 4, 71, 1, "small", &mails, &error));
  g_assert_no_error (error);
  sync = ctl_run ("sync", "d1", "--wait", NULL);
  g_assert_cmpint (sync->status, ==, 0);
  assert_contains (sync->out, "d1: synced, 4 new messages");
  /* not a terminal: no progress bar escapes */
  g_assert_null (strchr (sync->out, '\r'));
  g_assert_null (strchr (sync->out, '\033'));

  d1 = status_eval ("[(a['state'], a['last_sync'] > 0, a['stored_count'], a['last_error']) "
                    "for a in d['accounts'] if a['name'] == 'd1'][0]");
  g_assert_cmpstr (d1, ==, "('idle', True, 4, '')");
  table = ctl_run ("status", NULL);
  assert_contains (table->out, "just now");
}

static void
test_messages (void)
{
  const char *json_argv[] = { bz_test_env ("BZ_CTL_BUZONCTL"), "messages", "--json", NULL };
  const char *const c_locale[] = { "LC_ALL=C", NULL };
  /* JSON is UTF-8 even in the C locale */
  g_autoptr (CtlResult) all = ctl_run_full (json_argv, NULL, c_locale);
  g_autoptr (CtlResult) two = ctl_run ("messages", "d1", "--limit", "2", "--json", NULL);
  g_autoptr (CtlResult) table = ctl_run ("messages", NULL);
  g_autoptr (CtlResult) unknown = ctl_run ("messages", "nosuch", NULL);
  g_autoptr (CtlResult) bad_limit = ctl_run ("messages", "--limit", "0", NULL);
  g_autofree char *count = NULL;
  g_autofree char *ids = NULL;
  g_autofree char *fields = NULL;
  g_autofree char *files = NULL;
  g_autofree char *newest_first = NULL;
  g_autofree char *count2 = NULL;
  g_autofree char *utf8 = NULL;

  g_assert_cmpint (all->status, ==, 0);
  count = ctl_json_eval (all->out, "len(d)");
  g_assert_cmpstr (count, ==, "4");
  ids = ctl_json_eval (all->out, "sorted(m['message-id'] for m in d)");
  g_assert_cmpstr (ids, ==,
                   "['bz-1-71@test.buzon', 'bz-2-71@test.buzon', "
                   "'bz-3-71@test.buzon', 'bz-4-71@test.buzon']");
  fields =
      ctl_json_eval (all->out, "all(m['account'] == 'd1' and m['from'] and m['subject'] "
                               "and m['date'] > 0 and m['size'] > 0 and m['uidl'] for m in d)");
  g_assert_cmpstr (fields, ==, "True");
  files = ctl_json_eval (all->out, "all(__import__('os').path.isfile(m['path']) for m in d)");
  g_assert_cmpstr (files, ==, "True");
  /* mailgen's RFC 2047 subjects decode to non-ASCII text, which must
   * come out as it is */
  utf8 = ctl_json_eval (all->out, "'Caf\\u00e9 cr\\u00e8me n\\u00b02 \\u00e0 Gen\\u00e8ve' "
                                  "in [m['subject'] for m in d]");
  g_assert_cmpstr (utf8, ==, "True");
  newest_first = ctl_json_eval (all->out, "[m['date'] for m in d] == "
                                          "sorted([m['date'] for m in d], reverse=True)");
  g_assert_cmpstr (newest_first, ==, "True");

  g_assert_cmpint (two->status, ==, 0);
  count2 = ctl_json_eval (two->out, "len(d)");
  g_assert_cmpstr (count2, ==, "2");

  g_assert_cmpint (table->status, ==, 0);
  assert_contains (table->out, "DATE");
  assert_contains (table->out, "SUBJECT");
  assert_contains (table->out, data_dir);
  g_assert_cmpint (unknown->status, ==, 2);
  assert_contains (unknown->err, "nosuch");
  g_assert_cmpint (bad_limit->status, ==, 2);
}

static void
test_sync_wait_fail (void)
{
  g_autoptr (CtlResult) bad = ctl_run ("sync", "bad", "--wait", NULL);
  g_autoptr (CtlResult) off = ctl_run ("sync", "off", "--wait", NULL);
  g_autoptr (CtlResult) unknown = ctl_run ("sync", "nosuch", NULL);
  g_autofree char *state = NULL;

  /* the server refuses the password: a failed sync, exit 1 */
  g_assert_cmpint (bad->status, ==, 1);
  assert_contains (bad->out, "bad: sync failed:");
  state = status_eval ("[(a['state'], a['last_error'] != '') for a in d['accounts'] "
                       "if a['name'] == 'bad'][0]");
  g_assert_cmpstr (state, ==, "('error', True)");
  g_assert_cmpint (off->status, ==, 1);
  assert_contains (off->err, "off");
  g_assert_cmpint (unknown->status, ==, 2);
  assert_contains (unknown->err, "no account named \"nosuch\"");
}

static void
test_forget_then_sync (void)
{
  g_autoptr (CtlResult) first = NULL;
  g_autoptr (CtlResult) forget = NULL;
  g_autoptr (CtlResult) second = NULL;
  g_autofree char *d2 = NULL;

  /* stored while buzond runs: it reads the keyring at sync time */
  set_password ("d2", bz_test_env ("BZ_TEST_PASSWORD"));
  first = ctl_run ("sync", "d2", "--wait", NULL);
  g_assert_cmpint (first->status, ==, 0);
  forget = ctl_run ("forget-password", "--config", config_path, "d2", NULL);
  g_assert_cmpint (forget->status, ==, 0);
  second = ctl_run ("sync", "d2", "--wait", NULL);
  g_assert_cmpint (second->status, ==, 1);
  assert_contains (second->out, "buzonctl set-password d2");
  d2 = status_eval ("[(a['state'], 'buzonctl set-password d2' in a['last_error']) "
                    "for a in d['accounts'] if a['name'] == 'd2'][0]");
  g_assert_cmpstr (d2, ==, "('error', True)");
}

typedef struct
{
  GDataInputStream *in;
  GString *text;
  gboolean eof;
} WatchOutput;

static void
watch_line_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  WatchOutput *w = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (w->in, res, NULL, NULL);

  if (line == NULL)
    {
      w->eof = TRUE;
      return;
    }
  g_string_append_printf (w->text, "%s\n", line);
  g_data_input_stream_read_line_async (w->in, G_PRIORITY_DEFAULT, NULL, watch_line_cb, w);
}

static const char *watch_needle;

static gboolean
watch_has (gpointer data)
{
  WatchOutput *w = data;
  return w->eof || strstr (w->text->str, watch_needle) != NULL;
}

static void
watch_wait_for (WatchOutput *w, const char *needle)
{
  watch_needle = needle;
  if (!ctl_wait (watch_has, w, WATCH_MS) || strstr (w->text->str, needle) == NULL)
    g_error ("watch did not print \"%s\"; it printed:\n%s", needle, w->text->str);
}

static gboolean
proc_done (gpointer data)
{
  return g_subprocess_get_identifier (data) == NULL;
}

static void
test_watch (void)
{
  g_autoptr (GSubprocess) watch = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (CtlResult) sync = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  WatchOutput w = { 0 };

  watch = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, bz_test_env ("BZ_CTL_BUZONCTL"),
                            "watch", NULL);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (watch));
  w.in = in;
  w.text = text;
  g_data_input_stream_read_line_async (in, G_PRIORITY_DEFAULT, NULL, watch_line_cb, &w);
  watch_wait_for (&w, "watching 4 accounts");

  g_assert_true (bz_test_fill_user ("test4", 2, 71, 5, "small", &mails, &error));
  g_assert_no_error (error);
  sync = ctl_run ("sync", "d1", NULL);
  g_assert_cmpint (sync->status, ==, 0);
  assert_contains (sync->out, "sync of d1 started");

  watch_wait_for (&w, "d1: sync finished, 2 new messages");
  assert_contains (text->str, "d1: sync started");
  assert_contains (text->str, "d1: new message from ");
  /* one line per stored message */
  g_assert_nonnull (
      strstr (strstr (text->str, "d1: new message from ") + 1, "d1: new message from "));

  g_subprocess_send_signal (watch, SIGTERM);
  g_assert_true (ctl_wait (proc_done, watch, 10000));
  g_assert_true (g_subprocess_get_if_exited (watch));
  g_assert_cmpint (g_subprocess_get_exit_status (watch), ==, 0);
  /* the last read ends (EOF) before @w leaves the stack: otherwise its
   * callback runs in a later test's main loop, on a dead @w */
  watch_needle = "\001never printed";
  g_assert_true (ctl_wait (watch_has, &w, WATCH_MS));
  g_assert_true (w.eof);
}

static void
test_sync_wait_tty (void)
{
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CtlResult) r = NULL;

  g_assert_true (bz_test_fill_user ("test4", 3, 71, 7, "small", &mails, &error));
  g_assert_no_error (error);
  r = ctl_run_tty (NULL, "sync", "d1", "--wait", NULL);
  g_assert_cmpint (r->status, ==, 0);
  /* a bar redrawn in place, then the result on a cleaned line */
  assert_contains (r->out, "\r\033[K");
  assert_contains (r->out, "d1 [");
  assert_contains (r->out, "d1: synced, 3 new messages");
  g_assert_null (strstr (r->out, "d1: 0/3 messages"));
}

static void
test_sync_all (void)
{
  g_autoptr (CtlResult) r = NULL;

  set_password ("d2", bz_test_env ("BZ_TEST_PASSWORD"));
  /* d1 and d2 succeed, bad fails: the whole run fails */
  r = ctl_run ("sync", "--wait", NULL);
  g_assert_cmpint (r->status, ==, 1);
  assert_contains (r->out, "d1: synced, 0 new messages");
  assert_contains (r->out, "d2: synced");
  assert_contains (r->out, "bad: sync failed");
  g_assert_null (strstr (r->out, "off:"));
}

/* set-password asks a running buzond to sync the account: the wrong
 * password it had ([AUTH]: no automatic retry) is fixed now. */
static void
test_set_password_syncs (void)
{
  g_autofree char *before = status_eval ("[a['state'] for a in d['accounts'] "
                                         "if a['name'] == 'bad'][0]");
  gboolean synced = FALSE;

  g_assert_cmpstr (before, ==, "error");
  set_password ("bad", bz_test_env ("BZ_TEST_PASSWORD"));
  for (guint i = 0; i < 120 && !synced; i++)
    {
      g_autofree char *bad = status_eval ("[(a['state'], a['last_error']) for a in d['accounts'] "
                                          "if a['name'] == 'bad'][0]");

      synced = g_strcmp0 (bad, "('idle', '')") == 0;
      if (!synced)
        g_usleep (250 * 1000);
    }
  g_assert_true (synced);
}

static void
test_no_leak (gconstpointer user_data)
{
  GSubprocess *monitor = (GSubprocess *) user_data;
  const char *monitor_log = g_object_get_data (G_OBJECT (monitor), "log");
  GSubprocess *daemon = g_object_get_data (G_OBJECT (monitor), "daemon");
  g_autofree char *db = g_build_filename (data_dir, "buzon.db", NULL);
  g_autofree char *wal = g_build_filename (data_dir, "buzon.db-wal", NULL);
  g_autofree char *log = NULL;
  g_autofree char *bus = NULL;
  const char *const secrets[] = { bz_test_env ("BZ_TEST_PASSWORD"), WRONG_PASSWORD };

  /* a clean SIGTERM first, so the log and the database are complete */
  ctl_daemon_stop (daemon);
  g_subprocess_send_signal (monitor, SIGTERM);
  g_assert_true (g_file_get_contents (ctl_daemon_log_path (), &log, NULL, NULL));
  assert_contains (log, "keyring entry of schema org.buzon.Password");
  g_assert_true (g_file_get_contents (monitor_log, &bus, NULL, NULL));
  assert_contains (bus, "GetSecrets");
  assert_contains (bus, "PropertiesChanged");
  g_assert_true (g_file_test (db, G_FILE_TEST_EXISTS));
  for (gsize i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      ctl_assert_file_lacks (ctl_daemon_log_path (), secrets[i], FALSE);
      ctl_assert_file_lacks (monitor_log, secrets[i], FALSE);
      ctl_assert_file_lacks (db, secrets[i], FALSE);
      ctl_assert_file_lacks (wal, secrets[i], TRUE);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GSubprocess) monitor = NULL;
  g_autoptr (GSubprocess) daemon = NULL;
  g_autofree char *config = NULL;
  g_autofree char *monitor_log = NULL;
  guint16 port;
  int status;

  g_test_init (&argc, &argv, NULL);
  data_dir = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "data", NULL);
  port = bz_test_env_port ("BZ_TEST_POP3_PORT");
  config = g_strdup_printf ("[general]\ndata-dir = %s\n\n"
                            "[account d1]\nhost = localhost\nport = %u\nsecurity = none\n"
                            "user = test4\ninterval = 0\n\n"
                            "[account d2]\nhost = localhost\nport = %u\nsecurity = none\n"
                            "user = test5\ninterval = 0\n\n"
                            "[account bad]\nhost = localhost\nport = %u\nsecurity = none\n"
                            "user = test6\ninterval = 0\n\n"
                            "[account off]\nhost = localhost\nport = %u\nsecurity = none\n"
                            "user = test7\ninterval = 0\nenabled = false\n",
                            data_dir, port, port, port, port);
  config_path = ctl_write_config ("daemon", config);

  monitor = ctl_monitor_start (&monitor_log);
  g_object_set_data_full (G_OBJECT (monitor), "log", g_strdup (monitor_log), g_free);
  /* before buzond runs: the keyring commands do not need it */
  set_password ("d1", bz_test_env ("BZ_TEST_PASSWORD"));
  set_password ("bad", WRONG_PASSWORD);
  daemon = ctl_daemon_start (config_path);
  g_object_set_data (G_OBJECT (monitor), "daemon", daemon);

  g_test_add_func ("/ctl/daemon/status", test_status);
  g_test_add_func ("/ctl/daemon/sync-wait-ok", test_sync_wait_ok);
  g_test_add_func ("/ctl/daemon/messages", test_messages);
  g_test_add_func ("/ctl/daemon/sync-wait-fail", test_sync_wait_fail);
  g_test_add_func ("/ctl/daemon/forget-then-sync", test_forget_then_sync);
  g_test_add_func ("/ctl/daemon/watch", test_watch);
  g_test_add_func ("/ctl/daemon/sync-wait-tty", test_sync_wait_tty);
  g_test_add_func ("/ctl/daemon/sync-all", test_sync_all);
  g_test_add_func ("/ctl/daemon/set-password-syncs", test_set_password_syncs);
  g_test_add_data_func ("/ctl/daemon/no-leak", monitor, test_no_leak);
  status = g_test_run ();

  /* whatever failed, nothing outlives the test (the bus ends too) */
  if (g_subprocess_get_identifier (daemon) != NULL)
    g_subprocess_force_exit (daemon);
  g_subprocess_force_exit (monitor);
  g_free (config_path);
  g_free (data_dir);
  return status;
}

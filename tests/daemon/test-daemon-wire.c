/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A server's -ERR text full of terminal escapes reaches neither the bus
 * (LastError, SyncFinished), nor buzond's log, nor the terminal of
 * `buzonctl sync --wait` with a byte a terminal would act on. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "daemon-test-common.h"

/* PASS is answered "-ERR [SYS/TEMP] \e]0;pwned\a\e[2J\xc2\x9b31m\xe2\x80\xaeevil\x9b\r\n" */
#define EVIL_ERR \
  "2d455252205b5359532f54454d505d201b5d303b70776e6564071b5b324ac29b33316de280ae6576696c9b0d0a"

static const char *const forbidden[] = { "\x1b", "\x07", "\xc2\x9b", "\xe2\x80\xae", "\x9b" };

static void
assert_clean (const char *what, const char *text, gsize len)
{
  if (len == 0)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (forbidden); i++)
    {
      if (g_strstr_len (text, len, forbidden[i]) != NULL)
        g_error ("%s holds a terminal control: %.*s", what, (int) len, text);
    }
  if (!g_utf8_validate (text, len, NULL))
    g_error ("%s is not UTF-8", what);
}

typedef struct
{
  gboolean done;
  GBytes *out;
  GBytes *err;
} CtlResult;

static void
ctl_done_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  CtlResult *r = data;
  g_autoptr (GError) error = NULL;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), res, &r->out, &r->err, &error);
  g_assert_no_error (error);
  r->done = TRUE;
}

static gboolean
ctl_done_cond (gpointer data)
{
  return ((CtlResult *) data)->done;
}

static void
test_err_escapes (void)
{
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GSubprocess) ctl = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *log = NULL;
  SyncFinishedLog finished;
  CtlResult ctl_result = { 0 };
  const char *last_error;
  const char *data;
  gsize len = 0;
  guint16 port = 0;

  server = daemon_test_faultpop (&port, "evil", "--messages", "2", "--raw-after", "PASS", EVIL_ERR,
                                 NULL);
  conf = daemon_test_account ("evil", "evil", port, 0, "auth = user");
  daemon_test_write_config (conf);
  run = daemon_test_start (NULL);
  account = daemon_test_account_proxy (run, "evil");
  daemon_test_watch_finished (account, &finished);

  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&finished, 1, 30000));
  g_test_message ("SyncFinished: \"%s\"", finished.error);
  g_assert_false (finished.ok);
  g_assert_nonnull (strstr (finished.error, "evil"));
  assert_clean ("SyncFinished's error", finished.error, strlen (finished.error));
  last_error = bz_dbus_account_get_last_error (account);
  g_assert_nonnull (strstr (last_error, "pwned"));
  assert_clean ("LastError", last_error, strlen (last_error));

  /* the same through buzonctl on a terminal's behalf */
  ctl = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                          bz_test_env ("BZ_TEST_BUZONCTL"), "sync", "evil", "--wait", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_async (ctl, NULL, NULL, ctl_done_cb, &ctl_result);
  if (!bz_test_wait_until (ctl_done_cond, &ctl_result, 30000))
    {
      g_subprocess_force_exit (ctl);
      g_error ("buzonctl sync --wait did not finish");
    }
  g_assert_true (g_subprocess_get_if_exited (ctl));
  g_assert_cmpint (g_subprocess_get_exit_status (ctl), ==, 1);
  data = g_bytes_get_data (ctl_result.out, &len);
  g_test_message ("buzonctl stdout: %.*s", (int) len, data);
  g_assert_nonnull (g_strstr_len (data, len, "evil"));
  assert_clean ("buzonctl's stdout", data, len);
  data = g_bytes_get_data (ctl_result.err, &len);
  assert_clean ("buzonctl's stderr", data, len);
  g_clear_pointer (&ctl_result.out, g_bytes_unref);
  g_clear_pointer (&ctl_result.err, g_bytes_unref);

  g_assert_true (daemon_test_stop (run, SIGTERM, 5000));
  g_mutex_lock (&run->log_lock);
  log = g_strndup (run->log->str, run->log->len);
  g_mutex_unlock (&run->log_lock);
  g_assert_nonnull (strstr (log, "pwned"));
  assert_clean ("buzond's log", log, strlen (log));
  daemon_test_finished_clear (&finished);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/daemon/err-escapes", test_err_escapes);
  return g_test_run ();
}

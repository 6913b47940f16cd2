/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "daemon-test-common.h"

char *
daemon_test_account (const char *name, const char *user, guint16 port, guint interval,
                     const char *extra)
{
  g_autofree char *pw_file = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "password", NULL);
  g_autoptr (GError) error = NULL;

  if (!g_file_test (pw_file, G_FILE_TEST_EXISTS))
    g_assert_true (g_file_set_contents (pw_file, bz_test_env ("BZ_TEST_PASSWORD"), -1, &error));
  g_assert_no_error (error);
  return g_strdup_printf ("[account %s]\nhost = localhost\nport = %u\nsecurity = none\n"
                          "user = %s\ninterval = %u\npassword-command = cat '%s'\n%s\n",
                          name, port, user, interval, pw_file, extra != NULL ? extra : "");
}

GSubprocess *
daemon_test_faultpop (guint16 *port, const char *user, const char *first_arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  GSubprocess *server;
  va_list ap;

  g_ptr_array_add (args, (gpointer) "--user");
  g_ptr_array_add (args, (gpointer) user);
  g_ptr_array_add (args, (gpointer) "--password");
  g_ptr_array_add (args, (gpointer) bz_test_env ("BZ_TEST_PASSWORD"));
  g_ptr_array_add (args, (gpointer) "--max-connections");
  g_ptr_array_add (args, (gpointer) "20");
  g_ptr_array_add (args, (gpointer) "--lifetime");
  g_ptr_array_add (args, (gpointer) "100");
  va_start (ap, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  server = bz_test_faultpop_startv ((const char *const *) args->pdata, port, &error);
  g_assert_no_error (error);
  return server;
}

void
daemon_test_write_config (const char *text)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "buzon", NULL);
  g_autofree char *path = g_build_filename (dir, "accounts.conf", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

char *
daemon_test_maildir (const char *account)
{
  return g_build_filename (g_get_user_data_dir (), "buzon", "mail", account, NULL);
}

guint
daemon_test_count_files (const char *maildir)
{
  const char *subdirs[] = { "new", "cur" };
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (maildir, subdirs[i], NULL);
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);

      while (dir != NULL && g_dir_read_name (dir) != NULL)
        n++;
    }
  return n;
}

static void
child_setup (gpointer data)
{
  /* buzond dies with the test, even when the test is killed. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
name_appeared_cb (GDBusConnection *bus, const char *name, const char *owner, gpointer data)
{
  *(gboolean *) data = TRUE;
}

static gboolean
flag_cond (gpointer data)
{
  return *(gboolean *) data;
}

static void
exited_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  DaemonRun *run = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  run->exited = TRUE;
}

/* A thread, not the main context: the test does not always iterate it,
 * and a full pipe would block the daemon's main loop. */
static gpointer
log_thread (gpointer data)
{
  DaemonRun *run = data;
  GInputStream *in = g_subprocess_get_stdout_pipe (run->process);
  char buf[4096];
  gssize n;

  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    {
      (void) !write (STDERR_FILENO, buf, n);
      g_mutex_lock (&run->log_lock);
      g_string_append_len (run->log, buf, n);
      g_mutex_unlock (&run->log_lock);
    }
  return NULL;
}

gssize
daemon_test_log_find (DaemonRun *run, const char *needle)
{
  const char *hit;
  gssize at;

  g_mutex_lock (&run->log_lock);
  hit = strstr (run->log->str, needle);
  at = hit != NULL ? hit - run->log->str : -1;
  g_mutex_unlock (&run->log_lock);
  return at;
}

DaemonRun *
daemon_test_start (const char *first_env, ...)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GError) error = NULL;
  DaemonRun *run = g_new0 (DaemonRun, 1);
  gboolean owned = FALSE;
  guint watch_id;
  va_list args;

  g_subprocess_launcher_setenv (launcher, "G_DEBUG", "fatal-criticals", TRUE);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "buzon-daemon", TRUE);
  va_start (args, first_env);
  for (const char *env = first_env; env != NULL; env = va_arg (args, const char *))
    {
      g_auto (GStrv) kv = g_strsplit (env, "=", 2);
      g_subprocess_launcher_setenv (launcher, kv[0], kv[1], TRUE);
    }
  va_end (args);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  run->bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  run->process = g_subprocess_launcher_spawn (launcher, &error, bz_test_env ("BZ_TEST_BUZOND"),
                                              "--verbose", NULL);
  g_assert_no_error (error);
  g_mutex_init (&run->log_lock);
  run->log = g_string_new (NULL);
  run->log_thread = g_thread_new ("daemon-log", log_thread, run);
  g_subprocess_wait_async (run->process, NULL, exited_cb, run);
  watch_id = g_bus_watch_name_on_connection (run->bus, BZ_DBUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                             name_appeared_cb, NULL, &owned, NULL);
  g_assert_true (bz_test_wait_until (flag_cond, &owned, 10000));
  g_bus_unwatch_name (watch_id);
  run->manager = bz_dbus_manager_proxy_new_sync (run->bus, G_DBUS_PROXY_FLAGS_NONE, BZ_DBUS_NAME,
                                                 BZ_DBUS_PATH, NULL, &error);
  g_assert_no_error (error);
  return run;
}

static gboolean
exited_cond (gpointer data)
{
  return ((DaemonRun *) data)->exited;
}

gboolean
daemon_test_stop (DaemonRun *run, int signum, guint timeout_ms)
{
  if (!run->exited && signum != 0)
    g_subprocess_send_signal (run->process, signum);
  if (!bz_test_wait_until (exited_cond, run, timeout_ms))
    return FALSE;
  /* everything it wrote is in run->log once the pipe ends */
  if (run->log_thread != NULL)
    g_thread_join (g_steal_pointer (&run->log_thread));
  return g_subprocess_get_if_exited (run->process) &&
         g_subprocess_get_exit_status (run->process) == 0;
}

void
daemon_test_free (DaemonRun *run)
{
  if (run == NULL)
    return;
  if (!run->exited)
    {
      g_subprocess_force_exit (run->process);
      bz_test_wait_until (exited_cond, run, 5000);
    }
  g_clear_object (&run->manager);
  /* the pipe ends with the process */
  if (run->log_thread != NULL)
    g_thread_join (g_steal_pointer (&run->log_thread));
  if (run->log != NULL)
    g_string_free (run->log, TRUE);
  g_mutex_clear (&run->log_lock);
  g_clear_object (&run->process);
  g_clear_object (&run->bus);
  g_free (run);
}

BzDbusAccount *
daemon_test_account_proxy (DaemonRun *run, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_strdup_printf ("%s/accounts/%s", BZ_DBUS_PATH, name);
  BzDbusAccount *proxy = bz_dbus_account_proxy_new_sync (run->bus, G_DBUS_PROXY_FLAGS_NONE,
                                                         BZ_DBUS_NAME, path, NULL, &error);
  g_assert_no_error (error);
  return proxy;
}

static void
sync_finished_cb (BzDbusAccount *proxy, gboolean ok, guint new_messages, const char *error,
                  gpointer data)
{
  SyncFinishedLog *log = data;
  gint64 now = g_get_monotonic_time ();

  log->n++;
  log->ok = ok;
  log->new_messages = new_messages;
  g_free (log->error);
  log->error = g_strdup (error);
  g_array_append_val (log->times_us, now);
}

void
daemon_test_watch_finished (BzDbusAccount *proxy, SyncFinishedLog *log)
{
  memset (log, 0, sizeof *log);
  log->times_us = g_array_new (FALSE, TRUE, sizeof (gint64));
  g_signal_connect (proxy, "sync-finished", G_CALLBACK (sync_finished_cb), log);
}

void
daemon_test_finished_clear (SyncFinishedLog *log)
{
  g_free (log->error);
  g_array_unref (log->times_us);
}

typedef struct
{
  SyncFinishedLog *log;
  guint n;
} FinishedWait;

static gboolean
finished_cond (gpointer data)
{
  FinishedWait *wait = data;
  return wait->log->n >= wait->n;
}

gboolean
daemon_test_wait_finished (SyncFinishedLog *log, guint n, guint timeout_ms)
{
  FinishedWait wait = { log, n };
  return bz_test_wait_until (finished_cond, &wait, timeout_ms);
}

gboolean
daemon_test_error_is (const GError *error, const char *name)
{
  g_autofree char *remote = NULL;

  if (error == NULL || !g_dbus_error_is_remote_error (error))
    return FALSE;
  remote = g_dbus_error_get_remote_error (error);
  return g_strcmp0 (remote, name) == 0;
}

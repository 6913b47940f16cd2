/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "bz-ctl-test-util.h"
#include "bz-test-util.h"

#define DAEMON_START_MS 20000
#define DAEMON_STOP_MS 20000

void
ctl_result_free (CtlResult *result)
{
  if (result == NULL)
    return;
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

gboolean
ctl_wait (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms)
{
  return bz_test_wait_until (cond, data, timeout_ms);
}

typedef struct
{
  gboolean done;
  GBytes *out;
  GBytes *err;
  GError *error;
} Communicate;

static void
communicate_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), res, &c->out, &c->err, &c->error);
  c->done = TRUE;
}

static gboolean
communicate_done (gpointer data)
{
  return ((Communicate *) data)->done;
}

static char *
bytes_to_string (GBytes *bytes)
{
  gsize len = 0;
  const char *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  return g_strndup (data != NULL ? data : "", len);
}

CtlResult *
ctl_run_full (const char *const *argv, const char *input, const char *const *envp)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  gsize input_len = input != NULL ? strlen (input) : 0;
  Communicate c = { 0 };
  CtlResult *result;
  int fds[2];

  /* stdin is a pipe filled before the start: small inputs fit its buffer,
   * and a command that exits without reading causes no EPIPE here */
  g_assert_cmpuint (input_len, <, 4096);
  g_unix_open_pipe (fds, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  if (input_len > 0)
    g_assert_cmpint (write (fds[1], input, input_len), ==, (gssize) input_len);
  close (fds[1]);
  g_subprocess_launcher_take_stdin_fd (launcher, fds[0]);

  for (gsize i = 0; envp != NULL && envp[i] != NULL; i++)
    {
      g_auto (GStrv) kv = g_strsplit (envp[i], "=", 2);
      g_subprocess_launcher_setenv (launcher, kv[0], kv[1] != NULL ? kv[1] : "", TRUE);
    }
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_async (proc, NULL, NULL, communicate_cb, &c);
  if (!ctl_wait (communicate_done, &c, CTL_RUN_TIMEOUT_MS))
    {
      g_subprocess_force_exit (proc);
      ctl_wait (communicate_done, &c, 5000);
      g_error ("%s did not finish within %d ms", argv[0], CTL_RUN_TIMEOUT_MS);
    }
  g_assert_no_error (c.error);
  result = g_new0 (CtlResult, 1);
  result->out = bytes_to_string (c.out);
  result->err = bytes_to_string (c.err);
  if (g_subprocess_get_if_signaled (proc))
    result->status = 128 + g_subprocess_get_term_sig (proc);
  else
    result->status = g_subprocess_get_exit_status (proc);
  g_clear_pointer (&c.out, g_bytes_unref);
  g_clear_pointer (&c.err, g_bytes_unref);
  if (g_test_verbose ())
    g_printerr ("$ %s -> %d\n%s%s", argv[1] != NULL ? argv[1] : argv[0], result->status,
                result->out, result->err);
  return result;
}

static CtlResult *
ctl_run_valist (const char *input, const char *first, va_list args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_CTL_BUZONCTL"));
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  g_ptr_array_add (argv, NULL);
  return ctl_run_full ((const char *const *) argv->pdata, input, NULL);
}

CtlResult *
ctl_run (const char *first, ...)
{
  CtlResult *result;
  va_list args;

  va_start (args, first);
  result = ctl_run_valist (NULL, first, args);
  va_end (args);
  return result;
}

CtlResult *
ctl_run_input (const char *input, const char *first, ...)
{
  CtlResult *result;
  va_list args;

  va_start (args, first);
  result = ctl_run_valist (input, first, args);
  va_end (args);
  return result;
}

CtlResult *
ctl_run_tty (const char *const *answers, const char *first, ...)
{
  const char *python = g_getenv ("BZ_TEST_PYTHON");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list args;

  g_ptr_array_add (argv, (gpointer) (python != NULL ? python : "python3"));
  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_CTL_PTY"));
  for (gsize i = 0; answers != NULL && answers[i] != NULL; i += 2)
    {
      g_ptr_array_add (argv, (gpointer) "--answer");
      g_ptr_array_add (argv, (gpointer) answers[i]);
      g_ptr_array_add (argv, (gpointer) answers[i + 1]);
    }
  g_ptr_array_add (argv, (gpointer) "--");
  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_CTL_BUZONCTL"));
  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  return ctl_run_full ((const char *const *) argv->pdata, NULL, NULL);
}

const char *
ctl_daemon_log_path (void)
{
  static char *path = NULL;

  if (path == NULL)
    path = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "buzond.log", NULL);
  return path;
}

static int
open_daemon_log (void)
{
  int fd = open (ctl_daemon_log_path (), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  return fd;
}

CtlResult *
ctl_run_once (const char *config, const char *account)
{
  const char *argv[] = { bz_test_env ("BZ_CTL_BUZOND"),        "--config", config, "--once",
                         account != NULL ? "--account" : NULL, account,    NULL };
  const char *const envp[] = { "G_MESSAGES_DEBUG=all", NULL };
  CtlResult *result = ctl_run_full (argv, NULL, envp);
  int fd = open_daemon_log ();

  g_assert_cmpint (write (fd, result->err, strlen (result->err)), ==,
                   (gssize) strlen (result->err));
  g_assert_cmpint (write (fd, result->out, strlen (result->out)), ==,
                   (gssize) strlen (result->out));
  close (fd);
  return result;
}

/* --- the daemon ---------------------------------------------------------- */

static void
daemon_exited_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  *exited = TRUE;
}

static gboolean
name_has_owner (GDBusConnection *bus)
{
  g_autoptr (GVariant) reply = NULL;
  gboolean owned = FALSE;

  reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new ("(s)", "org.buzon.Agent1"), G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
      5000, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  return owned;
}

GSubprocess *
ctl_daemon_start (const char *config)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  gboolean *exited = g_new0 (gboolean, 1);
  GSubprocess *proc;

  g_assert_no_error (error);
  g_assert_false (name_has_owner (bus));
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  g_subprocess_launcher_take_stdout_fd (launcher, open_daemon_log ());
  g_subprocess_launcher_take_stderr_fd (launcher, open_daemon_log ());
  proc = g_subprocess_launcher_spawn (launcher, &error, bz_test_env ("BZ_CTL_BUZOND"), "--config",
                                      config, "--verbose", NULL);
  g_assert_no_error (error);
  /* the flag outlives this function: the callback may run much later */
  g_object_set_data_full (G_OBJECT (proc), "ctl-exited", exited, g_free);
  g_subprocess_wait_async (proc, NULL, daemon_exited_cb, exited);
  for (guint i = 0; i < DAEMON_START_MS / 50; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      if (*exited || name_has_owner (bus))
        break;
      g_usleep (50 * 1000);
    }
  if (*exited)
    g_error ("buzond exited at start-up; see %s", ctl_daemon_log_path ());
  g_assert_true (name_has_owner (bus));
  return proc;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

void
ctl_daemon_stop (GSubprocess *daemon)
{
  gboolean *exited = g_object_get_data (G_OBJECT (daemon), "ctl-exited");

  g_subprocess_send_signal (daemon, SIGTERM);
  if (!ctl_wait (flag_set, exited, DAEMON_STOP_MS))
    {
      g_subprocess_force_exit (daemon);
      g_error ("buzond did not stop within %d ms of SIGTERM", DAEMON_STOP_MS);
    }
  g_assert_true (g_subprocess_get_if_exited (daemon));
  g_assert_cmpint (g_subprocess_get_exit_status (daemon), ==, 0);
}

/* --- files --------------------------------------------------------------- */

char *
ctl_write_config (const char *name, const char *text)
{
  g_autofree char *dir = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "ctl-config", NULL);
  g_autofree char *file = g_strdup_printf ("%s.conf", name);
  char *path = g_build_filename (dir, file, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

static gboolean
file_not_empty (gpointer data)
{
  GStatBuf st;
  return g_stat (data, &st) == 0 && st.st_size > 0;
}

GSubprocess *
ctl_monitor_start (char **log_path)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "dbus-monitor.log", NULL);
  GSubprocess *proc;

  g_subprocess_launcher_set_stdout_file_path (launcher, path);
  /* dbus-monitor ends with the private bus; the test stops it earlier */
  proc = g_subprocess_launcher_spawn (launcher, &error, "dbus-monitor", "--session", NULL);
  g_assert_no_error (error);
  /* it prints its own NameAcquired first: from then on it records */
  if (!ctl_wait (file_not_empty, path, 10000))
    g_error ("dbus-monitor recorded nothing within 10 s");
  *log_path = path;
  return proc;
}

static void
assert_lacks (const char *what, const char *haystack, gsize len, const char *needle)
{
  if (needle[0] == '\0')
    return;
  if (memmem (haystack, len, needle, strlen (needle)) != NULL)
    g_error ("the password (or its part \"%s\") appears in %s", needle, what);
}

void
ctl_assert_file_lacks (const char *file, const char *secret, gboolean may_be_missing)
{
  g_autofree char *data = NULL;
  g_autofree char *squeezed = NULL;
  g_autoptr (GString) hex = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  gsize len = 0, n = 0;
  const char *p;

  if (!g_file_get_contents (file, &data, &len, &error))
    {
      if (may_be_missing && g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return;
      g_assert_no_error (error);
    }
  assert_lacks (file, data, len, secret);
  /* dbus-monitor prints arrays of bytes as spaced, wrapped hex */
  for (p = secret; *p != '\0'; p++)
    g_string_append_printf (hex, "%02x", (guchar) *p);
  squeezed = g_malloc (len + 1);
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isspace (data[i]))
        squeezed[n++] = g_ascii_tolower (data[i]);
    }
  squeezed[n] = '\0';
  assert_lacks (file, squeezed, n, hex->str);
  /* a quote may come out escaped: every run of 4+ letters and digits too */
  for (p = secret; *p != '\0';)
    {
      const char *start = p;
      while (g_ascii_isalnum (*p))
        p++;
      if (p - start >= 4)
        {
          g_autofree char *run = g_strndup (start, p - start);
          assert_lacks (file, data, len, run);
        }
      while (*p != '\0' && !g_ascii_isalnum (*p))
        p++;
    }
}

char *
ctl_json_eval (const char *json, const char *expr)
{
  const char *python = g_getenv ("BZ_TEST_PYTHON");
  const char *argv[] = { python != NULL ? python : "python3", "-c",
                         "import json, sys\n"
                         "d = json.loads(sys.stdin.read())\n"
                         "print(eval(sys.argv[1]))\n",
                         expr, NULL };
  g_autoptr (CtlResult) r = ctl_run_full (argv, json, NULL);

  if (r->status != 0)
    g_error ("python could not evaluate %s over %s: %s", expr, json, r->err);
  g_strchomp (r->out);
  return g_steal_pointer (&r->out);
}

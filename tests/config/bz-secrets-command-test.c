/* SPDX-License-Identifier: GPL-3.0-or-later */
/* password-command: output, failures, timeout and cancellation. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "bz-secrets-test-util.h"

/* no test may wait longer than this for one command */
#define GUARD_MS 20000

typedef struct
{
  GAsyncResult *result;
} Wait;

static void
wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *w = user_data;
  w->result = g_object_ref (result);
}

static gboolean
guard_cb (gpointer user_data)
{
  g_error ("a password-command did not finish within %d ms", GUARD_MS);
  return G_SOURCE_REMOVE;
}

/* Runs @command for account "work" and waits (bounded) for its result. */
static char *
run (const char *command, guint timeout_ms, GCancellable *cancellable, gint64 *elapsed_us,
     GError **error)
{
  Wait w = { NULL };
  guint guard = g_timeout_add (GUARD_MS, guard_cb, NULL);
  gint64 start = g_get_monotonic_time ();
  char *password;

  bz_secrets_run_command_async ("work", command, timeout_ms, cancellable, wait_cb, &w);
  while (w.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
  if (elapsed_us != NULL)
    *elapsed_us = g_get_monotonic_time () - start;
  password = bz_secrets_run_command_finish (w.result, error);
  g_object_unref (w.result);
  return password;
}

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("expected \"%s\" in \"%s\"", needle, haystack);
}

static void
test_command_first_line (void)
{
  g_autoptr (GError) error = NULL;
  char *pw;

  pw = run ("printf 'secret\\nsecond\\n'", 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pw, ==, "secret");
  bz_secrets_password_free (pw);

  /* CRLF and no final newline; a pipe works since it runs under sh -c */
  pw = run ("printf 'p w\\r\\n' | cat", 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pw, ==, "p w");
  bz_secrets_password_free (pw);

  pw = run ("printf 'x'", 0, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pw, ==, "x");
  bz_secrets_password_free (pw);
}

static void
test_command_fails (void)
{
  g_autoptr (GError) error = NULL;
  char *pw;

  pw = run ("echo leaked-stdout; echo 'gpg: decryption failed: No secret key' >&2; "
            "echo more >&2; exit 3",
            0, NULL, NULL, &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_FAILED);
  assert_contains (error->message, "password-command for account work");
  assert_contains (error->message, "exit status 3");
  assert_contains (error->message, "gpg: decryption failed: No secret key");
  /* standard output may hold the password: never quote it */
  g_assert_null (strstr (error->message, "leaked-stdout"));
  g_assert_null (strstr (error->message, "more"));
  g_clear_error (&error);

  pw = run ("kill -TERM $$", 0, NULL, NULL, &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_FAILED);
  assert_contains (error->message, "killed by signal 15");
  g_clear_error (&error);

  pw = run ("/nonexistent/password-tool", 0, NULL, NULL, &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_FAILED);
  assert_contains (error->message, "exit status 127");
  assert_contains (error->message, "/nonexistent/password-tool");
}

static void
test_command_empty (void)
{
  g_autoptr (GError) error = NULL;
  char *pw;

  pw = run ("true", 0, NULL, NULL, &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_EMPTY);
  g_assert_cmpstr (error->message, ==, "password-command for account work printed nothing");
  g_clear_error (&error);

  pw = run ("printf '\\nsecond\\n'", 0, NULL, NULL, &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_EMPTY);
  g_clear_error (&error);

  /* stdin is /dev/null: a command that reads it ends instead of hanging */
  pw = run ("cat", 0, NULL, NULL, &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_EMPTY);
}

/* TRUE once @pid has gone (or is a zombie nobody reaps here). */
static gboolean
process_gone (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *paren;

  if (kill (pid, 0) != 0 && errno == ESRCH)
    return TRUE;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  paren = strrchr (stat, ')');
  return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

static pid_t
read_pid (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return (pid_t) g_ascii_strtoll (text, NULL, 10);
}

static void
assert_killed (pid_t pid)
{
  /* bounded: 5 s in 10 ms steps */
  for (guint i = 0; i < 500 && !process_gone (pid); i++)
    g_usleep (10 * 1000);
  g_assert_true (process_gone (pid));
}

static void
run_and_assert_group_killed (guint timeout_ms, GCancellable *cancellable, int code_domain_is_cancel)
{
  g_autofree char *dir = g_dir_make_tmp ("buzon-cmd-XXXXXX", NULL);
  g_autofree char *shell_pid = g_build_filename (dir, "sh.pid", NULL);
  g_autofree char *child_pid = g_build_filename (dir, "child.pid", NULL);
  g_autofree char *command = NULL;
  g_autoptr (GError) error = NULL;
  gint64 elapsed = 0;
  char *pw;

  g_assert_nonnull (dir);
  /* the sleep is a grandchild of ours: killing only the shell would leave
   * it running with the pipe open */
  command =
      g_strdup_printf ("echo $$ > '%s'; sleep 30 & echo $! > '%s'; wait", shell_pid, child_pid);
  pw = run (command, timeout_ms, cancellable, &elapsed, &error);
  g_assert_null (pw);
  if (code_domain_is_cancel)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
  else
    {
      g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_TIMEOUT);
      assert_contains (error->message,
                       "password-command for account work did not finish within 1 s");
    }
  g_assert_cmpint (elapsed, <, 10 * G_USEC_PER_SEC);
  assert_killed (read_pid (shell_pid));
  assert_killed (read_pid (child_pid));

  g_unlink (shell_pid);
  g_unlink (child_pid);
  g_rmdir (dir);
}

static void
test_command_timeout (void)
{
  run_and_assert_group_killed (300, NULL, FALSE);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

static void
test_command_cancel (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  g_timeout_add (300, cancel_cb, cancellable);
  run_and_assert_group_killed (0, cancellable, TRUE);
}

static gpointer
lookup_thread (gpointer user_data)
{
  BzAccount *account = user_data;
  g_autoptr (GError) error = NULL;
  char *pw = bz_secrets_test_lookup_sync (account, NULL, &error);
  char *copy;

  g_assert_no_error (error);
  copy = g_strdup (pw);
  bz_secrets_password_free (pw);
  return copy;
}

static void
test_command_via_lookup (void)
{
  g_autoptr (BzAccount) account = bz_account_new ();
  g_autoptr (GThread) thread = NULL;
  g_autofree char *pw = NULL;

  account->name = g_strdup ("work");
  account->host = g_strdup ("pop.example.com");
  account->user = g_strdup ("alice");
  account->password_command = g_strdup ("echo 'from command'");

  /* the blocking form, from a worker thread as the sync uses it */
  thread = g_thread_new ("lookup", lookup_thread, account);
  pw = g_thread_join (g_steal_pointer (&thread));
  g_assert_cmpstr (pw, ==, "from command");
}

static void
test_password_from_data (void)
{
  g_autoptr (GError) error = NULL;
  char *pw;

  pw = bz_secrets_password_from_data ("abc\xc3\xa4", 5, "work", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pw, ==, "abc\xc3\xa4");
  bz_secrets_password_free (pw);

  pw = bz_secrets_password_from_data ("ab\r\nPASS x", 10, "work", &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_INVALID);
  assert_contains (error->message, "account work");
  g_clear_error (&error);

  pw = bz_secrets_password_from_data ("a\0b", 3, "work", &error);
  g_assert_null (pw);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_INVALID);
  g_clear_error (&error);

  /* the longest accepted, and one byte more */
  {
    g_autofree char *long_pw = g_strnfill (BZ_SECRETS_PASSWORD_MAX + 1, 'x');

    pw = bz_secrets_password_from_data (long_pw, BZ_SECRETS_PASSWORD_MAX, "work", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (strlen (pw), ==, BZ_SECRETS_PASSWORD_MAX);
    bz_secrets_password_free (pw);
    pw = bz_secrets_password_from_data (long_pw, BZ_SECRETS_PASSWORD_MAX + 1, "work", &error);
    g_assert_null (pw);
    g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_INVALID);
    assert_contains (error->message, "longer than 1024 bytes");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/secrets/command/first-line", test_command_first_line);
  g_test_add_func ("/secrets/command/fails", test_command_fails);
  g_test_add_func ("/secrets/command/empty", test_command_empty);
  g_test_add_func ("/secrets/command/timeout", test_command_timeout);
  g_test_add_func ("/secrets/command/cancel", test_command_cancel);
  g_test_add_func ("/secrets/command/via-lookup", test_command_via_lookup);
  g_test_add_func ("/secrets/password-from-data", test_password_from_data);
  return g_test_run ();
}

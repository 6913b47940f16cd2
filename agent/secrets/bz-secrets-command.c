/* SPDX-License-Identifier: GPL-3.0-or-later */
/* password-command: run like mpop's passwordeval (/bin/sh -c, so pipes
 * work), first line of standard output is the password. */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "bz-log.h"
#include "bz-secrets-private.h"
#include "bz-secrets.h"

/* enough to show a useful message, short enough for one log line */
#define BZ_SECRETS_STDERR_SNIPPET_MAX 200

typedef struct
{
  char *account_name;
  const char *key; /* "password-command" or "oauth2-token-command" */
  gsize max_len;   /* longest first line accepted */
  guint timeout_ms;
  GSubprocess *proc;
  GCancellable *io_cancellable; /* cancelled on timeout or by the caller */
  GCancellable *caller_cancellable;
  gulong caller_handler;
  GSource *timeout_source;
  gboolean timed_out;
} BzSecretsCommand;

static void
bz_secrets_command_free (BzSecretsCommand *data)
{
  if (data->timeout_source != NULL)
    {
      g_source_destroy (data->timeout_source);
      g_source_unref (data->timeout_source);
    }
  if (data->caller_cancellable != NULL)
    {
      g_cancellable_disconnect (data->caller_cancellable, data->caller_handler);
      g_object_unref (data->caller_cancellable);
    }
  g_clear_object (&data->io_cancellable);
  g_clear_object (&data->proc);
  g_free (data->account_name);
  g_free (data);
}

/* Runs in the child between fork and exec: its own process group, so a
 * timeout can kill the shell and everything it started. */
static void
bz_secrets_command_child_setup (gpointer user_data)
{
  (void) setpgid (0, 0);
}

static void
bz_secrets_command_kill (BzSecretsCommand *data)
{
  const char *ident = g_subprocess_get_identifier (data->proc);
  pid_t pid;

  /* NULL once reaped: the pid may belong to someone else by now */
  if (ident == NULL)
    return;
  pid = (pid_t) g_ascii_strtoll (ident, NULL, 10);
  if (pid > 1 && kill (-pid, SIGKILL) != 0)
    g_subprocess_force_exit (data->proc);
}

static gboolean
bz_secrets_command_timeout_cb (gpointer user_data)
{
  BzSecretsCommand *data = user_data;

  data->timed_out = TRUE;
  g_cancellable_cancel (data->io_cancellable);
  g_clear_pointer (&data->timeout_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
bz_secrets_command_caller_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  BzSecretsCommand *data = user_data;

  /* at once, not when the main context next runs: a caller that gave up
   * (buzond --once) may be about to exit */
  bz_secrets_command_kill (data);
  g_cancellable_cancel (data->io_cancellable);
}

/* The first line of @bytes, at most @max bytes, valid UTF-8; new string. */
static char *
bz_secrets_first_line (GBytes *bytes, gsize max)
{
  gsize len = 0;
  const char *text = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;
  const char *nl = text != NULL ? memchr (text, '\n', len) : NULL;

  if (text == NULL)
    return g_strdup ("");
  if (nl != NULL)
    len = nl - text;
  if (len > 0 && text[len - 1] == '\r')
    len--;
  return g_utf8_make_valid (text, MIN (len, max));
}

static void
bz_secrets_command_communicate_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BzSecretsCommand *data = g_task_get_task_data (task);
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) err = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *err_line = NULL;
  const char *name = data->account_name;
  const char *text;
  const char *nl;
  gsize len = 0;
  char *password;

  if (!g_subprocess_communicate_finish (data->proc, result, &out, &err, &error))
    {
      bz_secrets_command_kill (data);
      if (data->timed_out)
        {
          g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_TIMEOUT,
                                   "%s for account %s did not "
                                   "finish within %u s and was killed",
                                   data->key, name, (data->timeout_ms + 999) / 1000);
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
        }
      else
        {
          g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_FAILED,
                                   "%s for account %s: %s", data->key, name, error->message);
        }
      return;
    }

  err_line = bz_secrets_first_line (err, BZ_SECRETS_STDERR_SNIPPET_MAX);
  if (g_subprocess_get_if_signaled (data->proc))
    {
      int sig = g_subprocess_get_term_sig (data->proc);
      g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_FAILED,
                               "%s for account %s was killed by "
                               "signal %d (%s)%s%s",
                               data->key, name, sig, g_strsignal (sig),
                               *err_line != '\0' ? ": " : "", err_line);
      bz_secrets_wipe_bytes (out);
      return;
    }
  if (g_subprocess_get_exit_status (data->proc) != 0)
    {
      g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_FAILED,
                               "%s for account %s failed with "
                               "exit status %d%s%s",
                               data->key, name, g_subprocess_get_exit_status (data->proc),
                               *err_line != '\0' ? ": " : "", err_line);
      bz_secrets_wipe_bytes (out);
      return;
    }

  text = out != NULL ? g_bytes_get_data (out, &len) : NULL;
  nl = text != NULL ? memchr (text, '\n', len) : NULL;
  if (nl != NULL)
    len = nl - text;
  if (len > 0 && text[len - 1] == '\r')
    len--;
  if (len == 0)
    {
      g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_EMPTY,
                               "%s for account %s printed nothing", data->key, name);
      bz_secrets_wipe_bytes (out);
      return;
    }
  password = bz_secrets_secret_from_data (text, len, name, data->max_len, &error);
  bz_secrets_wipe_bytes (out);
  if (password == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  bz_log_account (G_LOG_LEVEL_DEBUG, name, "secret from its %s", data->key);
  g_task_return_pointer (task, password, (GDestroyNotify) bz_secrets_password_free);
}

void
bz_secrets_run_command_async (const char *account_name, const char *command, guint timeout_ms,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  bz_secrets_run_command_full_async (account_name, "password-command", BZ_SECRETS_PASSWORD_MAX,
                                     command, timeout_ms, cancellable, callback, user_data);
}

void
bz_secrets_run_command_full_async (const char *account_name, const char *key, gsize max_len,
                                   const char *command, guint timeout_ms, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GError) error = NULL;
  BzSecretsCommand *data;

  g_return_if_fail (account_name != NULL);
  g_return_if_fail (command != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, bz_secrets_run_command_async);
  data = g_new0 (BzSecretsCommand, 1);
  data->account_name = g_strdup (account_name);
  data->key = key;
  data->max_len = max_len;
  data->timeout_ms = timeout_ms > 0 ? timeout_ms : BZ_SECRETS_COMMAND_TIMEOUT_MS;
  data->io_cancellable = g_cancellable_new ();
  g_task_set_task_data (task, data, (GDestroyNotify) bz_secrets_command_free);

  /* stdin stays /dev/null (the GSubprocess default): a command that asks
   * on the terminal must fail, not hang the daemon */
  launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, bz_secrets_command_child_setup, NULL, NULL);
  data->proc = g_subprocess_launcher_spawn (launcher, &error, "/bin/sh", "-c", command, NULL);
  if (data->proc == NULL)
    {
      g_task_return_new_error (task, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_FAILED,
                               "%s for account %s could not be "
                               "started: %s",
                               key, account_name, error->message);
      return;
    }

  if (cancellable != NULL)
    {
      data->caller_cancellable = g_object_ref (cancellable);
      data->caller_handler = g_cancellable_connect (
          cancellable, G_CALLBACK (bz_secrets_command_caller_cancelled_cb), data, NULL);
    }
  data->timeout_source = g_timeout_source_new (data->timeout_ms);
  g_source_set_callback (data->timeout_source, bz_secrets_command_timeout_cb, data, NULL);
  g_source_set_static_name (data->timeout_source, "[buzon] password-command timeout");
  g_source_attach (data->timeout_source, g_task_get_context (task));

  g_subprocess_communicate_async (data->proc, NULL, data->io_cancellable,
                                  bz_secrets_command_communicate_cb, g_steal_pointer (&task));
}

char *
bz_secrets_run_command_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

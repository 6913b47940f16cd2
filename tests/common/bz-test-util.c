/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "bz-test-util.h"

#include <errno.h>
#include <stdarg.h>

/* faultpop prints its port before it generates nothing else; 10 s covers a
 * loaded CI machine running the suites in parallel under ASan. */
#define BZ_TEST_FAULTPOP_START_TIMEOUT_MS 10000
/* how often bz_test_wait_until() re-checks a condition that changes without
 * a main-context event (another thread, a file on disk) */
#define BZ_TEST_WAIT_POLL_MS 10

/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - test - error - quark, bz_test_error)
/* clang-format on */

void
bz_test_mail_free (BzTestMail *mail)
{
  if (mail == NULL)
    return;
  g_free (mail->message_id);
  g_free (mail->path);
  g_free (mail);
}

const char *
bz_test_env (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL || value[0] == '\0')
    g_error ("%s is not set: run this test through "
             "tests/harness/run-with-dovecot.py (meson test does)",
             name);
  return value;
}

guint16
bz_test_env_port (const char *name)
{
  const char *value = bz_test_env (name);
  guint64 port = 0;
  g_autoptr (GError) error = NULL;

  if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT16, &port, &error))
    g_error ("%s=%s is not a TCP port: %s", name, value, error->message);
  return (guint16) port;
}

typedef struct
{
  char *line;
  GError *error;
  gboolean done;
  gboolean timed_out;
} BzTestLineHelper;

static void
bz_test_read_line_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  BzTestLineHelper *helper = user_data;

  helper->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), res, NULL,
                                                            &helper->error);
  helper->done = TRUE;
}

static gboolean
bz_test_flag_timeout_cb (gpointer user_data)
{
  gboolean *flag = user_data;
  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

/* Reads one line from @stream, giving up after @timeout_ms. A private
 * context keeps the caller's pending sources from running meanwhile. */
static char *
bz_test_read_line_bounded (GInputStream *stream, guint timeout_ms, GError **error)
{
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GDataInputStream) data = g_data_input_stream_new (stream);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GSource) timeout = g_timeout_source_new (timeout_ms);
  BzTestLineHelper helper = { 0 };

  /* the pipe belongs to the subprocess, not to this reader */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (data), FALSE);
  g_main_context_push_thread_default (ctx);
  g_source_set_callback (timeout, bz_test_flag_timeout_cb, &helper.timed_out, NULL);
  g_source_attach (timeout, ctx);
  g_data_input_stream_read_line_async (data, G_PRIORITY_DEFAULT, cancellable, bz_test_read_line_cb,
                                       &helper);
  while (!helper.done && !helper.timed_out)
    g_main_context_iteration (ctx, TRUE);
  if (!helper.done)
    {
      g_cancellable_cancel (cancellable);
      /* the cancelled read still calls back; wait for it (bounded by the
     * cancellation, which is immediate for a pipe) */
      while (!helper.done)
        g_main_context_iteration (ctx, TRUE);
    }
  g_source_destroy (timeout);
  g_main_context_pop_thread_default (ctx);

  if (helper.timed_out && helper.line == NULL)
    {
      g_clear_error (&helper.error);
      g_set_error (error, BZ_TEST_ERROR, BZ_TEST_ERROR_TIMEOUT, "no line within %u ms", timeout_ms);
      return NULL;
    }
  if (helper.error != NULL)
    {
      g_propagate_error (error, helper.error);
      return NULL;
    }
  if (helper.line == NULL)
    {
      g_set_error_literal (error, BZ_TEST_ERROR, BZ_TEST_ERROR_FAILED, "end of output");
      return NULL;
    }
  return helper.line;
}

GSubprocess *
bz_test_faultpop_startv (const char *const *args, guint16 *port_out, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *line = NULL;
  guint64 port = 0;

  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_TEST_PYTHON"));
  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_TEST_FAULTPOP"));
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  proc =
      g_subprocess_newv ((const char *const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, error);
  if (proc == NULL)
    return NULL;

  line = bz_test_read_line_bounded (g_subprocess_get_stdout_pipe (proc),
                                    BZ_TEST_FAULTPOP_START_TIMEOUT_MS, error);
  if (line == NULL)
    {
      g_prefix_error (error, "faultpop did not start: ");
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      return NULL;
    }
  if (!g_str_has_prefix (line, "PORT ") ||
      !g_ascii_string_to_unsigned (line + 5, 10, 1, G_MAXUINT16, &port, NULL))
    {
      g_set_error (error, BZ_TEST_ERROR, BZ_TEST_ERROR_FAILED,
                   "faultpop said \"%s\" instead of PORT <n>", line);
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      return NULL;
    }
  if (port_out != NULL)
    *port_out = (guint16) port;
  return g_steal_pointer (&proc);
}

GSubprocess *
bz_test_faultpop_start (guint16 *port_out, GError **error, const char *first_arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return bz_test_faultpop_startv ((const char *const *) args->pdata, port_out, error);
}

static gboolean
bz_test_mailgen_parse (const char *out, GPtrArray *mails, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = NULL;
      g_autoptr (BzTestMail) mail = NULL;
      guint64 size = 0;

      if (lines[i][0] == '\0')
        continue;
      fields = g_strsplit (lines[i], "\t", -1);
      if (g_strv_length (fields) != 3 ||
          !g_ascii_string_to_unsigned (fields[2], 10, 0, G_MAXUINT64, &size, NULL))
        {
          g_set_error (error, BZ_TEST_ERROR, BZ_TEST_ERROR_FAILED,
                       "mailgen printed an unexpected line: %s", lines[i]);
          return FALSE;
        }
      mail = g_new0 (BzTestMail, 1);
      mail->message_id = g_strdup (fields[0]);
      mail->path = g_strdup (fields[1]);
      mail->size = size;
      g_ptr_array_add (mails, g_steal_pointer (&mail));
    }
  return TRUE;
}

GPtrArray *
bz_test_mailgen (const char *maildir, guint count, guint seed, guint start, const char *profile,
                 GError **error)
{
  g_autofree char *count_str = g_strdup_printf ("%u", count);
  g_autofree char *seed_str = g_strdup_printf ("%u", seed);
  g_autofree char *start_str = g_strdup_printf ("%u", start);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GPtrArray) mails = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_test_mail_free);
  g_autofree char *out = NULL;
  const char *argv[] = {
    bz_test_env ("BZ_TEST_PYTHON"),
    bz_test_env ("BZ_TEST_MAILGEN"),
    "--maildir",
    maildir,
    "--count",
    count_str,
    "--seed",
    seed_str,
    "--start",
    start_str,
    "--profile",
    profile != NULL ? profile : "mixed",
    NULL,
  };

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, error);
  if (proc == NULL)
    return NULL;
  if (!g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, error))
    return NULL;
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_set_error (error, BZ_TEST_ERROR, BZ_TEST_ERROR_FAILED,
                   "mailgen.py failed for %s (see its stderr above)", maildir);
      return NULL;
    }
  if (!bz_test_mailgen_parse (out, mails, error))
    return NULL;
  if (mails->len != count)
    {
      g_set_error (error, BZ_TEST_ERROR, BZ_TEST_ERROR_FAILED,
                   "mailgen wrote %u messages, expected %u", mails->len, count);
      return NULL;
    }
  return g_steal_pointer (&mails);
}

gboolean
bz_test_fill_user (const char *user, guint count, guint seed, guint start, const char *profile,
                   GPtrArray **mails_out, GError **error)
{
  g_autofree char *maildir =
      g_build_filename (bz_test_env ("BZ_TEST_MAIL_ROOT"), user, "Maildir", NULL);
  g_autoptr (GPtrArray) mails = bz_test_mailgen (maildir, count, seed, start, profile, error);

  if (mails == NULL)
    return FALSE;
  if (mails_out != NULL)
    *mails_out = g_steal_pointer (&mails);
  return TRUE;
}

char *
bz_test_normalize_crlf (const char *data, gsize len, gsize *len_out)
{
  char *out = g_malloc (len + 1);
  gsize j = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
        continue;
      out[j++] = data[i];
    }
  out[j] = '\0';
  if (len_out != NULL)
    *len_out = j;
  return out;
}

char *
bz_test_mkdtemp (const char *tmpl)
{
  const char *base = g_getenv ("BZ_TEST_TMPDIR");
  char *path = g_build_filename (base != NULL ? base : g_get_tmp_dir (), tmpl, NULL);

  if (g_mkdtemp (path) == NULL)
    g_error ("cannot create %s: %s", path, g_strerror (errno));
  return path;
}

static gboolean
bz_test_wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
bz_test_wait_until (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms)
{
  g_autoptr (GMainContext) ctx = g_main_context_ref_thread_default ();
  g_autoptr (GSource) wake = g_timeout_source_new (BZ_TEST_WAIT_POLL_MS);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean ok;

  /* the wake-up bounds each blocking iteration, so the deadline holds even
   * when nothing else happens on the context */
  g_source_set_callback (wake, bz_test_wake_cb, NULL, NULL);
  g_source_attach (wake, ctx);
  while (!(ok = cond (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (wake);
  return ok;
}

void
bz_test_skip_or_fail (const char *why)
{
  if (g_getenv ("BZ_TEST_NO_SKIP") != NULL)
    g_error ("would skip, but BZ_TEST_NO_SKIP is set: %s", why);
  g_test_skip (why);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `buzond --once`: the sync of DESIGN.md run once for each account, with a
 * summary line each, for scripts, cron and the Quick start. */
#include "config.h"

#include <glib/gi18n.h>

#include <stdio.h>
#include <unistd.h>

#include "bz-common-text.h"
#include "bz-once.h"
#include "bz-secrets.h"
#include "bz-sync.h"

typedef struct
{
  BzConfig *config;
  GPtrArray *queue; /* BzAccount*, not yet started */
  guint running;
  guint failed;
  gboolean tty;
  gint64 now; /* BUZON_TEST_NOW (test hooks), or 0 for the real clock */
  GMainLoop *loop;
  GHashTable *progress; /* account name -> BzSyncProgress* */
} OnceRun;

typedef struct
{
  OnceRun *once;
  BzAccount *account;
  BzSync *sync;
} OnceJob;

static void start_next (OnceRun *once);

static void
once_job_free (OnceJob *job)
{
  g_clear_object (&job->sync);
  bz_account_unref (job->account);
  g_free (job);
}

static void
clear_progress_line (OnceRun *once)
{
  if (once->tty)
    fputs ("\r\033[K", stderr);
}

static void
draw_progress (OnceRun *once)
{
  GHashTableIter iter;
  gpointer key, value;
  g_autoptr (GString) line = g_string_new (NULL);

  if (!once->tty)
    return;
  g_hash_table_iter_init (&iter, once->progress);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const BzSyncProgress *p = value;
      g_autofree char *done = g_format_size (p->bytes_done);
      g_autofree char *total = g_format_size (p->bytes_total);

      g_string_append_printf (line, _ ("%s%s: %u/%u messages, %s of %s"), line->len ? "  " : "",
                              (const char *) key, p->messages_done, p->messages_total, done, total);
    }
  clear_progress_line (once);
  fputs (line->str, stderr);
  fflush (stderr);
}

static void
progress_cb (const BzSyncProgress *progress, gpointer user_data)
{
  OnceJob *job = user_data;
  BzSyncProgress *copy = g_memdup2 (progress, sizeof *progress);

  g_hash_table_replace (job->once->progress, g_strdup (job->account->name), copy);
  draw_progress (job->once);
}

/* What the failure means for the user, before the server's own words:
 * "authentication failed: -ERR [IN-USE]" alone reads like a bad password. */
static const char *
failure_kind (const GError *error)
{
  switch (bz_sync_classify_error (error))
    {
    case BZ_SYNC_FAILURE_IN_USE:
      return _ ("mailbox in use by another client");
    case BZ_SYNC_FAILURE_LOGIN_DELAY:
      return _ ("login delay: the server wants more time between logins");
    case BZ_SYNC_FAILURE_LOGIN_REFUSED:
      return _ ("login refused: a wrong password, or the server is busy");
    case BZ_SYNC_FAILURE_TLS_TRUST:
      return _ ("certificate not trusted");
    case BZ_SYNC_FAILURE_PERMANENT:
      return _ ("permanent");
    case BZ_SYNC_FAILURE_TEMPORARY:
    default:
      return _ ("temporary");
    }
}

static void
print_summary (OnceRun *once, BzAccount *account, const BzSyncResult *r, const GError *error)
{
  g_autoptr (GString) line = g_string_new (NULL);

  g_string_append_printf (line, "%s: ", account->name);
  if (error != NULL)
    {
      /* the message may quote a server: no terminal control reaches the
       * user's terminal through it */
      g_autofree char *shown = bz_common_text_sanitize (error->message, -1);

      g_string_append_printf (line, _ ("failed (%s): %s"), failure_kind (error), shown);
      if (r != NULL && r->new_messages > 0)
        g_string_append_printf (line,
                                g_dngettext (GETTEXT_PACKAGE, " (%u new stored before the failure)",
                                             " (%u new stored before the failure)",
                                             r->new_messages),
                                r->new_messages);
    }
  else
    {
      /* TRANSLATORS: the start of buzond --once's summary of an account,
       * e.g. "work: 12 new, 3 removed from server, 1520 stored, 2.3 s" */
      g_string_append_printf (line,
                              g_dngettext (GETTEXT_PACKAGE, "%u new", "%u new", r->new_messages),
                              r->new_messages);
      if (r->removed > 0)
        g_string_append_printf (line,
                                g_dngettext (GETTEXT_PACKAGE, ", %u removed from server",
                                             ", %u removed from server", r->removed),
                                r->removed);
      if (r->skipped > 0)
        g_string_append_printf (line,
                                g_dngettext (GETTEXT_PACKAGE, ", %u skipped (too large)",
                                             ", %u skipped (too large)", r->skipped),
                                r->skipped);
      if (r->gone > 0)
        g_string_append_printf (line,
                                g_dngettext (GETTEXT_PACKAGE, ", %u gone from server",
                                             ", %u gone from server", r->gone),
                                r->gone);
      g_string_append_printf (line, _ (", %u stored, %.1f s"), r->stored_total, r->seconds);
    }
  clear_progress_line (once);
  g_print ("%s\n", line->str);
  draw_progress (once);
}

static void
job_done (OnceJob *job)
{
  OnceRun *once = job->once;

  g_hash_table_remove (once->progress, job->account->name);
  once->running--;
  once_job_free (job);
  start_next (once);
  if (once->running == 0 && once->queue->len == 0)
    g_main_loop_quit (once->loop);
}

static void
sync_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  OnceJob *job = user_data;
  BzSyncResult result = { 0 };
  g_autoptr (GError) error = NULL;

  if (!bz_sync_run_finish (BZ_SYNC (source), res, &result, &error))
    {
      job->once->failed++;
      print_summary (job->once, job->account, &result, error);
    }
  else
    print_summary (job->once, job->account, &result, NULL);
  job_done (job);
}

/* The sync looks up the password (or gets its OAuth2 token) itself while
 * it connects. */
static void
start_sync (OnceJob *job)
{
  job->sync = bz_sync_new (job->account, bz_config_get_database_path (job->once->config));
  bz_sync_set_progress_func (job->sync, progress_cb, job);
  if (job->once->now > 0)
    bz_sync_set_now (job->sync, job->once->now);
  bz_sync_run_lookup_async (job->sync, NULL, sync_done_cb, job);
}

static void
start_next (OnceRun *once)
{
  while (once->queue->len > 0 && once->running < bz_config_get_max_parallel (once->config))
    {
      OnceJob *job = g_new0 (OnceJob, 1);

      job->once = once;
      job->account = bz_account_ref (g_ptr_array_index (once->queue, 0));
      g_ptr_array_remove_index (once->queue, 0);
      once->running++;
      start_sync (job);
    }
}

int
bz_once_run (BzConfig *config, const char *account_name)
{
  GPtrArray *accounts = bz_config_get_accounts (config);
  g_autoptr (GPtrArray) queue = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_account_unref);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GHashTable) progress = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GPtrArray *errors = bz_config_get_errors (config);
  gboolean config_errors = FALSE;
  OnceRun once = { 0 };

  /* Bad accounts are reported, the good ones still synced (DESIGN.md). */
  for (guint i = 0; i < errors->len; i++)
    {
      BzConfigAccountError *e = g_ptr_array_index (errors, i);

      if (account_name != NULL && g_strcmp0 (e->account, account_name) != 0)
        continue;
      g_printerr ("buzond: %s\n", e->error->message);
      config_errors = TRUE;
    }
  if (account_name != NULL)
    {
      BzAccount *account = bz_config_find_account (config, account_name);

      if (account == NULL)
        {
          if (!config_errors)
            g_printerr (_ ("buzond: %s: no account named \"%s\"\n"), bz_config_get_path (config),
                        account_name);
          return BZ_EXIT_USAGE;
        }
      g_ptr_array_add (queue, bz_account_ref (account));
    }
  else
    {
      for (guint i = 0; i < accounts->len; i++)
        {
          BzAccount *account = g_ptr_array_index (accounts, i);
          if (account->enabled)
            g_ptr_array_add (queue, bz_account_ref (account));
        }
    }
  if (queue->len == 0 && !config_errors)
    g_printerr (_ ("buzond: %s: no enabled account to sync\n"), bz_config_get_path (config));

  once.config = config;
  once.queue = queue;
  once.tty = isatty (STDERR_FILENO) && g_getenv ("TERM") != NULL &&
             g_strcmp0 (g_getenv ("TERM"), "dumb") != 0;
  once.loop = loop;
  once.progress = progress;
#ifdef BZ_TEST_HOOKS
  if (g_getenv ("BUZON_TEST_NOW") != NULL)
    once.now = g_ascii_strtoll (g_getenv ("BUZON_TEST_NOW"), NULL, 10);
#endif
  if (queue->len > 0)
    {
      start_next (&once);
      g_main_loop_run (loop);
    }
  clear_progress_line (&once);
  if (config_errors)
    return BZ_EXIT_USAGE;
  return once.failed > 0 ? BZ_EXIT_SYNC_FAILED : BZ_EXIT_OK;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl sync [ACCOUNT] [--wait] */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <unistd.h>

#include "bz-ctl.h"

#define BAR_WIDTH 24

typedef struct _SyncRun SyncRun;

typedef struct
{
  SyncRun *run;
  BzDbusAccount *account;
  gulong finished_id;
  gulong changed_id;
  gboolean done;
  guint last_done; /* progress last printed, plain mode */
  guint last_total;
} SyncWait;

struct _SyncRun
{
  BzCtlClient *client;
  GPtrArray *waits; /* SyncWait* */
  GMainLoop *loop;
  gboolean tty;
  guint pending;
  guint failed;
  gboolean daemon_gone;
  gboolean interrupted;
};

static void
sync_wait_free (SyncWait *wait)
{
  g_clear_signal_handler (&wait->finished_id, wait->account);
  g_clear_signal_handler (&wait->changed_id, wait->account);
  g_object_unref (wait->account);
  g_free (wait);
}

static void
clear_bar (SyncRun *run)
{
  if (run->tty)
    fputs ("\r\033[K", stdout);
}

static void
draw_bar (SyncRun *run)
{
  g_autoptr (GString) line = g_string_new (NULL);

  if (!run->tty)
    return;
  for (guint i = 0; i < run->waits->len; i++)
    {
      SyncWait *wait = g_ptr_array_index (run->waits, i);
      GVariant *progress = bz_dbus_account_get_progress (wait->account);
      guint done = 0, total = 0, filled = 0;

      if (wait->done)
        continue;
      if (progress != NULL)
        g_variant_get (progress, "(uu)", &done, &total);
      if (total > 0)
        filled = MIN (done, total) * BAR_WIDTH / total;
      g_string_append_printf (line, "%s%s [", line->len > 0 ? "  " : "",
                              bz_dbus_account_get_name (wait->account));
      for (guint b = 0; b < BAR_WIDTH; b++)
        g_string_append_c (line, b < filled ? '#' : '.');
      if (total > 0)
        g_string_append_printf (line, "] %u/%u", done, total);
      else
        g_string_append_printf (line, "] %s", bz_dbus_account_get_state (wait->account));
    }
  clear_bar (run);
  fputs (line->str, stdout);
  fflush (stdout);
}

/* Not a terminal: one line each time the numbers move. */
static void
print_progress_line (SyncWait *wait)
{
  GVariant *progress = bz_dbus_account_get_progress (wait->account);
  guint done = 0, total = 0;

  if (progress != NULL)
    g_variant_get (progress, "(uu)", &done, &total);
  if (total == 0 || (done == wait->last_done && total == wait->last_total))
    return;
  wait->last_done = done;
  wait->last_total = total;
  g_print ("%s: %u/%u messages\n", bz_dbus_account_get_name (wait->account), done, total);
  fflush (stdout);
}

static void
properties_changed_cb (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer user_data)
{
  SyncWait *wait = user_data;

  if (wait->done)
    return;
  if (wait->run->tty)
    draw_bar (wait->run);
  else
    print_progress_line (wait);
}

static void
sync_finished_cb (BzDbusAccount *account, gboolean ok, guint new_messages, const char *error,
                  gpointer user_data)
{
  SyncWait *wait = user_data;
  SyncRun *run = wait->run;

  if (wait->done)
    return;
  wait->done = TRUE;
  clear_bar (run);
  if (ok)
    {
      g_print ("%s: synced, %u new message%s, %u stored\n", bz_dbus_account_get_name (account),
               new_messages, new_messages == 1 ? "" : "s",
               bz_dbus_account_get_stored_count (account));
    }
  else
    {
      g_autofree char *shown = bz_ctl_one_line (error);

      run->failed++;
      g_print ("%s: sync failed: %s\n", bz_dbus_account_get_name (account), shown);
    }
  fflush (stdout);
  draw_bar (run);
  if (--run->pending == 0)
    g_main_loop_quit (run->loop);
}

static void
owner_changed_cb (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  SyncRun *run = user_data;

  if (bz_ctl_client_is_running (run->client))
    return;
  run->daemon_gone = TRUE;
  g_main_loop_quit (run->loop);
}

static gboolean
interrupt_cb (gpointer user_data)
{
  SyncRun *run = user_data;

  run->interrupted = TRUE;
  g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

static void
sync_run_add (SyncRun *run, BzDbusAccount *account)
{
  SyncWait *wait = g_new0 (SyncWait, 1);

  wait->run = run;
  wait->account = g_object_ref (account);
  wait->finished_id =
      g_signal_connect (account, "sync-finished", G_CALLBACK (sync_finished_cb), wait);
  wait->changed_id =
      g_signal_connect (account, "g-properties-changed", G_CALLBACK (properties_changed_cb), wait);
  g_ptr_array_add (run->waits, wait);
  run->pending++;
}

static int
sync_wait (BzCtlClient *client, GPtrArray *accounts, BzDbusAccount *one)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GPtrArray) waits = g_ptr_array_new_with_free_func ((GDestroyNotify) sync_wait_free);
  g_autoptr (GError) error = NULL;
  SyncRun run = { 0 };
  gulong owner_id;
  guint sigint_id, sigterm_id;
  gboolean ok;

  run.client = client;
  run.waits = waits;
  run.loop = loop;
  run.tty = isatty (STDOUT_FILENO) && g_strcmp0 (g_getenv ("TERM"), "dumb") != 0 &&
            g_getenv ("TERM") != NULL;

  /* Subscribe before asking: a quick sync could otherwise finish before
   * we listen, and we would wait forever. */
  for (guint i = 0; i < accounts->len; i++)
    sync_run_add (&run, g_ptr_array_index (accounts, i));
  owner_id = g_signal_connect (client->manager, "notify::g-name-owner",
                               G_CALLBACK (owner_changed_cb), &run);
  sigint_id = g_unix_signal_add (SIGINT, interrupt_cb, &run);
  sigterm_id = g_unix_signal_add (SIGTERM, interrupt_cb, &run);

  if (one != NULL)
    ok = bz_dbus_account_call_sync_sync (one, NULL, &error);
  else
    ok = bz_dbus_manager_call_sync_all_sync (client->manager, NULL, &error);
  if (ok && run.pending > 0)
    {
      draw_bar (&run);
      g_main_loop_run (loop);
    }

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_signal_handler_disconnect (client->manager, owner_id);
  clear_bar (&run);
  fflush (stdout);
  if (!ok)
    return bz_ctl_print_error ("cannot start the sync", error);
  if (run.interrupted)
    {
      g_printerr ("buzonctl: interrupted; the sync goes on in buzond\n");
      return BZ_CTL_EXIT_FAILED;
    }
  if (run.daemon_gone)
    {
      g_printerr ("buzonctl: buzond stopped before the sync finished\n");
      return BZ_CTL_EXIT_FAILED;
    }
  return run.failed > 0 ? BZ_CTL_EXIT_FAILED : BZ_CTL_EXIT_OK;
}

int
bz_ctl_sync (int argc, char **argv)
{
  gboolean wait = FALSE;
  const GOptionEntry entries[] = {
    { "wait", 'w', 0, G_OPTION_ARG_NONE, &wait,
      "Show the progress and wait for the result (exit status 1 when a sync fails)", NULL },
    { NULL }
  };
  g_autoptr (BzCtlClient) client = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  g_autoptr (GPtrArray) accounts = NULL;
  g_autoptr (GError) error = NULL;
  int exit_code;

  if (!bz_ctl_parse ("sync", "[ACCOUNT]", "Start a sync of ACCOUNT, or of every enabled account.",
                     entries, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc > 2)
    {
      g_printerr ("buzonctl sync: unexpected argument \"%s\"\n", argv[2]);
      return BZ_CTL_EXIT_USAGE;
    }
  client = bz_ctl_client_new (&exit_code);
  if (client == NULL)
    return exit_code;

  if (argc == 2)
    {
      account = bz_ctl_client_find_account (client, argv[1]);
      if (account == NULL)
        return BZ_CTL_EXIT_USAGE;
      accounts = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (accounts, g_object_ref (account));
    }
  else
    {
      g_autoptr (GPtrArray) all = bz_ctl_client_get_accounts (client);

      accounts = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < all->len; i++)
        {
          BzDbusAccount *a = g_ptr_array_index (all, i);
          if (bz_dbus_account_get_enabled (a))
            g_ptr_array_add (accounts, g_object_ref (a));
        }
      if (accounts->len == 0)
        {
          g_printerr ("buzonctl: buzond has no enabled account\n");
          return BZ_CTL_EXIT_FAILED;
        }
    }
  if (wait)
    return sync_wait (client, accounts, account);

  if (account != NULL)
    {
      if (!bz_dbus_account_call_sync_sync (account, NULL, &error))
        return bz_ctl_print_error ("cannot start the sync", error);
      g_print ("sync of %s started\n", argv[1]);
    }
  else
    {
      if (!bz_dbus_manager_call_sync_all_sync (client->manager, NULL, &error))
        return bz_ctl_print_error ("cannot start the sync", error);
      g_print ("sync of %u account%s started\n", accounts->len, accounts->len == 1 ? "" : "s");
    }
  return BZ_CTL_EXIT_OK;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl watch: one line per event until SIGINT or SIGTERM. */
#include "config.h"

#include <glib/gi18n.h>

#include <glib-unix.h>
#include <stdarg.h>
#include <stdio.h>

#include "bz-ctl.h"

typedef struct
{
  BzCtlClient *client;
  GHashTable *states; /* object path -> last State seen */
  GMainLoop *loop;
} WatchRun;

/* Every line starts with the local time; stdout is flushed per line so a
 * pipe reader sees each event as it happens. */
static void G_GNUC_PRINTF (1, 2) watch_print (const char *format, ...)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%H:%M:%S");
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  line = bz_ctl_one_line (text);
  g_print ("%s %s\n", stamp, line);
  fflush (stdout);
}

static const char *
account_name (GDBusProxy *proxy)
{
  if (BZ_DBUS_IS_ACCOUNT (proxy))
    return bz_dbus_account_get_name (BZ_DBUS_ACCOUNT (proxy));
  return g_dbus_proxy_get_object_path (proxy);
}

static gboolean
state_is_active (const char *state)
{
  return g_strcmp0 (state, "connecting") == 0 || g_strcmp0 (state, "syncing") == 0;
}

static void
watch_state (WatchRun *run, BzDbusAccount *account)
{
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (account));
  const char *state = bz_dbus_account_get_state (account);
  const char *before = g_hash_table_lookup (run->states, path);

  if (state == NULL || g_strcmp0 (state, before) == 0)
    return;
  /* connecting -> syncing -> idle is one sync: its start here, its end as
   * SyncFinished; other moves (offline, disabled, back to idle) are news */
  if (state_is_active (state))
    {
      if (!state_is_active (before))
        watch_print (_ ("%s: sync started (%s)"), bz_dbus_account_get_name (account), state);
    }
  else if (g_strcmp0 (state, "error") == 0)
    {
      if (!state_is_active (before))
        watch_print (_ ("%s: state error: %s"), bz_dbus_account_get_name (account),
                     bz_dbus_account_get_last_error (account));
    }
  else if (!state_is_active (before) || g_strcmp0 (state, "idle") != 0)
    {
      watch_print (_ ("%s: state %s"), bz_dbus_account_get_name (account), state);
    }
  g_hash_table_insert (run->states, g_strdup (path), g_strdup (state));
}

static void
properties_changed_cb (GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
                       GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer user_data)
{
  WatchRun *run = user_data;
  g_autoptr (GVariant) state = NULL;

  if (!BZ_DBUS_IS_ACCOUNT (proxy))
    return;
  state = g_variant_lookup_value (changed, "State", NULL);
  if (state != NULL)
    watch_state (run, BZ_DBUS_ACCOUNT (proxy));
}

static void
signal_cb (GDBusObjectManagerClient *manager, GDBusObjectProxy *object, GDBusProxy *proxy,
           const char *sender, const char *signal_name, GVariant *parameters, gpointer user_data)
{
  gboolean ok = FALSE;
  guint new_messages = 0;
  const char *error = NULL;

  if (g_strcmp0 (signal_name, "SyncFinished") != 0 ||
      !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(bus)")))
    return;
  g_variant_get (parameters, "(bu&s)", &ok, &new_messages, &error);
  if (ok)
    watch_print (g_dngettext (GETTEXT_PACKAGE, "%s: sync finished, %u new message",
                              "%s: sync finished, %u new messages", new_messages),
                 account_name (proxy), new_messages);
  else
    watch_print (_ ("%s: sync failed: %s"), account_name (proxy), error);
}

static void
message_stored_cb (BzDbusManager *manager, const char *account, const char *uidl, const char *path,
                   const char *from, const char *subject, gint64 date, gpointer user_data)
{
  watch_print (_ ("%s: new message from %s: %s"), account,
               from[0] != '\0' ? from : _ ("(unknown sender)"),
               subject[0] != '\0' ? subject : _ ("(no subject)"));
}

static void
object_added_cb (GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
  WatchRun *run = user_data;
  g_autoptr (BzDbusAccount) account = bz_dbus_object_get_account (BZ_DBUS_OBJECT (object));

  if (account == NULL)
    return;
  watch_print (_ ("%s: account added"), bz_dbus_account_get_name (account));
  watch_state (run, account);
}

static void
object_removed_cb (GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
  WatchRun *run = user_data;
  g_autoptr (BzDbusAccount) account = bz_dbus_object_get_account (BZ_DBUS_OBJECT (object));
  const char *path = g_dbus_object_get_object_path (object);

  /* the object manager also drops every object when buzond exits */
  if (account != NULL && bz_ctl_client_is_running (run->client))
    watch_print (_ ("%s: account removed"), bz_dbus_account_get_name (account));
  g_hash_table_remove (run->states, path);
}

static void
owner_changed_cb (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  WatchRun *run = user_data;

  watch_print ("%s", bz_ctl_client_is_running (run->client) ? _ ("buzond started")
                                                            : _ ("buzond stopped"));
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
bz_ctl_watch (int argc, char **argv)
{
  g_autoptr (BzCtlClient) client = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GHashTable) states = NULL;
  g_autoptr (GPtrArray) accounts = NULL;
  WatchRun run = { 0 };
  guint sigint_id, sigterm_id;
  int exit_code;

  if (!bz_ctl_parse ("watch", NULL,
                     N_ ("Print one line per event (sync started, finished, message "
                         "stored) until interrupted."),
                     NULL, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc > 1)
    {
      g_printerr (_ ("buzonctl watch: unexpected argument \"%s\"\n"), argv[1]);
      return BZ_CTL_EXIT_USAGE;
    }
  client = bz_ctl_client_new (&exit_code);
  if (client == NULL)
    return exit_code;
  loop = g_main_loop_new (NULL, FALSE);
  states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  run.client = client;
  run.states = states;
  run.loop = loop;

  /* what is going on already is the baseline, not an event */
  accounts = bz_ctl_client_get_accounts (client);
  for (guint i = 0; i < accounts->len; i++)
    {
      BzDbusAccount *account = g_ptr_array_index (accounts, i);
      g_hash_table_insert (states, g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (account))),
                           g_strdup (bz_dbus_account_get_state (account)));
    }
  g_signal_connect (client->objects, "interface-proxy-properties-changed",
                    G_CALLBACK (properties_changed_cb), &run);
  g_signal_connect (client->objects, "interface-proxy-signal", G_CALLBACK (signal_cb), &run);
  g_signal_connect (client->objects, "object-added", G_CALLBACK (object_added_cb), &run);
  g_signal_connect (client->objects, "object-removed", G_CALLBACK (object_removed_cb), &run);
  g_signal_connect (client->manager, "message-stored", G_CALLBACK (message_stored_cb), &run);
  g_signal_connect (client->manager, "notify::g-name-owner", G_CALLBACK (owner_changed_cb), &run);
  sigint_id = g_unix_signal_add (SIGINT, quit_cb, loop);
  sigterm_id = g_unix_signal_add (SIGTERM, quit_cb, loop);

  watch_print (g_dngettext (GETTEXT_PACKAGE, "watching %u account; Ctrl-C to stop",
                            "watching %u accounts; Ctrl-C to stop", accounts->len),
               accounts->len);
  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_signal_handlers_disconnect_by_data (client->objects, &run);
  g_signal_handlers_disconnect_by_data (client->manager, &run);
  return BZ_CTL_EXIT_OK;
}

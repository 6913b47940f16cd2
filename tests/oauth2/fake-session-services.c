/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test helper: GNOME Online Accounts and a notification server on the
 * (private) session bus, with GNOME's names and signatures.
 *
 *   fake-session-services [--goa-email E] [--goa-identity I]
 *                         [--goa-token-file F] [--notify-log F] [--lifetime S]
 *
 * With --goa-email, org.gnome.OnlineAccounts exports one account with an
 * ObjectManager at /org/gnome/OnlineAccounts; GetAccessToken() answers the
 * first line of --goa-token-file, read at each call. With --notify-log,
 * org.freedesktop.Notifications appends each Notify's summary and body,
 * one line each. Prints "READY" once the names are owned; exits on SIGTERM
 * or after --lifetime seconds. */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>

#include "fake-goa-generated.h"
#include "fake-notify-generated.h"

static char *goa_email;
static char *goa_identity;
static char *goa_token_file;
static char *notify_log;
static int lifetime_s = 120;
static guint names_pending;
static guint notify_count;

static gboolean
get_access_token_cb (GoaOAuth2Based *iface, GDBusMethodInvocation *invocation, gpointer data)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents (goa_token_file, &contents, NULL, &error))
    {
      g_dbus_method_invocation_return_dbus_error (
          invocation, "org.gnome.OnlineAccounts.Error.Failed", error->message);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_strdelimit (contents, "\n", '\0');
  goa_oauth2_based_complete_get_access_token (iface, invocation, contents, 3600);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
notify_cb (FakeNotifications *iface, GDBusMethodInvocation *invocation, const char *app,
           guint replaces, const char *icon, const char *summary, const char *body,
           const char *const *actions, GVariant *hints, gint timeout, gpointer data)
{
  FILE *f = fopen (notify_log, "a");

  if (f != NULL)
    {
      g_autofree char *one_line = g_strdup (body);
      g_strdelimit (one_line, "\n", ' ');
      fprintf (f, "%s | %s\n", summary, one_line);
      fclose (f);
    }
  fake_notifications_complete_notify (iface, invocation, ++notify_count);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
name_acquired_cb (GDBusConnection *bus, const char *name, gpointer data)
{
  if (--names_pending == 0)
    {
      g_print ("READY\n");
      fflush (stdout);
    }
}

static void
name_lost_cb (GDBusConnection *bus, const char *name, gpointer data)
{
  g_printerr ("fake-session-services: could not own %s\n", name);
  exit (1);
}

static void
export_goa (GDBusConnection *bus, GDBusObjectManagerServer *manager)
{
  g_autoptr (GoaObjectSkeleton) object =
      goa_object_skeleton_new ("/org/gnome/OnlineAccounts/Accounts/account_1_1");
  g_autoptr (GoaAccount) account = goa_account_skeleton_new ();
  g_autoptr (GoaMail) mail = goa_mail_skeleton_new ();
  g_autoptr (GoaOAuth2Based) oauth2 = goa_oauth2_based_skeleton_new ();

  goa_account_set_provider_type (account, "google");
  goa_account_set_provider_name (account, "Google");
  goa_account_set_id (account, "account_1_1");
  goa_account_set_identity (account, goa_identity != NULL ? goa_identity : goa_email);
  goa_account_set_presentation_identity (account, goa_email);
  goa_mail_set_email_address (mail, goa_email);
  g_signal_connect (oauth2, "handle-get-access-token", G_CALLBACK (get_access_token_cb), NULL);
  goa_object_skeleton_set_account (object, account);
  goa_object_skeleton_set_mail (object, mail);
  goa_object_skeleton_set_oauth2_based (object, oauth2);
  g_dbus_object_manager_server_export (manager, G_DBUS_OBJECT_SKELETON (object));
}

static gboolean
quit_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  const GOptionEntry entries[] = {
    { "goa-email", 0, 0, G_OPTION_ARG_STRING, &goa_email, "GOA account mail address", "E" },
    { "goa-identity", 0, 0, G_OPTION_ARG_STRING, &goa_identity, "GOA account identity", "I" },
    { "goa-token-file", 0, 0, G_OPTION_ARG_FILENAME, &goa_token_file, "token file", "F" },
    { "notify-log", 0, 0, G_OPTION_ARG_FILENAME, &notify_log, "notification log", "F" },
    { "lifetime", 0, 0, G_OPTION_ARG_INT, &lifetime_s, "seconds before exiting", "S" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GDBusObjectManagerServer) manager = NULL;
  g_autoptr (FakeNotifications) notifications = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (goa_email != NULL)
    {
      manager = g_dbus_object_manager_server_new ("/org/gnome/OnlineAccounts");
      export_goa (bus, manager);
      g_dbus_object_manager_server_set_connection (manager, bus);
      names_pending++;
      g_bus_own_name_on_connection (bus, "org.gnome.OnlineAccounts", G_BUS_NAME_OWNER_FLAGS_NONE,
                                    name_acquired_cb, name_lost_cb, NULL, NULL);
    }
  if (notify_log != NULL)
    {
      notifications = fake_notifications_skeleton_new ();
      g_signal_connect (notifications, "handle-notify", G_CALLBACK (notify_cb), NULL);
      if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (notifications), bus,
                                             "/org/freedesktop/Notifications", &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      names_pending++;
      g_bus_own_name_on_connection (bus, "org.freedesktop.Notifications",
                                    G_BUS_NAME_OWNER_FLAGS_NONE, name_acquired_cb, name_lost_cb,
                                    NULL, NULL);
    }
  if (names_pending == 0)
    {
      g_printerr ("fake-session-services: nothing to serve\n");
      return 2;
    }
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_timeout_add_seconds ((guint) lifetime_s, quit_cb, loop);
  g_main_loop_run (loop);
  return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl: finding buzond on the session bus, and turning its errors
 * into one readable line. */
#include "config.h"

#include <glib/gi18n.h>

#include <stdio.h>
#include <string.h>

#include "bz-ctl.h"

gboolean
bz_ctl_parse (const char *name, const char *params, const char *summary,
              const GOptionEntry *entries, int *argc, char ***argv)
{
  g_autofree char *prgname = g_strdup_printf ("buzonctl %s", name);
  g_autoptr (GOptionContext) context = g_option_context_new (params);
  g_autoptr (GError) error = NULL;

  /* the usage line then reads "buzonctl status [OPTION…]" */
  g_set_prgname (prgname);
  /* @params, @summary and the entries' texts are N_() strings. */
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr (_ ("%s: %s\nTry \"%s --help\".\n"), prgname, error->message, prgname);
      return FALSE;
    }
  return TRUE;
}

void
bz_ctl_print_not_running (void)
{
  g_printerr (_ ("buzonctl: buzond is not running; start it with: "
                 "systemctl --user start buzon\n"));
}

/* Errors that mean nobody answers on our bus name. */
static gboolean
bz_ctl_error_is_no_daemon (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

int
bz_ctl_print_error (const char *what, GError *error)
{
  g_autoptr (GError) copy = NULL;

  if (bz_ctl_error_is_no_daemon (error))
    {
      bz_ctl_print_not_running ();
      return BZ_CTL_EXIT_USAGE;
    }
  copy = g_error_copy (error);
  g_dbus_error_strip_remote_error (copy);
  g_printerr ("buzonctl: %s: %s\n", what, copy->message);
  /* a wrong account name is a usage error, as when we catch it ourselves */
  if (g_error_matches (error, BZ_DBUS_ERROR, BZ_DBUS_ERROR_UNKNOWN_ACCOUNT))
    return BZ_CTL_EXIT_USAGE;
  return BZ_CTL_EXIT_FAILED;
}

BzCtlClient *
bz_ctl_client_new (int *exit_code)
{
  g_autoptr (BzCtlClient) client = g_new0 (BzCtlClient, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *owner = NULL;

  *exit_code = BZ_CTL_EXIT_USAGE;
  /* registers org.buzon.Agent1.Error.* so replies carry plain messages */
  (void) bz_dbus_error_quark ();
  /* Without DO_NOT_AUTO_START the proxy asks the bus to activate buzond
   * when no one owns the name; an unknown service is not an error to the
   * proxy, it just stays without an owner. */
  client->manager = bz_dbus_manager_proxy_new_for_bus_sync (
      G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE, BZ_DBUS_NAME, BZ_DBUS_PATH, NULL, &error);
  if (client->manager == NULL)
    {
      if (bz_ctl_error_is_no_daemon (error))
        bz_ctl_print_not_running ();
      else
        /* no bus, or activation found buzond but it failed to start */
        g_printerr (_ ("buzonctl: cannot reach buzond: %s\n"), error->message);
      return NULL;
    }
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (client->manager));
  if (owner == NULL)
    {
      bz_ctl_print_not_running ();
      return NULL;
    }
  /* the name is owned now: no second activation attempt */
  client->objects = bz_dbus_object_manager_client_new_for_bus_sync (
      G_BUS_TYPE_SESSION, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, BZ_DBUS_NAME,
      BZ_DBUS_PATH, NULL, &error);
  if (client->objects == NULL)
    {
      *exit_code = bz_ctl_print_error (_ ("cannot list the accounts"), error);
      return NULL;
    }
  *exit_code = BZ_CTL_EXIT_OK;
  return g_steal_pointer (&client);
}

void
bz_ctl_client_free (BzCtlClient *client)
{
  if (client == NULL)
    return;
  g_clear_object (&client->objects);
  g_clear_object (&client->manager);
  g_free (client);
}

gboolean
bz_ctl_client_is_running (BzCtlClient *client)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (client->manager));
  return owner != NULL;
}

static gint
bz_ctl_account_compare (gconstpointer a, gconstpointer b)
{
  BzDbusAccount *x = *(BzDbusAccount **) a;
  BzDbusAccount *y = *(BzDbusAccount **) b;

  return g_strcmp0 (bz_dbus_account_get_name (x), bz_dbus_account_get_name (y));
}

GPtrArray *
bz_ctl_client_get_accounts (BzCtlClient *client)
{
  GPtrArray *accounts = g_ptr_array_new_with_free_func (g_object_unref);
  GList *objects = g_dbus_object_manager_get_objects (client->objects);

  for (GList *l = objects; l != NULL; l = l->next)
    {
      BzDbusAccount *account = bz_dbus_object_get_account (BZ_DBUS_OBJECT (l->data));
      if (account != NULL)
        g_ptr_array_add (accounts, account);
    }
  g_list_free_full (objects, g_object_unref);
  g_ptr_array_sort (accounts, bz_ctl_account_compare);
  return accounts;
}

BzDbusAccount *
bz_ctl_client_find_account (BzCtlClient *client, const char *name)
{
  g_autoptr (GPtrArray) accounts = bz_ctl_client_get_accounts (client);

  for (guint i = 0; i < accounts->len; i++)
    {
      BzDbusAccount *account = g_ptr_array_index (accounts, i);
      if (g_strcmp0 (bz_dbus_account_get_name (account), name) == 0)
        return g_object_ref (account);
    }
  g_printerr (_ ("buzonctl: buzond has no account named \"%s\"\n"), name);
  return NULL;
}

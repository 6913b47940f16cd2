/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl remove ACCOUNT [--forget-password]: takes the group out of
 * accounts.conf (the rest of the file stays byte for byte), keeps the
 * Maildir and the database rows, and tells a running buzond to reload. */
#include "config.h"

#include <glib/gi18n.h>

#include <libsecret/secret.h>

#include "bz-config.h"
#include "bz-ctl.h"
#include "bz-setup.h"

gboolean
bz_ctl_reload_if_running (void)
{
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (BzDbusManager) manager = NULL;
  g_autoptr (GError) error = NULL;
  gboolean owned = FALSE;

  (void) bz_dbus_error_quark ();
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  /* asked, not activated: starting buzond just to read the file it would
   * read at start-up anyway is pointless */
  if (bus != NULL)
    reply = g_dbus_connection_call_sync (
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "NameHasOwner", g_variant_new ("(s)", BZ_DBUS_NAME), G_VARIANT_TYPE ("(b)"),
        G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);
  if (!owned)
    {
      g_print (_ ("buzond is not running; it will read the change when it next starts\n"));
      return TRUE;
    }
  manager = bz_dbus_manager_proxy_new_sync (bus,
                                            G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START |
                                                G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                                G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                            BZ_DBUS_NAME, BZ_DBUS_PATH, NULL, &error);
  if (manager == NULL || !bz_dbus_manager_call_reload_sync (manager, NULL, &error))
    {
      g_dbus_error_strip_remote_error (error);
      g_printerr (_ ("buzonctl: buzond could not reload its config: %s\n"), error->message);
      return FALSE;
    }
  g_print (_ ("buzond reloaded its config\n"));
  return TRUE;
}

/* Every keyring item of @name: its password (org.buzon.Password) and its
 * OAuth2 refresh token (org.buzon.OAuth2), whatever host and user they
 * were stored for, since the account is going away. Entries left by mpop
 * belong to mpop and stay. Returns the number of kinds removed, or -1. */
static int
forget_secrets (const char *name)
{
  static const SecretSchema schemas[] = {
    { "org.buzon.Password", SECRET_SCHEMA_NONE, { { "account", SECRET_SCHEMA_ATTRIBUTE_STRING } } },
    { "org.buzon.OAuth2", SECRET_SCHEMA_NONE, { { "account", SECRET_SCHEMA_ATTRIBUTE_STRING } } },
  };
  int removed = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (schemas); i++)
    {
      g_autoptr (GError) error = NULL;

      /* a password may be found under both host/user variants: clear all */
      while (secret_password_clear_sync (&schemas[i], NULL, &error, "account", name, NULL))
        removed++;
      if (error != NULL)
        {
          g_printerr (_ ("buzonctl: cannot clear the keyring items of account %s: %s\n"), name,
                      error->message);
          return -1;
        }
    }
  return removed;
}

/* Where the mail of @name is, from the config before the change. */
static char *
mail_location (const char *config_path, const char *name)
{
  g_autoptr (BzConfig) config = bz_config_load (config_path, NULL);
  BzAccount *account;

  if (config == NULL)
    return NULL;
  account = bz_config_find_account (config, name);
  if (account != NULL)
    return g_strdup (account->maildir);
  return g_build_filename (bz_config_get_data_dir (config), "mail", name, NULL);
}

int
bz_ctl_remove (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  gboolean forget = FALSE;
  const GOptionEntry entries[] = {
    { "forget-password", 0, 0, G_OPTION_ARG_NONE, &forget,
      N_ ("Also remove the account's password and OAuth2 token from the keyring"), NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      N_ ("Edit FILE instead of $XDG_CONFIG_HOME/buzon/accounts.conf"), N_ ("FILE") },
    { NULL }
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *new_text = NULL;
  g_autofree char *maildir = NULL;
  const char *name;
  int exit_code = BZ_CTL_EXIT_OK;

  if (!bz_ctl_parse ("remove", N_ ("ACCOUNT"),
                     N_ ("Take ACCOUNT out of accounts.conf. Its Maildir and what buzon "
                         "remembers of it (the database rows) stay, so adding it again later "
                         "fetches nothing twice."),
                     entries, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc != 2)
    {
      g_printerr (_ ("buzonctl remove: give exactly one ACCOUNT\n"));
      return BZ_CTL_EXIT_USAGE;
    }
  name = argv[1];
  if (config_path == NULL)
    config_path = bz_config_default_path ();
  if (!g_file_get_contents (config_path, &text, NULL, &error))
    {
      g_printerr ("buzonctl: %s\n", error->message);
      return g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? BZ_CTL_EXIT_USAGE
                                                                       : BZ_CTL_EXIT_FAILED;
    }
  new_text = bz_setup_conf_remove_account (text, name, NULL);
  if (new_text == NULL)
    {
      g_printerr (_ ("buzonctl: %s: no account named \"%s\"\n"), config_path, name);
      return BZ_CTL_EXIT_USAGE;
    }
  maildir = mail_location (config_path, name);
  if (!bz_setup_conf_replace (config_path, new_text, NULL, NULL, &error))
    {
      g_printerr (_ ("buzonctl: %s; nothing was changed\n"), error->message);
      return BZ_CTL_EXIT_FAILED;
    }
  g_print (_ ("account %s removed from %s\n"), name, config_path);
  if (maildir != NULL)
    g_print (_ ("its mail stays in %s\n"), maildir);
  g_print (_ ("what buzon knows of its messages stays in the database, so adding it again "
              "fetches nothing twice\n"));
  if (forget)
    {
      int removed = forget_secrets (name);
      if (removed < 0)
        exit_code = BZ_CTL_EXIT_FAILED;
      else if (removed == 0)
        g_print (_ ("the keyring held nothing for account %s\n"), name);
      else
        g_print (_ ("the keyring items of account %s were removed\n"), name);
    }
  if (!bz_ctl_reload_if_running ())
    exit_code = BZ_CTL_EXIT_FAILED;
  return exit_code;
}

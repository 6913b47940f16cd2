/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl authorize ACCOUNT [--no-browser]: the OAuth2 sign-in of an
 * account with oauth2 = google, microsoft or custom. Works whether or not
 * buzond runs; when it does, the account syncs right after. */
#include "config.h"

#include <glib/gi18n.h>

#include <stdio.h>

#include "bz-config.h"
#include "bz-ctl.h"
#include "bz-oauth2.h"

/* RFC 8252 gives no number; five minutes is enough to type a password
 * and a second factor, short enough not to leave a listener around. */
#define AUTHORIZE_TIMEOUT_S (5 * 60)

typedef struct
{
  gboolean no_browser;
  const char *account;
} ShowUrl;

static void
show_url_cb (const char *url, gpointer user_data)
{
  ShowUrl *show = user_data;
  g_autoptr (GError) error = NULL;

  if (!show->no_browser && g_app_info_launch_default_for_uri (url, NULL, &error))
    {
      g_printerr (g_dngettext (GETTEXT_PACKAGE,
                               "buzonctl: the sign-in page for %s is open in your browser; "
                               "waiting for you to finish there (at most %d minute)\n",
                               "buzonctl: the sign-in page for %s is open in your browser; "
                               "waiting for you to finish there (at most %d minutes)\n",
                               AUTHORIZE_TIMEOUT_S / 60),
                  show->account, AUTHORIZE_TIMEOUT_S / 60);
      return;
    }
  if (error != NULL)
    g_printerr (_ ("buzonctl: no browser could be opened (%s)\n"), error->message);
  /* stdout, alone on its line: easy to copy, and for scripts to follow */
  g_printerr (g_dngettext (GETTEXT_PACKAGE,
                           "Open this address in a browser to sign in %s (waiting at most %d "
                           "minute):\n",
                           "Open this address in a browser to sign in %s (waiting at most %d "
                           "minutes):\n",
                           AUTHORIZE_TIMEOUT_S / 60),
              show->account, AUTHORIZE_TIMEOUT_S / 60);
  g_print ("%s\n", url);
  fflush (stdout);
}

/* Best effort: a running daemon syncs the account now instead of waiting
 * for its next turn. Never starts the daemon. */
static void
nudge_daemon (BzAccount *account)
{
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *path = bz_account_object_path (account->name);

  if (bus == NULL)
    return;
  reply = g_dbus_connection_call_sync (bus, "org.buzon.Agent1", path, "org.buzon.Agent1.Account",
                                       "Sync", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000,
                                       NULL, NULL);
  if (reply != NULL)
    g_printerr (_ ("buzonctl: buzond is syncing %s now\n"), account->name);
}

int
bz_ctl_authorize (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  gboolean no_browser = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      N_ ("Find ACCOUNT in FILE instead of $XDG_CONFIG_HOME/buzon/accounts.conf"), N_ ("FILE") },
    { "no-browser", 0, 0, G_OPTION_ARG_NONE, &no_browser,
      N_ ("Print the sign-in address instead of opening a browser"), NULL },
    { NULL }
  };
  g_autoptr (BzAccount) account = NULL;
  g_autoptr (GError) error = NULL;
  ShowUrl show = { 0 };

  if (!bz_ctl_parse ("authorize", N_ ("ACCOUNT"),
                     N_ ("Sign in to the OAuth2 provider of ACCOUNT (oauth2 = google, microsoft "
                         "or custom) in a browser and store the refresh token in the keyring."),
                     entries, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc != 2)
    {
      g_printerr (_ ("buzonctl authorize: give exactly one ACCOUNT\n"));
      return BZ_CTL_EXIT_USAGE;
    }
  account = bz_ctl_find_config_account (config_path, argv[1], NULL);
  if (account == NULL)
    return BZ_CTL_EXIT_USAGE;
  if (account->oauth2 == BZ_OAUTH2_NONE || account->oauth2 == BZ_OAUTH2_GOA ||
      account->oauth2 == BZ_OAUTH2_COMMAND)
    {
      /* Whole sentences, so that translators can order them freely */
      if (account->oauth2 == BZ_OAUTH2_NONE)
        g_printerr (_ ("buzonctl: account %s signs in with a password (oauth2 is not set); use "
                       "buzonctl set-password\n"),
                    account->name);
      else if (account->oauth2 == BZ_OAUTH2_GOA)
        g_printerr (_ ("buzonctl: account %s takes its sign-in from GNOME Online Accounts; add "
                       "the account in Settings, Online Accounts\n"),
                    account->name);
      else
        g_printerr (_ ("buzonctl: account %s takes its tokens from its oauth2-token-command\n"),
                    account->name);
      return BZ_CTL_EXIT_USAGE;
    }
  show.no_browser = no_browser;
  show.account = account->name;
  if (!bz_oauth2_authorize (account, AUTHORIZE_TIMEOUT_S, show_url_cb, &show, NULL, &error))
    {
      g_printerr ("buzonctl: %s\n", error->message);
      return BZ_CTL_EXIT_FAILED;
    }
  g_printerr (_ ("buzonctl: %s is signed in; the refresh token is in the keyring\n"),
              account->name);
  nudge_daemon (account);
  return BZ_CTL_EXIT_OK;
}

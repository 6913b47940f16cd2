/* SPDX-License-Identifier: GPL-3.0-or-later */
/* oauth2 = goa: the access token of a GNOME Online Accounts account.
 * GOA exports its accounts with an ObjectManager at /org/gnome/OnlineAccounts
 * on the session bus; the one whose org.gnome.OnlineAccounts.Mail
 * EmailAddress or org.gnome.OnlineAccounts.Account Identity equals the
 * account's user, and which implements .OAuth2Based, gives the token with
 * GetAccessToken() -> (s access_token, i expires_in). GOA keeps it fresh. */

#include "config.h"

#include <string.h>

#include "bz-oauth2.h"

#define GOA_NAME "org.gnome.OnlineAccounts"
#define GOA_PATH "/org/gnome/OnlineAccounts"
#define GOA_ACCOUNT_IFACE "org.gnome.OnlineAccounts.Account"
#define GOA_MAIL_IFACE "org.gnome.OnlineAccounts.Mail"
#define GOA_OAUTH2_IFACE "org.gnome.OnlineAccounts.OAuth2Based"
/* GOA may refresh the token over the network before it answers */
#define GOA_CALL_TIMEOUT_MS 60000

static gboolean
bz_oauth2_goa_prop_equals (GVariant *props, const char *name, const char *want)
{
  const char *value = NULL;

  if (props == NULL || !g_variant_lookup (props, name, "&s", &value))
    return FALSE;
  return g_ascii_strcasecmp (value, want) == 0;
}

/* The object path of the GOA account for @user (transfer full), or NULL. */
static char *
bz_oauth2_goa_find (GVariant *objects, const char *user)
{
  GVariantIter iter;
  const char *path;
  GVariant *ifaces;

  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      g_autoptr (GVariant) owned = ifaces;
      g_autoptr (GVariant) account = g_variant_lookup_value (ifaces, GOA_ACCOUNT_IFACE, NULL);
      g_autoptr (GVariant) mail = g_variant_lookup_value (ifaces, GOA_MAIL_IFACE, NULL);
      g_autoptr (GVariant) oauth2 = g_variant_lookup_value (ifaces, GOA_OAUTH2_IFACE, NULL);

      if (oauth2 == NULL)
        continue;
      if (bz_oauth2_goa_prop_equals (mail, "EmailAddress", user) ||
          bz_oauth2_goa_prop_equals (account, "Identity", user))
        return g_strdup (path);
    }
  return NULL;
}

char *
bz_oauth2_goa_get_token (BzAccount *account, gint *expires_in, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) objects = NULL;
  g_autoptr (GVariant) token_reply = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *path = NULL;
  const char *token = NULL;
  gint expires = 0;
  char *copy;

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, cancellable, &local_error);
  if (bus != NULL)
    reply = g_dbus_connection_call_sync (
        bus, GOA_NAME, GOA_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL,
        G_VARIANT_TYPE ("(a{oa{sa{sv}}})"), G_DBUS_CALL_FLAGS_NONE, GOA_CALL_TIMEOUT_MS,
        cancellable, &local_error);
  if (reply == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_GOA,
                   "%s: GNOME Online Accounts is not available on the session bus: %s",
                   account->name, local_error->message);
      return NULL;
    }
  objects = g_variant_get_child_value (reply, 0);
  path = bz_oauth2_goa_find (objects, account->user);
  if (path == NULL)
    {
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_GOA_NOT_FOUND,
                   "%s: GNOME Online Accounts has no OAuth2 account for %s; add it in "
                   "Settings, Online Accounts",
                   account->name, account->user);
      return NULL;
    }
  token_reply = g_dbus_connection_call_sync (
      bus, GOA_NAME, path, GOA_OAUTH2_IFACE, "GetAccessToken", NULL, G_VARIANT_TYPE ("(si)"),
      G_DBUS_CALL_FLAGS_NONE, GOA_CALL_TIMEOUT_MS, cancellable, &local_error);
  if (token_reply == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_GOA,
                   "%s: GNOME Online Accounts gave no access token for %s: %s", account->name,
                   account->user, local_error->message);
      return NULL;
    }
  g_variant_get (token_reply, "(&si)", &token, &expires);
  if (token == NULL || *token == '\0' || strlen (token) > BZ_OAUTH2_TOKEN_MAX ||
      strpbrk (token, "\r\n ") != NULL)
    {
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_GOA,
                   "%s: GNOME Online Accounts gave an unusable access token", account->name);
      return NULL;
    }
  copy = g_strdup (token);
  /* the D-Bus message held it too */
  explicit_bzero ((char *) token, strlen (token));
  if (expires_in != NULL)
    *expires_in = expires;
  return copy;
}

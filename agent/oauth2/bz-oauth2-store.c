/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Refresh tokens in the keyring: libsecret schema org.buzon.OAuth2 with
 * the attributes account, host and user (DESIGN.md "Keyring"). Blocking
 * calls: the daemon uses them from sync workers, buzonctl from its CLI. */

#include "config.h"

#include <string.h>

#include "bz-oauth2.h"

static const SecretSchema bz_oauth2_schema = {
  "org.buzon.OAuth2",
  SECRET_SCHEMA_NONE,
  {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
  },
};

const SecretSchema *
bz_oauth2_get_schema (void)
{
  return &bz_oauth2_schema;
}

char *
bz_oauth2_lookup_refresh_token (BzAccount *account, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  char *secret;
  char *copy;

  secret = secret_password_lookup_sync (&bz_oauth2_schema, cancellable, &local_error, "account",
                                        account->name, "host", account->host, "user", account->user,
                                        NULL);
  if (local_error != NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_KEYRING,
                     "%s: cannot read the sign-in from the keyring: %s", account->name,
                     local_error->message);
      return NULL;
    }
  if (secret == NULL || *secret == '\0')
    {
      if (secret != NULL)
        secret_password_free (secret);
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_NOT_AUTHORIZED,
                   "%s: not signed in to %s yet; sign in with: buzonctl authorize %s",
                   account->name, account->host, account->name);
      return NULL;
    }
  copy = g_strdup (secret);
  secret_password_free (secret);
  return copy;
}

gboolean
bz_oauth2_store_refresh_token (BzAccount *account, const char *refresh_token,
                               GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *label =
      g_strdup_printf ("buzon OAuth2: %s (%s@%s)", account->name, account->user, account->host);

  if (!secret_password_store_sync (&bz_oauth2_schema, SECRET_COLLECTION_DEFAULT, label,
                                   refresh_token, cancellable, &local_error, "account",
                                   account->name, "host", account->host, "user", account->user,
                                   NULL))
    {
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_KEYRING,
                   "%s: cannot store the sign-in in the keyring: %s", account->name,
                   local_error != NULL ? local_error->message : "unknown error");
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_oauth2_clear_refresh_token (BzAccount *account, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  secret_password_clear_sync (&bz_oauth2_schema, cancellable, &local_error, "account",
                              account->name, "host", account->host, "user", account->user, NULL);
  if (local_error != NULL)
    {
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_KEYRING,
                   "%s: cannot remove the sign-in from the keyring: %s", account->name,
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The OAuth2 keys of an [account NAME] group (DESIGN.md "Config"): which
 * token source, its endpoints, and how they fit the auth key. */

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "bz-account.h"
#include "bz-config-private.h"
#include "bz-config.h"

static const char *const oauth2_names[] = {
  "none", "google", "microsoft", "custom", "goa", "command", NULL,
};

static const char *
bz_config_oauth2_default_client_id (BzOAuth2Provider provider)
{
  switch (provider)
    {
    case BZ_OAUTH2_GOOGLE:
      return BZ_GOOGLE_CLIENT_ID;
    case BZ_OAUTH2_MICROSOFT:
      return BZ_MICROSOFT_CLIENT_ID;
    default:
      return "";
    }
}

/* An endpoint must keep the authorization code and tokens off the wire in
 * clear: https, or http to this machine (a local identity provider). */
static gboolean
bz_config_parse_oauth2_url (BzConfigGroupCtx *ctx, const char *key, const char *value, char **out)
{
  g_autoptr (GUri) uri = g_uri_parse (value, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;

  if (uri == NULL || host == NULL || *host == '\0' ||
      (g_ascii_strcasecmp (scheme, "https") != 0 && g_ascii_strcasecmp (scheme, "http") != 0))
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                            "expected an https:// URL");
      return FALSE;
    }
  if (g_ascii_strcasecmp (scheme, "http") == 0 && !bz_host_is_loopback (host))
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                            "refused: http:// would send tokens unencrypted; expected "
                            "https://, or http:// only to a loopback address");
      return FALSE;
    }
  *out = g_strdup (value);
  return TRUE;
}

static char *
bz_config_oauth2_get (BzConfigGroupCtx *ctx, const char *key, gboolean verbatim)
{
  char *value = bz_config_group_get_value (ctx, key, verbatim);

  if (value != NULL)
    g_strstrip (value);
  if (value != NULL && *value == '\0')
    {
      bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, key, value,
                            "empty; remove the key or give a value");
      g_clear_pointer (&value, g_free);
    }
  return value;
}

static void
bz_config_oauth2_require (BzConfigGroupCtx *ctx, const char *key, const char *value,
                          const char *provider, const char *what)
{
  if (value == NULL && !g_key_file_has_key (ctx->keyfile, ctx->group, key, NULL))
    bz_config_group_fail (ctx, BZ_CONFIG_ERROR_MISSING_KEY, key, NULL,
                          "missing; oauth2 = %s needs %s", provider, what);
}

void
bz_config_parse_oauth2 (BzConfigGroupCtx *ctx, BzAccount *account)
{
  g_autofree char *provider = bz_config_oauth2_get (ctx, "oauth2", FALSE);
  g_autofree char *url = NULL;
  gboolean is_oauth_auth = account->auth == BZ_AUTH_XOAUTH2 || account->auth == BZ_AUTH_OAUTHBEARER;
  guint v = BZ_OAUTH2_NONE;

  if (provider != NULL && (g_strcmp0 (provider, "none") == 0 ||
                           !bz_config_parse_enum (ctx, "oauth2", provider, oauth2_names + 1, &v)))
    {
      if (g_strcmp0 (provider, "none") == 0)
        bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, "oauth2", provider,
                              "expected one of google, microsoft, custom, goa, command");
      return;
    }
  if (provider != NULL)
    account->oauth2 = (BzOAuth2Provider) (v + 1);

  account->oauth2_client_id = bz_config_oauth2_get (ctx, "oauth2-client-id", FALSE);
  account->oauth2_client_secret = bz_config_oauth2_get (ctx, "oauth2-client-secret", FALSE);
  account->oauth2_scope = bz_config_oauth2_get (ctx, "oauth2-scope", FALSE);
  account->oauth2_token_command = bz_config_oauth2_get (ctx, "oauth2-token-command", TRUE);
  url = bz_config_oauth2_get (ctx, "oauth2-auth-url", FALSE);
  if (url != NULL)
    bz_config_parse_oauth2_url (ctx, "oauth2-auth-url", url, &account->oauth2_auth_url);
  g_clear_pointer (&url, g_free);
  url = bz_config_oauth2_get (ctx, "oauth2-token-url", FALSE);
  if (url != NULL)
    bz_config_parse_oauth2_url (ctx, "oauth2-token-url", url, &account->oauth2_token_url);

  if (account->oauth2 == BZ_OAUTH2_NONE)
    {
      if (is_oauth_auth)
        bz_config_group_fail (ctx, BZ_CONFIG_ERROR_MISSING_KEY, "oauth2", NULL,
                              "missing; auth = %s needs a token source: oauth2 = google, "
                              "microsoft, custom, goa or command",
                              account->auth == BZ_AUTH_XOAUTH2 ? "xoauth2" : "oauthbearer");
      for (const char *const *key =
               (const char *const[]){ "oauth2-client-id", "oauth2-client-secret", "oauth2-auth-url",
                                      "oauth2-token-url", "oauth2-scope", "oauth2-token-command",
                                      NULL };
           *key != NULL; key++)
        {
          if (g_key_file_has_key (ctx->keyfile, ctx->group, *key, NULL))
            bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, *key, NULL,
                                  "only used with oauth2 = ...; set oauth2 or remove the key");
        }
      return;
    }

  if (account->auth != BZ_AUTH_AUTO && !is_oauth_auth)
    bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, "auth", NULL,
                          "with oauth2 = %s expected auto, xoauth2 or oauthbearer", provider);
  if (account->password_command != NULL)
    bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, "password-command", NULL,
                          "not used with oauth2 = %s; remove one of them", provider);

  switch (account->oauth2)
    {
    case BZ_OAUTH2_CUSTOM:
      bz_config_oauth2_require (ctx, "oauth2-client-id", account->oauth2_client_id, provider,
                                "the client id of your app registration");
      bz_config_oauth2_require (ctx, "oauth2-auth-url", account->oauth2_auth_url, provider,
                                "the provider's authorization endpoint");
      bz_config_oauth2_require (ctx, "oauth2-token-url", account->oauth2_token_url, provider,
                                "the provider's token endpoint");
      bz_config_oauth2_require (ctx, "oauth2-scope", account->oauth2_scope, provider,
                                "the scope that grants POP access");
      break;
    case BZ_OAUTH2_GOOGLE:
    case BZ_OAUTH2_MICROSOFT:
      if (account->oauth2_client_id == NULL &&
          *bz_config_oauth2_default_client_id (account->oauth2) == '\0')
        bz_config_group_fail (ctx, BZ_CONFIG_ERROR_MISSING_KEY, "oauth2-client-id", NULL,
                              "missing, and this build has no default client id for %s; "
                              "register an app with %s and give its client id",
                              provider, provider);
      if (account->oauth2_scope != NULL)
        bz_config_group_fail (
            ctx, BZ_CONFIG_ERROR_INVALID_VALUE, "oauth2-scope", account->oauth2_scope,
            "oauth2 = %s has its scope built in; only custom takes one", provider);
      break;
    case BZ_OAUTH2_COMMAND:
      bz_config_oauth2_require (ctx, "oauth2-token-command", account->oauth2_token_command,
                                provider, "a command that prints a current access token");
      break;
    case BZ_OAUTH2_GOA:
    case BZ_OAUTH2_NONE:
    default:
      break;
    }
  if (account->oauth2 != BZ_OAUTH2_COMMAND && account->oauth2_token_command != NULL)
    bz_config_group_fail (ctx, BZ_CONFIG_ERROR_INVALID_VALUE, "oauth2-token-command", NULL,
                          "only used with oauth2 = command");
}

const char *
bz_account_get_oauth2_client_id (const BzAccount *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (self->oauth2_client_id != NULL)
    return self->oauth2_client_id;
  return bz_config_oauth2_default_client_id (self->oauth2);
}

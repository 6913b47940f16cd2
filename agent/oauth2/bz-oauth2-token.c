/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Access tokens: which source, the presets' endpoints, and a process-wide
 * cache so that a token is refreshed only shortly before it expires or
 * when the server refused it (GNOME Online Accounts' goaoauth2provider.c
 * does the same). Tokens stay in memory and are wiped when dropped. */

#include "config.h"

#include <string.h>

#include "bz-oauth2.h"
#include "bz-secrets.h"

/* Refresh this long before the provider's expiry: a token that expires
 * between the check and the login would cost a failed login. */
#define BZ_OAUTH2_EXPIRY_MARGIN_US (60 * G_USEC_PER_SEC)
/* When the provider does not say: an hour, as Google and Microsoft issue. */
#define BZ_OAUTH2_DEFAULT_LIFETIME_S 3600

typedef struct
{
  char *token;       /* wiped on free */
  gint64 expires_at; /* monotonic microseconds */
} BzOAuth2Cached;

static GMutex bz_oauth2_cache_lock;
static GHashTable *bz_oauth2_cache; /* key (see cache_key) -> BzOAuth2Cached* */

static void
bz_oauth2_cached_free (BzOAuth2Cached *cached)
{
  bz_oauth2_token_free (cached->token);
  g_free (cached);
}

gboolean
bz_oauth2_endpoints (BzAccount *account, const char **auth_url, const char **token_url,
                     const char **scope, GError **error)
{
  const char *a = NULL, *t = NULL, *s = NULL;

  switch (account->oauth2)
    {
    case BZ_OAUTH2_GOOGLE:
      a = "https://accounts.google.com/o/oauth2/v2/auth";
      t = "https://oauth2.googleapis.com/token";
      s = "https://mail.google.com/";
      break;
    case BZ_OAUTH2_MICROSOFT:
      a = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";
      t = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
      /* offline_access: without it there is no refresh token */
      s = "https://outlook.office.com/POP.AccessAsUser.All offline_access";
      break;
    case BZ_OAUTH2_CUSTOM:
      break;
    case BZ_OAUTH2_GOA:
    case BZ_OAUTH2_COMMAND:
    case BZ_OAUTH2_NONE:
    default:
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_CONFIG,
                   "%s: this account takes its tokens from %s, not from a sign-in by buzon",
                   account->name,
                   account->oauth2 == BZ_OAUTH2_GOA       ? "GNOME Online Accounts"
                   : account->oauth2 == BZ_OAUTH2_COMMAND ? "its oauth2-token-command"
                                                          : "nowhere (oauth2 is not set)");
      return FALSE;
    }
  /* the account's own endpoints win (a local identity provider, tests) */
  if (auth_url != NULL)
    *auth_url = account->oauth2_auth_url != NULL ? account->oauth2_auth_url : a;
  if (token_url != NULL)
    *token_url = account->oauth2_token_url != NULL ? account->oauth2_token_url : t;
  if (scope != NULL)
    *scope = account->oauth2_scope != NULL ? account->oauth2_scope : s;
  return TRUE;
}

const char *
bz_oauth2_client_secret (BzAccount *account)
{
  if (account->oauth2_client_secret != NULL)
    return account->oauth2_client_secret;
  /* the build's secret belongs to the build's client id only */
  if (account->oauth2 == BZ_OAUTH2_GOOGLE && account->oauth2_client_id == NULL &&
      *BZ_GOOGLE_CLIENT_SECRET != '\0')
    return BZ_GOOGLE_CLIENT_SECRET;
  return NULL;
}

/* Everything that decides which token is right: a reload that changes any
 * of it must not reuse the old token. */
static char *
bz_oauth2_cache_key (BzAccount *account)
{
  return g_strdup_printf ("%s\n%d\n%s\n%s\n%s\n%s", account->name, account->oauth2, account->host,
                          account->user, bz_account_get_oauth2_client_id (account),
                          account->oauth2_token_url != NULL ? account->oauth2_token_url : "");
}

void
bz_oauth2_forget_tokens (void)
{
  g_mutex_lock (&bz_oauth2_cache_lock);
  g_clear_pointer (&bz_oauth2_cache, g_hash_table_unref);
  g_mutex_unlock (&bz_oauth2_cache_lock);
}

static void bz_oauth2_cache_drop (const char *key);

void
bz_oauth2_forget_token (BzAccount *account)
{
  g_autofree char *key = bz_oauth2_cache_key (account);

  bz_oauth2_cache_drop (key);
}

static char *
bz_oauth2_cache_get (const char *key)
{
  BzOAuth2Cached *cached;
  char *token = NULL;

  g_mutex_lock (&bz_oauth2_cache_lock);
  cached = bz_oauth2_cache != NULL ? g_hash_table_lookup (bz_oauth2_cache, key) : NULL;
  if (cached != NULL && g_get_monotonic_time () + BZ_OAUTH2_EXPIRY_MARGIN_US < cached->expires_at)
    token = g_strdup (cached->token);
  g_mutex_unlock (&bz_oauth2_cache_lock);
  return token;
}

static void
bz_oauth2_cache_put (const char *key, const char *token, gint64 expires_in)
{
  BzOAuth2Cached *cached = g_new0 (BzOAuth2Cached, 1);

  if (expires_in <= 0)
    expires_in = BZ_OAUTH2_DEFAULT_LIFETIME_S;
  cached->token = g_strdup (token);
  cached->expires_at = g_get_monotonic_time () + expires_in * G_USEC_PER_SEC;
  g_mutex_lock (&bz_oauth2_cache_lock);
  if (bz_oauth2_cache == NULL)
    bz_oauth2_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) bz_oauth2_cached_free);
  g_hash_table_replace (bz_oauth2_cache, g_strdup (key), cached);
  g_mutex_unlock (&bz_oauth2_cache_lock);
}

static void
bz_oauth2_cache_drop (const char *key)
{
  g_mutex_lock (&bz_oauth2_cache_lock);
  if (bz_oauth2_cache != NULL)
    g_hash_table_remove (bz_oauth2_cache, key);
  g_mutex_unlock (&bz_oauth2_cache_lock);
}

static void
bz_oauth2_sync_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* oauth2 = command: like password-command, one line on standard output. */
static char *
bz_oauth2_run_command (BzAccount *account, GCancellable *cancellable, GError **error)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GAsyncResult) result = NULL;
  char *secret;
  char *copy;

  g_main_context_push_thread_default (context);
  bz_secrets_run_command_full_async (account->name, "oauth2-token-command", BZ_OAUTH2_TOKEN_MAX,
                                     account->oauth2_token_command, 0, cancellable,
                                     bz_oauth2_sync_cb, &result);
  /* bounded by the command's timeout */
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  secret = bz_secrets_run_command_finish (result, error);
  if (secret == NULL)
    return NULL;
  copy = g_strdup (secret);
  bz_secrets_password_free (secret);
  return copy;
}

/* google, microsoft, custom: refresh_token grant (RFC 6749 §6). */
static char *
bz_oauth2_refresh (BzAccount *account, const char *key, GCancellable *cancellable, GError **error)
{
  const char *token_url = NULL;
  char *refresh_token;
  g_autoptr (BzOAuth2Grant) grant = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!bz_oauth2_endpoints (account, NULL, &token_url, NULL, error))
    return NULL;
  refresh_token = bz_oauth2_lookup_refresh_token (account, cancellable, error);
  if (refresh_token == NULL)
    return NULL;
  grant = bz_oauth2_request_token (account->name, token_url, cancellable, &local_error,
                                   "grant_type", "refresh_token", "refresh_token", refresh_token,
                                   "client_id", bz_account_get_oauth2_client_id (account),
                                   "client_secret", bz_oauth2_client_secret (account), NULL);
  bz_oauth2_token_free (refresh_token);
  if (grant == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  /* Microsoft rotates refresh tokens: keep the newest */
  if (grant->refresh_token != NULL &&
      !bz_oauth2_store_refresh_token (account, grant->refresh_token, cancellable, &local_error))
    g_warning ("%s", local_error->message);
  bz_oauth2_cache_put (key, grant->access_token, grant->expires_in);
  g_debug ("%s: access token refreshed, valid %" G_GINT64_FORMAT " s", account->name,
           grant->expires_in);
  return g_strdup (grant->access_token);
}

char *
bz_oauth2_get_token (BzAccount *account, gboolean force_refresh, GCancellable *cancellable,
                     GError **error)
{
  g_autofree char *key = NULL;
  char *token;

  g_return_val_if_fail (account != NULL, NULL);

  switch (account->oauth2)
    {
    case BZ_OAUTH2_COMMAND:
      return bz_oauth2_run_command (account, cancellable, error);
    case BZ_OAUTH2_GOA:
      return bz_oauth2_goa_get_token (account, NULL, cancellable, error);
    case BZ_OAUTH2_NONE:
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_CONFIG,
                   "%s: the account does not use OAuth2", account->name);
      return NULL;
    case BZ_OAUTH2_GOOGLE:
    case BZ_OAUTH2_MICROSOFT:
    case BZ_OAUTH2_CUSTOM:
    default:
      break;
    }
  key = bz_oauth2_cache_key (account);
  if (!force_refresh)
    {
      token = bz_oauth2_cache_get (key);
      if (token != NULL)
        return token;
    }
  bz_oauth2_cache_drop (key);
  return bz_oauth2_refresh (account, key, cancellable, error);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `buzonctl authorize`: the authorization code flow for native apps
 * (RFC 8252): PKCE with S256 (RFC 7636), a redirect to a loopback HTTP
 * listener on 127.0.0.1 with a port the kernel picks, a `state` that must
 * come back unchanged, then the code exchanged at the token endpoint and
 * the refresh token stored in the keyring. */

#include "config.h"

#include <libsoup/soup.h>
#include <string.h>
#include <sys/random.h>

#include "bz-oauth2.h"

typedef struct
{
  const char *state;
  char *code;  /* set once a redirect with the right state arrived */
  char *error; /* or the provider's error code */
  gboolean done;
  gboolean timed_out;
  SoupServerMessage *answer; /* the browser's request that ended the wait */
  gboolean answered;         /* ... and its page went out */
} BzOAuth2Wait;

/* @n random bytes as base64url without padding (RFC 7636 §4.1). */
static char *
bz_oauth2_random_b64url (gsize n)
{
  guchar buf[64];
  gsize got = 0;
  char *b64;

  g_assert (n <= sizeof buf);
  while (got < n)
    {
      ssize_t r = getrandom (buf + got, n - got, 0);
      if (r < 0)
        g_error ("getrandom failed: %s", g_strerror (errno));
      got += (gsize) r;
    }
  b64 = g_base64_encode (buf, n);
  explicit_bzero (buf, sizeof buf);
  g_strdelimit (b64, "+", '-');
  g_strdelimit (b64, "/", '_');
  for (char *p = b64; *p != '\0'; p++)
    {
      if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }
  return b64;
}

char *
bz_oauth2_pkce_verifier (void)
{
  /* 48 bytes: 64 characters, within RFC 7636's 43..128 */
  return bz_oauth2_random_b64url (48);
}

char *
bz_oauth2_pkce_challenge (const char *verifier)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;
  char *b64;

  g_checksum_update (sum, (const guchar *) verifier, -1);
  g_checksum_get_digest (sum, digest, &len);
  b64 = g_base64_encode (digest, len);
  g_strdelimit (b64, "+", '-');
  g_strdelimit (b64, "/", '_');
  for (char *p = b64; *p != '\0'; p++)
    {
      if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }
  return b64;
}

static void
bz_oauth2_reply (SoupServerMessage *msg, guint status, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);
  g_autofree char *body =
      g_strdup_printf ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>buzon</title>"
                       "</head><body><p>%s</p></body></html>\n",
                       escaped);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_COPY, body,
                                    strlen (body));
}

static void
bz_oauth2_redirect_cb (SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer user_data)
{
  BzOAuth2Wait *wait = user_data;
  const char *state = query != NULL ? g_hash_table_lookup (query, "state") : NULL;
  const char *code = query != NULL ? g_hash_table_lookup (query, "code") : NULL;
  const char *error = query != NULL ? g_hash_table_lookup (query, "error") : NULL;

  if (g_strcmp0 (path, "/") != 0 || wait->done)
    {
      bz_oauth2_reply (msg, SOUP_STATUS_NOT_FOUND, "Nothing here.");
      return;
    }
  /* Another program on this machine may guess the port: only the answer
   * to our own request counts, the rest is turned away. */
  if (g_strcmp0 (state, wait->state) != 0)
    {
      bz_oauth2_reply (msg, SOUP_STATUS_BAD_REQUEST,
                       "This answer does not belong to the sign-in buzon started (state "
                       "mismatch). It was ignored.");
      return;
    }
  if (code != NULL && *code != '\0')
    {
      wait->code = g_strdup (code);
      bz_oauth2_reply (msg, SOUP_STATUS_OK,
                       "buzon is signed in. You can close this window and return to the "
                       "terminal.");
    }
  else
    {
      wait->error = g_strdup (error != NULL ? error : "no code");
      bz_oauth2_reply (msg, SOUP_STATUS_OK,
                       "The sign-in was not completed. You can close this window.");
    }
  wait->done = TRUE;
  wait->answer = msg;
  g_main_context_wakeup (NULL);
}

static void
bz_oauth2_request_finished_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  BzOAuth2Wait *wait = user_data;

  if (msg == wait->answer)
    wait->answered = TRUE;
}

static gboolean
bz_oauth2_timeout_cb (gpointer user_data)
{
  BzOAuth2Wait *wait = user_data;

  wait->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static char *
bz_oauth2_auth_request_url (BzAccount *account, const char *auth_url, const char *scope,
                            const char *redirect_uri, const char *state, const char *challenge)
{
  GString *url = g_string_new (auth_url);
  const char *params[][2] = {
    { "response_type", "code" },
    { "client_id", bz_account_get_oauth2_client_id (account) },
    { "redirect_uri", redirect_uri },
    { "scope", scope },
    { "state", state },
    { "code_challenge", challenge },
    { "code_challenge_method", "S256" },
    { "login_hint", account->user },
    /* Google gives a refresh token only with offline access, and again
     * after a revocation only when asked for consent */
    { "access_type", account->oauth2 == BZ_OAUTH2_GOOGLE ? "offline" : NULL },
    { "prompt", account->oauth2 == BZ_OAUTH2_GOOGLE ? "consent" : NULL },
  };
  gboolean first = strchr (auth_url, '?') == NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (params); i++)
    {
      g_autofree char *value = NULL;

      if (params[i][1] == NULL)
        continue;
      value = g_uri_escape_string (params[i][1], NULL, FALSE);
      g_string_append_printf (url, "%c%s=%s", first ? '?' : '&', params[i][0], value);
      first = FALSE;
    }
  return g_string_free (url, FALSE);
}

gboolean
bz_oauth2_authorize (BzAccount *account, guint timeout_s, BzOAuth2ShowUrlFunc show_url,
                     gpointer user_data, GCancellable *cancellable, GError **error)
{
  const char *auth_url = NULL, *token_url = NULL, *scope = NULL;
  g_autoptr (SoupServer) server = NULL;
  g_autofree char *verifier = bz_oauth2_pkce_verifier ();
  g_autofree char *challenge = bz_oauth2_pkce_challenge (verifier);
  g_autofree char *state = bz_oauth2_random_b64url (24);
  g_autofree char *redirect_uri = NULL;
  g_autofree char *url = NULL;
  g_autoptr (BzOAuth2Grant) grant = NULL;
  g_autoptr (GError) local_error = NULL;
  GSList *uris;
  guint port = 0;
  guint timeout_id;
  BzOAuth2Wait wait = { 0 };

  if (!bz_oauth2_endpoints (account, &auth_url, &token_url, &scope, error))
    return FALSE;
  if (*bz_account_get_oauth2_client_id (account) == '\0')
    {
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_CONFIG,
                   "%s: no oauth2-client-id to sign in with", account->name);
      return FALSE;
    }

  server = soup_server_new ("server-header", "buzon", NULL);
  /* RFC 8252 §7.3: the loopback IP literal, not "localhost", and any port */
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &local_error))
    {
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_CONFIG,
                   "%s: cannot listen on 127.0.0.1 for the sign-in: %s", account->name,
                   local_error->message);
      return FALSE;
    }
  uris = soup_server_get_uris (server);
  if (uris != NULL)
    port = (guint) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  redirect_uri = g_strdup_printf ("http://127.0.0.1:%u/", port);
  wait.state = state;
  soup_server_add_handler (server, NULL, bz_oauth2_redirect_cb, &wait, NULL);
  g_signal_connect (server, "request-finished", G_CALLBACK (bz_oauth2_request_finished_cb), &wait);

  url = bz_oauth2_auth_request_url (account, auth_url, scope, redirect_uri, state, challenge);
  show_url (url, user_data);

  timeout_id = g_timeout_add_seconds (timeout_s, bz_oauth2_timeout_cb, &wait);
  while (!wait.done && !wait.timed_out && !g_cancellable_is_cancelled (cancellable))
    g_main_context_iteration (NULL, TRUE);
  if (!wait.timed_out)
    g_source_remove (timeout_id);
  /* let the browser have its page before the listener goes away */
  if (wait.done)
    {
      wait.timed_out = FALSE;
      timeout_id = g_timeout_add_seconds (5, bz_oauth2_timeout_cb, &wait);
      while (!wait.answered && !wait.timed_out)
        g_main_context_iteration (NULL, TRUE);
      if (!wait.timed_out)
        g_source_remove (timeout_id);
      wait.timed_out = FALSE;
    }
  soup_server_disconnect (server);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    goto fail;
  if (!wait.done)
    {
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_TIMEOUT,
                   "%s: no answer from the sign-in page within %u minutes; run buzonctl "
                   "authorize %s again",
                   account->name, timeout_s / 60, account->name);
      goto fail;
    }
  if (wait.code == NULL)
    {
      g_autofree char *shown = g_utf8_make_valid (wait.error, MIN (strlen (wait.error), 64));
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_DENIED,
                   "%s: the sign-in was not granted (%s)", account->name, shown);
      goto fail;
    }
  grant = bz_oauth2_request_token (
      account->name, token_url, cancellable, error, "grant_type", "authorization_code", "code",
      wait.code, "redirect_uri", redirect_uri, "client_id",
      bz_account_get_oauth2_client_id (account), "client_secret", bz_oauth2_client_secret (account),
      "code_verifier", verifier, NULL);
  if (grant == NULL)
    goto fail;
  if (grant->refresh_token == NULL)
    {
      g_set_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_PROTOCOL,
                   "%s: the provider granted access but gave no refresh token, so buzon could "
                   "not sign in again later%s",
                   account->name,
                   account->oauth2 == BZ_OAUTH2_CUSTOM ? "; add offline_access to oauth2-scope"
                                                       : "");
      goto fail;
    }
  if (!bz_oauth2_store_refresh_token (account, grant->refresh_token, cancellable, error))
    goto fail;
  bz_oauth2_token_free (wait.code);
  g_free (wait.error);
  explicit_bzero (verifier, strlen (verifier));
  bz_oauth2_forget_tokens ();
  return TRUE;

fail:
  bz_oauth2_token_free (wait.code);
  g_free (wait.error);
  explicit_bzero (verifier, strlen (verifier));
  return FALSE;
}

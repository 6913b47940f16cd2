/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Login with an OAuth2 access token: SASL XOAUTH2 (Google's and
 * Microsoft's) and OAUTHBEARER (RFC 7628) over AUTH (RFC 5034).
 *
 * Two-step by default: "AUTH XOAUTH2", wait for "+", then the response.
 * Microsoft's tokens are long, and its server answers an initial response
 * over 255 octets with "-ERR Protocol error" (Thunderbird does the same).
 * A rejected token comes back as a "+ <base64 JSON>" challenge that must be
 * answered (XOAUTH2: an empty line; OAUTHBEARER: "AQ==", RFC 7628 §3.2.3)
 * before the server says -ERR. The token is never logged, and every buffer
 * that held it is wiped. */

#include "config.h"

#include <string.h>

#include "bz-pop3-session-private.h"

#define BZ_POP3_MAX_AUTH_LINE 255

static gboolean
bz_pop3_oauth2_choose (BzPop3Session *self, BzAuthMethod requested, BzAuthMethod *chosen,
                       GError **error)
{
  gboolean secure = bz_net_connection_is_tls (self->conn) || self->options.allow_plaintext;

  if (!secure)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD,
                   "%s: an OAuth2 login would send the access token unencrypted; use TLS",
                   self->host);
      return FALSE;
    }
  if (requested == BZ_AUTH_AUTO)
    {
      /* DESIGN.md: OAUTHBEARER when offered, else XOAUTH2. */
      if (bz_pop3_session_sasl_offers (self, "OAUTHBEARER"))
        *chosen = BZ_AUTH_OAUTHBEARER;
      else if (bz_pop3_session_sasl_offers (self, "XOAUTH2"))
        *chosen = BZ_AUTH_XOAUTH2;
      else
        {
          g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD,
                       "%s: the server offers neither OAUTHBEARER nor XOAUTH2 (SASL %s)",
                       self->host,
                       bz_pop3_session_get_capability_args (self, "SASL") != NULL
                           ? bz_pop3_session_get_capability_args (self, "SASL")
                           : "not offered");
          return FALSE;
        }
      return TRUE;
    }
  if (!bz_pop3_session_sasl_offers (self, bz_pop3_auth_method_name (requested)))
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD,
                   "%s: the server does not offer %s", self->host,
                   bz_pop3_auth_method_name (requested));
      return FALSE;
    }
  *chosen = requested;
  return TRUE;
}

/* RFC 5801 saslname: ',' and '=' are escaped in the GS2 header. */
static void
bz_pop3_oauth2_append_saslname (GString *out, const char *user)
{
  for (const char *p = user; *p != '\0'; p++)
    {
      if (*p == ',')
        g_string_append (out, "=2C");
      else if (*p == '=')
        g_string_append (out, "=3D");
      else
        g_string_append_c (out, *p);
    }
}

/* The base64 client response (transfer full; wipe before freeing). */
static char *
bz_pop3_oauth2_response (BzPop3Session *self, BzAuthMethod method, const char *user,
                         const char *token)
{
  gsize need = strlen (user) * 3 + strlen (token) + strlen (self->host) + 64;
  GString *raw = g_string_sized_new (need);
  char *b64;

  if (method == BZ_AUTH_XOAUTH2)
    {
      g_string_append_printf (raw, "user=%s\001auth=Bearer ", user);
    }
  else
    {
      g_string_append (raw, "n,a=");
      bz_pop3_oauth2_append_saslname (raw, user);
      g_string_append_printf (raw, ",\001host=%s\001port=%u\001auth=Bearer ", self->host,
                              self->options.net.port);
    }
  /* sized above, so the token is never copied by a reallocation */
  g_string_append (raw, token);
  g_string_append (raw, "\001\001");
  b64 = g_base64_encode ((const guchar *) raw->str, raw->len);
  explicit_bzero (raw->str, raw->allocated_len);
  g_string_free (raw, TRUE);
  return b64;
}

/* The "status" of a rejection challenge's JSON, for the message: digits
 * only, so nothing the server sends reaches a log unchecked. */
static char *
bz_pop3_oauth2_challenge_status (const char *b64)
{
  gsize len = 0;
  g_autofree guchar *raw = NULL;
  g_autofree char *json = NULL;
  const char *p;
  GString *digits = g_string_new (NULL);

  if (b64 == NULL || *b64 == '\0')
    return g_string_free (digits, FALSE);
  raw = g_base64_decode (b64, &len);
  json = g_strndup ((const char *) raw, len);
  p = strstr (json, "\"status\"");
  if (p != NULL)
    {
      p += strlen ("\"status\"");
      while (*p == ' ' || *p == ':' || *p == '"')
        p++;
      while (g_ascii_isdigit (*p) && digits->len < 3)
        g_string_append_c (digits, *p++);
    }
  return g_string_free (digits, FALSE);
}

/* Sends @line as one AUTH step and returns the response (transfer full)
 * or NULL on I/O error. */
static BzPop3Cmd *
bz_pop3_oauth2_send (BzPop3Session *self, const char *command, const char *arg,
                     GCancellable *cancellable, GError **error)
{
  BzPop3Cmd *cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_AUTH, NULL);

  if (command != NULL)
    g_string_append (self->wbuf, command);
  if (command != NULL && arg != NULL)
    g_string_append_c (self->wbuf, ' ');
  if (arg != NULL)
    g_string_append (self->wbuf, arg);
  g_string_append (self->wbuf, "\r\n");
  if (!bz_pop3_session_run (self, cmd, cancellable, error))
    return NULL;
  return bz_pop3_session_take (self, cmd);
}

/* The server answered the response with a challenge: the token was
 * refused. Answer as the mechanism says, then read the final -ERR. */
static gboolean
bz_pop3_oauth2_rejected (BzPop3Session *self, BzAuthMethod method, BzPop3Cmd *challenge,
                         GCancellable *cancellable, GError **error)
{
  g_autofree char *status = bz_pop3_oauth2_challenge_status (challenge->text);
  g_autoptr (BzPop3Cmd) cmd = NULL;

  cmd = bz_pop3_oauth2_send (self, NULL, method == BZ_AUTH_OAUTHBEARER ? "AQ==" : NULL, cancellable,
                             error);
  if (cmd == NULL)
    return FALSE;
  if (cmd->ok)
    {
      /* +OK or another challenge after a refusal: nothing sane follows */
      self->broken = TRUE;
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
                   "%s: authentication failed: unexpected answer after the server refused "
                   "the OAuth2 token",
                   self->host);
      return FALSE;
    }
  g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_AUTH,
               "%s: authentication failed: the server refused the OAuth2 access token%s%s%s",
               self->host, *status != '\0' ? " (status " : "", status, *status != '\0' ? ")" : "");
  return FALSE;
}

static gboolean
bz_pop3_oauth2_run (BzPop3Session *self, BzAuthMethod method, const char *b64,
                    GCancellable *cancellable, GError **error)
{
  const char *mech = bz_pop3_auth_method_name (method);
  g_autofree char *command = g_strdup_printf ("AUTH %s", mech);
  g_autoptr (BzPop3Cmd) cmd = NULL;
  gboolean one_step = self->options.sasl_initial_response &&
                      strlen (command) + 1 + strlen (b64) + 2 <= BZ_POP3_MAX_AUTH_LINE;

  if (!one_step)
    {
      cmd = bz_pop3_oauth2_send (self, command, NULL, cancellable, error);
      if (cmd == NULL)
        return FALSE;
      if (!cmd->ok)
        {
          bz_pop3_session_set_server_error (self, cmd, BZ_POP3_ERROR_AUTH, "authentication failed",
                                            error);
          return FALSE;
        }
      if (!cmd->continuation)
        {
          g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
                       "%s: authentication failed: AUTH %s accepted without credentials",
                       self->host, mech);
          return FALSE;
        }
      g_clear_pointer (&cmd, bz_pop3_cmd_free);
      cmd = bz_pop3_oauth2_send (self, NULL, b64, cancellable, error);
    }
  else
    cmd = bz_pop3_oauth2_send (self, command, b64, cancellable, error);
  if (cmd == NULL)
    return FALSE;
  if (cmd->ok && cmd->continuation)
    return bz_pop3_oauth2_rejected (self, method, cmd, cancellable, error);
  if (!cmd->ok)
    {
      /* Microsoft: "-ERR Authentication failure" at once */
      bz_pop3_session_set_server_error (self, cmd, BZ_POP3_ERROR_AUTH, "authentication failed",
                                        error);
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_pop3_session_login_oauth2 (BzPop3Session *self, BzAuthMethod method, const char *user,
                              const char *token, GCancellable *cancellable, GError **error)
{
  BzAuthMethod chosen = BZ_AUTH_AUTO;
  g_autofree char *b64 = NULL;
  gsize keep;
  gboolean ok;

  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), FALSE);
  g_return_val_if_fail (user != NULL && token != NULL, FALSE);
  g_return_val_if_fail (
      method == BZ_AUTH_AUTO || method == BZ_AUTH_XOAUTH2 || method == BZ_AUTH_OAUTHBEARER, FALSE);

  if (!bz_pop3_session_check_usable (self, error))
    return FALSE;
  if (!bz_pop3_auth_check_arg (self, "user name", user, error) ||
      !bz_pop3_auth_check_arg (self, "access token", token, error))
    return FALSE;
  if (!bz_pop3_oauth2_choose (self, method, &chosen, error))
    return FALSE;

  b64 = bz_pop3_oauth2_response (self, chosen, user, token);
  /* Grow the write buffer before the token goes in, so that no
   * reallocation leaves an unwiped copy in freed memory. */
  keep = self->wbuf->len;
  g_string_set_size (self->wbuf, keep + strlen (b64) + 64);
  g_string_truncate (self->wbuf, keep);

  ok = bz_pop3_oauth2_run (self, chosen, b64, cancellable, error);
  explicit_bzero (b64, strlen (b64));
  explicit_bzero (self->wbuf->str, self->wbuf->allocated_len);
  g_string_truncate (self->wbuf, 0);
  if (ok)
    self->auth_used = bz_pop3_auth_method_name (chosen);
  return ok;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Login: USER/PASS, APOP (RFC 1939) and AUTH PLAIN (RFC 5034), and the
 * choice between them. The login is never pipelined: dovecot answers PASS
 * late when it arrives before the +OK to USER. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "bz-pop3-session-private.h"

/* RFC 5034 §4: an initial response only if the command fits in 255 octets. */
#define BZ_POP3_MAX_AUTH_LINE 255

gboolean
bz_pop3_session_sasl_offers (BzPop3Session *self, const char *mech)
{
  const char *args = bz_pop3_session_get_capability_args (self, "SASL");
  g_auto (GStrv) mechs = NULL;

  if (args == NULL)
    return FALSE;
  mechs = g_strsplit (args, " ", -1);
  for (guint i = 0; mechs[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (mechs[i], mech) == 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
bz_pop3_auth_offered (BzPop3Session *self, BzAuthMethod method)
{
  switch (method)
    {
    case BZ_AUTH_SASL_PLAIN:
      return bz_pop3_session_sasl_offers (self, "PLAIN");
    case BZ_AUTH_USER:
      /* Without CAPA nothing is known, and USER is the RFC 1939 baseline. */
      return !self->have_capa || bz_pop3_session_has_capability (self, "USER");
    case BZ_AUTH_APOP:
      return self->apop_timestamp != NULL;
    case BZ_AUTH_XOAUTH2:
    case BZ_AUTH_OAUTHBEARER:
    case BZ_AUTH_AUTO:
    default:
      return FALSE;
    }
}

const char *
bz_pop3_auth_method_name (BzAuthMethod method)
{
  switch (method)
    {
    case BZ_AUTH_SASL_PLAIN:
      return "SASL PLAIN";
    case BZ_AUTH_USER:
      return "USER";
    case BZ_AUTH_APOP:
      return "APOP";
    case BZ_AUTH_XOAUTH2:
      return "XOAUTH2";
    case BZ_AUTH_OAUTHBEARER:
      return "OAUTHBEARER";
    case BZ_AUTH_AUTO:
    default:
      return "auto";
    }
}

static gboolean
bz_pop3_auth_choose (BzPop3Session *self, BzAuthMethod requested, BzAuthMethod *chosen,
                     GError **error)
{
  static const BzAuthMethod tls_order[] = { BZ_AUTH_SASL_PLAIN, BZ_AUTH_USER, BZ_AUTH_APOP };
  static const BzAuthMethod plain_order[] = { BZ_AUTH_APOP, BZ_AUTH_SASL_PLAIN, BZ_AUTH_USER };
  gboolean secure = bz_net_connection_is_tls (self->conn) || self->options.allow_plaintext;
  const BzAuthMethod *order = bz_net_connection_is_tls (self->conn) ? tls_order : plain_order;

  if (requested != BZ_AUTH_AUTO)
    {
      if (requested != BZ_AUTH_APOP && !secure)
        {
          g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD,
                       "%s: %s would send the password unencrypted; use TLS or allow plaintext",
                       self->host, bz_pop3_auth_method_name (requested));
          return FALSE;
        }
      if (!bz_pop3_auth_offered (self, requested))
        {
          g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD,
                       "%s: the server does not offer %s", self->host,
                       bz_pop3_auth_method_name (requested));
          return FALSE;
        }
      *chosen = requested;
      return TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (tls_order); i++)
    {
      if (order[i] != BZ_AUTH_APOP && !secure)
        continue;
      if (bz_pop3_auth_offered (self, order[i]))
        {
          *chosen = order[i];
          return TRUE;
        }
    }
  g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD,
               "%s: no login method the server offers keeps the password "
               "off an unencrypted channel",
               self->host);
  return FALSE;
}

/* Runs @cmd (already queued, its line in the write buffer) and turns a
 * -ERR into an authentication error: [AUTH] (and the other RFC 2449 codes)
 * as such, anything else as an unexplained refusal, which may be a wrong
 * password or a locked maildrop. */
gboolean
bz_pop3_auth_step (BzPop3Session *self, BzPop3Cmd *queued, gboolean *continuation,
                   GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3Cmd) cmd = NULL;

  if (!bz_pop3_session_run (self, queued, cancellable, error))
    return FALSE;
  cmd = bz_pop3_session_take (self, queued);
  if (!cmd->ok)
    {
      bz_pop3_session_set_server_error (self, cmd, BZ_POP3_ERROR_LOGIN_REFUSED,
                                        "authentication failed", error);
      return FALSE;
    }
  if (continuation != NULL)
    *continuation = cmd->continuation;
  return TRUE;
}

static gboolean
bz_pop3_auth_user (BzPop3Session *self, const char *user, const char *password,
                   GCancellable *cancellable, GError **error)
{
  BzPop3Cmd *cmd;

  cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_SIMPLE, NULL);
  g_string_append_printf (self->wbuf, "USER %s\r\n", user);
  if (!bz_pop3_auth_step (self, cmd, NULL, cancellable, error))
    return FALSE;

  cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_SIMPLE, NULL);
  g_string_append (self->wbuf, "PASS ");
  g_string_append (self->wbuf, password);
  g_string_append (self->wbuf, "\r\n");
  return bz_pop3_auth_step (self, cmd, NULL, cancellable, error);
}

static gboolean
bz_pop3_auth_apop (BzPop3Session *self, const char *user, const char *password,
                   GCancellable *cancellable, GError **error)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  BzPop3Cmd *cmd;
  gboolean ok;

  /* OpenSSL rather than GChecksum: EVP_MD_CTX_free() cleanses the hash
   * state, which holds password bytes in its block buffer. */
  ok = ctx != NULL && EVP_DigestInit_ex (ctx, EVP_md5 (), NULL) == 1 &&
       EVP_DigestUpdate (ctx, self->apop_timestamp, strlen (self->apop_timestamp)) == 1 &&
       EVP_DigestUpdate (ctx, password, strlen (password)) == 1 &&
       EVP_DigestFinal_ex (ctx, digest, &digest_len) == 1;
  EVP_MD_CTX_free (ctx);
  if (!ok)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD,
                   "%s: APOP needs MD5, which this OpenSSL refuses", self->host);
      return FALSE;
    }
  for (unsigned int i = 0; i < digest_len; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
  cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_SIMPLE, NULL);
  g_string_append_printf (self->wbuf, "APOP %s %s\r\n", user, hex);
  OPENSSL_cleanse (digest, sizeof digest);
  OPENSSL_cleanse (hex, sizeof hex);
  return bz_pop3_auth_step (self, cmd, NULL, cancellable, error);
}

static gboolean
bz_pop3_auth_cancel (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  BzPop3Cmd *cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_AUTH, "*");
  g_autoptr (GError) cancel_error = NULL;
  gboolean ok = bz_pop3_session_run (self, cmd, cancellable, &cancel_error);

  if (ok)
    bz_pop3_cmd_free (bz_pop3_session_take (self, cmd));
  else
    self->broken = TRUE;
  g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
               "%s: authentication failed: unexpected SASL challenge%s%s", self->host,
               cancel_error != NULL ? "; then " : "",
               cancel_error != NULL ? cancel_error->message : "");
  return FALSE;
}

static gboolean
bz_pop3_auth_sasl_plain (BzPop3Session *self, const char *user, const char *password,
                         GCancellable *cancellable, GError **error)
{
  gsize user_len = strlen (user);
  gsize pass_len = strlen (password);
  gsize raw_len = 1 + user_len + 1 + pass_len;
  g_autofree guchar *raw = g_malloc (raw_len);
  g_autofree char *b64 = NULL;
  gboolean continuation = FALSE;
  gboolean ok;
  BzPop3Cmd *cmd;

  /* authzid empty, authcid, password (RFC 4616). */
  raw[0] = '\0';
  memcpy (raw + 1, user, user_len);
  raw[1 + user_len] = '\0';
  memcpy (raw + 2 + user_len, password, pass_len);
  b64 = g_base64_encode (raw, raw_len);
  explicit_bzero (raw, raw_len);

  if (strlen ("AUTH PLAIN ") + strlen (b64) + 2 <= BZ_POP3_MAX_AUTH_LINE)
    {
      cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_AUTH, NULL);
      g_string_append (self->wbuf, "AUTH PLAIN ");
      g_string_append (self->wbuf, b64);
      g_string_append (self->wbuf, "\r\n");
      ok = bz_pop3_auth_step (self, cmd, &continuation, cancellable, error);
    }
  else
    {
      cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_AUTH, "AUTH PLAIN");
      ok = bz_pop3_auth_step (self, cmd, &continuation, cancellable, error);
      if (ok && !continuation)
        {
          g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
                       "%s: authentication failed: AUTH PLAIN accepted without credentials",
                       self->host);
          ok = FALSE;
        }
      else if (ok)
        {
          cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_AUTH, NULL);
          g_string_append (self->wbuf, b64);
          g_string_append (self->wbuf, "\r\n");
          ok = bz_pop3_auth_step (self, cmd, &continuation, cancellable, error);
        }
    }
  explicit_bzero (b64, strlen (b64));
  if (ok && continuation)
    return bz_pop3_auth_cancel (self, cancellable, error);
  return ok;
}

gboolean
bz_pop3_auth_check_arg (BzPop3Session *self, const char *what, const char *value, GError **error)
{
  /* A line break would let the value inject a command. */
  if (value[0] == '\0' || strpbrk (value, "\r\n") != NULL)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_AUTH,
                   "%s: the %s is empty or contains a line break", self->host, what);
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_pop3_session_login (BzPop3Session *self, BzAuthMethod method, const char *user,
                       const char *password, GCancellable *cancellable, GError **error)
{
  BzAuthMethod chosen = BZ_AUTH_AUTO;
  gboolean ok = FALSE;

  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), FALSE);
  g_return_val_if_fail (user != NULL && password != NULL, FALSE);

  if (!bz_pop3_session_check_usable (self, error))
    return FALSE;
  if (!bz_pop3_auth_check_arg (self, "user name", user, error) ||
      !bz_pop3_auth_check_arg (self, "password", password, error))
    return FALSE;
  if (strchr (user, ' ') != NULL && method == BZ_AUTH_APOP)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD,
                   "%s: APOP cannot carry a user name with a space", self->host);
      return FALSE;
    }
  if (method == BZ_AUTH_XOAUTH2 || method == BZ_AUTH_OAUTHBEARER)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD,
                   "%s: %s signs in with an OAuth2 token, not a password", self->host,
                   bz_pop3_auth_method_name (method));
      return FALSE;
    }
  if (!bz_pop3_auth_choose (self, method, &chosen, error))
    return FALSE;

  switch (chosen)
    {
    case BZ_AUTH_SASL_PLAIN:
      ok = bz_pop3_auth_sasl_plain (self, user, password, cancellable, error);
      break;
    case BZ_AUTH_USER:
      ok = bz_pop3_auth_user (self, user, password, cancellable, error);
      break;
    case BZ_AUTH_APOP:
      ok = bz_pop3_auth_apop (self, user, password, cancellable, error);
      break;
    case BZ_AUTH_AUTO:
    default:
      g_assert_not_reached ();
    }
  /* Whatever happened, no copy of the password stays in the write buffer. */
  explicit_bzero (self->wbuf->str, self->wbuf->allocated_len);
  g_string_truncate (self->wbuf, 0);
  if (ok)
    self->auth_used = bz_pop3_auth_method_name (chosen);
  return ok;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The token endpoint (RFC 6749 §4.1.3, §6): a form POST over libsoup 3,
 * a JSON answer read with json-glib. Built as the module oauth2-http.so
 * (bz-oauth2-module.h), so that only a process that fetches a token maps
 * libsoup, json-glib and what they link; it links no buzon code, hence the
 * few lines below that repeat buzon's. Blocking: callers are worker threads
 * or `buzonctl authorize`. Nothing here logs a token. */

#include "config.h"

#include <gmodule.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "bz-oauth2-module.h"

/* A token endpoint answers in well under a second; a minute is patience. */
#define BZ_OAUTH2_HTTP_TIMEOUT_S 60
/* Token answers are a few KB; refuse to buffer a runaway body. */
#define BZ_OAUTH2_HTTP_MAX_BODY (256 * 1024)

/* BZ_OAUTH2_ERROR without calling into buzon: the same quark, by name. */
#define BZ_OAUTH2_HTTP_ERROR (g_quark_from_static_string (BZ_OAUTH2_ERROR_QUARK_NAME))

/* bz_oauth2_token_free(), which lives in buzon */
static void
bz_oauth2_http_wipe_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

/* bz_oauth2_grant_free(), for the grants that never leave the module */
static void
bz_oauth2_http_grant_free (BzOAuth2Grant *grant)
{
  if (grant == NULL)
    return;
  bz_oauth2_http_wipe_free (grant->access_token);
  bz_oauth2_http_wipe_free (grant->refresh_token);
  g_free (grant);
}

/* A short, printable excerpt of what a server said, for an error message. */
static char *
bz_oauth2_http_excerpt (const char *text)
{
  const char *t = text != NULL ? text : "";
  g_autofree char *valid = g_utf8_make_valid (t, MIN (strlen (t), 160));

  for (char *p = valid; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20)
        *p = ' ';
    }
  return g_steal_pointer (&valid);
}

static char *
bz_oauth2_http_dup_member (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

static gint64
bz_oauth2_http_get_int (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return 0;
  /* Microsoft once sent expires_in as a string */
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return g_ascii_strtoll (json_node_get_string (node), NULL, 10);
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return (gint64) json_node_get_double (node);
  return 0;
}

static gboolean
bz_oauth2_http_token_ok (const char *token)
{
  gsize len = token != NULL ? strlen (token) : 0;

  if (len == 0 || len > BZ_OAUTH2_TOKEN_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      /* RFC 6750 b64token and friends: printable ASCII, no spaces */
      if ((guchar) token[i] <= 0x20 || (guchar) token[i] >= 0x7f)
        return FALSE;
    }
  return TRUE;
}

static BzOAuth2Grant *
bz_oauth2_http_parse (const char *account_name, guint status, GBytes *body, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) json_error = NULL;
  BzOAuth2Grant *grant;
  gsize len = 0;
  const char *data = g_bytes_get_data (body, &len);
  JsonNode *root;
  JsonObject *obj;
  g_autofree char *err = NULL;
  g_autofree char *desc = NULL;

  if (!json_parser_load_from_data (parser, data != NULL ? data : "", (gssize) len, &json_error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (
          error, BZ_OAUTH2_HTTP_ERROR,
          status >= 200 && status < 300 ? BZ_OAUTH2_ERROR_PROTOCOL : BZ_OAUTH2_ERROR_ENDPOINT,
          "%s: the token endpoint answered HTTP %u without a JSON object", account_name, status);
      return NULL;
    }
  obj = json_node_get_object (root);
  err = bz_oauth2_http_dup_member (obj, "error");
  if (err != NULL || status < 200 || status >= 300)
    {
      g_autofree char *shown = NULL;

      desc = bz_oauth2_http_dup_member (obj, "error_description");
      shown = bz_oauth2_http_excerpt (desc != NULL ? desc : "");
      if (g_strcmp0 (err, "invalid_grant") == 0)
        {
          g_set_error (
              error, BZ_OAUTH2_HTTP_ERROR, BZ_OAUTH2_ERROR_INVALID_GRANT,
              "%s: the sign-in was refused or revoked by the provider (invalid_grant%s%s); "
              "sign in again with: buzonctl authorize %s",
              account_name, *shown != '\0' ? ": " : "", shown, account_name);
        }
      else
        {
          g_autofree char *code = bz_oauth2_http_excerpt (err != NULL ? err : "no error code");
          g_set_error (error, BZ_OAUTH2_HTTP_ERROR, BZ_OAUTH2_ERROR_ENDPOINT,
                       "%s: the token endpoint refused the request (HTTP %u, %s%s%s)", account_name,
                       status, code, *shown != '\0' ? ": " : "", shown);
        }
      return NULL;
    }
  grant = g_new0 (BzOAuth2Grant, 1);
  grant->access_token = bz_oauth2_http_dup_member (obj, "access_token");
  grant->refresh_token = bz_oauth2_http_dup_member (obj, "refresh_token");
  grant->expires_in = bz_oauth2_http_get_int (obj, "expires_in");
  if (!bz_oauth2_http_token_ok (grant->access_token) ||
      (grant->refresh_token != NULL && !bz_oauth2_http_token_ok (grant->refresh_token)))
    {
      bz_oauth2_http_grant_free (grant);
      g_set_error (error, BZ_OAUTH2_HTTP_ERROR, BZ_OAUTH2_ERROR_PROTOCOL,
                   "%s: the token endpoint answered without a usable access token", account_name);
      return NULL;
    }
  return grant;
}

G_MODULE_EXPORT BzOAuth2Grant *
bz_oauth2_http_post_v1 (const char *account_name, const char *token_url, GBytes *form,
                        GCancellable *cancellable, GError **error)
{
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) local_error = NULL;
  guint status;

  msg = soup_message_new (SOUP_METHOD_POST, token_url);
  if (msg == NULL)
    {
      g_set_error (error, BZ_OAUTH2_HTTP_ERROR, BZ_OAUTH2_ERROR_CONFIG,
                   "%s: the token endpoint %s is not a usable URL", account_name, token_url);
      return NULL;
    }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                "application/json");
  soup_message_set_request_body_from_bytes (msg, "application/x-www-form-urlencoded", form);
  session = soup_session_new_with_options ("timeout", BZ_OAUTH2_HTTP_TIMEOUT_S, "user-agent",
                                           "buzon/" BZ_VERSION, NULL);
  stream = soup_session_send (session, msg, cancellable, &local_error);
  if (stream == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_set_error (error, BZ_OAUTH2_HTTP_ERROR, BZ_OAUTH2_ERROR_ENDPOINT,
                   "%s: cannot reach the token endpoint: %s", account_name, local_error->message);
      return NULL;
    }
  /* One byte past the limit tells an oversized body from a full one; an
   * endpoint that floods is cut off there, not held in memory whole. */
  body = g_input_stream_read_bytes (stream, BZ_OAUTH2_HTTP_MAX_BODY + 1, cancellable, &local_error);
  if (body != NULL && g_bytes_get_size (body) <= BZ_OAUTH2_HTTP_MAX_BODY)
    {
      g_autoptr (GBytes) rest = NULL;
      GByteArray *all = g_bytes_unref_to_array (g_steal_pointer (&body));

      /* read_bytes may return less than asked before the end: go on to EOF
       * or the limit */
      while (local_error == NULL && all->len <= BZ_OAUTH2_HTTP_MAX_BODY)
        {
          rest = g_input_stream_read_bytes (stream, BZ_OAUTH2_HTTP_MAX_BODY + 1 - all->len,
                                            cancellable, &local_error);
          if (rest == NULL || g_bytes_get_size (rest) == 0)
            break;
          g_byte_array_append (all, g_bytes_get_data (rest, NULL), g_bytes_get_size (rest));
          g_clear_pointer (&rest, g_bytes_unref);
        }
      body = g_byte_array_free_to_bytes (all);
    }
  if (local_error != NULL)
    {
      g_clear_pointer (&body, g_bytes_unref);
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_set_error (error, BZ_OAUTH2_HTTP_ERROR, BZ_OAUTH2_ERROR_ENDPOINT,
                   "%s: the token endpoint's answer broke off: %s", account_name,
                   local_error->message);
      return NULL;
    }
  status = soup_message_get_status (msg);
  if (g_bytes_get_size (body) > BZ_OAUTH2_HTTP_MAX_BODY)
    {
      g_set_error (error, BZ_OAUTH2_HTTP_ERROR, BZ_OAUTH2_ERROR_PROTOCOL,
                   "%s: the token endpoint answered with an oversized body", account_name);
      return NULL;
    }
  return bz_oauth2_http_parse (account_name, status, body, error);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A minimal HTTP/1.1 GET for autoconfig files, over buzon's own OpenSSL
 * connection (agent/net) rather than libsoup: libsoup's TLS is GnuTLS
 * through glib-networking, whose trust store ignores SSL_CERT_FILE and
 * SSL_CERT_DIR. Going through agent/net, an autoconfig server is trusted
 * exactly as a POP3 server is during a sync (DESIGN.md "TLS trust"), and a
 * certificate problem is reported in the same words. One request per
 * connection ("Connection: close"); chunked bodies are decoded. */

#include "config.h"

#include <string.h>

#include "bz-account.h"
#include "bz-net-connection.h"
#include "bz-setup.h"

#define BZ_SETUP_HTTP_REDIRECTS 5
#define BZ_SETUP_HTTP_HEADER_MAX 16384
#define BZ_SETUP_HTTP_TIMEOUT_MS 15000

gboolean
bz_setup_http_check_url (const char *url, gboolean allow_loopback_http, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;

  if (uri == NULL || host == NULL || host[0] == '\0')
    {
      g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_REFUSED,
                   "%s is not a URL; expected https://HOST/PATH", url);
      return FALSE;
    }
  if (g_ascii_strcasecmp (scheme, "https") == 0)
    return TRUE;
  if (g_ascii_strcasecmp (scheme, "http") == 0)
    {
      if (allow_loopback_http && bz_host_is_loopback (host))
        return TRUE;
      g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_REFUSED,
                   "%s: http:// is accepted only for a loopback host (localhost, "
                   "127.0.0.1, ::1); use https://",
                   url);
      return FALSE;
    }
  g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_REFUSED, "%s: expected an https:// URL", url);
  return FALSE;
}

/* Case-insensitive header lookup in the header block @headers (lines
 * after the status line). Returns a new string or NULL. */
static char *
header_value (char **lines, const char *name)
{
  gsize len = strlen (name);

  for (guint i = 1; lines[i] != NULL; i++)
    {
      if (g_ascii_strncasecmp (lines[i], name, len) == 0 && lines[i][len] == ':')
        return g_strstrip (g_strdup (lines[i] + len + 1));
    }
  return NULL;
}

/* Decodes a chunked body (RFC 9112 7.1); trailers are ignored. */
static GBytes *
dechunk (const char *data, gsize len, gsize max_size, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gsize pos = 0;

  for (;;)
    {
      const char *eol = g_strstr_len (data + pos, (gssize) (len - pos), "\r\n");
      guint64 size;
      char *end;

      if (eol == NULL)
        break;
      size = g_ascii_strtoull (data + pos, &end, 16);
      if (end == data + pos || (*end != '\r' && *end != ';' && *end != ' '))
        break;
      pos = (gsize) (eol - data) + 2;
      if (size == 0)
        return g_byte_array_free_to_bytes (g_steal_pointer (&out));
      if (size > len - pos || out->len + size > max_size)
        break;
      g_byte_array_append (out, (const guint8 *) data + pos, (guint) size);
      pos += size;
      if (len - pos < 2 || memcmp (data + pos, "\r\n", 2) != 0)
        break;
      pos += 2;
    }
  g_set_error_literal (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP,
                       "the server sent a malformed, cut or too large chunked body");
  return NULL;
}

/* Splits a whole response into status, headers and body. A redirect sets
 * @location and returns NULL without an error. */
static GBytes *
parse_response (const char *data, gsize len, gsize max_size, char **location, GError **error)
{
  const char *sep = g_strstr_len (data, (gssize) MIN (len, BZ_SETUP_HTTP_HEADER_MAX), "\r\n\r\n");
  g_autofree char *head = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *te = NULL;
  g_autofree char *cl = NULL;
  const char *body;
  gsize body_len;
  guint64 status = 0;

  if (sep == NULL || !g_str_has_prefix (data, "HTTP/1."))
    {
      g_set_error_literal (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP,
                           "the server did not answer with HTTP");
      return NULL;
    }
  head = g_strndup (data, sep - data);
  lines = g_strsplit (head, "\r\n", -1);
  if (strlen (lines[0]) >= 12 && lines[0][8] == ' ')
    {
      g_autofree char *code = g_strndup (lines[0] + 9, 3);
      if (!g_ascii_string_to_unsigned (code, 10, 100, 599, &status, NULL))
        status = 0;
    }
  if (status == 0)
    {
      g_set_error_literal (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP,
                           "the server did not answer with HTTP");
      return NULL;
    }
  body = sep + 4;
  body_len = len - (gsize) (body - data);
  if (status >= 300 && status < 400 && status != 304)
    {
      *location = header_value (lines, "Location");
      if (*location != NULL)
        return NULL;
    }
  if (status != 200)
    {
      g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP, "the server answered \"%s\"",
                   lines[0] + 9);
      return NULL;
    }
  te = header_value (lines, "Transfer-Encoding");
  if (te != NULL && g_ascii_strcasecmp (te, "chunked") == 0)
    return dechunk (body, body_len, max_size, error);
  cl = header_value (lines, "Content-Length");
  if (cl != NULL)
    {
      guint64 n;
      if (!g_ascii_string_to_unsigned (cl, 10, 0, G_MAXSIZE, &n, NULL) || n > body_len)
        {
          g_set_error_literal (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP,
                               "the connection ended before the whole file arrived");
          return NULL;
        }
      body_len = (gsize) n;
    }
  if (body_len > max_size)
    {
      g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP,
                   "the file is larger than %" G_GSIZE_FORMAT " bytes", max_size);
      return NULL;
    }
  return g_bytes_new (body, body_len);
}

static GBytes *
get_once (GUri *uri, gsize max_size, char **location, GCancellable *cancellable, GError **error)
{
  gboolean https = g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0;
  const char *host = g_uri_get_host (uri);
  const char *path = g_uri_get_path (uri);
  const char *query = g_uri_get_query (uri);
  int port = g_uri_get_port (uri);
  BzNetOptions options = {
    .host = host,
    .port = (guint16) (port > 0 ? port
                       : https  ? 443
                                : 80),
    .connect_timeout_ms = BZ_SETUP_HTTP_TIMEOUT_MS,
    .io_timeout_ms = BZ_SETUP_HTTP_TIMEOUT_MS,
  };
  g_autoptr (BzNetConnection) conn = NULL;
  g_autoptr (GByteArray) response = g_byte_array_new ();
  g_autofree char *request = NULL;
  g_autofree char *host_header = NULL;
  gboolean v6 = strchr (host, ':') != NULL;
  GBytes *body;

  host_header = g_strdup_printf ("%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
  if (port > 0)
    {
      g_autofree char *plain = g_steal_pointer (&host_header);
      host_header = g_strdup_printf ("%s:%d", plain, port);
    }
  request = g_strdup_printf ("GET %s%s%s HTTP/1.1\r\n"
                             "Host: %s\r\n"
                             "User-Agent: buzon/%s\r\n"
                             "Accept: application/xml, text/xml;q=0.9, */*;q=0.1\r\n"
                             "Connection: close\r\n\r\n",
                             path[0] != '\0' ? path : "/", query != NULL ? "?" : "",
                             query != NULL ? query : "", host_header, BZ_VERSION);
  conn = bz_net_connection_open (&options, cancellable, error);
  if (conn == NULL)
    return NULL;
  if (https && !bz_net_connection_start_tls (conn, cancellable, error))
    return NULL;
  if (!bz_net_connection_write_all (conn, request, strlen (request), cancellable, error))
    return NULL;
  for (;;)
    {
      guint8 buf[8192];
      gssize n = bz_net_connection_read (conn, buf, sizeof buf, cancellable, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      g_byte_array_append (response, buf, (guint) n);
      if (response->len > max_size + BZ_SETUP_HTTP_HEADER_MAX)
        {
          g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP,
                       "the file is larger than %" G_GSIZE_FORMAT " bytes", max_size);
          return NULL;
        }
    }
  bz_net_connection_close (conn);
  /* a NUL keeps the string searches inside the buffer */
  g_byte_array_append (response, (const guint8 *) "", 1);
  body =
      parse_response ((const char *) response->data, response->len - 1, max_size, location, error);
  return body;
}

GBytes *
bz_setup_http_get (const char *url, gboolean allow_loopback_http, gsize max_size,
                   GCancellable *cancellable, GError **error)
{
  g_autofree char *current = g_strdup (url);

  for (guint hop = 0; hop <= BZ_SETUP_HTTP_REDIRECTS; hop++)
    {
      g_autoptr (GUri) uri = NULL;
      g_autofree char *location = NULL;
      g_autoptr (GUri) next = NULL;
      GBytes *body;

      if (!bz_setup_http_check_url (current, allow_loopback_http, error))
        return NULL;
      uri = g_uri_parse (current, G_URI_FLAGS_ENCODED, error);
      if (uri == NULL)
        return NULL;
      body = get_once (uri, max_size, &location, cancellable, error);
      if (body != NULL || location == NULL)
        return body;
      next = g_uri_parse_relative (uri, location, G_URI_FLAGS_ENCODED, NULL);
      if (next == NULL)
        {
          g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP,
                       "the server redirected to \"%s\", which is not a URL", location);
          return NULL;
        }
      g_free (current);
      current = g_uri_to_string (next);
    }
  g_set_error (error, BZ_SETUP_ERROR, BZ_SETUP_ERROR_HTTP, "more than %d redirects",
               BZ_SETUP_HTTP_REDIRECTS);
  return NULL;
}

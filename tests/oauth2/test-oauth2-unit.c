/* SPDX-License-Identifier: GPL-3.0-or-later */
/* agent/oauth2 in pieces: PKCE (RFC 7636's own example), the presets,
 * the token endpoint against tests/harness/fakeoauth.py, and
 * oauth2-token-command. The whole flow is test-oauth2-e2e.py. */
#include "config.h"

#include <string.h>

#include "bz-oauth2.h"
#include "bz-secrets.h"
#include "bz-test-util.h"

static void
test_pkce_rfc7636_example (void)
{
  g_autofree char *challenge =
      bz_oauth2_pkce_challenge ("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");

  g_assert_cmpstr (challenge, ==, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void
test_pkce_verifier (void)
{
  g_autofree char *a = bz_oauth2_pkce_verifier ();
  g_autofree char *b = bz_oauth2_pkce_verifier ();

  g_assert_cmpuint (strlen (a), >=, 43);
  g_assert_cmpuint (strlen (a), <=, 128);
  g_assert_cmpstr (a, !=, b);
  for (const char *p = a; *p != '\0'; p++)
    g_assert_true (g_ascii_isalnum (*p) || strchr ("-._~", *p) != NULL);
}

static BzAccount *
account_new (BzOAuth2Provider provider)
{
  BzAccount *a = bz_account_new ();

  a->name = g_strdup ("acct");
  a->host = g_strdup ("pop.example.com");
  a->user = g_strdup ("alice@example.com");
  a->oauth2 = provider;
  return a;
}

static void
test_presets (void)
{
  g_autoptr (BzAccount) google = account_new (BZ_OAUTH2_GOOGLE);
  g_autoptr (BzAccount) ms = account_new (BZ_OAUTH2_MICROSOFT);
  g_autoptr (BzAccount) custom = account_new (BZ_OAUTH2_CUSTOM);
  g_autoptr (BzAccount) goa = account_new (BZ_OAUTH2_GOA);
  g_autoptr (GError) error = NULL;
  const char *auth = NULL, *token = NULL, *scope = NULL;

  g_assert_true (bz_oauth2_endpoints (google, &auth, &token, &scope, &error));
  g_assert_cmpstr (scope, ==, "https://mail.google.com/");
  g_assert_true (g_str_has_prefix (auth, "https://accounts.google.com/"));
  g_assert_cmpstr (token, ==, "https://oauth2.googleapis.com/token");
  g_assert_true (bz_oauth2_endpoints (ms, &auth, &token, &scope, &error));
  g_assert_cmpstr (scope, ==, "https://outlook.office.com/POP.AccessAsUser.All offline_access");
  g_assert_true (g_str_has_prefix (token, "https://login.microsoftonline.com/"));
  custom->oauth2_auth_url = g_strdup ("https://id.example/a");
  custom->oauth2_token_url = g_strdup ("https://id.example/t");
  custom->oauth2_scope = g_strdup ("pop");
  g_assert_true (bz_oauth2_endpoints (custom, &auth, &token, &scope, &error));
  g_assert_cmpstr (auth, ==, "https://id.example/a");
  g_assert_cmpstr (token, ==, "https://id.example/t");
  g_assert_cmpstr (scope, ==, "pop");
  g_assert_false (bz_oauth2_endpoints (goa, &auth, &token, &scope, &error));
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_CONFIG);
}

typedef struct
{
  GSubprocess *proc;
  guint port;
  char *dir;
} FakeOAuth;

static void
fake_oauth_free (FakeOAuth *f)
{
  g_subprocess_force_exit (f->proc);
  g_subprocess_wait (f->proc, NULL, NULL);
  g_object_unref (f->proc);
  g_free (f->dir);
  g_free (f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeOAuth, fake_oauth_free)

static FakeOAuth *
fake_oauth_start (void)
{
  FakeOAuth *f = g_new0 (FakeOAuth, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autofree char *line = NULL;
  g_autofree char *tokens = NULL;
  g_autofree char *issued = NULL;

  f->dir = bz_test_mkdtemp ("fakeoauth-XXXXXX");
  tokens = g_build_filename (f->dir, "tokens", NULL);
  issued = g_build_filename (f->dir, "issued", NULL);
  f->proc =
      g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, bz_test_env ("BZ_TEST_PYTHON"),
                        bz_test_env ("BZ_TEST_FAKEOAUTH"), "--client-id", "cid", "--tokens-file",
                        tokens, "--issued-file", issued, "--lifetime", "50", NULL);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->proc));
  /* bounded: the server prints its port at once, or exits (EOF) */
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "PORT "));
  f->port = (guint) g_ascii_strtoull (line + 5, NULL, 10);
  return f;
}

static void
test_token_endpoint_invalid_grant (void)
{
  g_autoptr (FakeOAuth) f = fake_oauth_start ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/token", f->port);
  g_autoptr (GError) error = NULL;
  BzOAuth2Grant *grant;

  grant = bz_oauth2_request_token ("acct", url, NULL, &error, "grant_type", "refresh_token",
                                   "refresh_token", "rt-not-issued", "client_id", "cid", NULL);
  g_assert_null (grant);
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_INVALID_GRANT);
  g_assert_nonnull (strstr (error->message, "acct: "));
  g_assert_nonnull (strstr (error->message, "buzonctl authorize acct"));
  g_assert_null (strstr (error->message, "rt-not-issued"));
  g_clear_error (&error);

  grant = bz_oauth2_request_token ("acct", url, NULL, &error, "grant_type", "password", "client_id",
                                   "cid", NULL);
  g_assert_null (grant);
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_nonnull (strstr (error->message, "unsupported_grant_type"));
}

static void
test_token_endpoint_unreachable (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_autofree char *url = NULL;
  BzOAuth2Grant *grant;

  /* a port nobody listens on: bound, then closed */
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  url = g_strdup_printf ("http://127.0.0.1:%u/token", port);
  grant = bz_oauth2_request_token ("acct", url, NULL, &error, "grant_type", "refresh_token",
                                   "refresh_token", "x", "client_id", "cid", NULL);
  g_assert_null (grant);
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_ENDPOINT);
  g_assert_nonnull (strstr (error->message, "acct: cannot reach the token endpoint"));
}

static void
test_token_command (void)
{
  g_autoptr (BzAccount) a = account_new (BZ_OAUTH2_COMMAND);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) long_token = g_string_new (NULL);
  char *token;

  /* longer than any password (1,024 bytes): Microsoft's tokens are */
  while (long_token->len < 1500)
    g_string_append (long_token, "EwBQA");
  a->oauth2_token_command =
      g_strdup_printf ("printf '%%s\\n' '%s'; echo second line", long_token->str);
  token = bz_oauth2_get_token (a, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (token, ==, long_token->str);
  bz_oauth2_token_free (token);

  g_free (a->oauth2_token_command);
  a->oauth2_token_command = g_strdup ("echo 'token store locked' >&2; exit 3");
  token = bz_oauth2_get_token (a, FALSE, NULL, &error);
  g_assert_null (token);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "oauth2-token-command for account acct failed with exit status 3: token "
                   "store locked");
  g_clear_error (&error);

  g_free (a->oauth2_token_command);
  a->oauth2_token_command = g_strdup ("true");
  token = bz_oauth2_get_token (a, FALSE, NULL, &error);
  g_assert_null (token);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_COMMAND_EMPTY);
  g_assert_cmpstr (error->message, ==, "oauth2-token-command for account acct printed nothing");
}

/* A token endpoint that floods: a 200 answer whose body never ends (up to
 * 64 MiB here). buzon must stop reading at its body limit and say so, not
 * hold the whole answer in memory first. */
typedef struct
{
  GSocketListener *listener;
  gsize sent;
} Flood;

#define FLOOD_CHUNK (64 * 1024)
#define FLOOD_CHUNKS 1024

static gpointer
flood_thread (gpointer data)
{
  Flood *flood = data;
  g_autoptr (GSocketConnection) conn = NULL;
  g_autofree char *chunk = g_malloc (FLOOD_CHUNK);
  const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\n\r\n";
  GInputStream *in;
  GOutputStream *out;
  char request[4096];
  gsize got = 0;

  conn = g_socket_listener_accept (flood->listener, NULL, NULL, NULL);
  if (conn == NULL)
    return NULL;
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  /* the request head and its small form body: bounded by the buffer */
  while (got < sizeof request - 1 && g_strstr_len (request, (gssize) got, "grant_type") == NULL)
    {
      gssize n = g_input_stream_read (in, request + got, sizeof request - 1 - got, NULL, NULL);
      if (n <= 0)
        return NULL;
      got += (gsize) n;
      request[got] = '\0';
    }
  if (!g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL))
    return NULL;
  memset (chunk, ' ', FLOOD_CHUNK);
  chunk[0] = '{';
  for (guint i = 0; i < FLOOD_CHUNKS; i++)
    {
      gsize written = 0;
      gboolean ok = g_output_stream_write_all (out, chunk, FLOOD_CHUNK, &written, NULL, NULL);

      flood->sent += written;
      chunk[0] = ' ';
      if (!ok)
        break;
    }
  return NULL;
}

static void
test_token_endpoint_flood (void)
{
  g_autoptr (GError) error = NULL;
  Flood flood = { g_socket_listener_new (), 0 };
  guint16 port = g_socket_listener_add_any_inet_port (flood.listener, NULL, &error);
  g_autofree char *url = NULL;
  GThread *thread;
  BzOAuth2Grant *grant;

  g_assert_no_error (error);
  thread = g_thread_new ("flood", flood_thread, &flood);
  url = g_strdup_printf ("http://127.0.0.1:%u/token", port);
  grant = bz_oauth2_request_token ("acct", url, NULL, &error, "grant_type", "refresh_token",
                                   "refresh_token", "x", "client_id", "cid", NULL);
  g_assert_null (grant);
  g_assert_error (error, BZ_OAUTH2_ERROR, BZ_OAUTH2_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "acct: the token endpoint answered with an oversized"));
  g_thread_join (thread);
  g_socket_listener_close (flood.listener);
  g_object_unref (flood.listener);
  /* the client hung up early: the server could not send it all */
  g_assert_cmpuint (flood.sent, <, (gsize) FLOOD_CHUNK * FLOOD_CHUNKS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/oauth2/pkce/rfc7636-example", test_pkce_rfc7636_example);
  g_test_add_func ("/oauth2/pkce/verifier", test_pkce_verifier);
  g_test_add_func ("/oauth2/presets", test_presets);
  g_test_add_func ("/oauth2/token-endpoint/invalid-grant", test_token_endpoint_invalid_grant);
  g_test_add_func ("/oauth2/token-endpoint/unreachable", test_token_endpoint_unreachable);
  g_test_add_func ("/oauth2/token-endpoint/flood", test_token_endpoint_flood);
  g_test_add_func ("/oauth2/token-command", test_token_command);
  return g_test_run ();
}

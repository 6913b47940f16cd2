/* SPDX-License-Identifier: GPL-3.0-or-later */
/* TLS against the harness's dovecot: implicit TLS, STLS, and each way the
 * verification can fail. */
#include "config.h"

#include "net-test-common.h"

/* Connects to @port on @host and runs the handshake; returns the
 * connection when it succeeded, NULL with @error otherwise. */
static BzNetConnection *
net_test_tls_connect (const char *host,
                      guint16     port,
                      const char *ca_file,
                      const char *pin,
                      GError    **error)
{
  BzNetOptions opts = {
    .host = host,
    .port = port,
    .ca_file = ca_file,
    .pin_sha256 = pin,
    .io_timeout_ms = 10000,
  };
  g_autoptr(BzNetConnection) conn = NULL;

  conn = bz_net_connection_open (&opts, NULL, error);
  if (conn == NULL)
    return NULL;
  if (!bz_net_connection_start_tls (conn, NULL, error))
    return NULL;
  return g_steal_pointer (&conn);
}

static void
net_test_assert_greeting (BzNetConnection *conn)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = net_test_read_line (conn, &error);
  const char *desc = bz_net_connection_get_tls_description (conn);

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "+OK"));
  g_assert_true (bz_net_connection_is_tls (conn));
  g_assert_nonnull (desc);
  g_assert_true (g_str_has_prefix (desc, "TLSv1.2 ") || g_str_has_prefix (desc, "TLSv1.3 "));
}

static void
net_test_assert_fails (const char *host,
                       guint16     port,
                       const char *ca_file,
                       const char *pin,
                       BzNetError  code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BzNetConnection) conn = net_test_tls_connect (host, port, ca_file, pin, &error);

  g_assert_null (conn);
  g_assert_error (error, BZ_NET_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, host));
  g_test_message ("%s", error->message);
}

static void
test_implicit_ok (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BzNetConnection) conn = NULL;

  conn = net_test_tls_connect (bz_test_env ("BZ_TEST_HOST"),
                               bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                               bz_test_env ("BZ_TEST_CA_FILE"), NULL, &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);

  /* a clean QUIT: the reply, then end of stream (0), then close */
  g_assert_true (bz_net_connection_write_all (conn, "QUIT\r\n", 6, NULL, &error));
  g_assert_no_error (error);
  {
    g_autofree char *line = net_test_read_line (conn, &error);
    char buf[64];
    g_assert_no_error (error);
    g_assert_true (g_str_has_prefix (line, "+OK"));
    g_assert_cmpint (bz_net_connection_read (conn, buf, sizeof (buf), NULL, &error), ==, 0);
    g_assert_no_error (error);
  }
  bz_net_connection_close (conn);
  bz_net_connection_close (conn);
}

static void
test_unknown_ca (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BzNetConnection) conn = NULL;

  net_test_assert_fails (bz_test_env ("BZ_TEST_HOST"),
                         bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                         NULL, NULL, BZ_NET_ERROR_TLS_UNKNOWN_CA);
  net_test_assert_fails (bz_test_env ("BZ_TEST_HOST"),
                         bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                         bz_test_env ("BZ_TEST_WRONG_CA_FILE"), NULL,
                         BZ_NET_ERROR_TLS_UNKNOWN_CA);

  /* the message tells the user what to do */
  conn = net_test_tls_connect (bz_test_env ("BZ_TEST_HOST"),
                               bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                               NULL, NULL, &error);
  g_assert_null (conn);
  g_assert_nonnull (strstr (error->message, "tls-ca-file"));
}

static void
test_wrong_host (void)
{
  net_test_assert_fails (bz_test_env ("BZ_TEST_WRONG_HOST"),
                         bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                         bz_test_env ("BZ_TEST_CA_FILE"), NULL,
                         BZ_NET_ERROR_TLS_HOSTNAME);
  /* a matching pin does not excuse a hostname mismatch */
  net_test_assert_fails (bz_test_env ("BZ_TEST_WRONG_HOST"),
                         bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                         NULL, bz_test_env ("BZ_TEST_PIN_SHA256"),
                         BZ_NET_ERROR_TLS_HOSTNAME);
}

static void
test_expired (void)
{
  const char *host = g_getenv ("BZ_TEST_EXPIRED_HOST");

  if (host == NULL)
    host = bz_test_env ("BZ_TEST_HOST");
  net_test_assert_fails (host, bz_test_env_port ("BZ_TEST_EXPIRED_PORT"),
                         bz_test_env ("BZ_TEST_CA_FILE"), NULL,
                         BZ_NET_ERROR_TLS_EXPIRED);
}

static void
test_pin (void)
{
  const char *host = bz_test_env ("BZ_TEST_HOST");
  guint16 port = bz_test_env_port ("BZ_TEST_POP3S_PORT");
  const char *pin = bz_test_env ("BZ_TEST_PIN_SHA256");
  g_autofree char *wrong = g_strdup (pin);
  g_autoptr(GString) colons = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(BzNetConnection) conn = NULL;

  /* pin and CA */
  conn = net_test_tls_connect (host, port, bz_test_env ("BZ_TEST_CA_FILE"), pin, &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);
  g_clear_object (&conn);

  /* pin alone trusts the self-signed (unknown CA) server */
  conn = net_test_tls_connect (host, port, NULL, pin, &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);
  g_clear_object (&conn);

  /* upper case with ':' separators is the same pin */
  for (const char *p = pin; *p != '\0'; p += 2) {
    if (colons->len > 0)
      g_string_append_c (colons, ':');
    g_string_append_c (colons, g_ascii_toupper (p[0]));
    g_string_append_c (colons, g_ascii_toupper (p[1]));
  }
  conn = net_test_tls_connect (host, port, NULL, colons->str, &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);
  g_clear_object (&conn);

  /* a wrong pin fails with and without the CA, naming both values */
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  conn = net_test_tls_connect (host, port, bz_test_env ("BZ_TEST_CA_FILE"), wrong, &error);
  g_assert_null (conn);
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TLS_PIN);
  g_assert_nonnull (strstr (error->message, host));
  g_assert_nonnull (strstr (error->message, wrong));
  g_assert_nonnull (strstr (error->message, pin));
  g_clear_error (&error);
  net_test_assert_fails (host, port, NULL, wrong, BZ_NET_ERROR_TLS_PIN);
  net_test_assert_fails (host, port, bz_test_env ("BZ_TEST_WRONG_CA_FILE"), wrong,
                         BZ_NET_ERROR_TLS_PIN);
}

static void
test_stls (void)
{
  BzNetOptions opts = {
    .host = bz_test_env ("BZ_TEST_HOST"),
    .port = bz_test_env_port ("BZ_TEST_POP3_PORT"),
    .ca_file = bz_test_env ("BZ_TEST_CA_FILE"),
  };
  g_autoptr(BzNetConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  line = net_test_read_line (conn, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "+OK"));
  g_assert_true (bz_net_connection_write_all (conn, "STLS\r\n", 6, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&line, g_free);
  line = net_test_read_line (conn, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "+OK"));

  g_assert_true (bz_net_connection_start_tls (conn, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bz_net_connection_is_tls (conn));
  g_assert_nonnull (bz_net_connection_get_tls_description (conn));

  /* the session goes on encrypted */
  g_assert_true (bz_net_connection_write_all (conn, "CAPA\r\n", 6, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&line, g_free);
  line = net_test_read_line (conn, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "+OK"));

  /* a second start_tls is refused */
  g_assert_false (bz_net_connection_start_tls (conn, NULL, &error));
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TLS_HANDSHAKE);
}

/* After the server hangs up, TLS writes fail cleanly instead of SIGPIPE. */
static void
test_write_after_quit (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BzNetConnection) conn = NULL;
  g_autofree char *chunk = g_malloc0 (65536);
  gboolean ok = TRUE;

  conn = net_test_tls_connect (bz_test_env ("BZ_TEST_HOST"),
                               bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                               bz_test_env ("BZ_TEST_CA_FILE"), NULL, &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);
  g_assert_true (bz_net_connection_write_all (conn, "QUIT\r\n", 6, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 100 && ok; i++) {
    ok = bz_net_connection_write_all (conn, chunk, 65536, NULL, &error);
    if (ok)
      g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  }
  g_assert_false (ok);
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_CLOSED);
}

/* The inactivity timeout also bounds a TLS read (the server waits for a
 * command after its greeting). */
static void
test_read_timeout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(BzNetConnection) conn = NULL;
  char buf[64];
  gint64 start, elapsed;

  conn = net_test_tls_connect (bz_test_env ("BZ_TEST_HOST"),
                               bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                               bz_test_env ("BZ_TEST_CA_FILE"), NULL, &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);
  bz_net_connection_set_io_timeout (conn, 300);
  start = g_get_monotonic_time ();
  g_assert_cmpint (bz_net_connection_read (conn, buf, sizeof (buf), NULL, &error), ==, -1);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "localhost"));
  g_assert_cmpint (elapsed, >=, 290 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (elapsed, <, 3000 * G_TIME_SPAN_MILLISECOND);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/tls/implicit", test_implicit_ok);
  g_test_add_func ("/net/tls/unknown-ca", test_unknown_ca);
  g_test_add_func ("/net/tls/wrong-host", test_wrong_host);
  g_test_add_func ("/net/tls/expired", test_expired);
  g_test_add_func ("/net/tls/pin", test_pin);
  g_test_add_func ("/net/tls/stls", test_stls);
  g_test_add_func ("/net/tls/write-after-quit", test_write_after_quit);
  g_test_add_func ("/net/tls/read-timeout", test_read_timeout);
  return g_test_run ();
}

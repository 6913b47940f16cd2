/* SPDX-License-Identifier: GPL-3.0-or-later */
/* TLS against the harness's dovecot: implicit TLS, STLS, and each way the
 * verification can fail. */
#include "config.h"

#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "net-test-common.h"

/* Connects to @port on @host and runs the handshake; returns the
 * connection when it succeeded, NULL with @error otherwise. */
static BzNetConnection *
net_test_tls_connect (const char *host, guint16 port, const char *ca_file, const char *pin,
                      GError **error)
{
  BzNetOptions opts = {
    .host = host,
    .port = port,
    .ca_file = ca_file,
    .pin_sha256 = pin,
    .io_timeout_ms = 10000,
  };
  g_autoptr (BzNetConnection) conn = NULL;

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
  g_autoptr (GError) error = NULL;
  g_autofree char *line = net_test_read_line (conn, &error);
  const char *desc = bz_net_connection_get_tls_description (conn);

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "+OK"));
  g_assert_true (bz_net_connection_is_tls (conn));
  g_assert_nonnull (desc);
  g_assert_true (g_str_has_prefix (desc, "TLSv1.2 ") || g_str_has_prefix (desc, "TLSv1.3 "));
}

static void
net_test_assert_fails (const char *host, guint16 port, const char *ca_file, const char *pin,
                       BzNetError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzNetConnection) conn = net_test_tls_connect (host, port, ca_file, pin, &error);

  g_assert_null (conn);
  g_assert_error (error, BZ_NET_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, host));
  g_test_message ("%s", error->message);
}

static void
test_implicit_ok (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzNetConnection) conn = NULL;

  conn =
      net_test_tls_connect (bz_test_env ("BZ_TEST_HOST"), bz_test_env_port ("BZ_TEST_POP3S_PORT"),
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
  g_autoptr (GError) error = NULL;
  g_autoptr (BzNetConnection) conn = NULL;

  net_test_assert_fails (bz_test_env ("BZ_TEST_HOST"), bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                         NULL, NULL, BZ_NET_ERROR_TLS_UNKNOWN_CA);
  net_test_assert_fails (bz_test_env ("BZ_TEST_HOST"), bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                         bz_test_env ("BZ_TEST_WRONG_CA_FILE"), NULL, BZ_NET_ERROR_TLS_UNKNOWN_CA);

  /* the message tells the user what to do */
  conn = net_test_tls_connect (bz_test_env ("BZ_TEST_HOST"),
                               bz_test_env_port ("BZ_TEST_POP3S_PORT"), NULL, NULL, &error);
  g_assert_null (conn);
  g_assert_nonnull (strstr (error->message, "tls-ca-file"));
}

static void
test_wrong_host (void)
{
  net_test_assert_fails (bz_test_env ("BZ_TEST_WRONG_HOST"),
                         bz_test_env_port ("BZ_TEST_POP3S_PORT"), bz_test_env ("BZ_TEST_CA_FILE"),
                         NULL, BZ_NET_ERROR_TLS_HOSTNAME);
  /* a matching pin does not excuse a hostname mismatch */
  net_test_assert_fails (bz_test_env ("BZ_TEST_WRONG_HOST"),
                         bz_test_env_port ("BZ_TEST_POP3S_PORT"), NULL,
                         bz_test_env ("BZ_TEST_PIN_SHA256"), BZ_NET_ERROR_TLS_HOSTNAME);
}

static void
test_expired (void)
{
  const char *host = g_getenv ("BZ_TEST_EXPIRED_HOST");

  if (host == NULL)
    host = bz_test_env ("BZ_TEST_HOST");
  net_test_assert_fails (host, bz_test_env_port ("BZ_TEST_EXPIRED_PORT"),
                         bz_test_env ("BZ_TEST_CA_FILE"), NULL, BZ_NET_ERROR_TLS_EXPIRED);
}

static void
test_pin (void)
{
  const char *host = bz_test_env ("BZ_TEST_HOST");
  guint16 port = bz_test_env_port ("BZ_TEST_POP3S_PORT");
  const char *pin = bz_test_env ("BZ_TEST_PIN_SHA256");
  g_autofree char *wrong = g_strdup (pin);
  g_autoptr (GString) colons = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzNetConnection) conn = NULL;

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
  for (const char *p = pin; *p != '\0'; p += 2)
    {
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
  g_autoptr (BzNetConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
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

/* Runs a handshake with no tls-ca-file, the system store pointed at
 * @cert_dir and @cert_file (either may be NULL) through OpenSSL's
 * variables, and restores them. */
static BzNetConnection *
net_test_tls_connect_system (const char *cert_dir, const char *cert_file, GError **error)
{
  g_autofree char *old_dir = g_strdup (g_getenv (X509_get_default_cert_dir_env ()));
  g_autofree char *old_file = g_strdup (g_getenv (X509_get_default_cert_file_env ()));
  BzNetConnection *conn;

  if (cert_dir != NULL)
    g_setenv (X509_get_default_cert_dir_env (), cert_dir, TRUE);
  if (cert_file != NULL)
    g_setenv (X509_get_default_cert_file_env (), cert_file, TRUE);
  conn = net_test_tls_connect (bz_test_env ("BZ_TEST_HOST"),
                               bz_test_env_port ("BZ_TEST_POP3S_PORT"), NULL, NULL, error);
  if (old_dir != NULL)
    g_setenv (X509_get_default_cert_dir_env (), old_dir, TRUE);
  else
    g_unsetenv (X509_get_default_cert_dir_env ());
  if (old_file != NULL)
    g_setenv (X509_get_default_cert_file_env (), old_file, TRUE);
  else
    g_unsetenv (X509_get_default_cert_file_env ());
  return conn;
}

/* Copies the PEM certificate @pem into @dir under its subject-hash name. */
static void
net_test_add_hash_link (const char *dir, const char *pem)
{
  g_autofree char *contents = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  BIO *bio;
  X509 *cert;

  g_assert_true (g_file_get_contents (pem, &contents, &len, &error));
  g_assert_no_error (error);
  bio = BIO_new_mem_buf (contents, (int) len);
  g_assert_nonnull (bio);
  cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  BIO_free (bio);
  g_assert_nonnull (cert);
  name = g_strdup_printf ("%08lx.0", X509_subject_name_hash (cert));
  X509_free (cert);
  path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, contents, len, &error));
  g_assert_no_error (error);
}

/* The system store: a hashed folder is used by lookup, a folder without
 * hash links falls back to the bundle file, and an unrelated anchor in
 * either place is still an unknown CA. */
static void
test_system_store (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzNetConnection) conn = NULL;
  g_autofree char *hashed = g_dir_make_tmp ("bz-net-hashed-XXXXXX", &error);
  g_autofree char *wrong = g_dir_make_tmp ("bz-net-wrong-XXXXXX", &error);
  g_autofree char *empty = g_dir_make_tmp ("bz-net-empty-XXXXXX", &error);

  g_assert_no_error (error);
  net_test_add_hash_link (hashed, bz_test_env ("BZ_TEST_CA_FILE"));
  net_test_add_hash_link (wrong, bz_test_env ("BZ_TEST_WRONG_CA_FILE"));

  /* the CA found through its hash link; no bundle at all */
  conn = net_test_tls_connect_system (hashed, "/nonexistent/bundle.pem", &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);
  g_clear_object (&conn);

  /* a hashed folder of other anchors does not trust the server */
  conn = net_test_tls_connect_system (wrong, "/nonexistent/bundle.pem", &error);
  g_assert_null (conn);
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TLS_UNKNOWN_CA);
  g_clear_error (&error);

  /* without hash links the bundle file is the store */
  conn = net_test_tls_connect_system (empty, bz_test_env ("BZ_TEST_CA_FILE"), &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);
  g_clear_object (&conn);
  conn = net_test_tls_connect_system (empty, bz_test_env ("BZ_TEST_WRONG_CA_FILE"), &error);
  g_assert_null (conn);
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TLS_UNKNOWN_CA);
  g_clear_error (&error);

  /* an explicitly named bundle is still read beside a hashed folder */
  conn = net_test_tls_connect_system (wrong, bz_test_env ("BZ_TEST_CA_FILE"), &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);
  g_clear_object (&conn);

  /* a bundle inside the hashed folder is that folder's own copy: not read */
  {
    g_autofree char *contents = NULL;
    g_autofree char *inside = g_build_filename (wrong, "bundle.crt", NULL);
    g_assert_true (g_file_get_contents (bz_test_env ("BZ_TEST_CA_FILE"), &contents, NULL, &error));
    g_assert_true (g_file_set_contents (inside, contents, -1, &error));
    g_assert_no_error (error);
    conn = net_test_tls_connect_system (wrong, inside, &error);
    g_assert_null (conn);
    g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TLS_UNKNOWN_CA);
    g_clear_error (&error);
  }

  for (guint i = 0; i < 3; i++)
    {
      const char *dir = i == 0 ? hashed : i == 1 ? wrong : empty;
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_unlink (path);
        }
      g_rmdir (dir);
    }
}

/* After the server hangs up, TLS writes fail cleanly instead of SIGPIPE. */
static void
test_write_after_quit (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzNetConnection) conn = NULL;
  g_autofree char *chunk = g_malloc0 (65536);
  gboolean ok = TRUE;

  conn =
      net_test_tls_connect (bz_test_env ("BZ_TEST_HOST"), bz_test_env_port ("BZ_TEST_POP3S_PORT"),
                            bz_test_env ("BZ_TEST_CA_FILE"), NULL, &error);
  g_assert_no_error (error);
  net_test_assert_greeting (conn);
  g_assert_true (bz_net_connection_write_all (conn, "QUIT\r\n", 6, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 100 && ok; i++)
    {
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
  g_autoptr (GError) error = NULL;
  g_autoptr (BzNetConnection) conn = NULL;
  char buf[64];
  gint64 start, elapsed;

  conn =
      net_test_tls_connect (bz_test_env ("BZ_TEST_HOST"), bz_test_env_port ("BZ_TEST_POP3S_PORT"),
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
  g_assert_cmpint (elapsed, <, NET_TEST_BEFORE_DEFAULT);
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
  g_test_add_func ("/net/tls/system-store", test_system_store);
  g_test_add_func ("/net/tls/write-after-quit", test_write_after_quit);
  g_test_add_func ("/net/tls/read-timeout", test_read_timeout);
  return g_test_run ();
}

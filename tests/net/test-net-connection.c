/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Plaintext connect, errors, timeouts and cancellation. The greeting cases
 * talk to the harness's dovecot; the rest use loopback servers of our own. */
#include "config.h"

#include "net-test-common.h"

#define MS (G_TIME_SPAN_MILLISECOND)

static void
test_plain_greeting (void)
{
  BzNetOptions opts = {
    .host = bz_test_env ("BZ_TEST_HOST"),
    .port = bz_test_env_port ("BZ_TEST_POP3_PORT"),
  };
  g_autoptr (BzNetConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (conn);
  g_assert_false (bz_net_connection_is_tls (conn));
  g_assert_null (bz_net_connection_get_tls_description (conn));
  g_assert_cmpstr (bz_net_connection_get_host (conn), ==, opts.host);

  line = net_test_read_line (conn, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "+OK"));

  /* QUIT, then the server hangs up: a clean end of stream reads as 0 */
  g_assert_true (bz_net_connection_write_all (conn, "QUIT\r\n", 6, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&line, g_free);
  line = net_test_read_line (conn, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "+OK"));
  {
    char buf[64];
    gssize n = bz_net_connection_read (conn, buf, sizeof (buf), NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (n, ==, 0);
  }
  bz_net_connection_close (conn);
  bz_net_connection_close (conn); /* idempotent */
  {
    char buf[8];
    g_assert_cmpint (bz_net_connection_read (conn, buf, sizeof (buf), NULL, &error), ==, -1);
    g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_CLOSED);
  }
}

static gboolean
net_test_have_ipv6_loopback (void)
{
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GInetAddress) inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (inet, 0);

  sock = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  return sock != NULL && g_socket_bind (sock, addr, TRUE, NULL);
}

static void
test_plain_ipv6 (void)
{
  BzNetOptions opts = {
    .host = "::1",
    .port = bz_test_env_port ("BZ_TEST_POP3_PORT"),
  };
  g_autoptr (BzNetConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  if (!net_test_have_ipv6_loopback ())
    {
      bz_test_skip_or_fail ("no ::1 on this machine");
      return;
    }
  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  line = net_test_read_line (conn, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "+OK"));
}

static void
test_refused (void)
{
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GInetAddress) inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (inet, 0);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (BzNetConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = { .host = "127.0.0.1" };
  g_autofree char *label = NULL;

  /* bound but not listening: the port is ours, so nobody else can answer */
  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (sock, addr, FALSE, &error));
  local = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  opts.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_null (conn);
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_CONNECT);
  label = g_strdup_printf ("127.0.0.1:%u: connection refused", opts.port);
  g_assert_cmpstr (error->message, ==, label);
}

/* A listener whose accept queue is full and never drained: the kernel drops
 * further SYNs, so a connect to it hangs until the client gives up. */
typedef struct
{
  GSocket *listener;
  GPtrArray *fillers;
  guint16 port;
} NetTestBlackhole;

static void
net_test_blackhole_free (NetTestBlackhole *hole)
{
  g_ptr_array_unref (hole->fillers);
  g_object_unref (hole->listener);
  g_free (hole);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetTestBlackhole, net_test_blackhole_free)

static NetTestBlackhole *
net_test_blackhole_new (void)
{
  NetTestBlackhole *hole = g_new0 (NetTestBlackhole, 1);
  g_autoptr (GInetAddress) inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (inet, 0);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GError) error = NULL;

  hole->fillers = g_ptr_array_new_with_free_func (g_object_unref);
  hole->listener =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_set_listen_backlog (hole->listener, 0);
  g_assert_true (g_socket_bind (hole->listener, addr, TRUE, &error));
  g_assert_true (g_socket_listen (hole->listener, &error));
  local = g_socket_get_local_address (hole->listener, &error);
  g_assert_no_error (error);
  hole->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  for (guint i = 0; i < 4; i++)
    {
      GSocket *filler =
          g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
      g_assert_no_error (error);
      g_socket_set_blocking (filler, FALSE);
      if (!g_socket_connect (filler, local, NULL, &error))
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
      g_clear_error (&error);
      g_ptr_array_add (hole->fillers, filler);
    }
  g_usleep (50 * MS);
  return hole;
}

static void
test_connect_timeout (void)
{
  g_autoptr (NetTestBlackhole) hole = net_test_blackhole_new ();
  g_autoptr (BzNetConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = {
    .host = "127.0.0.1",
    .port = hole->port,
    .connect_timeout_ms = 400,
  };
  gint64 start, elapsed;

  start = g_get_monotonic_time ();
  conn = bz_net_connection_open (&opts, NULL, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_null (conn);
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_cmpint (elapsed, >=, 390 * MS);
  g_assert_cmpint (elapsed, <, NET_TEST_BEFORE_DEFAULT);
}

static gpointer net_test_cancel_thread (gpointer user_data);

static void
test_cancel_connect (void)
{
  g_autoptr (NetTestBlackhole) hole = net_test_blackhole_new ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (BzNetConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = {
    .host = "127.0.0.1",
    .port = hole->port,
    .connect_timeout_ms = 8000,
  };
  GThread *thread;
  gint64 start, elapsed;

  start = g_get_monotonic_time ();
  thread = g_thread_new ("canceller", net_test_cancel_thread, cancellable);
  conn = bz_net_connection_open (&opts, cancellable, &error);
  elapsed = g_get_monotonic_time () - start;
  g_thread_join (thread);
  g_assert_null (conn);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (elapsed, <, NET_TEST_BEFORE_DEFAULT);
}

static void
test_resolve (void)
{
  g_autoptr (BzNetConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  /* RFC 6761: .invalid never resolves */
  BzNetOptions opts = {
    .host = "bz-no-such-host.invalid",
    .port = 110,
    .connect_timeout_ms = 5000,
  };

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_null (conn);
  /* A resolver that does not answer (no network at all) is a timeout;
   * either way the error must be ours and name the host. */
  if (!g_error_matches (error, BZ_NET_ERROR, BZ_NET_ERROR_TIMEOUT))
    g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_RESOLVE);
  else
    g_test_message ("the system resolver did not answer in time: %s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "bz-no-such-host.invalid:110: "));
}

static void
test_bad_options (void)
{
  g_autoptr (NetTestServer) server = net_test_server_new ("127.0.0.1", FALSE);
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = {
    .host = "127.0.0.1",
    .port = net_test_server_get_port (server),
    .ca_file = "/nonexistent/bz-ca.pem",
  };
  g_autoptr (BzNetConnection) conn = NULL;

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (bz_net_connection_start_tls (conn, NULL, &error));
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TLS_CONFIG);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_nonnull (strstr (error->message, "/nonexistent/bz-ca.pem"));
  g_clear_object (&conn);
  g_clear_error (&error);

  opts.ca_file = NULL;
  opts.pin_sha256 = "abcd:zz";
  net_test_server_free (g_steal_pointer (&server));
  server = net_test_server_new ("127.0.0.1", FALSE);
  opts.port = net_test_server_get_port (server);
  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (bz_net_connection_start_tls (conn, NULL, &error));
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TLS_CONFIG);
  g_assert_nonnull (strstr (error->message, "abcd:zz"));
}

static void
test_io_timeout (void)
{
  g_autoptr (NetTestServer) server = net_test_server_new ("127.0.0.1", FALSE);
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = {
    .host = "127.0.0.1",
    .port = net_test_server_get_port (server),
    .io_timeout_ms = 300,
  };
  g_autoptr (BzNetConnection) conn = NULL;
  char buf[16];
  gint64 start, elapsed;

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  g_assert_cmpint (bz_net_connection_read (conn, buf, sizeof (buf), NULL, &error), ==, -1);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_cmpint (elapsed, >=, 290 * MS);
  g_assert_cmpint (elapsed, <, NET_TEST_BEFORE_DEFAULT);

  /* a changed timeout applies to the next read */
  g_clear_error (&error);
  bz_net_connection_set_io_timeout (conn, 700);
  start = g_get_monotonic_time ();
  g_assert_cmpint (bz_net_connection_read (conn, buf, sizeof (buf), NULL, &error), ==, -1);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed, >=, 690 * MS);
  g_assert_cmpint (elapsed, <, NET_TEST_BEFORE_DEFAULT);
}

static void
test_handshake_timeout (void)
{
  g_autoptr (NetTestServer) server = net_test_server_new ("127.0.0.1", FALSE);
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = {
    .host = "127.0.0.1",
    .port = net_test_server_get_port (server),
    .io_timeout_ms = 300,
  };
  g_autoptr (BzNetConnection) conn = NULL;
  gint64 start, elapsed;

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  g_assert_false (bz_net_connection_start_tls (conn, NULL, &error));
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_nonnull (strstr (error->message, "TLS handshake timed out"));
  g_assert_cmpint (elapsed, >=, 290 * MS);
  g_assert_cmpint (elapsed, <, NET_TEST_BEFORE_DEFAULT);
  g_assert_false (bz_net_connection_is_tls (conn));
}

static void
test_handshake_hang_up (void)
{
  g_autoptr (NetTestServer) server = net_test_server_new ("127.0.0.1", TRUE);
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = {
    .host = "127.0.0.1",
    .port = net_test_server_get_port (server),
    .io_timeout_ms = 5000,
  };
  g_autoptr (BzNetConnection) conn = NULL;

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (bz_net_connection_start_tls (conn, NULL, &error));
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TLS_HANDSHAKE);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
}

/* Writing to a peer that hung up must fail, not kill us with SIGPIPE. */
static void
test_write_after_hang_up (void)
{
  g_autoptr (NetTestServer) server = net_test_server_new ("127.0.0.1", TRUE);
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = {
    .host = "127.0.0.1",
    .port = net_test_server_get_port (server),
    .io_timeout_ms = 2000,
  };
  g_autoptr (BzNetConnection) conn = NULL;
  g_autofree char *chunk = g_malloc0 (65536);
  gboolean ok = TRUE;
  char buf[16];

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  /* the hang-up is visible as end of stream first */
  g_assert_cmpint (bz_net_connection_read (conn, buf, sizeof (buf), NULL, &error), ==, 0);
  g_assert_no_error (error);
  for (guint i = 0; i < 100 && ok; i++)
    {
      ok = bz_net_connection_write_all (conn, chunk, 65536, NULL, &error);
      if (ok)
        g_usleep (10 * MS);
    }
  g_assert_false (ok);
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_CLOSED);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
}

static gpointer
net_test_cancel_thread (gpointer user_data)
{
  g_usleep (200 * MS);
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return NULL;
}

static void
test_cancel_read (void)
{
  g_autoptr (NetTestServer) server = net_test_server_new ("127.0.0.1", FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = {
    .host = "127.0.0.1",
    .port = net_test_server_get_port (server),
    .io_timeout_ms = 8000,
  };
  g_autoptr (BzNetConnection) conn = NULL;
  GThread *thread;
  char buf[16];
  gint64 start, elapsed;

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  thread = g_thread_new ("canceller", net_test_cancel_thread, cancellable);
  g_assert_cmpint (bz_net_connection_read (conn, buf, sizeof (buf), cancellable, &error), ==, -1);
  elapsed = g_get_monotonic_time () - start;
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (elapsed, <, NET_TEST_BEFORE_DEFAULT);

  /* an already cancelled cancellable fails at once, also for connect */
  g_clear_error (&error);
  g_assert_false (bz_net_connection_write_all (conn, "x", 1, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_null (bz_net_connection_open (&opts, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_cancel_handshake (void)
{
  g_autoptr (NetTestServer) server = net_test_server_new ("127.0.0.1", FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  BzNetOptions opts = {
    .host = "127.0.0.1",
    .port = net_test_server_get_port (server),
    .io_timeout_ms = 8000,
  };
  g_autoptr (BzNetConnection) conn = NULL;
  GThread *thread;
  gint64 start, elapsed;

  conn = bz_net_connection_open (&opts, NULL, &error);
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  thread = g_thread_new ("canceller", net_test_cancel_thread, cancellable);
  g_assert_false (bz_net_connection_start_tls (conn, cancellable, &error));
  elapsed = g_get_monotonic_time () - start;
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (elapsed, <, NET_TEST_BEFORE_DEFAULT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/plain/greeting", test_plain_greeting);
  g_test_add_func ("/net/plain/ipv6", test_plain_ipv6);
  g_test_add_func ("/net/error/refused", test_refused);
  g_test_add_func ("/net/error/resolve", test_resolve);
  g_test_add_func ("/net/error/bad-options", test_bad_options);
  g_test_add_func ("/net/error/write-after-hang-up", test_write_after_hang_up);
  g_test_add_func ("/net/error/handshake-hang-up", test_handshake_hang_up);
  g_test_add_func ("/net/timeout/io", test_io_timeout);
  g_test_add_func ("/net/timeout/connect", test_connect_timeout);
  g_test_add_func ("/net/timeout/handshake", test_handshake_timeout);
  g_test_add_func ("/net/cancel/read", test_cancel_read);
  g_test_add_func ("/net/cancel/connect", test_cancel_connect);
  g_test_add_func ("/net/cancel/handshake", test_cancel_handshake);
  return g_test_run ();
}

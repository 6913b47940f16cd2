/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "net-test-common.h"

#define NET_TEST_SERVER_LIFETIME_S 10
#define NET_TEST_LINE_MAX 4096

char *
net_test_read_line (BzNetConnection *conn, GError **error)
{
  g_autoptr (GString) line = g_string_new (NULL);

  /* byte by byte is slow but exact: nothing past the CRLF is consumed, so
   * a following start_tls sees the handshake from its first byte */
  while (line->len < NET_TEST_LINE_MAX)
    {
      char c;
      gssize n = bz_net_connection_read (conn, &c, 1, NULL, error);
      if (n < 0)
        return NULL;
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                       "end of stream after \"%s\"", line->str);
          return NULL;
        }
      g_string_append_c (line, c);
      if (g_str_has_suffix (line->str, "\r\n"))
        return g_string_free (g_steal_pointer (&line), FALSE);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "line too long");
  return NULL;
}

struct _NetTestServer
{
  GSocket *listener;
  guint16 port;
  gboolean hang_up;
  GThread *thread;
  GMutex mutex;
  GCond cond;
  gboolean stop;
  GCancellable *cancellable; /* ends a wait for a client that never came */
};

static gpointer
net_test_server_thread (gpointer user_data)
{
  NetTestServer *server = user_data;
  g_autoptr (GSocket) client = NULL;
  gint64 end = g_get_monotonic_time () + NET_TEST_SERVER_LIFETIME_S * G_USEC_PER_SEC;

  if (g_socket_condition_timed_wait (server->listener, G_IO_IN,
                                     NET_TEST_SERVER_LIFETIME_S * G_USEC_PER_SEC,
                                     server->cancellable, NULL))
    client = g_socket_accept (server->listener, NULL, NULL);
  if (client != NULL && server->hang_up)
    {
      g_socket_close (client, NULL);
      return NULL;
    }
  g_mutex_lock (&server->mutex);
  while (!server->stop)
    {
      if (!g_cond_wait_until (&server->cond, &server->mutex, end))
        break;
    }
  g_mutex_unlock (&server->mutex);
  if (client != NULL)
    g_socket_close (client, NULL);
  return NULL;
}

NetTestServer *
net_test_server_new (const char *address, gboolean hang_up)
{
  NetTestServer *server = g_new0 (NetTestServer, 1);
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr (GSocketAddress) bind_addr = NULL;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (inet);
  server->listener = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                                   G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  bind_addr = g_inet_socket_address_new (inet, 0);
  g_assert_true (g_socket_bind (server->listener, bind_addr, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (g_socket_listen (server->listener, &error));
  g_assert_no_error (error);
  local = g_socket_get_local_address (server->listener, &error);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  server->hang_up = hang_up;
  server->cancellable = g_cancellable_new ();
  g_mutex_init (&server->mutex);
  g_cond_init (&server->cond);
  server->thread = g_thread_new ("net-test-server", net_test_server_thread, server);
  return server;
}

guint16
net_test_server_get_port (NetTestServer *server)
{
  return server->port;
}

void
net_test_server_free (NetTestServer *server)
{
  g_mutex_lock (&server->mutex);
  server->stop = TRUE;
  g_cond_signal (&server->cond);
  g_mutex_unlock (&server->mutex);
  g_cancellable_cancel (server->cancellable);
  g_thread_join (server->thread);
  g_object_unref (server->cancellable);
  g_socket_close (server->listener, NULL);
  g_object_unref (server->listener);
  g_mutex_clear (&server->mutex);
  g_cond_clear (&server->cond);
  g_free (server);
}

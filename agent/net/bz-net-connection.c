/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Connecting, plaintext I/O and the inactivity timeout. The socket stays
 * non-blocking for its whole life: every operation is tried first and only
 * waits (bounded, cancellable) when the kernel says it would block, so a
 * read that finds data already buffered costs one syscall. */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "bz-net-private.h"

#define BZ_NET_DEFAULT_CONNECT_TIMEOUT_MS 30000
#define BZ_NET_DEFAULT_IO_TIMEOUT_MS 60000

G_DEFINE_TYPE (BzNetConnection, bz_net_connection, G_TYPE_OBJECT)

void
bz_net_connection_set_error (BzNetConnection *self, GError **error, BzNetError code,
                             const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, BZ_NET_ERROR, code, "%s: %s", self->label, msg);
}

void
bz_net_connection_take_io_error (BzNetConnection *self, GError **error, GError *io_error,
                                 const char *what)
{
  g_autoptr (GError) error_local = io_error;

  if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&error_local));
      return;
    }
  if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TIMEOUT,
                                   "no progress for %u ms while %s", self->io_timeout_ms, what);
      return;
    }
  if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
      g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_CLOSED,
                                   "connection closed by the server while %s (%s)", what,
                                   error_local->message);
      return;
    }
  bz_net_connection_set_error (self, error, BZ_NET_ERROR_IO, "error while %s: %s", what,
                               error_local->message);
}

gboolean
bz_net_connection_wait (BzNetConnection *self, GIOCondition condition, gint64 timeout_ms,
                        GCancellable *cancellable, GError **error)
{
  if (self->socket == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "connection is closed");
      return FALSE;
    }
  return g_socket_condition_timed_wait (self->socket, condition, MAX (timeout_ms, 0) * 1000,
                                        cancellable, error);
}

/* --- connecting ---------------------------------------------------------- */

/* GSocketClient's own timeout covers each connect() but not name
 * resolution, so the whole attempt runs on a private main context with one
 * deadline; the worker thread iterates it until the attempt ends. */
typedef struct
{
  GSocketConnection *connection;
  GError *error;
  gboolean done;
  gboolean timed_out;
  GCancellable *cancellable;
} BzNetConnectHelper;

static void
bz_net_connection_connect_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  BzNetConnectHelper *helper = user_data;

  helper->connection =
      g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), res, &helper->error);
  helper->done = TRUE;
}

static gboolean
bz_net_connection_connect_timeout_cb (gpointer user_data)
{
  BzNetConnectHelper *helper = user_data;

  helper->timed_out = TRUE;
  g_cancellable_cancel (helper->cancellable);
  return G_SOURCE_REMOVE;
}

static void
bz_net_connection_forward_cancel_cb (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
bz_net_connection_take_connect_error (BzNetConnection *self, GError **error, GError *connect_error,
                                      gboolean timed_out)
{
  g_autoptr (GError) error_local = connect_error;

  if (timed_out || g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TIMEOUT,
                                   "connection timed out after %u ms", self->connect_timeout_ms);
      return;
    }
  if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&error_local));
      return;
    }
  if (error_local->domain == G_RESOLVER_ERROR ||
      g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_RESOLVE,
                                   "cannot resolve host name (%s)", error_local->message);
      return;
    }
  if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_CONNECT, "connection refused");
      return;
    }
  bz_net_connection_set_error (self, error, BZ_NET_ERROR_CONNECT, "cannot connect (%s)",
                               error_local->message);
}

static gboolean
bz_net_connection_connect (BzNetConnection *self, GCancellable *cancellable, GError **error)
{
  BzNetConnectHelper helper = { 0 };
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GCancellable) internal = g_cancellable_new ();
  g_autoptr (GSource) timeout = NULL;
  gulong cancel_id = 0;

  helper.cancellable = internal;
  if (cancellable != NULL)
    {
      cancel_id = g_cancellable_connect (
          cancellable, G_CALLBACK (bz_net_connection_forward_cancel_cb), internal, NULL);
    }
  g_socket_client_set_timeout (client, (self->connect_timeout_ms + 999) / 1000);
  /* a desktop HTTP proxy setting is not meant for POP3, and resolving it
   * would load GIO modules on the worker thread */
  g_socket_client_set_enable_proxy (client, FALSE);

  g_main_context_push_thread_default (context);
  timeout = g_timeout_source_new (self->connect_timeout_ms);
  g_source_set_callback (timeout, bz_net_connection_connect_timeout_cb, &helper, NULL);
  g_source_attach (timeout, context);
  g_socket_client_connect_to_host_async (client, self->host, self->port, internal,
                                         bz_net_connection_connect_cb, &helper);
  /* bounded: the timeout source cancels the attempt, which then ends */
  while (!helper.done)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  /* losing happy-eyeballs attempts finish here, not in a dead context */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  if (cancellable != NULL)
    g_cancellable_disconnect (cancellable, cancel_id);

  if (helper.connection == NULL)
    {
      gboolean timed_out = helper.timed_out && !g_cancellable_is_cancelled (cancellable);
      bz_net_connection_take_connect_error (self, error, helper.error, timed_out);
      return FALSE;
    }
  self->connection = helper.connection;
  self->socket = g_socket_connection_get_socket (self->connection);
  return TRUE;
}

static void
bz_net_connection_setup_socket (BzNetConnection *self)
{
  g_autoptr (GError) error_local = NULL;

  /* the client's connect timeout was copied to the socket, where it would
   * cap every later wait; our waits carry their own timeout */
  g_socket_set_timeout (self->socket, 0);
  g_socket_set_blocking (self->socket, FALSE);
  g_socket_set_keepalive (self->socket, TRUE);
  /* POP3 is request/response: a command written in one piece must not sit
   * in Nagle's buffer waiting for the ACK of the previous one */
  if (!g_socket_set_option (self->socket, IPPROTO_TCP, TCP_NODELAY, 1, &error_local))
    g_debug ("%s: cannot set TCP_NODELAY: %s", self->label, error_local->message);
}

BzNetConnection *
bz_net_connection_open (const BzNetOptions *options, GCancellable *cancellable, GError **error)
{
  g_autoptr (BzNetConnection) self = NULL;

  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (options->host != NULL && options->host[0] != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (BZ_TYPE_NET_CONNECTION, NULL);
  self->host = g_strdup (options->host);
  self->port = options->port;
  self->ca_file = g_strdup (options->ca_file);
  self->pin_sha256 = g_strdup (options->pin_sha256);
  self->connect_timeout_ms = options->connect_timeout_ms > 0 ? options->connect_timeout_ms
                                                             : BZ_NET_DEFAULT_CONNECT_TIMEOUT_MS;
  self->io_timeout_ms =
      options->io_timeout_ms > 0 ? options->io_timeout_ms : BZ_NET_DEFAULT_IO_TIMEOUT_MS;
  if (strchr (self->host, ':') != NULL)
    self->label = g_strdup_printf ("[%s]:%u", self->host, self->port);
  else
    self->label = g_strdup_printf ("%s:%u", self->host, self->port);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (!bz_net_connection_connect (self, cancellable, error))
    return NULL;
  bz_net_connection_setup_socket (self);
  return g_steal_pointer (&self);
}

gboolean
bz_net_connection_start_tls (BzNetConnection *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (BZ_IS_NET_CONNECTION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->ssl != NULL)
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_HANDSHAKE,
                                   "TLS was already started on this connection");
      return FALSE;
    }
  if (self->socket == NULL)
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_CLOSED, "connection is closed");
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  return bz_net_tls_handshake (self, cancellable, error);
}

/* --- I/O ----------------------------------------------------------------- */

static gssize
bz_net_connection_plain_read (BzNetConnection *self, void *buffer, gsize len,
                              GCancellable *cancellable, GError **error)
{
  for (;;)
    {
      g_autoptr (GError) error_local = NULL;
      gssize n =
          g_socket_receive_with_blocking (self->socket, buffer, len, FALSE, NULL, &error_local);
      if (n >= 0)
        return n;
      if (!g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          bz_net_connection_take_io_error (self, error, g_steal_pointer (&error_local), "reading");
          return -1;
        }
      g_clear_error (&error_local);
      /* each wait is bounded by the timeout and only repeats on progress */
      if (!bz_net_connection_wait (self, G_IO_IN, self->io_timeout_ms, cancellable, &error_local))
        {
          bz_net_connection_take_io_error (self, error, g_steal_pointer (&error_local),
                                           "waiting for data");
          return -1;
        }
    }
}

static gboolean
bz_net_connection_plain_write_all (BzNetConnection *self, const guint8 *data, gsize len,
                                   GCancellable *cancellable, GError **error)
{
  while (len > 0)
    {
      g_autoptr (GError) error_local = NULL;
      /* GSocket sends with MSG_NOSIGNAL: a dead peer is an error, not SIGPIPE */
      gssize n = g_socket_send_with_blocking (self->socket, (const char *) data, len, FALSE, NULL,
                                              &error_local);
      if (n > 0)
        {
          data += n;
          len -= n;
          continue;
        }
      if (n < 0 && !g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          bz_net_connection_take_io_error (self, error, g_steal_pointer (&error_local), "sending");
          return FALSE;
        }
      g_clear_error (&error_local);
      if (!bz_net_connection_wait (self, G_IO_OUT, self->io_timeout_ms, cancellable, &error_local))
        {
          bz_net_connection_take_io_error (self, error, g_steal_pointer (&error_local), "sending");
          return FALSE;
        }
    }
  return TRUE;
}

gssize
bz_net_connection_read (BzNetConnection *self, void *buffer, gsize len, GCancellable *cancellable,
                        GError **error)
{
  g_return_val_if_fail (BZ_IS_NET_CONNECTION (self), -1);
  g_return_val_if_fail (buffer != NULL || len == 0, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (self->socket == NULL)
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_CLOSED, "connection is closed");
      return -1;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  if (len == 0)
    return 0;
  if (self->tls_ready)
    return bz_net_tls_read (self, buffer, len, cancellable, error);
  return bz_net_connection_plain_read (self, buffer, len, cancellable, error);
}

gboolean
bz_net_connection_write_all (BzNetConnection *self, const void *data, gsize len,
                             GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (BZ_IS_NET_CONNECTION (self), FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->socket == NULL)
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_CLOSED, "connection is closed");
      return FALSE;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (len == 0)
    return TRUE;
  if (self->tls_ready)
    return bz_net_tls_write_all (self, data, len, cancellable, error);
  return bz_net_connection_plain_write_all (self, data, len, cancellable, error);
}

/* --- accessors and life cycle -------------------------------------------- */

void
bz_net_connection_set_io_timeout (BzNetConnection *self, guint timeout_ms)
{
  g_return_if_fail (BZ_IS_NET_CONNECTION (self));
  self->io_timeout_ms = timeout_ms > 0 ? timeout_ms : BZ_NET_DEFAULT_IO_TIMEOUT_MS;
}

gboolean
bz_net_connection_is_tls (BzNetConnection *self)
{
  g_return_val_if_fail (BZ_IS_NET_CONNECTION (self), FALSE);
  return self->tls_ready;
}

const char *
bz_net_connection_get_host (BzNetConnection *self)
{
  g_return_val_if_fail (BZ_IS_NET_CONNECTION (self), NULL);
  return self->host;
}

const char *
bz_net_connection_get_tls_description (BzNetConnection *self)
{
  g_return_val_if_fail (BZ_IS_NET_CONNECTION (self), NULL);
  return self->tls_description;
}

void
bz_net_connection_close (BzNetConnection *self)
{
  g_autoptr (GError) error_local = NULL;

  g_return_if_fail (BZ_IS_NET_CONNECTION (self));

  if (self->socket == NULL)
    return;
  if (self->tls_ready)
    bz_net_tls_shutdown (self);
  if (!g_io_stream_close (G_IO_STREAM (self->connection), NULL, &error_local))
    g_debug ("%s: close: %s", self->label, error_local->message);
  self->socket = NULL;
}

static void
bz_net_connection_finalize (GObject *object)
{
  BzNetConnection *self = BZ_NET_CONNECTION (object);

  bz_net_connection_close (self);
  bz_net_tls_free (self);
  g_clear_object (&self->connection);
  g_free (self->host);
  g_free (self->ca_file);
  g_free (self->pin_sha256);
  g_free (self->label);
  G_OBJECT_CLASS (bz_net_connection_parent_class)->finalize (object);
}

static void
bz_net_connection_init (BzNetConnection *self)
{
}

static void
bz_net_connection_class_init (BzNetConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bz_net_connection_finalize;
}

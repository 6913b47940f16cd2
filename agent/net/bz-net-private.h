/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared between bz-net-connection.c (sockets, timeouts) and bz-net-tls.c
 * (OpenSSL); nothing outside agent/net includes this. */
#pragma once

#include <openssl/ssl.h>

#include "bz-net-connection.h"

G_BEGIN_DECLS

#define BZ_NET_PIN_LEN 32 /* SHA-256 */

struct _BzNetConnection
{
  GObject parent_instance;

  char *host;
  guint16 port;
  char *ca_file;
  char *pin_sha256;
  guint connect_timeout_ms;
  guint io_timeout_ms;
  char *label; /* "host:port" ("[::1]:port" for IPv6) prefixing every message */

  GSocketConnection *connection;
  GSocket *socket; /* borrowed from @connection; NULL once closed */

  SSL_CTX *ssl_ctx;
  SSL *ssl; /* non-NULL once start_tls began */
  gboolean tls_ready;
  char *tls_description;

  /* Filled by the BIO so an SSL_ERROR_SYSCALL can name the socket error. */
  GError *bio_error;
  gboolean bio_eof;

  /* Filled by the verify callback so the failure can be explained. */
  gboolean pin_mismatch;
  gboolean pin_trusted; /* an unknown issuer was accepted on the pin */
  char *peer_pin_hex;
};

void bz_net_connection_set_error (BzNetConnection *self, GError **error, BzNetError code,
                                  const char *format, ...) G_GNUC_PRINTF (4, 5);

/* Turns a GIO socket error (transfer full) into a BZ_NET_ERROR, keeping
 * G_IO_ERROR_CANCELLED as it is. @what says what was going on. */
void bz_net_connection_take_io_error (BzNetConnection *self, GError **error, GError *io_error,
                                      const char *what);

/* Waits for @condition for at most @timeout_ms; the error is a raw GIO one
 * (G_IO_ERROR_TIMED_OUT, G_IO_ERROR_CANCELLED, ...). */
gboolean bz_net_connection_wait (BzNetConnection *self, GIOCondition condition, gint64 timeout_ms,
                                 GCancellable *cancellable, GError **error);

gboolean bz_net_tls_handshake (BzNetConnection *self, GCancellable *cancellable, GError **error);
gssize bz_net_tls_read (BzNetConnection *self, void *buffer, gsize len, GCancellable *cancellable,
                        GError **error);
gboolean bz_net_tls_write_all (BzNetConnection *self, const void *data, gsize len,
                               GCancellable *cancellable, GError **error);
void bz_net_tls_shutdown (BzNetConnection *self);
void bz_net_tls_free (BzNetConnection *self);

G_END_DECLS

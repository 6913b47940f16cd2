/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A blocking TCP connection with optional TLS (OpenSSL), meant to be used
 * from one worker thread (a GTask thread). Every read and write waits at most
 * the inactivity timeout and honours the GCancellable. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BZ_NET_ERROR (bz_net_error_quark ())
GQuark bz_net_error_quark (void);

typedef enum
{
  BZ_NET_ERROR_RESOLVE,        /* host name could not be resolved */
  BZ_NET_ERROR_CONNECT,        /* refused, unreachable, ... */
  BZ_NET_ERROR_TIMEOUT,        /* connect, handshake or I/O inactivity timeout */
  BZ_NET_ERROR_CLOSED,         /* peer closed the connection */
  BZ_NET_ERROR_IO,             /* other socket error */
  BZ_NET_ERROR_TLS_UNKNOWN_CA, /* chain does not lead to a trusted anchor */
  BZ_NET_ERROR_TLS_HOSTNAME,   /* certificate is not valid for the host */
  BZ_NET_ERROR_TLS_EXPIRED,    /* certificate expired or not yet valid */
  BZ_NET_ERROR_TLS_PIN,        /* SPKI SHA-256 differs from tls-pin-sha256 */
  BZ_NET_ERROR_TLS_HANDSHAKE,  /* any other handshake failure */
  BZ_NET_ERROR_TLS_CONFIG,     /* bad tls-ca-file or pin value */
} BzNetError;

typedef struct
{
  const char *host; /* name used for DNS, SNI and verification */
  guint16 port;
  const char *ca_file;      /* nullable: extra trust anchor(s), PEM */
  const char *pin_sha256;   /* nullable: hex SHA-256 of the server SPKI */
  guint connect_timeout_ms; /* 0 = default (30 s) */
  guint io_timeout_ms;      /* inactivity timeout per read/write; 0 = default (60 s) */
} BzNetOptions;

#define BZ_TYPE_NET_CONNECTION (bz_net_connection_get_type ())
G_DECLARE_FINAL_TYPE (BzNetConnection, bz_net_connection, BZ, NET_CONNECTION, GObject)

/* Resolves and connects (IPv4 and IPv6, bounded by the connect timeout).
 * Returns a new plaintext connection (transfer full) or NULL with @error set
 * in BZ_NET_ERROR or G_IO_ERROR_CANCELLED. @options is copied. */
BzNetConnection *bz_net_connection_open (const BzNetOptions *options, GCancellable *cancellable,
                                         GError **error);

/* Performs the TLS handshake (TLS 1.2 minimum, system trust store plus
 * ca_file, hostname verification, SNI, optional pin). After success all I/O
 * is encrypted. On failure the connection must be closed.
 *
 * With pin_sha256 set the pin is checked in addition to normal verification,
 * except that a chain failing only for an unknown issuer (self-signed
 * server, private CA) is trusted when the pin matches; hostname and validity
 * dates are always checked. A wrong pin is BZ_NET_ERROR_TLS_PIN, also when
 * the issuer is unknown. Nothing turns verification off. */
gboolean bz_net_connection_start_tls (BzNetConnection *self, GCancellable *cancellable,
                                      GError **error);

/* Reads at most @len bytes. Returns the byte count (> 0), 0 at a clean end
 * of stream, or -1 with @error set (BZ_NET_ERROR_TIMEOUT after the
 * inactivity timeout). Under TLS an end of stream without close_notify also
 * returns 0: the caller knows whether its reply was complete. */
gssize bz_net_connection_read (BzNetConnection *self, void *buffer, gsize len,
                               GCancellable *cancellable, GError **error);

/* Writes all of @len bytes or fails with @error set. */
gboolean bz_net_connection_write_all (BzNetConnection *self, const void *data, gsize len,
                                      GCancellable *cancellable, GError **error);

void bz_net_connection_set_io_timeout (BzNetConnection *self, guint timeout_ms);
gboolean bz_net_connection_is_tls (BzNetConnection *self);
/* Borrowed; the host name this connection was opened for. */
const char *bz_net_connection_get_host (BzNetConnection *self);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" or NULL for plaintext; borrowed. */
const char *bz_net_connection_get_tls_description (BzNetConnection *self);
/* Best-effort close (TLS close_notify, then the socket); idempotent. */
void bz_net_connection_close (BzNetConnection *self);

/* Frees what OpenSSL keeps for the calling thread (its error queue). Call
 * it when a thread that used connections is about to end and report its
 * result: the process may exit before the thread's own destructors run. */
void bz_net_thread_done (void);

G_END_DECLS

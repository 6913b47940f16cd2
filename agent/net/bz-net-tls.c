/* SPDX-License-Identifier: GPL-3.0-or-later */
/* TLS on OpenSSL 3, driven over the connection's non-blocking GSocket.
 *
 * OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE when
 * the server has gone; a library must not touch the process's signal
 * disposition, so a small BIO sends through GSocket (MSG_NOSIGNAL) instead.
 *
 * Trust: the chain must verify against the system store plus tls-ca-file,
 * the certificate must be valid for the host and not expired. When
 * tls-pin-sha256 is set it is checked in addition, and a matching pin also
 * stands in for the one thing it can vouch for: an unknown issuer (the
 * self-signed server). It never excuses a hostname or validity failure. */
#include "config.h"

#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "bz-net-private.h"

/* --- BIO over GSocket ---------------------------------------------------- */

static int
bz_net_tls_bio_write (BIO *bio, const char *data, size_t len, size_t *written)
{
  BzNetConnection *self = BIO_get_data (bio);
  g_autoptr (GError) error_local = NULL;
  gssize n;

  BIO_clear_retry_flags (bio);
  n = g_socket_send_with_blocking (self->socket, data, len, FALSE, NULL, &error_local);
  if (n < 0)
    {
      if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          BIO_set_retry_write (bio);
        }
      else
        {
          g_clear_error (&self->bio_error);
          self->bio_error = g_steal_pointer (&error_local);
        }
      return 0;
    }
  *written = n;
  return 1;
}

static int
bz_net_tls_bio_read (BIO *bio, char *buffer, size_t len, size_t *nread)
{
  BzNetConnection *self = BIO_get_data (bio);
  g_autoptr (GError) error_local = NULL;
  gssize n;

  BIO_clear_retry_flags (bio);
  n = g_socket_receive_with_blocking (self->socket, buffer, len, FALSE, NULL, &error_local);
  if (n < 0)
    {
      if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          BIO_set_retry_read (bio);
        }
      else
        {
          g_clear_error (&self->bio_error);
          self->bio_error = g_steal_pointer (&error_local);
        }
      return 0;
    }
  if (n == 0)
    {
      self->bio_eof = TRUE;
      return 0;
    }
  *nread = n;
  return 1;
}

static long
bz_net_tls_bio_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  BzNetConnection *self = BIO_get_data (bio);

  switch (cmd)
    {
    case BIO_CTRL_FLUSH:
      return 1; /* nothing is buffered here */
    case BIO_CTRL_EOF:
      /* lets SSL_OP_IGNORE_UNEXPECTED_EOF tell a closed socket from an error */
      return self != NULL && self->bio_eof ? 1 : 0;
    default:
      return 0;
    }
}

static BIO_METHOD *
bz_net_tls_bio_method_new (void)
{
  BIO_METHOD *m = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "bz-gsocket");

  if (m == NULL)
    return NULL;
  if (BIO_meth_set_write_ex (m, bz_net_tls_bio_write) != 1 ||
      BIO_meth_set_read_ex (m, bz_net_tls_bio_read) != 1 ||
      BIO_meth_set_ctrl (m, bz_net_tls_bio_ctrl) != 1)
    {
      BIO_meth_free (m);
      return NULL;
    }
  return m;
}

static BIO_METHOD *
bz_net_tls_bio_method (void)
{
  static GMutex mutex;
  static BIO_METHOD *method = NULL; /* shared by every connection, never freed */
  BIO_METHOD *result;

  g_mutex_lock (&mutex);
  if (method == NULL)
    method = bz_net_tls_bio_method_new ();
  result = method;
  g_mutex_unlock (&mutex);
  return result;
}

/* --- helpers ------------------------------------------------------------- */

/* Drains OpenSSL's per-thread error queue into one readable line. */
static char *
bz_net_tls_error_queue_text (void)
{
  g_autoptr (GString) str = g_string_new (NULL);
  unsigned long code;

  while ((code = ERR_get_error ()) != 0)
    {
      char buf[256];
      ERR_error_string_n (code, buf, sizeof (buf));
      if (str->len > 0)
        g_string_append (str, "; ");
      g_string_append (str, buf);
    }
  if (str->len == 0)
    g_string_append (str, "no further detail");
  return g_string_free (g_steal_pointer (&str), FALSE);
}

/* Parses "AB:cd:..." or "abcd..." into 32 bytes. */
static gboolean
bz_net_tls_parse_pin (const char *text, guint8 *pin)
{
  gsize n = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      int hi, lo;
      if (*p == ':')
        continue;
      if (n == BZ_NET_PIN_LEN || p[1] == '\0')
        return FALSE;
      hi = g_ascii_xdigit_value (p[0]);
      lo = g_ascii_xdigit_value (p[1]);
      if (hi < 0 || lo < 0)
        return FALSE;
      pin[n++] = (guint8) (hi << 4 | lo);
      p++;
    }
  return n == BZ_NET_PIN_LEN;
}

/* SHA-256 of the DER SubjectPublicKeyInfo of @cert. */
static gboolean
bz_net_tls_cert_pin (X509 *cert, guint8 *pin)
{
  g_autofree guint8 *der = NULL;
  guint8 *p;
  unsigned int md_len = 0;
  int len;

  len = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (cert), NULL);
  if (len <= 0)
    return FALSE;
  der = g_malloc (len);
  p = der;
  if (i2d_X509_PUBKEY (X509_get_X509_PUBKEY (cert), &p) != len)
    return FALSE;
  if (EVP_Digest (der, len, pin, &md_len, EVP_sha256 (), NULL) != 1)
    return FALSE;
  return md_len == BZ_NET_PIN_LEN;
}

static char *
bz_net_tls_pin_to_hex (const guint8 *pin)
{
  GString *str = g_string_sized_new (BZ_NET_PIN_LEN * 2);

  for (gsize i = 0; i < BZ_NET_PIN_LEN; i++)
    g_string_append_printf (str, "%02x", pin[i]);
  return g_string_free (str, FALSE);
}

static gboolean
bz_net_tls_verify_error_is_unknown_ca (long err)
{
  switch (err)
    {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Checks the leaf against the configured pin; on a mismatch remembers the
 * server's value for the error message. */
static gboolean
bz_net_tls_check_pin (BzNetConnection *self, X509 *leaf)
{
  guint8 want[BZ_NET_PIN_LEN];
  guint8 have[BZ_NET_PIN_LEN];

  if (leaf == NULL || !bz_net_tls_cert_pin (leaf, have))
    return FALSE;
  /* parsed before the handshake, so this cannot fail here */
  if (!bz_net_tls_parse_pin (self->pin_sha256, want))
    return FALSE;
  if (memcmp (want, have, BZ_NET_PIN_LEN) == 0)
    return TRUE;
  g_free (self->peer_pin_hex);
  self->peer_pin_hex = bz_net_tls_pin_to_hex (have);
  self->pin_mismatch = TRUE;
  return FALSE;
}

static int
bz_net_tls_verify_cb (int preverify_ok, X509_STORE_CTX *store)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (store, SSL_get_ex_data_X509_STORE_CTX_idx ());
  BzNetConnection *self = ssl != NULL ? SSL_get_app_data (ssl) : NULL;
  int err = X509_STORE_CTX_get_error (store);

  if (preverify_ok)
    return 1;
  if (self == NULL || self->pin_sha256 == NULL)
    return 0;
  if (!bz_net_tls_verify_error_is_unknown_ca (err))
    return 0;
  /* the pin vouches for the key, which is all an unknown issuer leaves open */
  if (!bz_net_tls_check_pin (self, X509_STORE_CTX_get0_cert (store)))
    return 0;
  self->pin_trusted = TRUE;
  return 1;
}

static void
bz_net_tls_set_verify_error (BzNetConnection *self, GError **error, long err)
{
  const char *reason = X509_verify_cert_error_string (err);

  switch (err)
    {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_HOSTNAME,
                                   "TLS certificate is not valid for %s (%s)", self->host, reason);
      return;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_EXPIRED,
                                   "TLS certificate is outside its validity period (%s)", reason);
      return;
    default:
      break;
    }
  if (bz_net_tls_verify_error_is_unknown_ca (err))
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_UNKNOWN_CA,
                                   "TLS certificate is not trusted (%s); to trust a "
                                   "self-signed server set tls-ca-file or tls-pin-sha256",
                                   reason);
      return;
    }
  {
    g_autofree char *detail = bz_net_tls_error_queue_text ();
    bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_HANDSHAKE,
                                 "TLS certificate verification failed (%s): %s", reason, detail);
  }
}

static void
bz_net_tls_set_pin_error (BzNetConnection *self, GError **error)
{
  bz_net_connection_set_error (
      self, error, BZ_NET_ERROR_TLS_PIN, "TLS public key SHA-256 is %s but tls-pin-sha256 is %s",
      self->peer_pin_hex != NULL ? self->peer_pin_hex : "unknown", self->pin_sha256);
}

/* --- context and handshake ----------------------------------------------- */

/* TRUE when one of the folders of @dirs (':'-separated, as OpenSSL reads
 * SSL_CERT_DIR) holds a subject-hash link such as "002c0b4f.0". */
static gboolean
bz_net_tls_dirs_have_hash_links (const char *dirs)
{
  g_auto (GStrv) paths = g_strsplit (dirs, G_SEARCHPATH_SEPARATOR_S, -1);

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr (GDir) dir = paths[i][0] != '\0' ? g_dir_open (paths[i], 0, NULL) : NULL;
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          gsize len = strlen (name);
          gsize j;

          if (len < 10 || name[8] != '.')
            continue;
          for (j = 0; j < 8 && g_ascii_isxdigit (name[j]); j++)
            ;
          if (j < 8)
            continue;
          for (j = 9; j < len && g_ascii_isdigit (name[j]); j++)
            ;
          if (j == len)
            return TRUE;
        }
    }
  return FALSE;
}

/* TRUE when @file lies in one of the folders of @dirs. */
static gboolean
bz_net_tls_file_in_dirs (const char *file, const char *dirs)
{
  g_autofree char *real = realpath (file, NULL);
  g_autofree char *parent = real != NULL ? g_path_get_dirname (real) : NULL;
  g_auto (GStrv) paths = g_strsplit (dirs, G_SEARCHPATH_SEPARATOR_S, -1);

  for (guint i = 0; parent != NULL && paths[i] != NULL; i++)
    {
      g_autofree char *dir = realpath (paths[i], NULL);
      if (dir != NULL && g_strcmp0 (dir, parent) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The system trust store. SSL_CTX_set_default_verify_paths() parses the
 * whole CA bundle (~150 certificates, ~20 ms) on every connection, most of
 * an incremental sync's CPU time. A hashed folder is looked up on demand
 * by issuer name and trusts the same anchors, so where the distribution
 * ships one (Debian's /etc/ssl/certs) only the folder is used; elsewhere
 * the default bundle is loaded as before. A bundle named by SSL_CERT_FILE
 * is loaded too, unless it lies in the hashed folder itself: that is the
 * folder's own concatenation (update-ca-certificates writes both). */
static gboolean
bz_net_tls_load_system_trust (SSL_CTX *ctx)
{
  const char *dirs = g_getenv (X509_get_default_cert_dir_env ());
  const char *file = g_getenv (X509_get_default_cert_file_env ());

  if (dirs == NULL)
    dirs = X509_get_default_cert_dir ();
  if (!bz_net_tls_dirs_have_hash_links (dirs))
    return SSL_CTX_set_default_verify_paths (ctx) == 1;
  if (SSL_CTX_load_verify_dir (ctx, dirs) != 1)
    return FALSE;
  if (file == NULL || bz_net_tls_file_in_dirs (file, dirs))
    return TRUE;
  /* like the default paths, a missing or unreadable bundle is not fatal */
  if (SSL_CTX_load_verify_file (ctx, file) != 1)
    {
      g_autofree char *detail = bz_net_tls_error_queue_text ();
      g_debug ("cannot load %s=%s: %s", X509_get_default_cert_file_env (), file, detail);
    }
  return TRUE;
}

static gboolean
bz_net_tls_setup (BzNetConnection *self, GError **error)
{
  guint8 pin[BZ_NET_PIN_LEN];
  BIO_METHOD *method;
  BIO *bio;

  if (self->pin_sha256 != NULL && !bz_net_tls_parse_pin (self->pin_sha256, pin))
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_CONFIG,
                                   "tls-pin-sha256 \"%s\" is not 64 hex digits", self->pin_sha256);
      return FALSE;
    }

  ERR_clear_error ();
  self->ssl_ctx = SSL_CTX_new (TLS_client_method ());
  if (self->ssl_ctx == NULL)
    goto fail_config;
  if (SSL_CTX_set_min_proto_version (self->ssl_ctx, TLS1_2_VERSION) != 1)
    goto fail_config;
  if (!bz_net_tls_load_system_trust (self->ssl_ctx))
    goto fail_config;
  if (self->ca_file != NULL &&
      SSL_CTX_load_verify_locations (self->ssl_ctx, self->ca_file, NULL) != 1)
    {
      g_autofree char *detail = bz_net_tls_error_queue_text ();
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_CONFIG,
                                   "cannot load tls-ca-file %s: %s", self->ca_file, detail);
      return FALSE;
    }
  /* an EOF without close_notify is reported as a plain end of stream: the
   * POP3 layer knows whether its reply was complete */
  SSL_CTX_set_options (self->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode (self->ssl_ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_clear_mode (self->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
  /* during a RETR stream one recv() takes several records instead of two
   * syscalls (header, body) per record; reads always try SSL_read before
   * polling, so bytes buffered here are never missed */
  SSL_CTX_set_read_ahead (self->ssl_ctx, 1);
  SSL_CTX_set_default_read_buffer_len (self->ssl_ctx, 64 * 1024);

  self->ssl = SSL_new (self->ssl_ctx);
  if (self->ssl == NULL)
    goto fail_config;
  if (SSL_set_app_data (self->ssl, self) != 1)
    goto fail_config;
  SSL_set_verify (self->ssl, SSL_VERIFY_PEER, bz_net_tls_verify_cb);

  if (g_hostname_is_ip_address (self->host))
    {
      /* no SNI for literals (RFC 6066); the certificate needs the IP in SAN */
      if (X509_VERIFY_PARAM_set1_ip_asc (SSL_get0_param (self->ssl), self->host) != 1)
        goto fail_config;
    }
  else
    {
      SSL_set_hostflags (self->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host (self->ssl, self->host) != 1)
        goto fail_config;
      if (SSL_set_tlsext_host_name (self->ssl, self->host) != 1)
        goto fail_config;
    }

  method = bz_net_tls_bio_method ();
  if (method == NULL)
    goto fail_config;
  bio = BIO_new (method);
  if (bio == NULL)
    goto fail_config;
  BIO_set_data (bio, self);
  BIO_set_init (bio, 1);
  /* one reference serves as both read and write BIO; SSL owns it now */
  SSL_set_bio (self->ssl, bio, bio);
  SSL_set_connect_state (self->ssl);
  return TRUE;

fail_config:
  {
    g_autofree char *detail = bz_net_tls_error_queue_text ();
    bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_CONFIG, "cannot set up TLS: %s",
                                 detail);
  }
  return FALSE;
}

static void
bz_net_tls_set_handshake_error (BzNetConnection *self, GError **error, int ssl_err)
{
  long verify = SSL_get_verify_result (self->ssl);

  if (self->pin_mismatch)
    {
      bz_net_tls_set_pin_error (self, error);
      return;
    }
  /* an unknown issuer the pin excused is still in the verify result */
  if (verify != X509_V_OK && !(self->pin_trusted && bz_net_tls_verify_error_is_unknown_ca (verify)))
    {
      bz_net_tls_set_verify_error (self, error, verify);
      return;
    }
  if (ssl_err == SSL_ERROR_SYSCALL && self->bio_error != NULL)
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_HANDSHAKE,
                                   "TLS handshake failed: %s", self->bio_error->message);
      return;
    }
  if (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN)
    {
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_HANDSHAKE,
                                   "the server closed the connection during the TLS handshake");
      return;
    }
  {
    g_autofree char *detail = bz_net_tls_error_queue_text ();
    bz_net_connection_set_error (self, error, BZ_NET_ERROR_TLS_HANDSHAKE,
                                 "TLS handshake failed: %s", detail);
  }
}

gboolean
bz_net_tls_handshake (BzNetConnection *self, GCancellable *cancellable, GError **error)
{
  gint64 deadline;

  if (!bz_net_tls_setup (self, error))
    return FALSE;

  /* the whole handshake, not each step, is bounded by the I/O timeout */
  deadline = g_get_monotonic_time () / 1000 + self->io_timeout_ms;
  for (;;)
    {
      g_autoptr (GError) error_local = NULL;
      GIOCondition cond;
      int rc, ssl_err;

      ERR_clear_error ();
      g_clear_error (&self->bio_error);
      rc = SSL_connect (self->ssl);
      if (rc == 1)
        break;
      ssl_err = SSL_get_error (self->ssl, rc);
      if (ssl_err == SSL_ERROR_WANT_READ)
        cond = G_IO_IN;
      else if (ssl_err == SSL_ERROR_WANT_WRITE)
        cond = G_IO_OUT;
      else
        {
          bz_net_tls_set_handshake_error (self, error, ssl_err);
          return FALSE;
        }
      if (!bz_net_connection_wait (self, cond, deadline - g_get_monotonic_time () / 1000,
                                   cancellable, &error_local))
        {
          if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            {
              bz_net_connection_set_error (self, error, BZ_NET_ERROR_TIMEOUT,
                                           "TLS handshake timed out after %u ms",
                                           self->io_timeout_ms);
              return FALSE;
            }
          bz_net_connection_take_io_error (self, error, g_steal_pointer (&error_local),
                                           "in the TLS handshake");
          return FALSE;
        }
    }

  /* with a trusted chain the callback never looked at the pin */
  if (self->pin_sha256 != NULL)
    {
      X509 *leaf = SSL_get0_peer_certificate (self->ssl);
      if (!bz_net_tls_check_pin (self, leaf))
        {
          bz_net_tls_set_pin_error (self, error);
          return FALSE;
        }
    }

  self->tls_description =
      g_strdup_printf ("%s %s", SSL_get_version (self->ssl),
                       SSL_CIPHER_get_name (SSL_get_current_cipher (self->ssl)));
  self->tls_ready = TRUE;
  g_debug ("%s: %s", self->label, self->tls_description);
  return TRUE;
}

/* --- I/O ----------------------------------------------------------------- */

/* Maps a failed SSL_read/SSL_write; returns the condition to wait for, or 0
 * with @error set. */
static GIOCondition
bz_net_tls_io_failed (BzNetConnection *self, int rc, const char *what, GError **error)
{
  int ssl_err = SSL_get_error (self->ssl, rc);

  switch (ssl_err)
    {
    case SSL_ERROR_WANT_READ:
      return G_IO_IN;
    case SSL_ERROR_WANT_WRITE:
      return G_IO_OUT;
    case SSL_ERROR_SYSCALL:
      if (self->bio_error != NULL)
        {
          bz_net_connection_take_io_error (self, error, g_steal_pointer (&self->bio_error), what);
          return 0;
        }
      bz_net_connection_set_error (self, error, BZ_NET_ERROR_CLOSED,
                                   "connection closed by the server while %s", what);
      return 0;
    default:
      {
        g_autofree char *detail = bz_net_tls_error_queue_text ();
        bz_net_connection_set_error (self, error, BZ_NET_ERROR_IO, "TLS error while %s: %s", what,
                                     detail);
        return 0;
      }
    }
}

gssize
bz_net_tls_read (BzNetConnection *self, void *buffer, gsize len, GCancellable *cancellable,
                 GError **error)
{
  for (;;)
    {
      g_autoptr (GError) error_local = NULL;
      GIOCondition cond;
      size_t n = 0;

      ERR_clear_error ();
      g_clear_error (&self->bio_error);
      if (SSL_read_ex (self->ssl, buffer, len, &n) == 1)
        return (gssize) n;
      /* close_notify, or (SSL_OP_IGNORE_UNEXPECTED_EOF) a bare TCP EOF */
      if (SSL_get_error (self->ssl, 0) == SSL_ERROR_ZERO_RETURN)
        return 0;
      cond = bz_net_tls_io_failed (self, 0, "reading", error);
      if (cond == 0)
        return -1;
      if (!bz_net_connection_wait (self, cond, self->io_timeout_ms, cancellable, &error_local))
        {
          bz_net_connection_take_io_error (self, error, g_steal_pointer (&error_local),
                                           "waiting for data");
          return -1;
        }
    }
}

gboolean
bz_net_tls_write_all (BzNetConnection *self, const void *data, gsize len, GCancellable *cancellable,
                      GError **error)
{
  const guint8 *p = data;

  while (len > 0)
    {
      g_autoptr (GError) error_local = NULL;
      GIOCondition cond;
      size_t n = 0;

      ERR_clear_error ();
      g_clear_error (&self->bio_error);
      if (SSL_write_ex (self->ssl, p, len, &n) == 1)
        {
          p += n;
          len -= n;
          continue;
        }
      cond = bz_net_tls_io_failed (self, 0, "sending", error);
      if (cond == 0)
        return FALSE;
      if (!bz_net_connection_wait (self, cond, self->io_timeout_ms, cancellable, &error_local))
        {
          bz_net_connection_take_io_error (self, error, g_steal_pointer (&error_local), "sending");
          return FALSE;
        }
    }
  return TRUE;
}

void
bz_net_tls_shutdown (BzNetConnection *self)
{
  int rc;

  /* best effort: send our close_notify without waiting for the server's */
  ERR_clear_error ();
  rc = SSL_shutdown (self->ssl);
  if (rc < 0)
    {
      g_autofree char *detail = bz_net_tls_error_queue_text ();
      g_debug ("%s: TLS shutdown: %s", self->label, detail);
    }
}

void
bz_net_tls_free (BzNetConnection *self)
{
  g_clear_pointer (&self->ssl, SSL_free);
  g_clear_pointer (&self->ssl_ctx, SSL_CTX_free);
  g_clear_pointer (&self->tls_description, g_free);
  g_clear_pointer (&self->peer_pin_hex, g_free);
  g_clear_error (&self->bio_error);
}

void
bz_net_thread_done (void)
{
  OPENSSL_thread_stop ();
}

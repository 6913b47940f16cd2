/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ceiling: the fastest a client can read a mailbox from this server.
 * Logs in over implicit TLS (verified like buzon: CA file + host name),
 * asks UIDL, then keeps a window of RETRs in flight and throws the bytes
 * away. Only what POP3 needs is parsed: line ends, the terminating ".", and
 * that every response is +OK. Prints "messages N bytes B" on success.
 *
 *   bz-bench-rawpop HOST PORT USER CA-FILE [--last K]   (password on stdin)
 *
 * --last K retrieves only the last K messages (0: login and UIDL only), the
 * floor for an incremental sync.
 *
 * No GLib on purpose: the point is a floor without any framework cost. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* Commands in flight; enough to keep the server busy, small enough that
 * the commands themselves never fill the socket buffer. */
#define WINDOW 64
#define BUF_SIZE (256 * 1024)

typedef struct
{
  SSL *ssl;
  char buf[BUF_SIZE];
  size_t len, pos;
  /* the line being scanned: its first bytes and its length so far */
  char head[8];
  size_t line_len;
  int first_line; /* the current line is a status line */
  unsigned long long bytes;
} Conn;

static void
die (const char *what)
{
  fprintf (stderr, "rawpop: %s\n", what);
  ERR_print_errors_fp (stderr);
  exit (1);
}

static int
fill (Conn *c)
{
  int n = SSL_read (c->ssl, c->buf, sizeof c->buf);

  if (n <= 0)
    die ("connection closed or TLS error while reading");
  c->len = (size_t) n;
  c->pos = 0;
  c->bytes += (unsigned long long) n;
  return n;
}

static void
send_all (Conn *c, const char *data, size_t len)
{
  while (len > 0)
    {
      int n = SSL_write (c->ssl, data, (int) len);
      if (n <= 0)
        die ("TLS write failed");
      data += n;
      len -= (size_t) n;
    }
}

/* Reads one single-line response into out (truncated); fails on -ERR. */
static void
read_status (Conn *c, char *out, size_t out_len)
{
  size_t o = 0;

  for (;;)
    {
      if (c->pos == c->len)
        fill (c);
      char ch = c->buf[c->pos++];
      if (o + 1 < out_len)
        out[o++] = ch;
      if (ch == '\n')
        break;
    }
  out[o] = '\0';
  if (strncmp (out, "+OK", 3) != 0)
    {
      fprintf (stderr, "rawpop: server said: %s", out);
      exit (1);
    }
}

/* Consumes one multi-line response; returns its number of lines (status
 * line excluded). When keep is set, the body lines are passed to it. */
static unsigned long
read_multiline (Conn *c, void (*keep) (const char *line, size_t len, void *data), void *data)
{
  unsigned long lines = 0;
  char line[512];

  c->first_line = 1;
  c->line_len = 0;
  for (;;)
    {
      if (c->pos == c->len)
        fill (c);
      const char *start = c->buf + c->pos;
      size_t avail = c->len - c->pos;
      const char *nl = memchr (start, '\n', avail);
      size_t seg = nl ? (size_t) (nl - start) + 1 : avail;

      if (c->line_len < sizeof c->head)
        memcpy (c->head + c->line_len, start,
                seg < sizeof c->head - c->line_len ? seg : sizeof c->head - c->line_len);
      if (keep != NULL && !c->first_line && c->line_len + seg < sizeof line)
        memcpy (line + c->line_len, start, seg);
      c->line_len += seg;
      c->pos += seg;
      if (nl == NULL)
        continue;
      if (c->first_line)
        {
          if (c->line_len < 3 || memcmp (c->head, "+OK", 3) != 0)
            die ("a multi-line command was refused");
          c->first_line = 0;
        }
      else if (c->line_len == 3 && memcmp (c->head, ".\r\n", 3) == 0)
        return lines;
      else
        {
          if (keep != NULL && c->line_len < sizeof line)
            keep (line, c->line_len, data);
          lines++;
        }
      c->line_len = 0;
    }
}

static void
count_uidl (const char *line, size_t len, void *data)
{
  (void) line;
  (void) len;
  (*(unsigned long *) data)++;
}

int
main (int argc, char **argv)
{
  Conn *c = calloc (1, sizeof *c);
  char status[512], pass[512], cmd[WINDOW * 24];
  struct addrinfo hints = { 0 }, *res = NULL, *ai;
  SSL_CTX *ctx;
  int fd = -1;
  unsigned long n = 0, sent = 0, done = 0, first = 0, last = (unsigned long) -1;

  if (argc == 7 && strcmp (argv[5], "--last") == 0)
    last = strtoul (argv[6], NULL, 10);
  else if (argc != 5 || c == NULL)
    {
      fprintf (stderr, "usage: %s HOST PORT USER CA-FILE [--last K] < password\n", argv[0]);
      return 2;
    }
  if (fgets (pass, sizeof pass, stdin) == NULL)
    die ("no password on stdin");
  pass[strcspn (pass, "\r\n")] = '\0';

  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo (argv[1], argv[2], &hints, &res) != 0)
    die ("cannot resolve host");
  for (ai = res; ai != NULL; ai = ai->ai_next)
    {
      fd = socket (ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd >= 0 && connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
        break;
      if (fd >= 0)
        close (fd);
      fd = -1;
    }
  freeaddrinfo (res);
  if (fd < 0)
    die ("cannot connect");

  ctx = SSL_CTX_new (TLS_client_method ());
  if (ctx == NULL || SSL_CTX_load_verify_locations (ctx, argv[4], NULL) != 1)
    die ("cannot load the CA file");
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION) != 1)
    die ("cannot set the TLS version");
  c->ssl = SSL_new (ctx);
  if (c->ssl == NULL || SSL_set_fd (c->ssl, fd) != 1 ||
      SSL_set_tlsext_host_name (c->ssl, argv[1]) != 1 || SSL_set1_host (c->ssl, argv[1]) != 1)
    die ("cannot set up TLS");
  if (SSL_connect (c->ssl) != 1 || SSL_get_verify_result (c->ssl) != X509_V_OK)
    die ("TLS handshake or certificate verification failed");

  read_status (c, status, sizeof status);
  /* USER and PASS one after the other: dovecot delays a pipelined PASS. */
  snprintf (cmd, sizeof cmd, "USER %s\r\n", argv[3]);
  send_all (c, cmd, strlen (cmd));
  read_status (c, status, sizeof status);
  snprintf (cmd, sizeof cmd, "PASS %s\r\n", pass);
  send_all (c, cmd, strlen (cmd));
  read_status (c, status, sizeof status);

  send_all (c, "UIDL\r\n", 6);
  read_multiline (c, count_uidl, &n);

  if (last < n)
    first = n - last;
  sent = done = first;
  while (done < n)
    {
      size_t len = 0;
      /* top up in batches: fewer, fuller TLS records */
      while (sent < n && sent - done < WINDOW && (len > 0 || sent - done <= WINDOW / 2))
        len += (size_t) snprintf (cmd + len, sizeof cmd - len, "RETR %lu\r\n", ++sent);
      if (len > 0)
        send_all (c, cmd, len);
      read_multiline (c, NULL, NULL);
      done++;
    }
  send_all (c, "QUIT\r\n", 6);
  read_status (c, status, sizeof status);
  SSL_shutdown (c->ssl);
  SSL_free (c->ssl);
  SSL_CTX_free (ctx);
  close (fd);
  printf ("messages %lu retrieved %lu bytes %llu\n", n, done - first, c->bytes);
  free (c);
  return 0;
}

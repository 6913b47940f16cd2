/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Push parser for POP3 server responses. It owns no socket: the caller feeds
 * bytes as they arrive, split anywhere, and gets callbacks. It never buffers
 * more than one status line (capped) and streams multi-line data through,
 * so a message of any size costs no memory. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  BZ_POP3_EXPECT_SINGLE,       /* status line only (USER, DELE, ...) */
  BZ_POP3_EXPECT_MULTI,        /* status line, then data if +OK (RETR, UIDL, CAPA) */
  BZ_POP3_EXPECT_CONTINUATION, /* SASL: "+ " challenge or a status line */
} BzPop3Expect;

typedef struct
{
  /* Called once per response. @ok is FALSE for -ERR. @code is the RFC 2449
   * response code without brackets ("SYS/TEMP") or NULL; @text is the rest
   * of the line. For a continuation, @ok is TRUE and @continuation TRUE.
   * Strings are borrowed for the duration of the call. */
  gboolean (*status) (gpointer user_data, gboolean ok, gboolean continuation, const char *code,
                      const char *text, GError **error);
  /* Multi-line payload, dot-unstuffed, in fragments. @eol is TRUE on the
   * fragment that ends a line; line terminators (CRLF or LF) are removed. */
  gboolean (*data) (gpointer user_data, const char *data, gsize len, gboolean eol, GError **error);
  /* The terminating "." of a multi-line response was seen. */
  gboolean (*end) (gpointer user_data, GError **error);
} BzPop3ParserCallbacks;

typedef struct _BzPop3Parser BzPop3Parser;

#define BZ_POP3_PARSER_MAX_STATUS_LINE (64 * 1024)
#define BZ_POP3_PARSER_MAX_DATA_LINE (4 * 1024 * 1024)

/* Returns a new parser (free with bz_pop3_parser_free). @callbacks must
 * outlive it. */
BzPop3Parser *bz_pop3_parser_new (const BzPop3ParserCallbacks *callbacks, gpointer user_data);
void bz_pop3_parser_free (BzPop3Parser *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzPop3Parser, bz_pop3_parser_free)

/* Queue the kind of the next response (responses arrive in command order,
 * also when pipelined). The greeting is BZ_POP3_EXPECT_SINGLE. */
void bz_pop3_parser_expect (BzPop3Parser *self, BzPop3Expect expect);
/* Number of responses expected but not yet complete. */
guint bz_pop3_parser_pending (BzPop3Parser *self);

/* Feeds @len bytes. Returns FALSE with @error set on a protocol violation
 * (bytes when no response is expected, malformed status, over-long line)
 * or when a callback failed; the parser is then unusable. */
gboolean bz_pop3_parser_feed (BzPop3Parser *self, const char *data, gsize len, GError **error);

/* Optional caps, mainly for tests. */
void bz_pop3_parser_set_limits (BzPop3Parser *self, gsize max_status_line, gsize max_data_line);

G_END_DECLS

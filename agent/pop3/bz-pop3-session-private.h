/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared between the session files only: the command queue and the I/O
 * loop that auth and the commands are built on. */
#pragma once

#include "bz-pop3-digest.h"
#include "bz-pop3-parser.h"
#include "bz-pop3-session.h"

G_BEGIN_DECLS

#define BZ_POP3_READ_CHUNK (64 * 1024)
#define BZ_POP3_SINK_BUFFER (64 * 1024)
#define BZ_POP3_DEFAULT_WINDOW 64
/* Bytes of a server's text quoted in an error message, at most. */
#define BZ_POP3_MAX_QUOTED 200
/* A line of a listing (CAPA, LIST, UIDL) longer than this is no listing:
 * "msgno size" or "msgno uidl" with a 70-character UIDL fit many times. */
#define BZ_POP3_MAX_LIST_LINE 1024
/* Lines of a CAPA or AUTH listing, at most. */
#define BZ_POP3_MAX_CAPA_LINES 1000
/* Slack over twice LIST's size before a RETR is cut off as too large:
 * LF-counting servers report up to half the CRLF octets. */
#define BZ_POP3_SIZE_SLACK (64 * 1024)
/* A TOP answer of unknown size is cut off past this. */
#define BZ_POP3_MAX_TOP (16 * 1024 * 1024)

typedef enum
{
  BZ_POP3_CMD_SIMPLE, /* status line only */
  BZ_POP3_CMD_LINES,  /* multi-line, collected into ->lines, or each
                           * given to ->line_func */
  BZ_POP3_CMD_SINK,   /* multi-line, streamed to a message sink */
  BZ_POP3_CMD_AUTH,   /* SASL step: continuation or status */
} BzPop3CmdKind;

/* One command whose response has not been fully read. */
typedef struct
{
  BzPop3CmdKind kind;
  guint msgno; /* for SINK */
  gboolean done;
  gboolean ok;
  gboolean continuation;
  char *code;
  char *text;
  GPtrArray *lines; /* for LINES: char* without line ends */
  /* for LINES instead of ->lines: each line (without its end, NUL
   * terminated, borrowed); cannot fail, so the stream stays in step */
  void (*line_func) (const char *line, gsize len, gpointer data);
  gpointer line_data;
  guint max_lines; /* LINES: more is BZ_POP3_ERROR_LIMIT */
  guint n_lines;
  gboolean began; /* SINK: begin() was called */
  /* SINK: what the answer looked like so far, and where it is cut off */
  BzPop3MessageFacts facts;
  guint64 limit;       /* 0 = none */
  BzPop3Digest digest; /* SINK: of the data handed to the sink */
  guint8 head[5];      /* the first bytes of the first data line */
  guint head_len;
  gboolean head_done;
} BzPop3Cmd;

void bz_pop3_cmd_free (BzPop3Cmd *cmd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzPop3Cmd, bz_pop3_cmd_free)

struct _BzPop3Session
{
  GObject parent_instance;
  char *host;
  char *ca_file;
  char *pin_sha256;
  BzPop3SessionOptions options; /* strings point at the copies above */
  BzNetConnection *conn;
  BzPop3Parser *parser;
  GQueue inflight; /* of BzPop3Cmd, in command order */
  GString *wbuf;   /* commands written but not yet sent */
  char *rbuf;
  GString *line; /* LINES: the current line so far */
  char *sinkbuf;
  gsize sinkbuf_len;
  BzPop3MessageSink *sink; /* of the SINK commands in flight */
  GHashTable *capa;        /* upper-case tag -> args ("" for none) */
  gboolean have_capa;      /* the server answered CAPA */
  char *apop_timestamp;
  const char *auth_used;
  gboolean broken; /* an error left the stream undefined */
  /* fetch_checked: an answer did not fit, with nothing else in flight
   * (the stream is still in step); ends the fetch without breaking */
  GError *misfit;
};

/* Creates the command, queues its response with the parser and appends
 * @line (without CRLF) to the write buffer. Borrowed; owned by the queue. */
BzPop3Cmd *bz_pop3_session_queue (BzPop3Session *self, BzPop3CmdKind kind, const char *line);
/* Sends what was queued and reads until @cmd is done (or, if @cmd is NULL,
 * until at least one more response completed). */
gboolean bz_pop3_session_run (BzPop3Session *self, BzPop3Cmd *cmd, GCancellable *cancellable,
                              GError **error);
gboolean bz_pop3_session_flush (BzPop3Session *self, GCancellable *cancellable, GError **error);
/* Removes the finished @cmd from the head of the queue; transfer full. */
BzPop3Cmd *bz_pop3_session_take (BzPop3Session *self, BzPop3Cmd *cmd);
/* One command, one response: queue, run, take. Returns NULL on I/O error;
 * a -ERR is returned as a command with ok == FALSE. */
BzPop3Cmd *bz_pop3_session_call (BzPop3Session *self, BzPop3CmdKind kind, const char *line,
                                 GCancellable *cancellable, GError **error);
/* Turns a -ERR into an error: the response code picks the BzPop3Error,
 * @fallback applies without one. The message is "host: what: -ERR ...". */
void bz_pop3_session_set_server_error (BzPop3Session *self, BzPop3Cmd *cmd, BzPop3Error fallback,
                                       const char *what, GError **error);
/* Prefixes an error from below with the host name, once. */
void bz_pop3_session_prefix_error (BzPop3Session *self, GError **error);
gboolean bz_pop3_session_read_capa (BzPop3Session *self, GCancellable *cancellable, GError **error);
/* Fails any sink message in flight with @reason (the operation is ending). */
void bz_pop3_session_fail_inflight (BzPop3Session *self, const GError *reason);
gboolean bz_pop3_session_check_usable (BzPop3Session *self, GError **error);

/* bz-pop3-auth.c, shared with bz-pop3-oauth2.c. */
/* TRUE when CAPA's SASL line lists @mech. */
gboolean bz_pop3_session_sasl_offers (BzPop3Session *self, const char *mech);
/* Static string for logs and messages: "USER", "XOAUTH2"... */
const char *bz_pop3_auth_method_name (BzAuthMethod method);
/* Runs @queued (already queued, its line in the write buffer) and turns a
 * -ERR into BZ_POP3_ERROR_AUTH (or the response code's error). */
gboolean bz_pop3_auth_step (BzPop3Session *self, BzPop3Cmd *queued, gboolean *continuation,
                            GCancellable *cancellable, GError **error);
/* FALSE with BZ_POP3_ERROR_AUTH when @value is empty or has CR/LF. */
gboolean bz_pop3_auth_check_arg (BzPop3Session *self, const char *what, const char *value,
                                 GError **error);

G_END_DECLS

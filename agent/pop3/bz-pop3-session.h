/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A POP3 client session (RFC 1939, 2449, 2595, 5034) over a BzNetConnection.
 * Blocking; use it from one worker thread. Every error message starts with
 * the server's host name so that it can be shown as it is. */
#pragma once

#include <gio/gio.h>

#include "buzon-types.h"
#include "bz-net-connection.h"
#include "bz-pop3-error.h"
#include "bz-pop3-listing.h"

G_BEGIN_DECLS

typedef struct
{
  BzNetOptions net; /* host, port, trust, pin, timeouts */
  BzSecurity security;
  /* TRUE only when the user allowed plaintext (security=none on loopback or
   * allow-plaintext=true): then a password may cross an unencrypted channel. */
  gboolean allow_plaintext;
  guint pipeline_window; /* commands in flight with PIPELINING; 0 = default */
  /* XOAUTH2/OAUTHBEARER: send the response with AUTH when the line fits
   * 255 octets (RFC 5034). Off by default: servers differ (see
   * bz-pop3-oauth2.c); the two-step form works everywhere. */
  gboolean sasl_initial_response;
} BzPop3SessionOptions;

typedef struct
{
  guint msgno;
  guint64 size;
} BzPop3ListEntry;

/* One line of a UIDL listing. A sync keeps one per message on the server
 * for its whole run and takes this array over as its own table instead of
 * copying it (a copy was 3.2 MB more at 200,000 messages), so it has room
 * for the caller's flags in what was padding. 16 bytes. */
typedef struct
{
  guint msgno;
  guint flags; /* 0 here; the caller's */
  const char *uidl;
} BzPop3UidlEntry;

/* A UIDL listing: 50,000 entries take ~2 MB, not one allocation each. */
typedef struct
{
  GArray *entries;       /* BzPop3UidlEntry, in the server's order */
  GStringChunk *strings; /* owns every entry's uidl (may be stolen) */
} BzPop3UidlList;

void bz_pop3_uidl_list_free (BzPop3UidlList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzPop3UidlList, bz_pop3_uidl_list_free)

/* What one RETR/TOP answer looked like against what was asked (DESIGN.md:
 * the wire is checked, not trusted). Sizes count as LIST does: the
 * dot-unstuffed data with CRLF line ends, without the terminator. */
typedef struct
{
  guint64 expected;      /* LIST's size given for the message; 0 = unknown */
  guint64 octets;        /* of the data received (so far, when cut off) */
  guint64 lines;         /* data lines received */
  guint64 status_octets; /* the number in "+OK <n> octets", or G_MAXUINT64 */
  guint64 digest;        /* a hash of the data, to tell "the same bytes again" */
  gboolean status_first; /* the data began with a line shaped like a status line */
  gboolean cut;          /* stopped past the limit: more bytes were coming */
} BzPop3MessageFacts;

/* TRUE when the answer fits what was asked: its size equals LIST's (when
 * known) and its data does not begin with a status line (the mark of
 * answers out of step), and it was not cut off. */
gboolean bz_pop3_message_facts_fit (const BzPop3MessageFacts *facts);

/* Receives retrieved messages as a stream, one message at a time, in the
 * order requested. Lines arrive dot-unstuffed with "\n" line ends. Embed it
 * as the first member of your own struct to carry state. A callback that
 * returns FALSE aborts the whole operation with its error. */
typedef struct _BzPop3MessageSink BzPop3MessageSink;
struct _BzPop3MessageSink
{
  gboolean (*begin) (BzPop3MessageSink *sink, guint msgno, GError **error);
  gboolean (*write) (BzPop3MessageSink *sink, const char *data, gsize len, GError **error);
  gboolean (*end) (BzPop3MessageSink *sink, guint msgno, GError **error);
  /* The message will not complete: the server answered -ERR (@reason in
   * BZ_POP3_ERROR; the operation goes on with the next message) or the
   * operation is failing (connection lost, timeout, a sink error, an
   * answer that did not fit). Any partial data must be discarded. begin()
   * may not have been called. */
  void (*fail) (BzPop3MessageSink *sink, guint msgno, const GError *reason);
  /* Optional. Called with an answer's facts when its terminator arrived,
   * before end(), and when the answer was cut off for exceeding its limit
   * (facts->cut; fail() follows). Without it, or when it returns FALSE, an
   * answer that does not fit fails with BZ_POP3_ERROR_MISFIT and ends the
   * operation; TRUE accepts it as it is (end() follows). */
  gboolean (*check) (BzPop3MessageSink *sink, guint msgno, const BzPop3MessageFacts *facts);
};

/* Where a RETR/TOP answer of a message that LIST sized @size (0 =
 * unknown) is cut off: past twice the size plus 64 KiB, and past
 * @max_size when not 0. 0 = no limit. */
guint64 bz_pop3_fetch_limit (guint64 size, guint64 max_size);

/* How bz_pop3_session_fetch_checked() checks and paces. */
typedef struct
{
  /* LIST's size of each message, parallel to the msgnos; NULL = unknown.
   * A RETR answer must match it (facts above); a RETR or TOP answer is
   * cut off (BZ_POP3_ERROR_TOO_LARGE) once it exceeds twice the size plus
   * 64 KiB: a server that lies about sizes cannot make us read forever. */
  const guint64 *sizes;
  guint64 max_size; /* also cut off past this many octets; 0 = no limit */
  guint window;     /* commands in flight at most; 0 = the session's */
} BzPop3FetchOptions;

#define BZ_TYPE_POP3_SESSION (bz_pop3_session_get_type ())
G_DECLARE_FINAL_TYPE (BzPop3Session, bz_pop3_session, BZ, POP3_SESSION, GObject)

/* Connects, reads the greeting, secures the channel as options->security
 * says (STLS missing from CAPA is BZ_POP3_ERROR_NO_STLS, never a fall-back)
 * and reads CAPA. Returns a new session (transfer full) or NULL. */
BzPop3Session *bz_pop3_session_connect (const BzPop3SessionOptions *options,
                                        GCancellable *cancellable, GError **error);

/* Authenticates. BZ_AUTH_AUTO picks the strongest method offered that does
 * not expose the password on this channel. @password is not kept; the
 * buffers that carried it are wiped. Rejection is the response code's error
 * (BZ_POP3_ERROR_AUTH for [AUTH], BZ_POP3_ERROR_IN_USE, ...), or
 * BZ_POP3_ERROR_LOGIN_REFUSED for an -ERR without a code we know. */
gboolean bz_pop3_session_login (BzPop3Session *self, BzAuthMethod method, const char *user,
                                const char *password, GCancellable *cancellable, GError **error);

/* Authenticates with an OAuth2 access token: @method BZ_AUTH_XOAUTH2,
 * BZ_AUTH_OAUTHBEARER, or BZ_AUTH_AUTO (OAUTHBEARER when offered, else
 * XOAUTH2). @token is not kept; the buffers that carried it are wiped. A
 * refused token is BZ_POP3_ERROR_AUTH. */
gboolean bz_pop3_session_login_oauth2 (BzPop3Session *self, BzAuthMethod method, const char *user,
                                       const char *token, GCancellable *cancellable,
                                       GError **error);

/* CAPA tags, upper case, e.g. "PIPELINING", "UIDL", "TOP", "STLS". */
gboolean bz_pop3_session_has_capability (BzPop3Session *self, const char *tag);
/* Borrowed; the arguments of a CAPA tag ("SASL" -> "PLAIN LOGIN"), or NULL. */
const char *bz_pop3_session_get_capability_args (BzPop3Session *self, const char *tag);
/* Borrowed; the method bz_pop3_session_login() used, for logs. */
const char *bz_pop3_session_get_auth_used (BzPop3Session *self);
BzNetConnection *bz_pop3_session_get_connection (BzPop3Session *self);

/* Returns a GArray of BzPop3ListEntry (transfer full) or NULL. */
GArray *bz_pop3_session_list (BzPop3Session *self, GCancellable *cancellable, GError **error);
/* LIST n for each of @msgnos (pipelined when offered), the sizes into
 * @sizes (parallel to @msgnos); fails on the first -ERR. Cheaper than a
 * whole LIST when only a few of a large mailbox are wanted. */
gboolean bz_pop3_session_list_many (BzPop3Session *self, const guint *msgnos, gsize n_msgnos,
                                    guint64 *sizes, GCancellable *cancellable, GError **error);
/* Returns the whole UIDL listing (transfer full) or NULL;
 * BZ_POP3_ERROR_NO_UIDL when the server has no UIDL. */
BzPop3UidlList *bz_pop3_session_uidl (BzPop3Session *self, GCancellable *cancellable,
                                      GError **error);
/* Called with each UIDL of a listing as it arrives, in the server's order;
 * @uidl stays valid as long as the returned list's strings. */
typedef void (*BzPop3UidlFunc) (const char *uidl, gpointer user_data);
/* bz_pop3_session_uidl() that also hands each UIDL to @func (optional). */
BzPop3UidlList *bz_pop3_session_uidl_full (BzPop3Session *self, BzPop3UidlFunc func,
                                           gpointer user_data, GCancellable *cancellable,
                                           GError **error);

gboolean bz_pop3_session_retr (BzPop3Session *self, guint msgno, BzPop3MessageSink *sink,
                               GCancellable *cancellable, GError **error);
gboolean bz_pop3_session_top (BzPop3Session *self, guint msgno, guint lines,
                              BzPop3MessageSink *sink, GCancellable *cancellable, GError **error);
/* RETR (or TOP @top_lines when @top is TRUE) each of @msgnos, pipelined with
 * a bounded window when the server advertises PIPELINING, one at a time
 * otherwise. A per-message -ERR goes to sink->fail and the rest continue. */
gboolean bz_pop3_session_fetch_many (BzPop3Session *self, const guint *msgnos, gsize n_msgnos,
                                     gboolean top, guint top_lines, BzPop3MessageSink *sink,
                                     GCancellable *cancellable, GError **error);
/* The same, checking each answer against @options (may be NULL). An
 * answer that does not fit (BZ_POP3_ERROR_MISFIT) or exceeds its limit
 * (BZ_POP3_ERROR_TOO_LARGE) fails its message and ends the operation
 * before any later answer reaches the sink. After a misfit that was the
 * only command in flight the session stays usable (the stream is at a
 * command boundary); otherwise it is broken and must be aborted. */
gboolean bz_pop3_session_fetch_checked (BzPop3Session *self, const guint *msgnos, gsize n_msgnos,
                                        gboolean top, guint top_lines,
                                        const BzPop3FetchOptions *options, BzPop3MessageSink *sink,
                                        GCancellable *cancellable, GError **error);
/* FALSE once an error left the stream undefined (or after QUIT). */
gboolean bz_pop3_session_is_usable (BzPop3Session *self);

gboolean bz_pop3_session_dele (BzPop3Session *self, guint msgno, GCancellable *cancellable,
                               GError **error);
/* DELE each of @msgnos (pipelined when offered); fails on the first -ERR. */
gboolean bz_pop3_session_dele_many (BzPop3Session *self, const guint *msgnos, gsize n_msgnos,
                                    GCancellable *cancellable, GError **error);
/* QUIT: the server commits DELEs now. Closes the connection either way. */
gboolean bz_pop3_session_quit (BzPop3Session *self, GCancellable *cancellable, GError **error);
/* Drops the connection without QUIT, so the server rolls back any DELE. */
void bz_pop3_session_abort (BzPop3Session *self);

G_END_DECLS

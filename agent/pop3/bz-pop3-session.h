/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A POP3 client session (RFC 1939, 2449, 2595, 5034) over a BzNetConnection.
 * Blocking; use it from one worker thread. Every error message starts with
 * the server's host name so that it can be shown as it is. */
#pragma once

#include <gio/gio.h>

#include "buzon-types.h"
#include "bz-net-connection.h"
#include "bz-pop3-error.h"

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

typedef struct
{
  guint msgno;
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
   * operation is failing (connection lost, timeout, a sink error). Any
   * partial data must be discarded. begin() may not have been called. */
  void (*fail) (BzPop3MessageSink *sink, guint msgno, const GError *reason);
};

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

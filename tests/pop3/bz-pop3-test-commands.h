/* SPDX-License-Identifier: GPL-3.0-or-later */
/* POP3 commands the sync never sends, for the tests to look at or steer
 * the server with: STAT, LIST n, UIDL n, RSET, NOOP. Built on the
 * session's own command queue, so they go through the same I/O and
 * response parser as the sync's commands. Errors as the session's. */
#pragma once

#include "bz-pop3-session.h"

G_BEGIN_DECLS

gboolean bz_pop3_test_stat (BzPop3Session *session, guint *count, guint64 *octets,
                            GCancellable *cancellable, GError **error);
gboolean bz_pop3_test_list_one (BzPop3Session *session, guint msgno, guint64 *size,
                                GCancellable *cancellable, GError **error);
/* The UIDL of @msgno (transfer full) or NULL; BZ_POP3_ERROR_NO_UIDL for a
 * -ERR from a server that did not list UIDL in CAPA. */
char *bz_pop3_test_uidl_one (BzPop3Session *session, guint msgno, GCancellable *cancellable,
                             GError **error);
gboolean bz_pop3_test_rset (BzPop3Session *session, GCancellable *cancellable, GError **error);
gboolean bz_pop3_test_noop (BzPop3Session *session, GCancellable *cancellable, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the net tests: a line reader and a loopback server that
 * accepts and then stays silent (or hangs up). */
#pragma once

#include "bz-net-connection.h"
#include "bz-test-util.h"

/* Upper bound of a timeout or cancellation test: it only tells the
 * timeout under test (a few hundred ms) from the default one that would
 * apply otherwise (30 s connect, 60 s I/O), so a loaded machine cannot
 * fail it. The lower bounds are what the tests are about. */
#define NET_TEST_BEFORE_DEFAULT (20 * G_TIME_SPAN_SECOND)

G_BEGIN_DECLS

/* Reads until CRLF (bounded); returns the line with CRLF, or NULL with
 * @error set. */
char *net_test_read_line (BzNetConnection *conn, GError **error);

typedef struct _NetTestServer NetTestServer;

/* Listens on @address (127.0.0.1 or ::1) port 0 in a thread. It accepts one
 * client and then either hangs up at once or never writes; it ends by
 * itself after a few seconds even if nobody stops it. */
NetTestServer *net_test_server_new (const char *address, gboolean hang_up);
guint16 net_test_server_get_port (NetTestServer *server);
void net_test_server_free (NetTestServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetTestServer, net_test_server_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the net tests: a line reader and a loopback server that
 * accepts and then stays silent (or hangs up). */
#pragma once

#include "bz-net-connection.h"
#include "bz-test-util.h"

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

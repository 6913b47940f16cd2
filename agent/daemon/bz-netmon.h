/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Is the network there? GNetworkMonitor, reduced to one boolean property
 * "online" with change notification, and a signal "changed" (no arguments)
 * for any change of the network, online or not.
 *
 * Test hook (a -Dtest-hooks=true build only): when
 * BUZON_TEST_OFFLINE_FILE is set, the monitor is ignored
 * and the agent is offline exactly while that file exists. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BZ_TYPE_NETMON (bz_netmon_get_type ())
G_DECLARE_FINAL_TYPE (BzNetmon, bz_netmon, BZ, NETMON, GObject)

/* Transfer full. Watches from the thread-default main context. */
BzNetmon *bz_netmon_new (void);
gboolean bz_netmon_get_online (BzNetmon *self);

G_END_DECLS

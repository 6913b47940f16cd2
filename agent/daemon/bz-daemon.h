/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzond without --once: the session agent of DESIGN.md. Owns
 * org.buzon.Agent1 on the session bus, exports the Manager and one Account
 * object per configured account through an ObjectManager at
 * /org/buzon/Agent1, syncs on schedule (at most max-parallel accounts at
 * once), follows the network, reloads on SIGHUP and Reload(), and shuts
 * down cleanly on SIGTERM/SIGINT. */
#pragma once

#include <gio/gio.h>

#include "bz-config.h"

G_BEGIN_DECLS

#define BZ_TYPE_DAEMON (bz_daemon_get_type ())
G_DECLARE_FINAL_TYPE (BzDaemon, bz_daemon, BZ, DAEMON, GObject)

/* A daemon running @config (referenced). Transfer full. */
BzDaemon *bz_daemon_new (BzConfig *config);

/* Runs the main loop until SIGTERM/SIGINT or the loss of the bus. Returns
 * the exit code: 0 after a clean shutdown, 1 when the bus name could not be
 * owned (another buzond runs) or the session bus went away. */
int bz_daemon_run (BzDaemon *self);

/* Re-reads the config file (in a worker thread: the main loop does no
 * disk work) and then adds, changes and removes accounts. */
void bz_daemon_reload_async (BzDaemon *self, GAsyncReadyCallback callback, gpointer user_data);
/* FALSE with @error (BZ_CONFIG_ERROR, or G_IO_ERROR when the file cannot be
 * read) when the file is bad: a file that cannot be loaded changes nothing;
 * an account with errors keeps its old settings while the other accounts
 * are applied. */
gboolean bz_daemon_reload_finish (BzDaemon *self, GAsyncResult *res, GError **error);

/* Cancels the running syncs, waits for them (at most a few seconds) and
 * ends bz_daemon_run() with exit code 0. */
void bz_daemon_shutdown (BzDaemon *self);

G_END_DECLS

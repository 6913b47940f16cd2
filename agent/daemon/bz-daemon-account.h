/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One configured account inside the daemon: its exported
 * org.buzon.Agent1.Account object, its state machine
 * (idle -> connecting -> syncing -> idle | error; offline; disabled), its
 * timer, and the sync it runs in a worker thread when the daemon gives it a
 * slot. Properties change through the generated setters, so
 * PropertiesChanged is emitted. */
#pragma once

#include "bz-account.h"
#include "bz-dbus-generated.h"

G_BEGIN_DECLS

typedef struct _BzDaemon BzDaemon;

#define BZ_TYPE_DAEMON_ACCOUNT (bz_daemon_account_get_type ())
G_DECLARE_FINAL_TYPE (BzDaemonAccount, bz_daemon_account, BZ, DAEMON_ACCOUNT, GObject)

/* A new account object for @account (referenced) of @daemon (not
 * referenced: the daemon calls bz_daemon_account_detach() before it lets
 * go). @stored_count starts StoredCount. Transfer full. */
BzDaemonAccount *bz_daemon_account_new (BzDaemon *daemon, BzAccount *account, guint stored_count,
                                        gboolean online);

/* Borrowed. */
BzAccount *bz_daemon_account_get_account (BzDaemonAccount *self);
const char *bz_daemon_account_get_name (BzDaemonAccount *self);
/* Borrowed; what to export on the object manager. */
GDBusObjectSkeleton *bz_daemon_account_get_object (BzDaemonAccount *self);

/* Arms the first sync (account number @index in the config). */
void bz_daemon_account_start (BzDaemonAccount *self, guint index);
/* Asks for a sync now (Sync(), SyncAll(), a timer, the network coming back):
 * coalesced with a sync already queued or running. */
void bz_daemon_account_request_sync (BzDaemonAccount *self);
/* The same for a client (Sync(), SyncAll()) that waits for SyncFinished,
 * with at most one login per 10 s: a request within 10 s of the last
 * sync's start waits for the end of that pause (and joins whatever sync
 * starts first). While offline SyncFinished is emitted at once with ok =
 * FALSE (the sync still comes when the network is back). */
void bz_daemon_account_request_sync_for_client (BzDaemonAccount *self);
/* The daemon grants a slot: runs the queued sync. */
void bz_daemon_account_run (BzDaemonAccount *self);
/* New settings from a reload (same name): properties follow, back-off and
 * permanent errors are forgotten, a sync comes soon. A running sync
 * finishes with the old settings, unless the account is now disabled. */
void bz_daemon_account_update (BzDaemonAccount *self, BzAccount *account, guint index);
void bz_daemon_account_set_online (BzDaemonAccount *self, gboolean online);
/* A reload left the settings as they were: an account that waits for the
 * user (untrusted certificate, refused password) tries again soon. */
void bz_daemon_account_retry_after_reload (BzDaemonAccount *self);
/* The network changed (any change, not only on/off): an account whose
 * certificate was not trusted tries again soon. */
void bz_daemon_account_network_changed (BzDaemonAccount *self);
/* StoredCount as counted by start-up recovery; ignored while a sync runs
 * (the sync's own count is newer). */
void bz_daemon_account_set_stored_count (BzDaemonAccount *self, guint stored_count);
/* TRUE while a sync (or its password lookup) runs. */
gboolean bz_daemon_account_is_running (BzDaemonAccount *self);
/* Stops the running sync at a safe point; no new sync is scheduled. */
void bz_daemon_account_cancel (BzDaemonAccount *self);
/* Forgets the daemon: timers stop, nothing more is reported to it. A sync
 * still running ends on its own and keeps this object alive, and its
 * max-parallel slot taken, until then. */
void bz_daemon_account_detach (BzDaemonAccount *self);

G_END_DECLS

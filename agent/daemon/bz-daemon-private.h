/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the account objects need from the daemon. */
#pragma once

#include "bz-daemon-account.h"
#include "bz-daemon.h"
#include "bz-db.h"
#include "bz-dbus-generated.h"
#include "bz-index-provider.h"
#include "bz-netmon.h"
#include "bz-notify.h"
#include "bz-scheduler.h"

G_BEGIN_DECLS

/* Shared by bz-daemon.c (life cycle, bus, queue, signals) and
 * bz-daemon-manager.c (the Manager methods and reload). */
struct _BzDaemon
{
  GObject parent_instance;
  BzConfig *config;
  BzScheduleTuning tuning;
  gint64 test_now;
  GMainLoop *loop;
  int exit_code;
  GDBusConnection *bus;
  guint owner_id;
  gboolean name_owned;
  GDBusObjectManagerServer *manager;
  BzDbusManager *manager_iface;
  BzNetmon *netmon;
  BzNotify *notify;     /* once on the bus */
  GHashTable *accounts; /* name -> BzDaemonAccount* */
  GQueue waiting;       /* BzDaemonAccount*, referenced */
  guint running;
  gboolean closing;
  guint shutdown_timeout_id;
  guint signal_ids[3];
  guint reload_seq;          /* reloads asked for */
  guint reload_applied;      /* the newest one applied */
  BzIndexWorker *indexer;    /* fills the full-text index after syncs */
  BzIndexProvider *provider; /* GNOME Shell's search provider */
};

/* bz-daemon-search.c: Manager.Search(). */
gboolean bz_daemon_handle_search (BzDbusManager *iface, GDBusMethodInvocation *invocation,
                                  const char *query, const char *account, guint limit,
                                  gpointer user_data);

/* bz-daemon-manager.c: connects the Manager's method handlers. */
void bz_daemon_manager_init (BzDaemon *self);
/* Adds and exports an account object for @account. */
void bz_daemon_add_account (BzDaemon *self, BzAccount *account, guint index);

/* Borrowed. */
const BzScheduleTuning *bz_daemon_get_tuning (BzDaemon *self);
const char *bz_daemon_get_database_path (BzDaemon *self);
/* Borrowed; the session bus, or NULL (no bus yet, tests). */
GDBusConnection *bz_daemon_get_bus (BzDaemon *self);
/* Borrowed; the desktop notifications, or NULL (no bus yet, tests). */
BzNotify *bz_daemon_get_notify (BzDaemon *self);
/* BUZON_TEST_NOW in a test-hooks build, else 0 (the real clock). */
gint64 bz_daemon_get_test_now (BzDaemon *self);

/* Queues @account for a sync slot (max-parallel); the daemon calls
 * bz_daemon_account_run() when one is free. */
void bz_daemon_enqueue (BzDaemon *self, BzDaemonAccount *account);
/* Removes @account from the queue, if it waits there. */
void bz_daemon_dequeue (BzDaemon *self, BzDaemonAccount *account);
/* The sync of @account ended: frees its slot. @new_messages, the count
 * stored before it (@stored_before) and @newest (BzNotifyMessage*, newest
 * first, borrowed) feed the notification. */
void bz_daemon_sync_ended (BzDaemon *self, BzDaemonAccount *account, guint new_messages,
                           guint stored_before, GPtrArray *newest);
/* Emits Manager.MessageStored. */
void bz_daemon_emit_message_stored (BzDaemon *self, const BzDbMessage *message);

G_END_DECLS

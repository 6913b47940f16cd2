/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The daemon's life cycle: the bus name, the exported objects, the queue of
 * syncs waiting for a slot, the network monitor and the Unix signals. */
#include "config.h"

#include <glib/gi18n.h>

#include <glib-unix.h>
#include <signal.h>

#include "bz-daemon-log.h"
#include "bz-daemon-private.h"
#include "bz-dbus-error.h"
#include "bz-dbus-utf8.h"
#include "bz-notify.h"

/* How long a shutdown waits for the syncs to reach a safe point. */
#define BZ_DAEMON_SHUTDOWN_TIMEOUT_MS 4000

G_DEFINE_TYPE (BzDaemon, bz_daemon, G_TYPE_OBJECT)

const BzScheduleTuning *
bz_daemon_get_tuning (BzDaemon *self)
{
  return &self->tuning;
}

const char *
bz_daemon_get_database_path (BzDaemon *self)
{
  return bz_config_get_database_path (self->config);
}

gint64
bz_daemon_get_test_now (BzDaemon *self)
{
  return self->test_now;
}

/* --- the queue of syncs ---------------------------------------------------- */

static void
maybe_quit (BzDaemon *self)
{
  if (self->closing && self->running == 0 && self->loop != NULL)
    g_main_loop_quit (self->loop);
}

static void
pump (BzDaemon *self)
{
  while (!self->closing && self->running < bz_config_get_max_parallel (self->config) &&
         !g_queue_is_empty (&self->waiting))
    {
      g_autoptr (BzDaemonAccount) account = g_queue_pop_head (&self->waiting);

      self->running++;
      bz_daemon_account_run (account);
    }
}

void
bz_daemon_enqueue (BzDaemon *self, BzDaemonAccount *account)
{
  if (self->closing)
    return;
  g_queue_push_tail (&self->waiting, g_object_ref (account));
  pump (self);
}

void
bz_daemon_dequeue (BzDaemon *self, BzDaemonAccount *account)
{
  if (g_queue_remove (&self->waiting, account))
    g_object_unref (account);
}

GDBusConnection *
bz_daemon_get_bus (BzDaemon *self)
{
  return self->bus;
}

BzNotify *
bz_daemon_get_notify (BzDaemon *self)
{
  return self->notify;
}

void
bz_daemon_sync_ended (BzDaemon *self, BzDaemonAccount *account, guint new_messages,
                      guint stored_before, GPtrArray *newest)
{
  const char *name = bz_daemon_account_get_name (account);

  g_return_if_fail (self->running > 0);
  self->running--;
  /* after the sync, not during it: the download keeps the disk to itself */
  if (new_messages > 0)
    bz_index_worker_kick (self->indexer, bz_daemon_get_database_path (self));
  if (new_messages > 0 && newest->len > 0 && bz_config_get_notify (self->config) &&
      self->notify != NULL)
    {
      /* A first sync of a full mailbox is old mail, not news. */
      if (stored_before == 0)
        bz_notify_first_sync (self->notify, name, new_messages);
      else
        bz_notify_new_mail (self->notify, name, new_messages, newest);
    }
  pump (self);
  maybe_quit (self);
}

void
bz_daemon_emit_message_stored (BzDaemon *self, const BzDbMessage *message)
{
  /* The database keeps the raw UIDL; the bus only carries UTF-8. */
  g_autofree char *account = bz_dbus_utf8 (message->account);
  g_autofree char *uidl = bz_dbus_utf8 (message->uidl);
  g_autofree char *path = bz_dbus_utf8 (message->path);
  g_autofree char *from = bz_dbus_utf8 (message->headers.from);
  g_autofree char *subject = bz_dbus_utf8 (message->headers.subject);

  bz_dbus_manager_emit_message_stored (self->manager_iface, account, uidl, path, from, subject,
                                       message->headers.date);
}

/* --- accounts ------------------------------------------------------------ */

static void
recovered_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BzDaemonAccount) daemon_account = user_data;
  g_autoptr (GError) error = NULL;
  guint stored = 0;

  if (!bz_sync_recover_finish (res, &stored, &error))
    {
      bz_daemon_log (G_LOG_LEVEL_WARNING, bz_daemon_account_get_name (daemon_account),
                     "start-up recovery failed: %s", error->message);
      return;
    }
  bz_daemon_account_set_stored_count (daemon_account, stored);
}

void
bz_daemon_add_account (BzDaemon *self, BzAccount *account, guint index)
{
  BzDaemonAccount *daemon_account;

  /* StoredCount comes from the recovery below: the main loop opens no
   * database and reads no Maildir (a large one takes seconds). */
  daemon_account = bz_daemon_account_new (self, account, 0, bz_netmon_get_online (self->netmon));
  g_hash_table_replace (self->accounts, g_strdup (account->name), daemon_account);
  g_dbus_object_manager_server_export (self->manager,
                                       bz_daemon_account_get_object (daemon_account));
  /* DESIGN.md: recovery at start-up, not only before the next sync, which
   * with interval = 0 may be far away. */
  bz_sync_recover_async (account, bz_daemon_get_database_path (self), NULL, recovered_cb,
                         g_object_ref (daemon_account));
  if (self->name_owned)
    bz_daemon_account_start (daemon_account, index);
}

static void
online_changed_cb (BzNetmon *netmon, GParamSpec *pspec, gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);
  gboolean online = bz_netmon_get_online (netmon);
  GHashTableIter iter;
  gpointer value;

  bz_dbus_manager_set_online (self->manager_iface, online);
  g_hash_table_iter_init (&iter, self->accounts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    bz_daemon_account_set_online (value, online);
}

static void
network_changed_cb (BzNetmon *netmon, gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->accounts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    bz_daemon_account_network_changed (value);
}

/* --- shutdown and signals ------------------------------------------------ */

static gboolean
shutdown_timeout_cb (gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);

  self->shutdown_timeout_id = 0;
  bz_daemon_log (G_LOG_LEVEL_WARNING, NULL,
                 "%u sync(s) did not stop in time; exiting anyway (the store recovers)",
                 self->running);
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

void
bz_daemon_shutdown (BzDaemon *self)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (BZ_IS_DAEMON (self));
  if (self->closing)
    return;
  self->closing = TRUE;
  bz_daemon_log (G_LOG_LEVEL_INFO, NULL, "shutting down (%u sync(s) running)", self->running);
  while (!g_queue_is_empty (&self->waiting))
    g_object_unref (g_queue_pop_head (&self->waiting));
  g_hash_table_iter_init (&iter, self->accounts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    bz_daemon_account_cancel (value);
  if (self->running > 0 && self->loop != NULL)
    self->shutdown_timeout_id =
        g_timeout_add (BZ_DAEMON_SHUTDOWN_TIMEOUT_MS, shutdown_timeout_cb, self);
  maybe_quit (self);
}

static gboolean
terminate_cb (gpointer user_data)
{
  bz_daemon_shutdown (BZ_DAEMON (user_data));
  return G_SOURCE_CONTINUE;
}

static void
hangup_reloaded_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (!bz_daemon_reload_finish (BZ_DAEMON (source), res, &error))
    bz_daemon_log (G_LOG_LEVEL_WARNING, NULL, "reload: %s", error->message);
}

static gboolean
hangup_cb (gpointer user_data)
{
  bz_daemon_log (G_LOG_LEVEL_INFO, NULL, "SIGHUP: reloading the configuration");
  bz_daemon_reload_async (BZ_DAEMON (user_data), hangup_reloaded_cb, NULL);
  return G_SOURCE_CONTINUE;
}

/* --- the bus ------------------------------------------------------------- */

static void
bus_acquired_cb (GDBusConnection *bus, const char *name, gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);
  g_autoptr (GError) error = NULL;
  GPtrArray *accounts = bz_config_get_accounts (self->config);

  self->bus = g_object_ref (bus);
  self->notify = bz_notify_new (bus);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->manager_iface), bus,
                                         BZ_DBUS_PATH, &error))
    {
      bz_daemon_log (G_LOG_LEVEL_WARNING, NULL, "cannot export %s: %s", BZ_DBUS_PATH,
                     error->message);
      self->exit_code = 1;
      g_main_loop_quit (self->loop);
      return;
    }
  for (guint i = 0; i < accounts->len; i++)
    bz_daemon_add_account (self, g_ptr_array_index (accounts, i), i);
  g_dbus_object_manager_server_set_connection (self->manager, bus);
  if (!bz_index_provider_export (self->provider, bus, &error))
    bz_daemon_log (G_LOG_LEVEL_WARNING, NULL, "cannot export the search provider: %s",
                   error->message);
}

static void
name_acquired_cb (GDBusConnection *bus, const char *name, gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);
  GPtrArray *accounts = bz_config_get_accounts (self->config);

  self->name_owned = TRUE;
  bz_daemon_log (G_LOG_LEVEL_INFO, NULL, "buzond %s ready on the session bus as %s, %u account(s)",
                 BZ_VERSION, name, accounts->len);
  /* Catches up on mail stored before the index existed, or left half
   * indexed by a kill. */
  bz_index_worker_kick (self->indexer, bz_daemon_get_database_path (self));
  for (guint i = 0; i < accounts->len; i++)
    {
      BzAccount *account = g_ptr_array_index (accounts, i);
      BzDaemonAccount *daemon_account = g_hash_table_lookup (self->accounts, account->name);

      if (daemon_account != NULL)
        bz_daemon_account_start (daemon_account, i);
    }
}

static void
name_lost_cb (GDBusConnection *bus, const char *name, gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);

  if (bus == NULL)
    g_printerr (
        _ ("buzond: cannot connect to the session bus (is DBUS_SESSION_BUS_ADDRESS set?)\n"));
  else if (!self->name_owned)
    g_printerr (_ ("buzond: another buzond already owns %s on this session bus; "
                   "talk to it with buzonctl\n"),
                name);
  else
    bz_daemon_log (G_LOG_LEVEL_WARNING, NULL, "lost the name %s; exiting", name);
  self->exit_code = 1;
  /* Whatever runs still stops at a safe point. */
  bz_daemon_shutdown (self);
  if (self->running == 0)
    g_main_loop_quit (self->loop);
}

int
bz_daemon_run (BzDaemon *self)
{
  g_return_val_if_fail (BZ_IS_DAEMON (self), 1);

  /* Register the error names before the first reply can carry one. */
  (void) BZ_DBUS_ERROR;
  self->loop = g_main_loop_new (NULL, FALSE);
  self->netmon = bz_netmon_new ();
  bz_dbus_manager_set_online (self->manager_iface, bz_netmon_get_online (self->netmon));
  g_signal_connect (self->netmon, "notify::online", G_CALLBACK (online_changed_cb), self);
  g_signal_connect (self->netmon, "changed", G_CALLBACK (network_changed_cb), self);
  self->signal_ids[0] = g_unix_signal_add (SIGTERM, terminate_cb, self);
  self->signal_ids[1] = g_unix_signal_add (SIGINT, terminate_cb, self);
  self->signal_ids[2] = g_unix_signal_add (SIGHUP, hangup_cb, self);
  self->owner_id =
      g_bus_own_name (G_BUS_TYPE_SESSION, BZ_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                      bus_acquired_cb, name_acquired_cb, name_lost_cb, self, NULL);
  g_main_loop_run (self->loop);
  bz_daemon_log (G_LOG_LEVEL_INFO, NULL, "exiting with status %d", self->exit_code);
  return self->exit_code;
}

/* --- object -------------------------------------------------------------- */

static void
bz_daemon_dispose (GObject *object)
{
  BzDaemon *self = BZ_DAEMON (object);
  GHashTableIter iter;
  gpointer value;

  for (guint i = 0; i < G_N_ELEMENTS (self->signal_ids); i++)
    g_clear_handle_id (&self->signal_ids[i], g_source_remove);
  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  while (!g_queue_is_empty (&self->waiting))
    g_object_unref (g_queue_pop_head (&self->waiting));
  if (self->accounts != NULL)
    {
      g_hash_table_iter_init (&iter, self->accounts);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        bz_daemon_account_detach (value);
      g_clear_pointer (&self->accounts, g_hash_table_unref);
    }
  if (self->netmon != NULL)
    g_signal_handlers_disconnect_by_data (self->netmon, self);
  g_clear_object (&self->netmon);
  if (self->manager_iface != NULL && self->bus != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->manager_iface));
  g_clear_object (&self->manager_iface);
  g_clear_object (&self->provider);
  if (self->indexer != NULL)
    bz_index_worker_stop (self->indexer);
  g_clear_object (&self->indexer);
  g_clear_object (&self->manager);
  g_clear_object (&self->notify);
  g_clear_object (&self->bus);
  g_clear_object (&self->config);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  G_OBJECT_CLASS (bz_daemon_parent_class)->dispose (object);
}

static void
bz_daemon_class_init (BzDaemonClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = bz_daemon_dispose;
}

static void
bz_daemon_init (BzDaemon *self)
{
  bz_schedule_tuning_init (&self->tuning);
#ifdef BZ_TEST_HOOKS
  if (g_getenv ("BUZON_TEST_NOW") != NULL)
    self->test_now = g_ascii_strtoll (g_getenv ("BUZON_TEST_NOW"), NULL, 10);
#endif
  g_queue_init (&self->waiting);
  self->accounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->manager = g_dbus_object_manager_server_new (BZ_DBUS_PATH);
  self->manager_iface = bz_dbus_manager_skeleton_new ();
  bz_dbus_manager_set_version (self->manager_iface, BZ_VERSION);
  bz_dbus_manager_set_online (self->manager_iface, TRUE);
}

BzDaemon *
bz_daemon_new (BzConfig *config)
{
  BzDaemon *self = g_object_new (BZ_TYPE_DAEMON, NULL);

  self->config = g_object_ref (config);
  self->indexer = bz_index_worker_new (bz_config_get_database_path (config));
  self->provider = bz_index_provider_new (bz_config_get_database_path (config));
  bz_daemon_manager_init (self);
  return self;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* org.buzon.Agent1.Manager: SyncAll(), Reload() (also SIGHUP) and
 * ListMessages(). */
#include "config.h"

#include <glib/gi18n.h>

#include "bz-daemon-list.h"
#include "bz-daemon-log.h"
#include "bz-daemon-private.h"
#include "bz-dbus-error.h"
#include "bz-dbus-utf8.h"

/* ListMessages: a limit of 0 means this many; larger limits are cut here. */
#define BZ_LIST_DEFAULT_LIMIT 50
#define BZ_LIST_MAX_LIMIT 10000

static void
log_config_errors (BzConfig *config)
{
  GPtrArray *errors = bz_config_get_errors (config);

  for (guint i = 0; i < errors->len; i++)
    {
      BzConfigAccountError *e = g_ptr_array_index (errors, i);
      bz_daemon_log (G_LOG_LEVEL_WARNING, e->account, "%s", e->error->message);
    }
}

/* Applies a freshly loaded @config; runs in the main loop, touches no
 * disk (the file was read in a worker, each new account's database work
 * runs in its recovery worker). */
static gboolean
apply_config (BzDaemon *self, BzConfig *config, GError **error)
{
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *accounts;
  GPtrArray *errors;
  GHashTableIter iter;
  gpointer key, value;

  if (self->closing)
    return TRUE;
  log_config_errors (config);
  accounts = bz_config_get_accounts (config);

  /* Removed accounts; one that is only broken now keeps its old settings. */
  g_hash_table_iter_init (&iter, self->accounts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (bz_config_find_account (config, key) != NULL ||
          bz_config_account_has_errors (config, key))
        continue;
      g_ptr_array_add (removed, g_strdup (key));
    }
  for (guint i = 0; i < removed->len; i++)
    {
      const char *name = g_ptr_array_index (removed, i);
      BzDaemonAccount *account = g_hash_table_lookup (self->accounts, name);

      bz_daemon_log (G_LOG_LEVEL_INFO, name, "removed from the configuration");
      bz_daemon_dequeue (self, account);
      g_dbus_object_manager_server_unexport (
          self->manager,
          g_dbus_object_get_object_path (G_DBUS_OBJECT (bz_daemon_account_get_object (account))));
      /* A running sync stops at a safe point and frees its slot only then
       * (max-parallel holds, and a shutdown waits for it). */
      bz_daemon_account_detach (account);
      g_hash_table_remove (self->accounts, name);
    }

  g_set_object (&self->config, config);
  bz_index_provider_set_db_path (self->provider, bz_config_get_database_path (config));
  for (guint i = 0; i < accounts->len; i++)
    {
      BzAccount *account = g_ptr_array_index (accounts, i);
      BzDaemonAccount *existing = g_hash_table_lookup (self->accounts, account->name);

      if (existing == NULL)
        {
          bz_daemon_log (G_LOG_LEVEL_INFO, account->name, "added to the configuration");
          bz_daemon_add_account (self, account, i);
        }
      else if (!bz_account_equal (bz_daemon_account_get_account (existing), account))
        bz_daemon_account_update (existing, account, i);
      else
        /* Unchanged, but the user may have fixed what the account waits
         * for (a CA installed, the server's certificate renewed). */
        bz_daemon_account_retry_after_reload (existing);
    }
  bz_daemon_log (G_LOG_LEVEL_INFO, NULL, "configuration reloaded: %u account(s)",
                 g_hash_table_size (self->accounts));

  errors = bz_config_get_errors (config);
  if (errors->len > 0)
    {
      g_autoptr (GString) text = g_string_new (NULL);

      for (guint i = 0; i < errors->len; i++)
        {
          BzConfigAccountError *e = g_ptr_array_index (errors, i);
          g_string_append_printf (text, "%s%s", i > 0 ? "; " : "", e->error->message);
        }
      g_set_error (error, BZ_CONFIG_ERROR, BZ_CONFIG_ERROR_INVALID_VALUE,
                   _ ("%s (accounts with errors keep their previous settings)"), text->str);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  char *path;
  guint seq; /* reloads are numbered as asked for */
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_free (data->path);
  g_free (data);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *data = task_data;
  GError *error = NULL;
  BzConfig *config = bz_config_load (data->path, &error);

  if (config == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, config, g_object_unref);
}

void
bz_daemon_reload_async (BzDaemon *self, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  LoadData *data = g_new0 (LoadData, 1);

  g_return_if_fail (BZ_IS_DAEMON (self));
  data->path = g_strdup (bz_config_get_path (self->config));
  data->seq = ++self->reload_seq;
  g_task_set_source_tag (task, bz_daemon_reload_async);
  g_task_set_task_data (task, data, (GDestroyNotify) load_data_free);
  /* A small file: GIO's pool is fine (not our serial worker, where it
   * would wait for the start-up recovery of a large Maildir). */
  g_task_run_in_thread (task, load_thread);
}

gboolean
bz_daemon_reload_finish (BzDaemon *self, GAsyncResult *res, GError **error)
{
  g_autoptr (BzConfig) config = NULL;
  LoadData *data;

  g_return_val_if_fail (g_task_is_valid (res, self), FALSE);
  data = g_task_get_task_data (G_TASK (res));
  config = g_task_propagate_pointer (G_TASK (res), error);
  if (config == NULL)
    {
      bz_daemon_log (G_LOG_LEVEL_WARNING, NULL,
                     "reload failed, keeping the running configuration: %s", (*error)->message);
      return FALSE;
    }
  /* Two reloads at once may finish out of order: a file read later than
   * the one already applied is never replaced by an older read. */
  if (data->seq < self->reload_applied)
    return TRUE;
  self->reload_applied = data->seq;
  return apply_config (self, config, error);
}

static void
reloaded_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;

  if (!bz_daemon_reload_finish (BZ_DAEMON (source), res, &error))
    {
      g_autofree char *text = bz_dbus_utf8 (error->message);

      g_dbus_method_invocation_return_error_literal (g_steal_pointer (&invocation), BZ_DBUS_ERROR,
                                                     BZ_DBUS_ERROR_CONFIG, text);
      return;
    }
  g_dbus_method_invocation_return_value (g_steal_pointer (&invocation), NULL);
}

static gboolean
handle_reload_cb (BzDbusManager *iface, GDBusMethodInvocation *invocation, gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);

  bz_daemon_log (G_LOG_LEVEL_INFO, NULL, "reload requested over D-Bus");
  /* Answered once the new settings are applied and visible on the bus. */
  bz_daemon_reload_async (self, reloaded_cb, g_object_ref (invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_sync_all_cb (BzDbusManager *iface, GDBusMethodInvocation *invocation, gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);
  GPtrArray *accounts = bz_config_get_accounts (self->config);

  bz_daemon_log (G_LOG_LEVEL_INFO, NULL, "sync of every account requested over D-Bus");
  /* Answered first: offline accounts send SyncFinished right away. */
  bz_dbus_manager_complete_sync_all (iface, invocation);
  /* In config order, so max-parallel starts the first ones first. */
  for (guint i = 0; i < accounts->len; i++)
    {
      BzAccount *account = g_ptr_array_index (accounts, i);
      BzDaemonAccount *daemon_account = g_hash_table_lookup (self->accounts, account->name);

      if (daemon_account != NULL)
        bz_daemon_account_request_sync_for_client (daemon_account);
    }
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
listed_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) messages = bz_daemon_list_finish (res, &error);

  if (messages == NULL)
    {
      g_autofree char *text = bz_dbus_utf8 (error->message);

      g_dbus_method_invocation_return_error (g_steal_pointer (&invocation), BZ_DBUS_ERROR,
                                             BZ_DBUS_ERROR_FAILED,
                                             _ ("cannot read the message index: %s"), text);
      return;
    }
  g_dbus_method_invocation_return_value (g_steal_pointer (&invocation),
                                         g_variant_new ("(@aa{sv})", messages));
}

static gboolean
handle_list_messages_cb (BzDbusManager *iface, GDBusMethodInvocation *invocation,
                         const char *account, guint limit, gpointer user_data)
{
  BzDaemon *self = BZ_DAEMON (user_data);

  if (account[0] != '\0' && !bz_account_name_is_valid (account))
    {
      g_dbus_method_invocation_return_error (invocation, BZ_DBUS_ERROR, BZ_DBUS_ERROR_INVALID_ARGS,
                                             _ ("\"%s\" is not an account name "
                                                "([A-Za-z0-9._-]{1,64})"),
                                             account);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (account[0] != '\0' && bz_config_find_account (self->config, account) == NULL)
    {
      g_dbus_method_invocation_return_error (
          invocation, BZ_DBUS_ERROR, BZ_DBUS_ERROR_UNKNOWN_ACCOUNT,
          _ ("no account named \"%s\" in %s"), account, bz_config_get_path (self->config));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (limit == 0)
    limit = BZ_LIST_DEFAULT_LIMIT;
  limit = MIN (limit, BZ_LIST_MAX_LIMIT);
  /* DESIGN.md: the main loop never waits for the disk. The query, the search
   * for moved files and the database update run in a worker. */
  bz_daemon_list_async (bz_daemon_get_database_path (self), account[0] != '\0' ? account : NULL,
                        limit, NULL, listed_cb, g_object_ref (invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
bz_daemon_manager_init (BzDaemon *self)
{
  log_config_errors (self->config);
  g_signal_connect (self->manager_iface, "handle-sync-all", G_CALLBACK (handle_sync_all_cb), self);
  g_signal_connect (self->manager_iface, "handle-reload", G_CALLBACK (handle_reload_cb), self);
  g_signal_connect (self->manager_iface, "handle-list-messages",
                    G_CALLBACK (handle_list_messages_cb), self);
  g_signal_connect (self->manager_iface, "handle-search", G_CALLBACK (bz_daemon_handle_search),
                    self);
}

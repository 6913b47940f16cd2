/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Recovery without a sync, for the daemon's start: with interval = 0 an
 * account may not sync for a long time, and until recovery its messages
 * renamed into new/ before a crash would not count as stored. */
#include "config.h"

#include <unistd.h>

#include "bz-log.h"
#include "bz-sync-private.h"
#include "bz-sync-thread.h"

typedef struct
{
  BzAccount *account;
  char *db_path;
} RecoverData;

static void
recover_data_free (gpointer data)
{
  RecoverData *rd = data;

  bz_account_unref (rd->account);
  g_free (rd->db_path);
  g_free (rd);
}

static void
recover_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RecoverData *rd = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = NULL;
  guint settled = 0, stored = 0;
  int fd;

  fd = bz_sync_lock_account (rd->db_path, rd->account->name, &error);
  if (fd < 0 && !g_error_matches (error, BZ_SYNC_ERROR, BZ_SYNC_ERROR_BUSY))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Busy: the process syncing it recovers first; just count. */
  g_clear_error (&error);
  db = bz_db_open (rd->db_path, &error);
  if (db != NULL && fd >= 0)
    {
      if (!bz_store_recover (db, rd->account->name, rd->account->maildir, &settled, &error))
        g_clear_object (&db);
      else if (settled > 0)
        bz_log_account (G_LOG_LEVEL_INFO, rd->account->name,
                        "recovered %u message(s) left pending by an earlier run", settled);
    }
  if (fd >= 0)
    close (fd);
  if (db == NULL || !bz_db_count_stored (db, rd->account->name, &stored, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_int (task, stored);
}

void
bz_sync_recover_async (BzAccount *account, const char *db_path, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  RecoverData *rd = g_new0 (RecoverData, 1);

  g_task_set_source_tag (task, bz_sync_recover_async);
  rd->account = bz_account_ref (account);
  rd->db_path = g_strdup (db_path);
  g_task_set_task_data (task, rd, recover_data_free);
  /* One account after another, off GIO's shared pool: a large Maildir
   * must not hold up DNS lookups or ListMessages. */
  bz_sync_thread_run_serial (task, recover_thread);
}

gboolean
bz_sync_recover_finish (GAsyncResult *result, guint *stored_count, GError **error)
{
  gssize stored;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  stored = g_task_propagate_int (G_TASK (result), error);
  if (stored < 0)
    return FALSE;
  if (stored_count != NULL)
    *stored_count = (guint) stored;
  return TRUE;
}

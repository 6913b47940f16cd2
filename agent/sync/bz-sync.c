/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The BzSync object: settings, the GTask around the worker thread, and
 * delivery of the worker's callbacks to the caller's main context. */
#include "config.h"

#include "bz-net-connection.h"
#include "bz-secrets.h"
#include "bz-sync-private.h"
#include "bz-sync-thread.h"

struct _BzSync
{
  GObject parent_instance;
  BzAccount *account;
  char *db_path;
  gint64 now;
  BzSyncProgressFunc progress_func;
  gpointer progress_data;
  BzSyncStoredFunc stored_func;
  gpointer stored_data;
  /* The context callbacks go to; NULL while running blocking in one thread. */
  GMainContext *context;
  BzSyncResult result;
};

G_DEFINE_TYPE (BzSync, bz_sync, G_TYPE_OBJECT)

static void
bz_sync_finalize (GObject *object)
{
  BzSync *self = BZ_SYNC (object);

  bz_account_unref (self->account);
  g_free (self->db_path);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (bz_sync_parent_class)->finalize (object);
}

static void
bz_sync_class_init (BzSyncClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bz_sync_finalize;
}

static void
bz_sync_init (BzSync *self)
{
}

BzSync *
bz_sync_new (BzAccount *account, const char *db_path)
{
  BzSync *self = g_object_new (BZ_TYPE_SYNC, NULL);

  g_return_val_if_fail (account != NULL, NULL);
  g_return_val_if_fail (db_path != NULL, NULL);
  self->account = bz_account_ref (account);
  self->db_path = g_strdup (db_path);
  return self;
}

void
bz_sync_set_progress_func (BzSync *self, BzSyncProgressFunc func, gpointer user_data)
{
  self->progress_func = func;
  self->progress_data = user_data;
}

void
bz_sync_set_stored_func (BzSync *self, BzSyncStoredFunc func, gpointer user_data)
{
  self->stored_func = func;
  self->stored_data = user_data;
}

void
bz_sync_set_now (BzSync *self, gint64 now)
{
  self->now = now;
}

/* --- callbacks ----------------------------------------------------------- */

typedef struct
{
  BzSync *sync;
  BzSyncProgress progress;
} ProgressCall;

static gboolean
progress_call_cb (gpointer data)
{
  ProgressCall *call = data;

  call->sync->progress_func (&call->progress, call->sync->progress_data);
  return G_SOURCE_REMOVE;
}

static void
progress_call_free (gpointer data)
{
  ProgressCall *call = data;

  g_object_unref (call->sync);
  g_free (call);
}

void
bz_sync_emit_progress (BzSyncRun *run, gboolean force)
{
  BzSync *self = run->sync;
  gint64 now_us = g_get_monotonic_time ();
  ProgressCall *call;

  if (self->progress_func == NULL)
    return;
  /* A few updates a second are plenty for a progress bar or D-Bus. */
  if (!force && now_us - run->last_progress_us < 100 * 1000)
    return;
  run->last_progress_us = now_us;
  if (self->context == NULL)
    {
      self->progress_func (&run->progress, self->progress_data);
      return;
    }
  call = g_new0 (ProgressCall, 1);
  call->sync = g_object_ref (self);
  call->progress = run->progress;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, progress_call_cb, call,
                              progress_call_free);
}

typedef struct
{
  BzSync *sync;
  BzDbMessage message;
} StoredCall;

static gboolean
stored_call_cb (gpointer data)
{
  StoredCall *call = data;

  call->sync->stored_func (&call->message, call->sync->stored_data);
  return G_SOURCE_REMOVE;
}

static void
stored_call_free (gpointer data)
{
  StoredCall *call = data;

  g_object_unref (call->sync);
  g_free (call->message.account);
  g_free (call->message.uidl);
  g_free (call->message.path);
  g_free (call->message.headers.message_id);
  g_free (call->message.headers.from);
  g_free (call->message.headers.subject);
  g_free (call);
}

void
bz_sync_emit_stored (BzSyncRun *run, const BzDbMessage *message)
{
  BzSync *self = run->sync;
  StoredCall *call;

  if (self->stored_func == NULL)
    return;
  if (self->context == NULL)
    {
      self->stored_func (message, self->stored_data);
      return;
    }
  call = g_new0 (StoredCall, 1);
  call->sync = g_object_ref (self);
  call->message = *message;
  call->message.account = g_strdup (message->account);
  call->message.uidl = g_strdup (message->uidl);
  call->message.path = g_strdup (message->path);
  call->message.headers.message_id = g_strdup (message->headers.message_id);
  call->message.headers.from = g_strdup (message->headers.from);
  call->message.headers.subject = g_strdup (message->headers.subject);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, stored_call_cb, call,
                              stored_call_free);
}

/* --- running ------------------------------------------------------------- */

gboolean
bz_sync_run (BzSync *self, const char *password, GCancellable *cancellable, BzSyncResult *result,
             GError **error)
{
  BzSyncResult local = { 0 };
  gboolean ok;
  g_autoptr (BzSyncPassword) source = NULL;

  g_return_val_if_fail (BZ_IS_SYNC (self), FALSE);
  g_return_val_if_fail ((password != NULL) == (self->account->oauth2 == BZ_OAUTH2_NONE), FALSE);
  if (password != NULL)
    source = bz_sync_password_new_borrowed (password);
  ok = bz_sync_run_worker (self, self->account, self->db_path, source, self->now, cancellable,
                           &local, error);
  if (result != NULL)
    *result = local;
  return ok;
}

typedef struct
{
  BzSyncPassword *password; /* NULL for OAuth2 */
  /* bz_sync_run_lookup_async(): the lookup's own cancellable, cancelled
   * by the caller's and when the run ends (a sync that failed before it
   * needed the password leaves no password-command or prompt behind) */
  GCancellable *lookup;
  GCancellable *caller;
  gulong caller_handler;
} RunData;

static void
run_data_free (gpointer data)
{
  RunData *rd = data;

  if (rd->caller != NULL)
    g_cancellable_disconnect (rd->caller, rd->caller_handler);
  g_clear_object (&rd->caller);
  if (rd->lookup != NULL)
    g_cancellable_cancel (rd->lookup);
  g_clear_object (&rd->lookup);
  g_clear_pointer (&rd->password, bz_sync_password_unref);
  g_free (rd);
}

static void
cancel_lookup_cb (GCancellable *caller, gpointer lookup)
{
  g_cancellable_cancel (lookup);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BzSync *self = source;
  RunData *rd = task_data;
  GError *error = NULL;
  gboolean ok;

  ok = bz_sync_run_worker (self, self->account, self->db_path, rd->password, self->now, cancellable,
                           &self->result, &error);

  /* The run is over: a lookup still going is not needed (and the caller
   * may exit as soon as it has the result). */
  if (rd->lookup != NULL)
    g_cancellable_cancel (rd->lookup);
  /* This thread ends right after: nothing of OpenSSL's may outlive the
   * result, after which the daemon may exit. */
  bz_net_thread_done ();
  if (!ok)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* Starts the worker thread of @task with @rd (taken). */
static void
start_task (BzSync *self, GTask *task, RunData *rd)
{
  /* The worker checks cancellation itself at safe points; a cancelled task
   * must still report what was stored. */
  g_task_set_return_on_cancel (task, FALSE);
  g_task_set_task_data (task, rd, run_data_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();
  memset (&self->result, 0, sizeof self->result);
  /* Our own thread, not GIO's pool: see bz-sync-thread.h. */
  bz_sync_thread_run (task, run_thread);
}

void
bz_sync_run_async (BzSync *self, const char *password, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  RunData *rd;

  g_return_if_fail (BZ_IS_SYNC (self));
  g_return_if_fail ((password != NULL) == (self->account->oauth2 == BZ_OAUTH2_NONE));
  g_task_set_source_tag (task, bz_sync_run_async);

  rd = g_new0 (RunData, 1);
  /* an OAuth2 account's worker gets its access token itself */
  if (password != NULL)
    {
      char *copy =
          bz_secrets_password_from_data (password, strlen (password), self->account->name, &error);

      if (copy == NULL)
        {
          run_data_free (rd);
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      rd->password = bz_sync_password_new ();
      bz_sync_password_set (rd->password, copy, NULL);
    }
  start_task (self, task, rd);
}

static void
lookup_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BzSyncPassword) password = user_data;
  GError *error = NULL;
  char *found = bz_secrets_lookup_finish (res, &error);

  bz_sync_password_set (password, found, error);
}

void
bz_sync_run_lookup_async (BzSync *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  RunData *rd;

  g_return_if_fail (BZ_IS_SYNC (self));
  if (self->account->oauth2 != BZ_OAUTH2_NONE)
    {
      bz_sync_run_async (self, NULL, cancellable, callback, user_data);
      return;
    }
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bz_sync_run_lookup_async);
  rd = g_new0 (RunData, 1);
  rd->password = bz_sync_password_new ();
  rd->lookup = g_cancellable_new ();
  if (cancellable != NULL)
    {
      rd->caller = g_object_ref (cancellable);
      rd->caller_handler =
          g_cancellable_connect (cancellable, G_CALLBACK (cancel_lookup_cb), rd->lookup, NULL);
    }
  bz_secrets_lookup_async (self->account, rd->lookup, lookup_done_cb,
                           bz_sync_password_ref (rd->password));
  start_task (self, task, rd);
}

gboolean
bz_sync_run_finish (BzSync *self, GAsyncResult *res, BzSyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, self), FALSE);
  if (result != NULL)
    *result = self->result;
  return g_task_propagate_boolean (G_TASK (res), error);
}

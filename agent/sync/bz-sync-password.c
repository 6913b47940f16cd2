/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The password of one run, handed from the main context to the worker.
 *
 * A password-command is a shell and a program (3-4 ms for `cat FILE`, far
 * more for `pass`), a keyring lookup a D-Bus round trip: work the worker
 * need not wait for before it connects. The lookup runs on the caller's
 * main context while the worker connects, says TLS hello and reads the
 * greeting; the worker waits here only when it is ready to log in. */
#include "config.h"

#include "bz-secrets.h"
#include "bz-sync-private.h"

struct _BzSyncPassword
{
  gint ref_count; /* atomic */
  GMutex lock;
  GCond changed;
  gboolean ready;
  char *password;       /* owned, non-pageable (bz_secrets), or... */
  const char *borrowed; /* ...the caller's, for the blocking bz_sync_run() */
  GError *error;
};

BzSyncPassword *
bz_sync_password_new (void)
{
  BzSyncPassword *self = g_new0 (BzSyncPassword, 1);

  self->ref_count = 1;
  g_mutex_init (&self->lock);
  g_cond_init (&self->changed);
  return self;
}

BzSyncPassword *
bz_sync_password_new_borrowed (const char *password)
{
  BzSyncPassword *self = bz_sync_password_new ();

  self->borrowed = password;
  self->ready = TRUE;
  return self;
}

BzSyncPassword *
bz_sync_password_ref (BzSyncPassword *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
bz_sync_password_unref (BzSyncPassword *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  bz_secrets_password_free (self->password);
  g_clear_error (&self->error);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->changed);
  g_free (self);
}

void
bz_sync_password_set (BzSyncPassword *self, char *password, GError *error)
{
  g_return_if_fail ((password == NULL) != (error == NULL));

  g_mutex_lock (&self->lock);
  if (self->ready)
    {
      /* only the first answer counts */
      bz_secrets_password_free (password);
      g_clear_error (&error);
    }
  else
    {
      self->password = password;
      self->error = error;
      self->ready = TRUE;
    }
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
}

static void
wake_on_cancel (GCancellable *cancellable, gpointer data)
{
  BzSyncPassword *self = data;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
}

const char *
bz_sync_password_wait (BzSyncPassword *self, GCancellable *cancellable, GError **error)
{
  const char *password = NULL;
  gulong handler = 0;

  /* connected outside the lock: the handler runs at once when the
   * cancellable is cancelled already, and takes the lock itself */
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_on_cancel), self, NULL);
  g_mutex_lock (&self->lock);
  while (!self->ready && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&self->changed, &self->lock);
  if (self->ready && self->error == NULL)
    password = self->borrowed != NULL ? self->borrowed : self->password;
  else if (self->ready)
    g_propagate_error (error, g_error_copy (self->error));
  g_mutex_unlock (&self->lock);
  g_cancellable_disconnect (cancellable, handler);
  if (password == NULL && (error == NULL || *error == NULL))
    g_cancellable_set_error_if_cancelled (cancellable, error);
  return password;
}

gboolean
bz_sync_password_failed (BzSyncPassword *self)
{
  gboolean failed;

  g_mutex_lock (&self->lock);
  failed = self->ready && self->error != NULL;
  g_mutex_unlock (&self->lock);
  return failed;
}

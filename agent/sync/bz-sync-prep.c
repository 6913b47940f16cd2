/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The database side of a run, made ready while the network connects.
 *
 * A sync needs its database only once the server's listing is in, but
 * opening it, settling what a killed run left (bz_store_recover()) and
 * counting the Maildir took a few milliseconds before the first packet
 * left: as long as the TLS handshake. A thread of its own does that work
 * beside connect, TLS, login and the listing; the worker joins it before
 * its first use of the database. The count read then is the run's
 * StoredCount at the end too, unless a row changed in between (a
 * BzDbMark), which saves another pass over the Maildir index on a sync that
 * found nothing new. */
#include "config.h"

#include "bz-log.h"
#include "bz-sync-private.h"

struct _BzSyncPrep
{
  GThread *thread; /* NULL once joined */
  char *account;
  char *maildir;
  char *db_path;
  /* the thread's results, read after the join */
  BzDb *db;
  guint stored;
  BzDbMark mark;
  GError *error;
  gint done; /* atomic: the thread has finished */
};

static gpointer
prep_thread (gpointer data)
{
  BzSyncPrep *prep = data;
  g_autoptr (BzDb) db = NULL;

  bz_log_set_thread_account (prep->account);
  db = bz_db_open (prep->db_path, &prep->error);
  if (db != NULL && bz_store_recover (db, prep->account, prep->maildir, NULL, &prep->error) &&
      bz_db_count_stored (db, prep->account, &prep->stored, &prep->error) &&
      bz_db_get_mark (db, &prep->mark, &prep->error))
    prep->db = g_steal_pointer (&db);
  bz_log_set_thread_account (NULL);
  g_atomic_int_set (&prep->done, 1);
  return NULL;
}

static void
prep_run_here (BzSyncPrep *prep)
{
  g_autofree char *previous = g_strdup (bz_log_get_thread_account ());

  prep_thread (prep);
  bz_log_set_thread_account (previous);
}

BzSyncPrep *
bz_sync_prep_start (const BzAccount *account, const char *db_path)
{
  BzSyncPrep *prep = g_new0 (BzSyncPrep, 1);
  g_autoptr (GError) error = NULL;

  prep->account = g_strdup (account->name);
  prep->maildir = g_strdup (account->maildir);
  prep->db_path = g_strdup (db_path);
  prep->thread = g_thread_try_new ("buzon-db-prep", prep_thread, prep, &error);
  /* no thread to spare: the same work, before connecting, as it was */
  if (prep->thread == NULL)
    {
      g_debug ("%s: no thread for the database (%s); opening it first", account->name,
               error->message);
      prep_run_here (prep);
    }
  return prep;
}

/* Waits for the thread once. */
static void
prep_join (BzSyncPrep *prep)
{
  if (prep->thread != NULL)
    g_thread_join (g_steal_pointer (&prep->thread));
}

BzDb *
bz_sync_prep_get_db (BzSyncPrep *prep, GError **error)
{
  prep_join (prep);
  if (prep->db == NULL)
    {
      g_propagate_error (error, g_error_copy (prep->error));
      return NULL;
    }
  return prep->db;
}

BzDb *
bz_sync_prep_peek_db (BzSyncPrep *prep)
{
  if (!g_atomic_int_get (&prep->done))
    return NULL;
  prep_join (prep);
  return prep->db;
}

gboolean
bz_sync_prep_failed (BzSyncPrep *prep, GError **error)
{
  prep_join (prep);
  if (prep->db != NULL)
    return FALSE;
  g_propagate_error (error, g_error_copy (prep->error));
  return TRUE;
}

gboolean
bz_sync_prep_count_stored (BzSyncPrep *prep, guint *count, GError **error)
{
  BzDbMark now;

  prep_join (prep);
  g_return_val_if_fail (prep->db != NULL, FALSE);
  if (!bz_db_get_mark (prep->db, &now, error))
    return FALSE;
  if (now.changes == prep->mark.changes && now.data_version == prep->mark.data_version)
    {
      *count = prep->stored;
      return TRUE;
    }
  return bz_db_count_stored (prep->db, prep->account, count, error);
}

void
bz_sync_prep_free (BzSyncPrep *prep)
{
  if (prep == NULL)
    return;
  prep_join (prep);
  g_clear_object (&prep->db);
  g_clear_error (&prep->error);
  g_free (prep->account);
  g_free (prep->maildir);
  g_free (prep->db_path);
  g_free (prep);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Start-up recovery and finding files again after a mail client moved
 * them. Files are matched by their unique base name: clients move a
 * message from new/ to cur/ and append ":2,FLAGS", nothing else. */

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "bz-log.h"
#include "bz-store-batch.h"
#include "bz-store-maildir.h"
#include "bz-store-private.h"

/* The Maildir rule (https://cr.yp.to/proto/maildir.html): a file in tmp/
 * untouched for 36 hours is left over; anything younger may be a delivery
 * in progress by another program sharing the folder. */
#define BZ_STORE_TMP_MAX_AGE_S (36 * 3600)

/* A name this very process made: a live file of a batch in progress,
 * never stray. */
static gboolean
is_ours_now (const BzStoreMaildirName *name)
{
  return g_strcmp0 (name->host, bz_store_maildir_host ()) == 0 &&
         name->pid == (gint64) bz_store_maildir_pid ();
}

/* Whether recovery may remove @name from tmp/ (DESIGN.md): our own
 * leftovers (buzon's name pattern, made by any earlier process, under any
 * host name: the machine may have been renamed; the caller holds the
 * account's lock, so no other process of ours writes there now), and
 * other programs' files only once they are older than 36 hours. */
static gboolean
is_stray (const char *name, const GStatBuf *st, gint64 now)
{
  BzStoreMaildirName parsed = { 0 };
  gboolean ours = bz_store_maildir_parse_name (name, &parsed);
  gboolean live = ours && is_ours_now (&parsed);

  bz_store_maildir_name_clear (&parsed);
  if (ours)
    return !live;
  return now - (gint64) st->st_mtime > BZ_STORE_TMP_MAX_AGE_S &&
         now - (gint64) st->st_atime > BZ_STORE_TMP_MAX_AGE_S;
}

static gboolean
clean_tmp (const char *maildir, GError **error)
{
  g_autofree char *tmp = g_build_filename (maildir, "tmp", NULL);
  g_autoptr (GDir) dir = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *name;

  if (!g_file_test (tmp, G_FILE_TEST_IS_DIR))
    return TRUE;
  dir = g_dir_open (tmp, 0, NULL);
  if (dir == NULL)
    return bz_store_fail_errno (error, errno, "read", tmp);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmp, name, NULL);
      GStatBuf st;

      if (g_lstat (path, &st) != 0 || !S_ISREG (st.st_mode) || !is_stray (name, &st, now))
        continue;
      if (g_unlink (path) != 0 && errno != ENOENT)
        return bz_store_fail_errno (error, errno, "remove", path);
      g_debug ("removed stray %s", path);
    }
  return TRUE;
}

/* Makes the renames we found durable before rows say "stored": a process
 * killed between rename and fsync leaves them in the page cache only. */
static gboolean
sync_maildir_of (const char *path, GHashTable *synced, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *maildir = g_path_get_dirname (dir);
  const char *subdirs[] = { "new", "cur" };

  if (g_hash_table_contains (synced, maildir))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *sub = g_build_filename (maildir, subdirs[i], NULL);
      if (!bz_store_fsync_dir (sub, error))
        return FALSE;
    }
  /* A file linked into new/ from an unnamed one (O_TMPFILE) has its link
   * count in its inode, which a folder's fsync() does not write on every
   * file system: what the commit's second syncfs() would have done. */
  if (!bz_store_syncfs (maildir, error))
    return FALSE;
  g_hash_table_add (synced, g_steal_pointer (&maildir));
  return TRUE;
}

gboolean
bz_store_recover (BzDb *db, const char *account, const char *maildir, guint *n_settled,
                  GError **error)
{
  g_autoptr (GPtrArray) pending = NULL;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) synced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (BzStoreMaildirIndex) index = bz_store_maildir_index_new ();
  GError *local = NULL;
  gboolean ok;

  g_return_val_if_fail (BZ_IS_DB (db), FALSE);

  if (n_settled != NULL)
    *n_settled = 0;
  pending = bz_db_list_pending (db, account, &local);
  if (pending == NULL)
    goto db_fail;
  for (guint i = 0; i < pending->len; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (pending, i);
      char *path = g_file_test (msg->path, G_FILE_TEST_EXISTS)
                       ? g_strdup (msg->path)
                       : g_strdup (bz_store_maildir_index_locate (index, msg->path));
      if (path != NULL && !sync_maildir_of (path, synced, error))
        {
          g_free (path);
          return FALSE;
        }
      g_ptr_array_add (found, path);
    }
  if (pending->len > 0)
    {
      ok = bz_db_begin (db, &local);
      for (guint i = 0; ok && i < pending->len; i++)
        {
          BzDbMessage *msg = g_ptr_array_index (pending, i);
          const char *path = g_ptr_array_index (found, i);
          if (path != NULL)
            ok = bz_db_set_stored (db, account, msg->uidl, path, &local);
          else
            ok = bz_db_drop_pending (db, account, msg->uidl, &local);
          bz_log_account (G_LOG_LEVEL_DEBUG, account, "recovery: %s %s", msg->uidl,
                          path != NULL ? path : "fetched again");
        }
      if (ok)
        ok = bz_db_commit (db, &local);
      if (!ok)
        {
          bz_db_rollback (db);
          goto db_fail;
        }
    }
  if (n_settled != NULL)
    *n_settled = pending->len;
  return maildir == NULL || clean_tmp (maildir, error);

db_fail:
  g_set_error (error, BZ_STORE_ERROR, BZ_STORE_ERROR_DB, "Recovery of account %s: %s", account,
               local->message);
  g_error_free (local);
  return FALSE;
}

gboolean
bz_store_refresh_paths (BzDb *db, GPtrArray *messages, GError **error)
{
  g_autoptr (BzStoreMaildirIndex) index = bz_store_maildir_index_new ();
  g_autoptr (GArray) moved = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (BZ_IS_DB (db), FALSE);

  for (guint i = 0; i < messages->len; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (messages, i);
      const char *path;

      if (msg->path == NULL || g_file_test (msg->path, G_FILE_TEST_EXISTS))
        continue;
      path = bz_store_maildir_index_locate (index, msg->path);
      if (path == NULL)
        continue;
      g_free (msg->path);
      msg->path = g_strdup (path);
      g_array_append_val (moved, i);
    }
  if (moved->len == 0)
    return TRUE;
  if (!bz_db_begin (db, &local))
    goto fail;
  for (guint i = 0; i < moved->len; i++)
    {
      const BzDbMessage *msg = g_ptr_array_index (messages, g_array_index (moved, guint, i));

      if (!bz_db_set_stored (db, msg->account, msg->uidl, msg->path, &local))
        goto fail;
    }
  if (!bz_db_commit (db, &local))
    goto fail;
  return TRUE;

fail:
  bz_db_rollback (db);
  g_set_error (error, BZ_STORE_ERROR, BZ_STORE_ERROR_DB, "%s", local->message);
  return FALSE;
}

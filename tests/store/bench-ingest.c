/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Ingest rate, fsync included: 1000 messages of ~10 KB into a Maildir in
 * DIR (default: a new folder in the current one, i.e. on the build's disk,
 * not a tmpfs), for several batch sizes. Batch size 1 is what fsyncing
 * every message costs.
 *
 *   bench-ingest [DIR] */

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>

#include "bz-store.h"
#include "bz-test-messages.h"

#define N_MESSAGES 1000
#define MESSAGE_SIZE 10000

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
    }
  g_remove (path);
}

static gboolean
run (const char *base, GPtrArray *messages, guint batch_size, double *rate, GError **error)
{
  g_autofree char *dir = g_strdup_printf ("%s/batch-%u", base, batch_size);
  g_autofree char *db_path = g_build_filename (dir, "buzon.db", NULL);
  g_autofree char *maildir = g_build_filename (dir, "mail", NULL);
  g_autoptr (BzDb) db = bz_db_open (db_path, error);
  g_autoptr (BzStoreBatch) batch = NULL;
  g_autoptr (GTimer) timer = NULL;

  if (db == NULL)
    return FALSE;
  batch = bz_store_batch_new (db, "bench", maildir, error);
  if (batch == NULL)
    return FALSE;
  timer = g_timer_new ();
  for (guint i = 0; i < messages->len; i++)
    {
      const char *msg = messages->pdata[i];
      gsize len = strlen (msg);
      g_autofree char *uidl = g_strdup_printf ("uidl-%u", i);

      if (!bz_store_batch_begin (batch, uidl, len, error))
        return FALSE;
      for (gsize off = 0; off < len; off += 4000)
        {
          if (!bz_store_batch_write (batch, msg + off, MIN (4000, len - off), error))
            return FALSE;
        }
      if (!bz_store_batch_finish (batch, error))
        return FALSE;
      if (bz_store_batch_get_n_finished (batch) >= batch_size &&
          !bz_store_batch_commit (batch, NULL, error))
        return FALSE;
    }
  if (!bz_store_batch_commit (batch, NULL, error))
    return FALSE;
  *rate = messages->len / g_timer_elapsed (timer, NULL);
  g_clear_object (&batch);
  g_clear_object (&db);
  rm_rf (dir);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *base = NULL;
  const guint batch_sizes[] = { 1, 10, 50, 200, N_MESSAGES };
  gboolean own_dir = argc < 2;

  if (own_dir)
    {
      base = g_build_filename (g_get_current_dir (), "bench-ingest-XXXXXX", NULL);
      if (g_mkdtemp (base) == NULL)
        {
          g_printerr ("cannot create %s\n", base);
          return 1;
        }
    }
  else
    {
      base = g_strdup (argv[1]);
    }
  for (guint i = 0; i < N_MESSAGES; i++)
    g_ptr_array_add (messages, bz_test_message_new (i, MESSAGE_SIZE, NULL));
  g_print ("ingest of %u messages of ~%u bytes into %s, fsync included\n", N_MESSAGES, MESSAGE_SIZE,
           base);
  for (guint i = 0; i < G_N_ELEMENTS (batch_sizes); i++)
    {
      double rate = 0;
      if (!run (base, messages, batch_sizes[i], &rate, &error))
        {
          g_printerr ("bench-ingest: %s\n", error->message);
          return 1;
        }
      g_print ("  batch %4u: %7.0f messages/s\n", batch_sizes[i], rate);
    }
  if (own_dir)
    rm_rf (base);
  return 0;
}

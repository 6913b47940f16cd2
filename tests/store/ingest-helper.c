/* SPDX-License-Identifier: GPL-3.0-or-later */
/* For the crash test: recovers, then ingests the generated messages
 * uidl-00000 .. uidl-<N-1> it does not have yet, in batches, into
 * DATADIR/buzon.db and DATADIR/mail. Killed at random moments by the test.
 *
 *   ingest-helper DATADIR N_MESSAGES BATCH_SIZE [named]
 *
 * "named": as on a file system without O_TMPFILE (files named in tmp/,
 * then renamed). */

#include "config.h"

#include <stdlib.h>

#include "bz-store.h"
#include "bz-store-private.h"
#include "bz-test-messages.h"

static gsize
message_size (guint i)
{
  return 2000 + (i % 10) * 1500;
}

static int
run (const char *datadir, guint n, guint batch_size, GError **error)
{
  g_autofree char *db_path = g_build_filename (datadir, "buzon.db", NULL);
  g_autofree char *maildir = g_build_filename (datadir, "mail", NULL);
  g_autoptr (BzDb) db = NULL;
  g_autoptr (BzStoreBatch) batch = NULL;
  g_autoptr (GPtrArray) uidls = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) fresh = NULL;

  db = bz_db_open (db_path, error);
  if (db == NULL || !bz_store_recover (db, "work", maildir, NULL, error))
    return 1;
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (uidls, g_strdup_printf ("uidl-%05u", i));
  fresh = bz_db_find_new_uidls (db, "work", (const char *const *) uidls->pdata, uidls->len, error);
  if (fresh == NULL)
    return 1;
  batch = bz_store_batch_new (db, "work", maildir, error);
  if (batch == NULL)
    return 1;
  for (guint k = 0; k < fresh->len; k++)
    {
      guint i = g_array_index (fresh, guint, k);
      g_autofree char *msg = bz_test_message_new (i, message_size (i), NULL);
      gsize len = strlen (msg);

      if (!bz_store_batch_begin (batch, uidls->pdata[i], len, error))
        return 1;
      /* the size of a TLS record, roughly what the POP3 reader hands over */
      for (gsize off = 0; off < len; off += 4000)
        {
          if (!bz_store_batch_write (batch, msg + off, MIN (4000, len - off), error))
            return 1;
        }
      if (!bz_store_batch_finish (batch, error))
        return 1;
      if (bz_store_batch_get_n_finished (batch) >= batch_size &&
          !bz_store_batch_commit (batch, NULL, error))
        return 1;
    }
  if (!bz_store_batch_commit (batch, NULL, error))
    return 1;
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int rc;

  if (argc != 4 && !(argc == 5 && g_str_equal (argv[4], "named")))
    {
      g_printerr ("usage: %s DATADIR N_MESSAGES BATCH_SIZE [named]\n", argv[0]);
      return 2;
    }
  bz_store_test_refuse_tmpfile (argc == 5);
  rc = run (argv[1], (guint) atoi (argv[2]), (guint) atoi (argv[3]), &error);
  if (rc != 0)
    g_printerr ("ingest-helper: %s\n", error != NULL ? error->message : "failed");
  return rc;
}

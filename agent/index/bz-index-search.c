/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A search, checked against the disk on the way out: a mail reader moves
 * files from new/ to cur/ (and renames them with flags), and the user
 * deletes some. A moved file is found again by its unique name; a deleted
 * one leaves the index, so it is never offered again. */

#include "config.h"

#include <string.h>

#include "bz-index.h"
#include "bz-store-maildir.h"

/* Extra rows asked for, so that a few pruned ones still leave @limit. */
#define OVERFETCH 16
/* Rounds of asking again when more than OVERFETCH were pruned. */
#define MAX_ROUNDS 4

char *
bz_index_locate (const char *recorded)
{
  g_autoptr (BzStoreMaildirIndex) maildirs = NULL;

  if (g_file_test (recorded, G_FILE_TEST_EXISTS))
    return g_strdup (recorded);
  maildirs = bz_store_maildir_index_new ();
  return g_strdup (bz_store_maildir_index_locate (maildirs, recorded));
}

/* Records moved paths and prunes vanished files; best effort (the answer
 * is right either way, the next search tries again). */
static void
save_changes (BzDb *db, GPtrArray *moved, GArray *vanished)
{
  g_autoptr (GError) error = NULL;

  if (moved->len == 0 && vanished->len == 0)
    return;
  if (!bz_db_begin (db, &error))
    goto fail;
  for (guint i = 0; i < moved->len; i++)
    {
      const BzDbMessage *m = g_ptr_array_index (moved, i);

      if (!bz_db_set_stored (db, m->account, m->uidl, m->path, &error))
        goto fail;
    }
  for (guint i = 0; i < vanished->len; i++)
    {
      if (!bz_db_index_drop (db, g_array_index (vanished, gint64, i), &error))
        goto fail;
    }
  if (!bz_db_commit (db, &error))
    goto fail;
  if (vanished->len > 0)
    g_debug ("%u message(s) left the Maildir: dropped from the index", vanished->len);
  return;

fail:
  bz_db_rollback (db);
  g_debug ("cannot record what changed in the Maildir: %s", error->message);
}

GPtrArray *
bz_index_search (BzDb *db, const char *match, const char *account, guint limit, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_hit_free);
  g_autoptr (BzStoreMaildirIndex) maildirs = bz_store_maildir_index_new ();

  g_return_val_if_fail (BZ_IS_DB (db), NULL);
  g_return_val_if_fail (limit > 0, NULL);

  for (guint round = 0; round < MAX_ROUNDS; round++)
    {
      g_autoptr (GPtrArray) hits = NULL;
      g_autoptr (GPtrArray) moved = g_ptr_array_new ();
      g_autoptr (GArray) vanished = g_array_new (FALSE, FALSE, sizeof (gint64));
      guint asked = limit + OVERFETCH;

      hits = bz_db_index_search (db, match, account, asked, error);
      if (hits == NULL)
        return NULL;
      g_ptr_array_set_size (out, 0);
      for (guint i = 0; i < hits->len && out->len < limit; i++)
        {
          BzDbHit *hit = g_ptr_array_index (hits, i);
          BzDbMessage *m = hit->message;
          const char *now;

          if (g_file_test (m->path, G_FILE_TEST_EXISTS))
            {
              g_ptr_array_add (out, g_steal_pointer (&hits->pdata[i]));
              continue;
            }
          now = bz_store_maildir_index_locate (maildirs, m->path);
          if (now == NULL)
            {
              g_array_append_val (vanished, hit->id);
              continue;
            }
          g_free (m->path);
          m->path = g_strdup (now);
          g_ptr_array_add (moved, m);
          g_ptr_array_add (out, g_steal_pointer (&hits->pdata[i]));
        }
      save_changes (db, moved, vanished);
      /* Enough, or no more to find: rows dropped this round are out of
       * the index, so asking again fills the gap they left. */
      if (out->len >= limit || hits->len < asked || vanished->len == 0)
        break;
    }
  /* snippets for the hits kept only */
  for (guint i = 0; i < out->len; i++)
    {
      BzDbHit *hit = g_ptr_array_index (out, i);
      g_autoptr (GError) body_error = NULL;
      g_autofree char *body = bz_db_index_get_body (db, hit->id, &body_error);

      /* a hit without its text is still a hit: no snippet, not no answer */
      if (body == NULL)
        g_warning ("no snippet: %s", body_error->message);
      hit->snippet = bz_index_snippet_make (body != NULL ? body : "", match);
    }
  return g_steal_pointer (&out);
}

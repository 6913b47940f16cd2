/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bz_rank(message_text): the order of search hits, BM25's term-frequency
 * part with column weights. A word in the subject or the sender counts
 * more than one in the body, and each word's count saturates (k1), so a
 * hit with every word a few times beats one word many times.
 *
 * Left out of FTS5's bm25(), for speed (a word in most of 50,000 messages,
 * measured with sqlite3's .timer and bench-index):
 *   - the row's length: bm25() looks it up in a table of its own for every
 *     match, two thirds of a search (31 ms, against 9 ms without). The
 *     index keeps at most 64 KB of any body, so long bodies gain little;
 *   - IDF: it costs one more pass over every match of each word, and as
 *     every word of our queries must match (bz-index-query.c), it would
 *     only tilt the balance between words every hit has. Two-word searches
 *     took 26 ms at p50 with it, 15 ms without. */

#include "config.h"

#include "bz-db-private.h"

#define RANK_K1 1.2

/* subject, sender, recipients, body: the columns of message_text */
static const double column_weight[] = { 4.0, 2.0, 1.0, 1.0 };

static void
bz_rank (const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int n_values,
         sqlite3_value **values)
{
  int n_phrases = api->xPhraseCount (fts);
  double score = 0.0;

  (void) n_values;
  (void) values;
  /* one phrase at a time: xInst() would first merge every phrase's
   * positions into one sorted list, which we do not need */
  for (int p = 0; p < n_phrases; p++)
    {
      Fts5PhraseIter iter;
      int column, offset;
      double tf = 0.0;
      int rc = api->xPhraseFirst (fts, p, &iter, &column, &offset);

      if (rc != SQLITE_OK)
        {
          sqlite3_result_error_code (ctx, rc);
          return;
        }
      for (; column >= 0; api->xPhraseNext (fts, &iter, &column, &offset))
        {
          if (column < (int) G_N_ELEMENTS (column_weight))
            tf += column_weight[column];
        }
      score += tf * (RANK_K1 + 1.0) / (tf + RANK_K1);
    }
  sqlite3_result_double (ctx, score);
}

gboolean
bz_db_rank_register (sqlite3 *handle)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  fts5_api *api = NULL;

  /* the documented way to reach FTS5's API from a connection */
  if (sqlite3_prepare_v2 (handle, "SELECT fts5(?1)", -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_bind_pointer (stmt, 1, (void *) &api, "fts5_api_ptr", NULL) != SQLITE_OK)
    return FALSE;
  sqlite3_step (stmt);
  if (api == NULL || api->iVersion < 2)
    return FALSE;
  return api->xCreateFunction (api, "bz_rank", NULL, bz_rank, NULL) == SQLITE_OK;
}

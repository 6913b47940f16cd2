/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bz_rank(message_text): the order of search hits. It is BM25 with its
 * document-length part left out (b = 0): FTS5's bm25() looks up every
 * matching row's length in a table of its own, and for a word found in
 * most of 50,000 messages those lookups were two thirds of a search
 * (31 ms, against 9 ms without). Term frequency still saturates (k1) and
 * rare words still weigh more than common ones (IDF), and a word in the
 * subject or the sender counts more than one in a long body, so short
 * bodies lose little: the index keeps at most 64 KB of any body. */

#include "config.h"

#include <math.h>

#include "bz-db-private.h"

#define RANK_K1 1.2

/* subject, sender, recipients, body: the columns of message_text */
static const double column_weight[] = { 4.0, 2.0, 1.0, 1.0 };

/* Per query (FTS5 auxdata): each phrase's IDF, and room to add up its
 * weighted frequency in one row. */
typedef struct
{
  int n_phrases;
  double *idf;
  double *tf;
} RankQuery;

static void
rank_query_free (void *data)
{
  RankQuery *q = data;

  g_free (q->idf);
  g_free (q->tf);
  g_free (q);
}

static int
count_row (const Fts5ExtensionApi *api, Fts5Context *fts, void *user_data)
{
  (void) api;
  (void) fts;
  (*(sqlite3_int64 *) user_data)++;
  return SQLITE_OK;
}

/* The IDF of each phrase, as bm25() has it. One phrase needs none: a
 * factor shared by every row does not change their order, and counting
 * the rows of a common word is a pass over all of them. */
static RankQuery *
rank_query_new (const Fts5ExtensionApi *api, Fts5Context *fts, int *rc)
{
  RankQuery *q = g_new0 (RankQuery, 1);
  sqlite3_int64 rows = 0;

  q->n_phrases = api->xPhraseCount (fts);
  q->idf = g_new (double, MAX (q->n_phrases, 1));
  q->tf = g_new0 (double, MAX (q->n_phrases, 1));
  *rc = q->n_phrases > 1 ? api->xRowCount (fts, &rows) : SQLITE_OK;
  for (int p = 0; p < q->n_phrases && *rc == SQLITE_OK; p++)
    {
      sqlite3_int64 hits = 0;
      double idf = 1.0;

      if (q->n_phrases > 1)
        {
          *rc = api->xQueryPhrase (fts, p, &hits, count_row);
          idf = log ((rows - hits + 0.5) / (hits + 0.5));
        }
      /* a word in more than half the rows: still worth something */
      q->idf[p] = idf > 1e-6 ? idf : 1e-6;
    }
  return q;
}

static void
bz_rank (const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int n_values,
         sqlite3_value **values)
{
  RankQuery *q = api->xGetAuxdata (fts, 0);
  double score = 0.0;
  int n_inst = 0;
  int rc = SQLITE_OK;

  (void) n_values;
  (void) values;
  if (q == NULL)
    {
      q = rank_query_new (api, fts, &rc);
      if (rc == SQLITE_OK)
        rc = api->xSetAuxdata (fts, q, rank_query_free);
      else
        rank_query_free (q);
      if (rc != SQLITE_OK)
        {
          sqlite3_result_error_code (ctx, rc);
          return;
        }
    }
  rc = api->xInstCount (fts, &n_inst);
  for (int i = 0; i < n_inst && rc == SQLITE_OK; i++)
    {
      int phrase, column, offset;

      rc = api->xInst (fts, i, &phrase, &column, &offset);
      if (rc == SQLITE_OK && phrase >= 0 && phrase < q->n_phrases && column >= 0 &&
          column < (int) G_N_ELEMENTS (column_weight))
        q->tf[phrase] += column_weight[column];
    }
  for (int p = 0; p < q->n_phrases; p++)
    {
      score += q->idf[p] * q->tf[p] * (RANK_K1 + 1.0) / (q->tf[p] + RANK_K1);
      q->tf[p] = 0.0;
    }
  if (rc != SQLITE_OK)
    sqlite3_result_error_code (ctx, rc);
  else
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

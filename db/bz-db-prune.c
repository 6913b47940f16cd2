/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Forgetting messages that left the server long ago.
 *
 * Every sync reads all of an account's rows once (the UIDL diff), so rows
 * of gone and deleted messages would make each sync slower forever on a
 * mailbox that sees churn (keep = delete: every message ends deleted).
 * They are kept only to recognise a UIDL that comes back; after
 * BZ_DB_PRUNE_GRACE_DAYS they are dropped.
 *
 * Why dropping is safe for exactly-once: a row is dropped only when its
 * UIDL is absent from the server's complete list of THIS session, checked
 * inside the same transaction as the delete, so a message the server still
 * (or again) offers keeps its row and is never fetched twice. What remains
 * is a server that gives a UIDL to a different or the same message after
 * the grace period, which RFC 1939 section 7 rules out: a unique-id
 * "uniquely identifies a message within a maildrop and ... persists across
 * sessions"; a server may not hand a UIDL it once gave away to another
 * message. The one exception the RFC allows, UIDLs computed as a hash of
 * the message, gives a reappearing UIDL only to a byte-identical copy
 * delivered again, which is then a new delivery, fetched once more on
 * purpose. The grace period covers servers that hide messages for a
 * while (a mailbox restored from a backup, a replica that lags behind).
 *
 * Only rows without a copy in the Maildir are dropped (path IS NULL:
 * skipped as too large, delivered by another client and imported, or
 * vanished before they were fetched). A message buzon stored keeps its
 * row after it left the server (keep = delete makes that every message):
 * the row is what ListMessages, StoredCount, the notifications and the
 * full-text search know the local copy by, and dropping it would make
 * old mail disappear from them while its file is still there. */

#include "config.h"

#include <string.h>

#include "bz-common-order.h"
#include "bz-db-private.h"

/* The UIDL is in @uidls (sorted by @order)? Binary search. */
static gboolean
on_server (const char *uidl, const char *const *uidls, const guint *order, gsize n_uidls)
{
  gsize lo = 0, hi = n_uidls;

  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;
      int cmp = strcmp (uidls[order[mid]], uidl);
      if (cmp == 0)
        return TRUE;
      if (cmp < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return FALSE;
}

static gboolean
step_done (BzDb *self, sqlite3_stmt *stmt, GError **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return bz_db_fail (self, error, "cannot prune old messages");
  return TRUE;
}

typedef struct
{
  gint64 id;
  char *uidl;
} Candidate;

static void
candidate_clear (gpointer data)
{
  g_free (((Candidate *) data)->uidl);
}

/* Inside the transaction: stamps unstamped rows with @now, then deletes
 * the rows that left before @before and are not on the server. The
 * server's list is sorted only when there is a candidate: most syncs have
 * none and pay one index look. */
static gboolean
prune_in_transaction (BzDb *self, gint64 account_id, const char *const *uidls, gsize n_uidls,
                      const guint *sorted, gint64 now, gint64 before, guint *n_pruned,
                      GError **error)
{
  g_autoptr (GArray) candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));
  g_autofree guint *own_order = NULL;
  const guint *order = sorted;
  guint pruned = 0;
  int rc;

  g_array_set_clear_func (candidates, candidate_clear);
  {
    g_autoptr (BzDbCachedStmt) stamp =
        bz_db_cached (self,
                      "UPDATE messages SET left_at = ?2 WHERE account_id = ?1 "
                      "AND state IN ('gone', 'deleted') AND left_at = 0",
                      error);
    if (stamp == NULL ||
        !bz_db_check_bind (self, sqlite3_bind_int64 (stamp, 1, account_id), error) ||
        !bz_db_check_bind (self, sqlite3_bind_int64 (stamp, 2, now), error) ||
        !step_done (self, stamp, error))
      return FALSE;
  }
  {
    /* answered from the partial index messages_left */
    g_autoptr (BzDbCachedStmt) old =
        bz_db_cached (self,
                      "SELECT id, uidl FROM messages WHERE account_id = ?1 "
                      "AND state IN ('gone', 'deleted') AND left_at > 0 AND left_at < ?2 "
                      "AND path IS NULL",
                      error);
    if (old == NULL || !bz_db_check_bind (self, sqlite3_bind_int64 (old, 1, account_id), error) ||
        !bz_db_check_bind (self, sqlite3_bind_int64 (old, 2, before), error))
      return FALSE;
    while ((rc = sqlite3_step (old)) == SQLITE_ROW)
      {
        Candidate c = { sqlite3_column_int64 (old, 0),
                        g_strdup ((const char *) sqlite3_column_text (old, 1)) };
        g_array_append_val (candidates, c);
      }
    if (rc != SQLITE_DONE)
      return bz_db_fail (self, error, "cannot list old messages");
  }
  if (candidates->len > 0 && order == NULL && n_uidls > 0)
    {
      own_order = bz_common_order_strings (uidls, (guint) n_uidls);
      order = own_order;
    }
  for (guint i = 0; i < candidates->len; i++)
    {
      const Candidate *c = &g_array_index (candidates, Candidate, i);
      g_autoptr (BzDbCachedStmt) del = NULL;

      if (c->uidl == NULL || on_server (c->uidl, uidls, order, n_uidls))
        continue;
      del = bz_db_cached (self,
                          "DELETE FROM messages WHERE id = ?1 "
                          "AND state IN ('gone', 'deleted')",
                          error);
      if (del == NULL || !bz_db_check_bind (self, sqlite3_bind_int64 (del, 1, c->id), error) ||
          !step_done (self, del, error))
        return FALSE;
      pruned++;
    }
  *n_pruned = pruned;
  return TRUE;
}

gboolean
bz_db_prune_left (BzDb *self, const char *account, const char *const *server_uidls, gsize n_uidls,
                  const guint *sorted, gint64 now, gint64 grace, guint *n_pruned, GError **error)
{
  gint64 account_id = 0;
  guint pruned = 0;

  g_return_val_if_fail (BZ_IS_DB (self), FALSE);
  g_return_val_if_fail (now > 0 && grace >= 0, FALSE);

  if (n_pruned != NULL)
    *n_pruned = 0;
  if (!bz_db_account_id (self, account, FALSE, &account_id, error))
    return FALSE;
  if (account_id == 0)
    return TRUE;
  if (!bz_db_begin (self, error))
    return FALSE;
  if (!prune_in_transaction (self, account_id, server_uidls, n_uidls, sorted, now, now - grace,
                             &pruned, error) ||
      !bz_db_commit (self, error))
    {
      bz_db_rollback (self);
      return FALSE;
    }
  if (n_pruned != NULL)
    *n_pruned = pruned;
  return TRUE;
}

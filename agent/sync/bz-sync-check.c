/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The wire is checked, not trusted (DESIGN.md). The POP3 session measures
 * each RETR answer against LIST; here the sync decides what a misfit
 * means:
 *   - the first time, nothing of that answer (nor after it, when more was
 *     in flight) is stored; the message is fetched again alone, in this
 *     session when nothing else was in flight, else in a new one, and the
 *     rest of the run goes one command at a time;
 *   - the same bytes a second time mean the server miscounts: the message
 *     is kept, but never DELEd on that evidence alone (its row records the
 *     octets received, and the keep policy DELEs only a message whose
 *     size on the server is that of the stored copy);
 *   - other bytes mean the stream was out of step: refused again, up to a
 *     few times, then the sync fails.
 * An answer cut off as too large is recorded as skipped. */
#include "config.h"

#include "bz-common-text.h"
#include "bz-sync-private.h"

/* Answers that do not fit, per message and run, before giving up. */
#define MAX_ATTEMPTS 3

typedef struct
{
  guint64 digest;
  guint attempts;
} Misfit;

void
bz_sync_check_init (BzSyncRun *run)
{
  run->misfits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  run->no_dele = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  run->cut = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
bz_sync_check_clear (BzSyncRun *run)
{
  g_clear_pointer (&run->misfits, g_hash_table_unref);
  g_clear_pointer (&run->no_dele, g_hash_table_unref);
  g_clear_pointer (&run->cut, g_hash_table_unref);
}

gboolean
bz_sync_check_answer (BzSyncRun *run, guint msgno, const char *uidl,
                      const BzPop3MessageFacts *facts)
{
  g_autofree char *shown = bz_common_text_sanitize (uidl, -1);
  Misfit *m;

  run->misfit_msgno = msgno;
  if (facts->cut)
    {
      g_hash_table_replace (run->cut, g_strdup (uidl),
                            g_memdup2 (&facts->octets, sizeof (guint64)));
      return FALSE;
    }
  m = g_hash_table_lookup (run->misfits, uidl);
  if (m == NULL)
    {
      m = g_new0 (Misfit, 1);
      g_hash_table_insert (run->misfits, g_strdup (uidl), m);
    }
  else if (m->digest == facts->digest && !facts->status_first)
    {
      /* Fetched alone, the same bytes again: the server counts otherwise
       * (LF line ends, say), the stream is in step. A warning once a run:
       * such a server does it for every message. */
      if (g_hash_table_size (run->no_dele) == 0)
        g_warning ("%s: message %s: the server says %" G_GUINT64_FORMAT
                   " octets but sent %" G_GUINT64_FORMAT
                   " twice alike; kept, and left on the server",
                   run->account->name, shown, facts->expected, facts->octets);
      else
        g_info ("%s: message %s: the server says %" G_GUINT64_FORMAT
                " octets but sent %" G_GUINT64_FORMAT " twice alike; kept, and left on the server",
                run->account->name, shown, facts->expected, facts->octets);
      g_hash_table_replace (run->no_dele, g_strdup (uidl),
                            g_memdup2 (&facts->octets, sizeof (guint64)));
      return TRUE;
    }
  m->digest = facts->digest;
  if (++m->attempts >= MAX_ATTEMPTS)
    run->give_up = TRUE;
  g_info ("%s: message %s: the answer does not fit (%" G_GUINT64_FORMAT
          " octets, LIST %" G_GUINT64_FORMAT "%s); fetching it again alone",
          run->account->name, shown, facts->octets, facts->expected,
          facts->status_first ? ", begins with a status line" : "");
  return FALSE;
}

gboolean
bz_sync_check_fetch (BzSyncRun *run, BzPop3MessageSink *sink, const guint *msgnos,
                     const guint64 *sizes, gsize n, GError **error)
{
  gsize from = 0;

  for (;;)
    {
      BzPop3FetchOptions options = { 0 };
      g_autoptr (GError) local = NULL;
      gsize at;

      options.sizes = sizes + from;
      options.max_size = run->account->max_size;
      options.window = run->careful ? 1 : 0;
      if (bz_pop3_session_fetch_checked (run->session, msgnos + from, n - from, FALSE, 0, &options,
                                         sink, run->cancellable, &local))
        return TRUE;
      if (g_error_matches (local, BZ_POP3_ERROR, BZ_POP3_ERROR_MISFIT))
        run->careful = TRUE;
      if (!g_error_matches (local, BZ_POP3_ERROR, BZ_POP3_ERROR_MISFIT) || run->give_up ||
          !bz_pop3_session_is_usable (run->session))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* Nothing else was in flight: the stream is at a command boundary,
       * the refused message can be asked again at once. */
      for (at = from; at < n && msgnos[at] != run->misfit_msgno; at++)
        ;
      if (at == n)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      from = at;
    }
}

gboolean
bz_sync_check_can_retry (BzSyncRun *run, const GError *error)
{
  if (run->give_up)
    return FALSE;
  return g_error_matches (error, BZ_POP3_ERROR, BZ_POP3_ERROR_MISFIT) ||
         g_error_matches (error, BZ_POP3_ERROR, BZ_POP3_ERROR_TOO_LARGE);
}

gboolean
bz_sync_check_record_cut (BzSyncRun *run, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, run->cut);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *shown = bz_common_text_sanitize (key, -1);
      guint64 octets = *(const guint64 *) value;

      /* The size recorded is what was read, more than LIST said: the
       * message is fetched again only once max-size allows that much. */
      if (!bz_db_record_skipped (run->db, run->account->name, key, octets, NULL, error))
        return FALSE;
      run->result->skipped++;
      g_warning ("%s: message %s: %" G_GUINT64_FORMAT
                 " octets and more, far beyond its size or max-size; stopped and recorded as "
                 "skipped (too large)",
                 run->account->name, shown, octets);
      g_hash_table_iter_remove (&iter);
    }
  return TRUE;
}

gboolean
bz_sync_check_record_doubts (BzSyncRun *run, GError **error)
{
  GHashTableIter iter;
  gpointer key, value;

  /* The row keeps the octets received, not LIST's: the keep policy DELEs
   * a message only while the server's size is that of the stored copy,
   * so this one stays on the server in later runs too. */
  g_hash_table_iter_init (&iter, run->no_dele);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (!bz_db_set_size (run->db, run->account->name, key, *(const guint64 *) value, error))
        return FALSE;
    }
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sinks that connect the POP3 stream to the store: whole messages into a
 * BzStoreBatch with batched commits, and TOP 0 header blocks into memory. */
#include "config.h"

#include "bz-log.h"
#include "bz-sync-private.h"

/* Durability is per batch (DESIGN.md): one fsync pass, two transactions and
 * one directory fsync for this many messages or bytes, whichever first.
 * 128 is what a batch keeps open (BZ_STORE_MAX_OPEN): with more, the
 * commit opened the rest of the files again (10,000 extra open() calls
 * per 10,000 messages). */
#define BATCH_MAX_MESSAGES 128
#define BATCH_MAX_BYTES (32 * 1024 * 1024)

/* The commits run in a committer thread, with its own database connection
 * (a BzDb is used by one thread at a time; WAL lets two connections work),
 * while the worker keeps reading into the other of two batches: at most
 * one batch is in flight, so memory and open files stay bounded. Batches
 * are committed one at a time in the order they were filled, and each
 * commit still runs steps 1-4 of DESIGN.md in order for all its messages.
 * The worker collects a commit's results (stored messages, the first
 * error) before it hands over the next batch and, at the end, before
 * anything else runs: the keep policy only ever sees committed rows. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GThread *thread;
  BzStoreBatch *job; /* handed over, commit not finished */
  gboolean quit;
  GPtrArray *stored; /* BzDbMessage, committed, not yet collected */
  GError *error;     /* first commit error not yet collected */
  char *account;     /* what its log lines are about */
} Committer;

typedef struct
{
  BzPop3MessageSink sink;
  BzSyncRun *run;
  BzStoreBatch *batch; /* being filled by the worker */
  BzStoreBatch *spare; /* the other one: idle or with the committer */
  Committer *committer;
  const guint *msgnos; /* parallel arrays, in the order requested */
  const char *const *uidls;
  const guint64 *sizes;
  gsize n;
  gsize next; /* where the next answer is expected */
  guint64 batch_bytes;
  gboolean in_message;
} StoreSink;

static gpointer
committer_thread (gpointer data)
{
  Committer *c = data;

  bz_log_set_thread_account (c->account);
  g_mutex_lock (&c->lock);
  for (;;)
    {
      BzStoreBatch *batch;
      GPtrArray *stored = NULL;
      GError *error = NULL;

      while (c->job == NULL && !c->quit)
        g_cond_wait (&c->cond, &c->lock);
      if (c->job == NULL)
        break;
      batch = c->job;
      g_mutex_unlock (&c->lock);

      bz_store_batch_commit (batch, &stored, &error);

      g_mutex_lock (&c->lock);
      if (stored != NULL)
        g_ptr_array_extend_and_steal (c->stored, g_steal_pointer (&stored));
      if (error != NULL && c->error == NULL)
        c->error = g_steal_pointer (&error);
      else if (error != NULL)
        {
          bz_log_account (G_LOG_LEVEL_WARNING, c->account, "%s", error->message);
          g_clear_error (&error);
        }
      c->job = NULL;
      g_cond_broadcast (&c->cond);
    }
  g_mutex_unlock (&c->lock);
  return NULL;
}

static Committer *
committer_start (const char *account)
{
  Committer *c = g_new0 (Committer, 1);

  c->account = g_strdup (account);
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->stored = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_message_free);
  c->thread = g_thread_new ("buzon-commit", committer_thread, c);
  return c;
}

/* Waits for the commit in flight, if any, and stops the thread. */
static void
committer_stop (Committer *c)
{
  g_mutex_lock (&c->lock);
  c->quit = TRUE;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  g_thread_join (c->thread);
  g_ptr_array_unref (c->stored);
  if (c->error != NULL)
    {
      bz_log_account (G_LOG_LEVEL_WARNING, c->account, "%s", c->error->message);
      g_error_free (c->error);
    }
  g_free (c->account);
  g_cond_clear (&c->cond);
  g_mutex_clear (&c->lock);
  g_free (c);
}

/* Waits until the committer is idle, then reports what it committed (in
 * the worker's thread, as before) and the first error since the last call. */
static gboolean
collect_commits (StoreSink *s, GError **error)
{
  Committer *c = s->committer;
  g_autoptr (GPtrArray) stored = NULL;
  GError *first = NULL;

  g_mutex_lock (&c->lock);
  while (c->job != NULL)
    g_cond_wait (&c->cond, &c->lock);
  stored = g_steal_pointer (&c->stored);
  c->stored = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_db_message_free);
  first = g_steal_pointer (&c->error);
  g_mutex_unlock (&c->lock);

  for (guint i = 0; i < stored->len; i++)
    {
      bz_sync_emit_stored (s->run, g_ptr_array_index (stored, i));
      s->run->result->new_messages++;
    }
  if (first != NULL)
    {
      g_propagate_error (error, first);
      return FALSE;
    }
  return TRUE;
}

/* Hands the finished messages to the committer and goes on with the other
 * batch; waits first for the previous commit (one batch in flight). */
static gboolean
commit_batch (StoreSink *s, GError **error)
{
  BzStoreBatch *full;

  if (!collect_commits (s, error))
    return FALSE;
  if (bz_store_batch_get_n_finished (s->batch) == 0)
    return TRUE;
  full = s->batch;
  s->batch = s->spare;
  s->spare = full;
  s->batch_bytes = 0;
  g_mutex_lock (&s->committer->lock);
  s->committer->job = full;
  g_cond_broadcast (&s->committer->cond);
  g_mutex_unlock (&s->committer->lock);
  return TRUE;
}

/* Commits what is finished and waits until every commit is done. */
static gboolean
commit_all (StoreSink *s, GError **error)
{
  g_autoptr (GError) handoff_error = NULL;

  if (!commit_batch (s, &handoff_error))
    {
      g_autoptr (GError) last_error = NULL;

      /* An earlier batch failed: still commit what is finished. */
      if (!commit_batch (s, &last_error) || !collect_commits (s, &last_error))
        bz_log_account (G_LOG_LEVEL_WARNING, s->run->account->name, "%s", last_error->message);
      g_propagate_error (error, g_steal_pointer (&handoff_error));
      return FALSE;
    }
  return collect_commits (s, error);
}

/* The position of @msgno in the request. Answers come in request order,
 * so this is the next one but for the -ERRs in between: no lookup table. */
static gssize
find_msgno (StoreSink *s, guint msgno)
{
  for (gsize k = 0; k < s->n; k++)
    {
      gsize i = (s->next + k) % s->n;
      if (s->msgnos[i] == msgno)
        {
          s->next = i + 1;
          return (gssize) i;
        }
    }
  return -1;
}

static gboolean
store_begin (BzPop3MessageSink *sink, guint msgno, GError **error)
{
  StoreSink *s = (StoreSink *) sink;
  gssize i = find_msgno (s, msgno);

  g_return_val_if_fail (i >= 0, FALSE);
  if (!bz_store_batch_begin (s->batch, s->uidls[i], s->sizes[i], error))
    return FALSE;
  s->in_message = TRUE;
  return TRUE;
}

static gboolean
store_write (BzPop3MessageSink *sink, const char *data, gsize len, GError **error)
{
  StoreSink *s = (StoreSink *) sink;

  if (!bz_store_batch_write (s->batch, data, len, error))
    {
      s->in_message = FALSE;
      return FALSE;
    }
  s->batch_bytes += len;
  s->run->progress.bytes_done += len;
  bz_sync_emit_progress (s->run, FALSE);
  return TRUE;
}

static gboolean
store_end (BzPop3MessageSink *sink, guint msgno, GError **error)
{
  StoreSink *s = (StoreSink *) sink;

  s->in_message = FALSE;
  if (!bz_store_batch_finish (s->batch, error))
    return FALSE;
  s->run->progress.messages_done++;
  bz_sync_emit_progress (s->run, FALSE);
  if (bz_store_batch_get_n_finished (s->batch) >= BATCH_MAX_MESSAGES ||
      s->batch_bytes >= BATCH_MAX_BYTES)
    {
      if (!commit_batch (s, error))
        return FALSE;
    }
  /* Between two messages is a safe point to stop: everything finished so
   * far gets committed by the caller. */
  if (g_cancellable_set_error_if_cancelled (s->run->cancellable, error))
    return FALSE;
  return TRUE;
}

static void
store_fail (BzPop3MessageSink *sink, guint msgno, const GError *reason)
{
  StoreSink *s = (StoreSink *) sink;
  gssize i = find_msgno (s, msgno);
  const char *uidl = i >= 0 ? s->uidls[i] : NULL;

  if (s->in_message)
    bz_store_batch_abort (s->batch);
  s->in_message = FALSE;
  if (reason != NULL && reason->domain == BZ_POP3_ERROR && reason->code == BZ_POP3_ERROR_SERVER)
    bz_log_account (G_LOG_LEVEL_WARNING, s->run->account->name, "message %u (%s) not retrieved: %s",
                    msgno, uidl ? uidl : "?", reason->message);
}

gboolean
bz_sync_fetch_messages (BzSyncRun *run, const guint *msgnos, const char *const *uidls,
                        const guint64 *sizes, gsize n, GError **error)
{
  g_autoptr (BzDb) commit_db = NULL;
  g_autoptr (BzStoreBatch) batch = NULL;
  g_autoptr (BzStoreBatch) spare = NULL;
  g_autoptr (GError) fetch_error = NULL;
  g_autoptr (GError) commit_error = NULL;
  StoreSink s = { 0 };
  gboolean fetched;
  gboolean committed;

  /* The committer's own connection: both batches commit through it, only
   * ever in the committer thread. */
  commit_db = bz_db_open (bz_db_get_path (run->db), error);
  if (commit_db == NULL)
    return FALSE;
  batch = bz_store_batch_new (commit_db, run->account->name, run->account->maildir, error);
  if (batch == NULL)
    return FALSE;
  spare = bz_store_batch_new (commit_db, run->account->name, run->account->maildir, error);
  if (spare == NULL)
    return FALSE;
  /* keep = days:N counts from the fetch time: under a test clock it must
   * be on that clock too. */
  if (run->fixed_clock)
    {
      bz_store_batch_set_now (batch, run->now);
      bz_store_batch_set_now (spare, run->now);
    }
  run->progress.messages_total = n;
  run->progress.messages_done = 0;
  run->progress.bytes_total = 0;
  run->progress.bytes_done = 0;
  for (gsize i = 0; i < n; i++)
    run->progress.bytes_total += sizes[i];
  bz_sync_emit_progress (run, TRUE);

  s.sink.begin = store_begin;
  s.sink.write = store_write;
  s.sink.end = store_end;
  s.sink.fail = store_fail;
  s.run = run;
  s.batch = batch;
  s.spare = spare;
  s.msgnos = msgnos;
  s.uidls = uidls;
  s.sizes = sizes;
  s.n = n;
  s.committer = committer_start (run->account->name);

  fetched = bz_pop3_session_fetch_many (run->session, msgnos, n, FALSE, 0, &s.sink,
                                        run->cancellable, &fetch_error);
  /* Whatever happened, what arrived whole is kept (DESIGN.md: a dropped
   * connection keeps every message stored so far). */
  if (s.in_message)
    bz_store_batch_abort (s.batch);
  committed = commit_all (&s, &commit_error);
  /* Every commit is done before the keep policy, DELE or QUIT run. */
  committer_stop (s.committer);
  s.committer = NULL;
  if (!committed && fetched)
    {
      g_propagate_error (error, g_steal_pointer (&commit_error));
      return FALSE;
    }
  if (commit_error != NULL)
    bz_log_account (G_LOG_LEVEL_WARNING, run->account->name, "%s", commit_error->message);
  bz_sync_emit_progress (run, TRUE);
  if (!fetched)
    {
      g_propagate_error (error, g_steal_pointer (&fetch_error));
      return FALSE;
    }
  return TRUE;
}

/* --- TOP 0 ---------------------------------------------------------------- */

#define HEADER_BLOCK_MAX (256 * 1024)

typedef struct
{
  BzPop3MessageSink sink;
  GHashTable *index_by_msgno; /* msgno -> index + 1 */
  GPtrArray *headers;         /* BzDbHeaders*, NULL where refused */
  GString *buffer;
} HeaderSink;

static gboolean
header_begin (BzPop3MessageSink *sink, guint msgno, GError **error)
{
  HeaderSink *h = (HeaderSink *) sink;

  g_string_truncate (h->buffer, 0);
  return TRUE;
}

static gboolean
header_write (BzPop3MessageSink *sink, const char *data, gsize len, GError **error)
{
  HeaderSink *h = (HeaderSink *) sink;

  /* A server may send more than the header block; the index needs only it. */
  if (h->buffer->len < HEADER_BLOCK_MAX)
    g_string_append_len (h->buffer, data, MIN (len, HEADER_BLOCK_MAX - h->buffer->len));
  return TRUE;
}

static gboolean
header_end (BzPop3MessageSink *sink, guint msgno, GError **error)
{
  HeaderSink *h = (HeaderSink *) sink;
  guint idx = GPOINTER_TO_UINT (g_hash_table_lookup (h->index_by_msgno, GUINT_TO_POINTER (msgno)));

  g_return_val_if_fail (idx > 0, FALSE);
  bz_db_headers_free (g_ptr_array_index (h->headers, idx - 1));
  g_ptr_array_index (h->headers, idx - 1) = bz_store_headers_parse (h->buffer->str, h->buffer->len);
  return TRUE;
}

static void
header_fail (BzPop3MessageSink *sink, guint msgno, const GError *reason)
{
}

GPtrArray *
bz_sync_fetch_headers (BzSyncRun *run, const guint *msgnos, gsize n, GError **error)
{
  g_autoptr (GHashTable) index_by_msgno = g_hash_table_new (NULL, NULL);
  g_autoptr (GPtrArray) headers = g_ptr_array_new_full (n, (GDestroyNotify) bz_db_headers_free);
  g_autoptr (GString) buffer = g_string_new (NULL);
  HeaderSink h = { 0 };

  for (gsize i = 0; i < n; i++)
    {
      g_hash_table_insert (index_by_msgno, GUINT_TO_POINTER (msgnos[i]), GUINT_TO_POINTER (i + 1));
      g_ptr_array_add (headers, NULL);
    }
  h.sink.begin = header_begin;
  h.sink.write = header_write;
  h.sink.end = header_end;
  h.sink.fail = header_fail;
  h.index_by_msgno = index_by_msgno;
  h.headers = headers;
  h.buffer = buffer;
  if (!bz_pop3_session_fetch_many (run->session, msgnos, n, TRUE, 0, &h.sink, run->cancellable,
                                   error))
    return NULL;
  return g_steal_pointer (&headers);
}

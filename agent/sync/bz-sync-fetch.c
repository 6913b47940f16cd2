/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sinks that connect the POP3 stream to the store: whole messages into a
 * BzStoreBatch with batched commits, and TOP 0 header blocks into memory. */
#include "config.h"

#include "bz-log.h"
#include "bz-common-text.h"
#include "bz-sync-private.h"

/* Durability is per batch (DESIGN.md): two flushes and two transactions
 * for this many messages or bytes, whichever first. A first download of
 * 50,000 small messages took 17% less time with 512 than with 128: the
 * committer, the slower of the two threads, spent half its time waiting
 * for the flushes. The store keeps finished files open within a budget
 * from RLIMIT_NOFILE (bz-store-batch.c), which buzond raises: under a
 * low limit the files past it are only closed and named earlier. */
#define BATCH_MAX_MESSAGES 512
#define BATCH_MAX_BYTES (32 * 1024 * 1024)
/* ... or time (DESIGN.md: a message is durable at most about one second
 * after its last byte arrived): the committer takes what is finished this
 * long after the first of it finished, whatever the download thread is
 * doing meanwhile (waiting for a slow server, most likely), which leaves
 * the rest of the second for the commit itself. */
#define BATCH_MAX_DELAY_US (G_USEC_PER_SEC / 2)

/* The commits run in a committer thread, with its own database connection
 * (a BzDb is used by one thread at a time; WAL lets two connections work),
 * while the worker keeps reading. The worker fills one batch; the
 * committer moves its finished messages into a batch of its own (under
 * the lock, so the message being written stays with the worker) and
 * commits them: when the worker asks (count or size reached) or when the
 * oldest finished message has waited BATCH_MAX_DELAY_US. At most one
 * commit is in flight, so memory and open files stay bounded; messages are
 * committed in the order they finished, and each commit still runs steps
 * 1-4 of DESIGN.md in order for all its messages. The worker collects the
 * commits' results (stored messages, the first error) as it goes and, at
 * the end, waits for every commit before anything else runs: the keep
 * policy only ever sees committed rows. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GThread *thread;
  BzStoreBatch *fill;   /* the worker's; its finished messages are under the lock */
  BzStoreBatch *commit; /* the committer's */
  guint64 fill_bytes;   /* of fill's finished messages */
  gint64 deadline;      /* monotonic time by which fill's finished ones go; 0: none */
  gboolean busy;        /* commit holds messages not committed yet */
  gboolean quit;
  GPtrArray *stored; /* BzDbMessage, committed, not yet collected */
  GError *error;     /* first commit error not yet collected */
  char *account;     /* what its log lines are about */
} Committer;

typedef struct
{
  BzPop3MessageSink sink;
  BzSyncRun *run;
  BzStoreBatch *batch; /* being filled by the worker (Committer.fill) */
  Committer *committer;
  const guint *msgnos; /* parallel arrays, in the order requested */
  const char *const *uidls;
  const guint64 *sizes;
  gsize n;
  gsize next;            /* where the next answer is expected */
  guint64 message_bytes; /* of the message in progress */
  gboolean in_message;
} StoreSink;

/* With the lock held and no commit in flight: hands what fill finished to
 * the committer. */
static void
hand_over_locked (Committer *c)
{
  g_assert (!c->busy);
  c->deadline = 0;
  c->fill_bytes = 0;
  if (bz_store_batch_get_n_finished (c->fill) == 0)
    return;
  bz_store_batch_take_finished (c->commit, c->fill);
  c->busy = TRUE;
  g_cond_broadcast (&c->cond);
}

static gpointer
committer_thread (gpointer data)
{
  Committer *c = data;

  bz_log_set_thread_account (c->account);
  g_mutex_lock (&c->lock);
  for (;;)
    {
      if (!c->busy && c->deadline > 0 && g_get_monotonic_time () >= c->deadline)
        hand_over_locked (c);
      if (c->busy)
        {
          GPtrArray *stored = NULL;
          GError *error = NULL;

          g_mutex_unlock (&c->lock);
          bz_store_batch_commit (c->commit, &stored, &error);
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
          c->busy = FALSE;
          g_cond_broadcast (&c->cond);
          continue;
        }
      if (c->quit)
        break;
      if (c->deadline > 0)
        g_cond_wait_until (&c->cond, &c->lock, c->deadline);
      else
        g_cond_wait (&c->cond, &c->lock);
    }
  g_mutex_unlock (&c->lock);
  return NULL;
}

static Committer *
committer_start (const char *account, BzStoreBatch *fill, BzStoreBatch *commit)
{
  Committer *c = g_new0 (Committer, 1);

  c->account = g_strdup (account);
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->fill = fill;
  c->commit = commit;
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
  c->deadline = 0;
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

/* Reports what the committer stored since the last call (in the worker's
 * thread, as before) and the first error since; does not wait. */
static gboolean
collect_commits (StoreSink *s, GError **error)
{
  Committer *c = s->committer;
  g_autoptr (GPtrArray) stored = NULL;
  GError *first = NULL;

  g_mutex_lock (&c->lock);
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

/* Commits everything finished and waits until every commit is done; the
 * first error of any of them. */
static gboolean
commit_all (StoreSink *s, GError **error)
{
  Committer *c = s->committer;

  g_mutex_lock (&c->lock);
  while (c->busy)
    g_cond_wait (&c->cond, &c->lock);
  hand_over_locked (c);
  while (c->busy)
    g_cond_wait (&c->cond, &c->lock);
  g_mutex_unlock (&c->lock);
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
  s->message_bytes = 0;
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
  s->message_bytes += len;
  s->run->progress.bytes_done += len;
  bz_sync_emit_progress (s->run, FALSE);
  return TRUE;
}

static gboolean
store_end (BzPop3MessageSink *sink, guint msgno, GError **error)
{
  StoreSink *s = (StoreSink *) sink;
  Committer *c = s->committer;
  gboolean finished;

  s->in_message = FALSE;
  /* finish() adds to the messages the committer may take at any time */
  g_mutex_lock (&c->lock);
  finished = bz_store_batch_finish (s->batch, error);
  if (finished)
    {
      c->fill_bytes += s->message_bytes;
      if (c->deadline == 0)
        {
          c->deadline = g_get_monotonic_time () + BATCH_MAX_DELAY_US;
          g_cond_broadcast (&c->cond);
        }
      if (bz_store_batch_get_n_finished (s->batch) >= BATCH_MAX_MESSAGES ||
          c->fill_bytes >= BATCH_MAX_BYTES)
        {
          /* one commit in flight: wait for it before handing over more */
          while (c->busy)
            g_cond_wait (&c->cond, &c->lock);
          hand_over_locked (c);
        }
    }
  g_mutex_unlock (&c->lock);
  if (!finished)
    return FALSE;
  s->run->progress.messages_done++;
  bz_sync_emit_progress (s->run, FALSE);
  /* a failed commit (a full disk, say) ends the fetching */
  if (!collect_commits (s, error))
    return FALSE;
  /* Between two messages is a safe point to stop: everything finished so
   * far gets committed by the caller. */
  if (g_cancellable_set_error_if_cancelled (s->run->cancellable, error))
    return FALSE;
  return TRUE;
}

static gboolean
store_check (BzPop3MessageSink *sink, guint msgno, const BzPop3MessageFacts *facts)
{
  StoreSink *s = (StoreSink *) sink;
  gssize i = find_msgno (s, msgno);

  return i >= 0 && bz_sync_check_answer (s->run, msgno, s->uidls[i], facts);
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
    {
      g_autofree char *shown = bz_common_text_sanitize (uidl ? uidl : "?", -1);
      bz_log_account (G_LOG_LEVEL_WARNING, s->run->account->name,
                      "message %u (%s) not retrieved: %s", msgno, shown, reason->message);
    }
}

gboolean
bz_sync_fetch_messages (BzSyncRun *run, const guint *msgnos, const char *const *uidls,
                        const guint64 *sizes, gsize n, GError **error)
{
  g_autoptr (BzDb) commit_db = NULL;
  g_autoptr (BzStoreBatch) batch = NULL;
  g_autoptr (BzStoreBatch) commit = NULL;
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
  /* made before any file is written: its syncfs() reports their errors */
  commit = bz_store_batch_new (commit_db, run->account->name, run->account->maildir, error);
  if (commit == NULL)
    return FALSE;
  /* keep = days:N counts from the fetch time: under a test clock it must
   * be on that clock too. */
  if (run->fixed_clock)
    {
      bz_store_batch_set_now (batch, run->now);
      bz_store_batch_set_now (commit, run->now);
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
  s.sink.check = store_check;
  s.run = run;
  s.batch = batch;
  s.msgnos = msgnos;
  s.uidls = uidls;
  s.sizes = sizes;
  s.n = n;
  s.committer = committer_start (run->account->name, batch, commit);

  fetched = bz_sync_check_fetch (run, &s.sink, msgnos, sizes, n, &fetch_error);
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

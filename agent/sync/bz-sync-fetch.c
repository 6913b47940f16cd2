/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sinks that connect the POP3 stream to the store: whole messages into a
 * BzStoreBatch with batched commits, and TOP 0 header blocks into memory. */
#include "config.h"

#include "bz-sync-private.h"

/* Durability is per batch (DESIGN.md): one fsync pass, two transactions and
 * one directory fsync for this many messages or bytes, whichever first. */
#define BATCH_MAX_MESSAGES 256
#define BATCH_MAX_BYTES (32 * 1024 * 1024)

typedef struct {
  BzPop3MessageSink sink;
  BzSyncRun *run;
  BzStoreBatch *batch;
  const guint *msgnos;         /* parallel arrays, in the order requested */
  const char *const *uidls;
  const guint64 *sizes;
  gsize n;
  gsize next;                  /* where the next answer is expected */
  guint64 batch_bytes;
  gboolean in_message;
} StoreSink;

static gboolean
commit_batch (StoreSink *s, GError **error)
{
  g_autoptr(GPtrArray) stored = NULL;
  gboolean ok;

  if (bz_store_batch_get_n_finished (s->batch) == 0)
    return TRUE;
  ok = bz_store_batch_commit (s->batch, &stored, error);
  for (guint i = 0; stored != NULL && i < stored->len; i++)
    {
      bz_sync_emit_stored (s->run, g_ptr_array_index (stored, i));
      s->run->result->new_messages++;
    }
  s->batch_bytes = 0;
  return ok;
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
  if (reason != NULL && reason->domain == BZ_POP3_ERROR &&
      reason->code == BZ_POP3_ERROR_SERVER)
    g_warning ("%s: message %u (%s) not retrieved: %s", s->run->account->name,
               msgno, uidl ? uidl : "?", reason->message);
}

gboolean
bz_sync_fetch_messages (BzSyncRun *run, const guint *msgnos,
                        const char *const *uidls, const guint64 *sizes, gsize n,
                        GError **error)
{
  g_autoptr(BzStoreBatch) batch = NULL;
  g_autoptr(GError) fetch_error = NULL;
  g_autoptr(GError) commit_error = NULL;
  StoreSink s = { 0 };
  gboolean fetched;

  batch = bz_store_batch_new (run->db, run->account->name, run->account->maildir, error);
  if (batch == NULL)
    return FALSE;
  /* keep = days:N counts from the fetch time: under a test clock it must
   * be on that clock too. */
  if (run->fixed_clock)
    bz_store_batch_set_now (batch, run->now);
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
  s.msgnos = msgnos;
  s.uidls = uidls;
  s.sizes = sizes;
  s.n = n;

  fetched = bz_pop3_session_fetch_many (run->session, msgnos, n, FALSE, 0,
                                        &s.sink, run->cancellable, &fetch_error);
  /* Whatever happened, what arrived whole is kept (DESIGN.md: a dropped
   * connection keeps every message stored so far). */
  if (s.in_message)
    bz_store_batch_abort (batch);
  if (!commit_batch (&s, &commit_error) && fetched)
    {
      g_propagate_error (error, g_steal_pointer (&commit_error));
      return FALSE;
    }
  if (commit_error != NULL)
    g_warning ("%s: %s", run->account->name, commit_error->message);
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

typedef struct {
  BzPop3MessageSink sink;
  GHashTable *index_by_msgno;  /* msgno -> index + 1 */
  GPtrArray *headers;          /* BzDbHeaders*, NULL where refused */
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
  g_ptr_array_index (h->headers, idx - 1) =
    bz_store_headers_parse (h->buffer->str, h->buffer->len);
  return TRUE;
}

static void
header_fail (BzPop3MessageSink *sink, guint msgno, const GError *reason)
{
}

GPtrArray *
bz_sync_fetch_headers (BzSyncRun *run, const guint *msgnos, gsize n, GError **error)
{
  g_autoptr(GHashTable) index_by_msgno = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) headers = g_ptr_array_new_full (n, (GDestroyNotify) bz_db_headers_free);
  g_autoptr(GString) buffer = g_string_new (NULL);
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
  if (!bz_pop3_session_fetch_many (run->session, msgnos, n, TRUE, 0, &h.sink,
                                   run->cancellable, error))
    return NULL;
  return g_steal_pointer (&headers);
}

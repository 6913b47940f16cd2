/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Exactly-once ingest of fetched messages into one account's Maildir.
 *
 * Use each batch from one thread at a time:
 *
 *   bz_store_recover (db, account, maildir, NULL, &error);  // once per sync, first
 *   batch = bz_store_batch_new (db, account, maildir, &error);
 *   for each message (e.g. from a BzPop3MessageSink):
 *     begin()  -> bz_store_batch_begin (batch, uidl, list_size, &error)
 *     write()  -> bz_store_batch_write (batch, data, len, &error)   (many times)
 *     end()    -> bz_store_batch_finish (batch, &error)
 *     fail()   -> bz_store_batch_abort (batch)
 *   every N messages (and at the end, also after an error):
 *     bz_store_batch_commit (batch, &stored, &error)
 *
 * A finished message is complete in tmp/ but NOT stored: only commit makes
 * it durable and recorded (DESIGN.md steps 1-4, in order for every message:
 * one flush of all files (syncfs, or fdatasync of each on kernels before
 * 5.8), one transaction of pending rows, links into new/ (files made
 * unnamed with O_TMPFILE; renames from tmp/ where the file system or the
 * kernel lacks it), one flush of new/ (syncfs after links, fsync after
 * renames), one transaction marking them stored). Only
 * the UIDLs that commit returns may be DELEd. A process killed at any
 * moment loses nothing and stores nothing twice: bz_store_recover()
 * settles the rest at the next start. Messages not committed when the batch is freed are
 * discarded (their tmp files removed) and will be fetched again.
 *
 * A write error (e.g. ENOSPC: BZ_STORE_ERROR_NO_SPACE) fails the message in
 * progress, removes its tmp file and leaves the batch usable; what was
 * finished before can still be committed. Memory use is bounded: data goes
 * to disk through a 64 KiB buffer; only header blocks (up to 256 KiB each,
 * 1 MiB per batch waiting for the commit) are kept for the index.
 *
 * One thread may commit a batch while another fills a second one, as long
 * as no BzDb is used by two threads at once (the sync gives its committer
 * thread a connection of its own, shared by both batches). */
#pragma once

#include "bz-db.h"
#include "bz-store-error.h"

G_BEGIN_DECLS

#define BZ_TYPE_STORE_BATCH (bz_store_batch_get_type ())
G_DECLARE_FINAL_TYPE (BzStoreBatch, bz_store_batch, BZ, STORE_BATCH, GObject)

/* A batch for @account storing into the Maildir at @maildir (created with
 * tmp/ new/ cur/ as needed, mode 0700). Keeps a reference on @db. Returns a
 * new batch or NULL with BZ_STORE_ERROR. */
BzStoreBatch *bz_store_batch_new (BzDb *db, const char *account, const char *maildir,
                                  GError **error);

/* How a commit makes the batch's files durable (step 1). */
typedef enum
{
  BZ_STORE_FLUSH_SYNCFS,    /* one syncfs() for the whole batch */
  BZ_STORE_FLUSH_FDATASYNC, /* fdatasync() of each file */
} BzStoreFlush;

/* The flush for a kernel of release @release (uname -r): syncfs() reports
 * writeback errors only from Linux 5.8; before, it returns 0 after a
 * failed write, and a message could be marked stored, then DELEd. Any
 * release that does not read as Linux >= 5.8 gets fdatasync(). */
BzStoreFlush bz_store_flush_for_release (const char *release);
/* bz_store_flush_for_release() of the running kernel, asked once per
 * process (uname(2)); what new batches use. */
BzStoreFlush bz_store_flush_default (void);
/* Overrides the flush of @self (tests; a caller that knows better). */
void bz_store_batch_set_flush (BzStoreBatch *self, BzStoreFlush flush);

/* Moves the finished messages of @from (same account and Maildir) into
 * @self, which must have none; the message in progress in @from, if any,
 * stays there. @from then starts over as if just committed. For a sync
 * whose committer thread takes what the download thread finished: hold a
 * lock so that neither batch is used meanwhile. */
void bz_store_batch_take_finished (BzStoreBatch *self, BzStoreBatch *from);

/* The time recorded as "fetched" for the messages committed from now on
 * (unix seconds; keep = days:N counts from it); 0 = the real clock. The
 * sync's test clock goes through here. */
void bz_store_batch_set_now (BzStoreBatch *self, gint64 now);

/* Starts the message @uidl; @size is the server's size (LIST octets; 0 =
 * use the file's). One message at a time: the previous one must be finished
 * or aborted. FALSE with BZ_STORE_ERROR when the tmp file cannot be made. */
gboolean bz_store_batch_begin (BzStoreBatch *self, const char *uidl, guint64 size, GError **error);
/* Appends @len bytes ("\n" line ends, dot-unstuffed). On error the message
 * is abandoned and its tmp file removed (no abort needed, it is harmless). */
gboolean bz_store_batch_write (BzStoreBatch *self, const char *data, gsize len, GError **error);
/* The message is complete: keeps its file open for the commit and its
 * header block for the index (parsed at commit, or now when the batch
 * holds many). On error the message is abandoned and its tmp file removed. */
gboolean bz_store_batch_finish (BzStoreBatch *self, GError **error);
/* Abandons the message in progress, if any; its tmp file is removed. */
void bz_store_batch_abort (BzStoreBatch *self);
/* Messages finished and waiting for commit. */
guint bz_store_batch_get_n_finished (BzStoreBatch *self);

/* Makes every finished message durable and stored. @stored (optional)
 * receives the messages now stored, as BzDbMessage (transfer full, state
 * BZ_DB_STATE_STORED, with path and headers: what MessageStored carries),
 * also when the result is FALSE. FALSE when any message could not be
 * stored; @error describes the first failure, the others are logged. A
 * message that failed is not recorded and its tmp file is removed, unless
 * the failure came after its rename: then its row stays pending and the
 * next bz_store_recover() settles it. A message still in progress is
 * abandoned. The batch is empty afterwards, and can be used again. */
gboolean bz_store_batch_commit (BzStoreBatch *self, GPtrArray **stored, GError **error);

/* Start-up recovery for @account (DESIGN.md): every pending row becomes
 * stored when its file is in new/ or cur/ (with any ":2,..." suffix; the
 * row takes the file's current path), else the row is dropped so that the
 * message is fetched again. Then every stray file in @maildir/tmp/ is
 * removed, all but the ones this process is writing. Call it with the
 * account's lock held (bz-sync-run.c), before each sync and at daemon
 * start (it is cheap when nothing is pending). @n_settled (optional)
 * receives the rows settled. */
gboolean bz_store_recover (BzDb *db, const char *account, const char *maildir, guint *n_settled,
                           GError **error);

/* Recognises messages of @account already in @maildir although the
 * database has no row for them (it was lost, emptied or replaced after
 * damage): @candidates are indices into @uidls of UIDLs the database does
 * not know; each whose digest (bz_store_maildir_digest()) names a file in
 * new/ or cur/ gets a stored row with that file's path, size, time and
 * headers, in one transaction, and is removed from @candidates. Files
 * whose names carry no digest (written by earlier versions) are not
 * recognised.
 * @n_rebuilt (optional) receives the rows made. FALSE with BZ_STORE_ERROR
 * when the Maildir cannot be read or the rows not written (then nothing
 * was recorded and @candidates is unchanged). */
gboolean bz_store_rebuild (BzDb *db, const char *account, const char *maildir,
                           const char *const *uidls, GArray *candidates, guint *n_rebuilt,
                           GError **error);

/* For messages listed by the database (bz_db_list_newest()): a file that a
 * mail client moved (new/ -> cur/, flags changed) is found again by its
 * unique base name, one read per Maildir; the message's path is updated,
 * then its row, so the next call need not search. A file no longer
 * anywhere keeps its last path. FALSE (BZ_STORE_ERROR_DB) only when the
 * rows could not be updated; the paths in @messages are right anyway. */
gboolean bz_store_refresh_paths (BzDb *db, GPtrArray *messages, GError **error);

G_END_DECLS

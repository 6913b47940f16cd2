/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "bz-pop3-session.h"
#include "bz-store.h"
#include "bz-sync.h"

G_BEGIN_DECLS

/* Everything the worker needs, owned by the worker for one run. */
typedef struct
{
  BzSync *sync; /* for callbacks */
  BzAccount *account;
  BzDb *db;
  BzPop3Session *session;
  GCancellable *cancellable;
  gint64 now;
  gboolean fixed_clock; /* now came from bz_sync_set_now() */
  BzSyncResult *result;
  BzSyncProgress progress;
  gint64 last_progress_us;
} BzSyncRun;

/* Called from the worker; deliver to the caller's main context. */
void bz_sync_emit_progress (BzSyncRun *run, gboolean force);
void bz_sync_emit_stored (BzSyncRun *run, const BzDbMessage *message);

/* Fetches @msgnos (with their UIDLs and sizes, parallel arrays) into the
 * account's Maildir with batched commits. Counts into run->result. */
gboolean bz_sync_fetch_messages (BzSyncRun *run, const guint *msgnos, const char *const *uidls,
                                 const guint64 *sizes, gsize n, GError **error);

/* TOP n 0 for each of @msgnos, parsing the header blocks. Returns an array
 * of BzDbHeaders* (NULL entries where the server refused), parallel to
 * @msgnos, or NULL with @error. */
GPtrArray *bz_sync_fetch_headers (BzSyncRun *run, const guint *msgnos, gsize n, GError **error);

/* Runs one whole sync in the calling thread. */
gboolean bz_sync_run_worker (BzSync *sync, BzAccount *account, const char *db_path,
                             const char *password, gint64 now, GCancellable *cancellable,
                             BzSyncResult *result, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "bz-pop3-session.h"
#include "bz-store.h"
#include "bz-sync.h"

G_BEGIN_DECLS

/* The database of a run, opened and recovered in a thread of its own
 * while the session connects (bz-sync-prep.c). */
typedef struct _BzSyncPrep BzSyncPrep;

/* Starts opening @db_path and recovering @account's Maildir; never fails
 * (without a thread to spare it does the work now). Free with
 * bz_sync_prep_free(), which waits for the thread. */
BzSyncPrep *bz_sync_prep_start (const BzAccount *account, const char *db_path);
/* Waits for the work; the database (owned by @prep), or NULL with the
 * error of opening or recovering it. */
BzDb *bz_sync_prep_get_db (BzSyncPrep *prep, GError **error);
/* The database when the thread is done with it and it opened, else NULL at
 * once (borrowed, as bz_sync_prep_get_db()). */
BzDb *bz_sync_prep_peek_db (BzSyncPrep *prep);
/* Waits for the work; TRUE with its error when it failed. */
gboolean bz_sync_prep_failed (BzSyncPrep *prep, GError **error);
/* The account's StoredCount now: the count made beside the connect while
 * no row changed since, else counted again. Only after the database is in. */
gboolean bz_sync_prep_count_stored (BzSyncPrep *prep, guint *count, GError **error);
void bz_sync_prep_free (BzSyncPrep *prep);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzSyncPrep, bz_sync_prep_free)

/* The password of one run: looked up on the main context while the
 * worker connects (bz-sync-password.c). Reference counted; thread-safe. */
typedef struct _BzSyncPassword BzSyncPassword;

/* Not ready yet: bz_sync_password_set() will say. */
BzSyncPassword *bz_sync_password_new (void);
/* Ready with @password, borrowed: it must outlive the object. */
BzSyncPassword *bz_sync_password_new_borrowed (const char *password);
BzSyncPassword *bz_sync_password_ref (BzSyncPassword *self);
void bz_sync_password_unref (BzSyncPassword *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzSyncPassword, bz_sync_password_unref)
/* The lookup's answer: @password (from bz_secrets, transfer full) or
 * @error (transfer full), exactly one. A later answer is dropped. */
void bz_sync_password_set (BzSyncPassword *self, char *password, GError *error);
/* Waits for the answer: the password (borrowed, valid while @self lives),
 * or NULL with the lookup's error, or G_IO_ERROR_CANCELLED. */
const char *bz_sync_password_wait (BzSyncPassword *self, GCancellable *cancellable, GError **error);
/* TRUE once the lookup answered with an error (does not wait). */
gboolean bz_sync_password_failed (BzSyncPassword *self);

/* Everything the worker needs, owned by the worker for one run. */
typedef struct
{
  BzSync *sync; /* for callbacks */
  BzAccount *account;
  BzDb *db;         /* NULL until the listing is in */
  BzSyncPrep *prep; /* where db comes from */
  BzPop3Session *session;
  GCancellable *cancellable;
  gint64 now;
  gboolean fixed_clock; /* now came from bz_sync_set_now() */
  BzSyncResult *result;
  BzSyncProgress progress;
  gint64 last_progress_us;
  /* The wire is checked, not trusted (bz-sync-check.c): what this run
   * learnt about answers that did not fit. */
  BzSyncPassword *password_source; /* NULL for OAuth2 */
  const char *password;            /* from it once known, to log in again after a misfit */
  gboolean careful;                /* one command in flight from now on */
  GHashTable *misfits;             /* UIDL -> Misfit: digest and attempts */
  GHashTable *no_dele; /* UIDL -> octets received, kept on "the same bytes twice" alone */
  GHashTable *cut;     /* UIDL -> octets read before it was cut off */
  guint misfit_msgno;  /* of the last answer refused */
  gboolean give_up;    /* a message's answers kept changing */
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

/* bz-sync-check.c. The run's tables, made empty / freed. */
void bz_sync_check_init (BzSyncRun *run);
void bz_sync_check_clear (BzSyncRun *run);
/* The verdict on an answer for @uidl that does not fit (or was cut off):
 * TRUE keeps it (the same bytes came twice: the server miscounts), FALSE
 * refuses it. For BzPop3MessageSink.check. */
gboolean bz_sync_check_answer (BzSyncRun *run, guint msgno, const char *uidl,
                               const BzPop3MessageFacts *facts);
/* RETR of @msgnos into @sink, checked against @sizes: pipelined until an
 * answer does not fit, then one at a time, each refused answer fetched
 * again alone while the session lasts. */
gboolean bz_sync_check_fetch (BzSyncRun *run, BzPop3MessageSink *sink, const guint *msgnos,
                              const guint64 *sizes, gsize n, GError **error);
/* TRUE when @error ended a session that another session may finish: an
 * answer did not fit or was cut off. */
gboolean bz_sync_check_can_retry (BzSyncRun *run, const GError *error);
/* Records the answers cut off as too large as skipped. */
gboolean bz_sync_check_record_cut (BzSyncRun *run, GError **error);
/* Records the octets received as the size of the messages kept on "the
 * same bytes twice" alone. */
gboolean bz_sync_check_record_doubts (BzSyncRun *run, GError **error);

/* Runs one whole sync in the calling thread. */
/* @password is NULL for an OAuth2 account. */
gboolean bz_sync_run_worker (BzSync *sync, BzAccount *account, const char *db_path,
                             BzSyncPassword *password, gint64 now, GCancellable *cancellable,
                             BzSyncResult *result, GError **error);

G_END_DECLS

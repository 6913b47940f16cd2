/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One account's sync (DESIGN.md "Exactly-once storage"): recover the store,
 * connect, log in, UIDL, diff against the database, fetch what is new into
 * the Maildir (pipelined when offered), record what is too large, apply the
 * keep policy with DELE at QUIT, and mark what vanished from the server.
 *
 * The work runs in a thread of buzon's own (bz-sync-thread.h), not in GIO's
 * shared pool; progress and stored-message
 * callbacks are delivered in the main context that was thread-default when
 * bz_sync_run_async() was called. */
#pragma once

#include <gio/gio.h>

#include "bz-account.h"
#include "bz-db.h"

G_BEGIN_DECLS

#define BZ_SYNC_ERROR (bz_sync_error_quark ())
GQuark bz_sync_error_quark (void);

typedef enum
{
  BZ_SYNC_ERROR_NO_UIDL, /* server without UIDL and keep is not delete */
  BZ_SYNC_ERROR_BUSY,    /* another process is syncing the account */
  BZ_SYNC_ERROR_FAILED,  /* anything else the sync itself detects */
} BzSyncError;

/* How the daemon should react to a failed sync. */
typedef enum
{
  BZ_SYNC_FAILURE_TEMPORARY,   /* network, timeout, [SYS/TEMP]: retry with back-off */
  BZ_SYNC_FAILURE_PERMANENT,   /* [AUTH], [SYS/PERM], TLS set-up, config: needs the user */
  BZ_SYNC_FAILURE_LOGIN_DELAY, /* [LOGIN-DELAY]: the server asks us to wait */
  BZ_SYNC_FAILURE_IN_USE,      /* [IN-USE]: another client holds the maildrop */
  /* A login -ERR without a response code (or with one we do not know):
   * a wrong password, or "maildrop locked, try later". Retried a few times
   * before it counts as a wrong password. */
  BZ_SYNC_FAILURE_LOGIN_REFUSED,
  /* The server's certificate is not trusted (unknown CA, wrong name,
   * expired, pin mismatch): retried at a long interval, and at once after
   * Reload or a network change. */
  BZ_SYNC_FAILURE_TLS_TRUST,
} BzSyncFailure;

/* Classifies an error from bz_sync_run() (or the password lookup). */
BzSyncFailure bz_sync_classify_error (const GError *error);
/* What the user must do after @error on @account (the D-Bus property
 * Attention): "authorize" (OAuth2 sign-in needed or revoked), "password"
 * (none, or refused), "certificate" (server not trusted), or "". Static. */
const char *bz_sync_attention_for_error (BzAccount *account, const GError *error);
/* "temporary", "permanent", ... for logs. */
const char *bz_sync_failure_to_string (BzSyncFailure failure);

typedef struct
{
  guint messages_done;
  guint messages_total; /* messages to fetch in this sync */
  guint64 bytes_done;
  guint64 bytes_total;
} BzSyncProgress;

typedef struct
{
  guint new_messages; /* stored by this sync */
  guint removed;      /* deleted from the server at QUIT */
  guint skipped;      /* newly recorded as too large */
  guint gone;         /* newly noticed as vanished from the server */
  guint stored_total; /* messages of the account in its Maildir */
  gdouble seconds;
} BzSyncResult;

typedef void (*BzSyncProgressFunc) (const BzSyncProgress *progress, gpointer user_data);
/* @message is a BzDbMessage in state stored, borrowed for the call. */
typedef void (*BzSyncStoredFunc) (const BzDbMessage *message, gpointer user_data);

#define BZ_TYPE_SYNC (bz_sync_get_type ())
G_DECLARE_FINAL_TYPE (BzSync, bz_sync, BZ, SYNC, GObject)

/* A sync of @account (referenced) with the database at @db_path, which the
 * worker opens for itself. Transfer full. */
BzSync *bz_sync_new (BzAccount *account, const char *db_path);

/* Optional callbacks; set them before running. */
void bz_sync_set_progress_func (BzSync *self, BzSyncProgressFunc func, gpointer user_data);
void bz_sync_set_stored_func (BzSync *self, BzSyncStoredFunc func, gpointer user_data);
/* The time used for keep = days:N, in unix seconds; 0 (default) means the
 * real clock. Tests set it. */
void bz_sync_set_now (BzSync *self, gint64 now);

/* Runs the sync in a worker thread of its own. @password (copied into non-pageable
 * memory, wiped after use) must not be NULL, except for an OAuth2 account
 * (oauth2 set), where it must be NULL: the worker gets the access token
 * (bz_oauth2_get_token()), and when the server refuses it, refreshes it
 * and logs in again, once. Cancelling stops at a safe
 * point: what is fully fetched is committed, nothing is deleted. */
void bz_sync_run_async (BzSync *self, const char *password, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);
/* bz_sync_run_async() with the account's password looked up
 * (bz_secrets_lookup_async(), on the calling thread's main context) while
 * the worker connects: it waits for the password only to log in. A failed
 * lookup is the sync's error (BZ_SECRETS_ERROR, as the lookup gave it),
 * before any error of the connection or the database. For an OAuth2
 * account the same as bz_sync_run_async() without a password. */
void bz_sync_run_lookup_async (BzSync *self, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
/* TRUE and @result filled, or FALSE with @error set (BZ_POP3_ERROR,
 * BZ_NET_ERROR, BZ_STORE_ERROR, BZ_DB_ERROR, BZ_SYNC_ERROR, BZ_OAUTH2_ERROR,
 * BZ_SECRETS_ERROR (bz_sync_run_lookup_async() only) or G_IO_ERROR_CANCELLED); @result's counters are valid also on failure
 * (what was stored before the failure). */
gboolean bz_sync_run_finish (BzSync *self, GAsyncResult *res, BzSyncResult *result, GError **error);

/* The same work, blocking the calling thread (callbacks are then called
 * directly in it). */
gboolean bz_sync_run (BzSync *self, const char *password, GCancellable *cancellable,
                      BzSyncResult *result, GError **error);

/* Takes the account's cross-process lock (waits up to 2 s), held by every
 * sync and by `buzonctl import`; returns the fd to close(), or -1 with
 * BZ_SYNC_ERROR_BUSY or _FAILED. */
int bz_sync_lock_account (const char *db_path, const char *account, GError **error);

/* Start-up recovery of @account without a sync (DESIGN.md: at start-up,
 * pending rows are settled and stray tmp/ files removed), in buzon's
 * serial worker thread (one account after another) under the account's lock. A sync does the same first, so an
 * account busy syncing elsewhere is not an error. */
void bz_sync_recover_async (BzAccount *account, const char *db_path, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
/* TRUE and @stored_count (optional) set to the account's messages in its
 * Maildir afterwards, or FALSE with @error (BZ_DB_ERROR, BZ_STORE_ERROR,
 * BZ_SYNC_ERROR). */
gboolean bz_sync_recover_finish (GAsyncResult *result, guint *stored_count, GError **error);

G_END_DECLS

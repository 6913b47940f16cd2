/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Maildir layout and names (https://cr.yp.to/proto/maildir.html). */
#pragma once

#include "bz-store-error.h"

G_BEGIN_DECLS

/* Creates @path and its tmp/, new/ and cur/ (and missing parents) with mode
 * 0700; existing folders are left as they are. FALSE with BZ_STORE_ERROR. */
gboolean bz_store_maildir_ensure (const char *path, GError **error);

/* Hex digits of the digest of (account, UIDL) carried in our names. */
#define BZ_STORE_DIGEST_LEN 32

/* The first BZ_STORE_DIGEST_LEN hex digits of SHA-256 of @account, NUL,
 * @uidl (transfer full): names the message in its file name, so that the
 * state can be rebuilt from the Maildir (bz_store_rebuild()). */
char *bz_store_maildir_digest (const char *account, const char *uidl);

/* A new unique base name "SECS.MUSECSPpidQcountBdigest.host" for the
 * message @uidl of @account (transfer full); unique across calls, threads
 * and processes on this host. Mail readers keep this part when they move
 * the file to cur/ and append ":2,FLAGS". */
char *bz_store_maildir_unique_name (const char *account, const char *uidl);

/* What a name made by bz_store_maildir_unique_name() carries. */
typedef struct
{
  gint64 time;                          /* unix seconds it was made */
  gint64 pid;                           /* of the process that made it */
  char digest[BZ_STORE_DIGEST_LEN + 1]; /* bz_store_maildir_digest() */
  char *host;                           /* as written, owned */
} BzStoreMaildirName;

/* TRUE when @name (a base name, with or without ",S=..." and ":2,...")
 * was made by buzon; fills @out (optional; clear it with
 * bz_store_maildir_name_clear()). */
gboolean bz_store_maildir_parse_name (const char *name, BzStoreMaildirName *out);
void bz_store_maildir_name_clear (BzStoreMaildirName *name);

/* @host with '/' and ':' written as "\057" and "\072" (transfer full). */
char *bz_store_maildir_sanitize_host (const char *host);

/* Finds files again by their unique name after a mail client moved them
 * (new/BASE -> cur/BASE:2,S, flags changed). Each Maildir is read once per
 * index, when first asked about: make one per pass over many messages. */
typedef struct _BzStoreMaildirIndex BzStoreMaildirIndex;

/* Transfer full; free with bz_store_maildir_index_free(). */
BzStoreMaildirIndex *bz_store_maildir_index_new (void);
void bz_store_maildir_index_free (BzStoreMaildirIndex *index);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzStoreMaildirIndex, bz_store_maildir_index_free)

/* Where the message recorded at @path (…/new/BASE or …/cur/BASE:2,FLAGS)
 * is now: the file of its Maildir whose name is BASE, or BASE followed by
 * ':' and flags; cur/ wins over new/. Borrowed from @index, NULL when it
 * is nowhere. A file created after the Maildir was read is not seen. */
const char *bz_store_maildir_index_locate (BzStoreMaildirIndex *index, const char *path);

G_END_DECLS

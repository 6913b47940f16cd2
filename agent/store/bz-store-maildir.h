/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Maildir layout and names (https://cr.yp.to/proto/maildir.html). */
#pragma once

#include "bz-store-error.h"

G_BEGIN_DECLS

/* Creates @path and its tmp/, new/ and cur/ (and missing parents) with mode
 * 0700; existing folders are left as they are. FALSE with BZ_STORE_ERROR. */
gboolean bz_store_maildir_ensure (const char *path, GError **error);

/* A new unique base name "SECS.MUSECSPpidQcount.host" (transfer full);
 * unique across calls, threads and processes on this host. */
char *bz_store_maildir_unique_name (void);

/* @host with '/' and ':' written as "\057" and "\072" (transfer full). */
char *bz_store_maildir_sanitize_host (const char *host);

/* Where the message recorded at @path (…/new/BASE) is now: @path itself,
 * or a file of the same Maildir whose name is BASE followed by ':' and flags
 * (a mail client moved it to cur/ as BASE:2,S). Transfer full, NULL when
 * it is nowhere. */
char *bz_store_maildir_locate (const char *path);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The full-text index of stored mail (DESIGN.md "D-Bus API", Search):
 *   bz-index-text.c    what of a message file is indexed (GMime)
 *   bz-index-query.c   the user's query turned into a safe FTS5 expression
 *   bz-index-worker.c  the low-priority thread that fills the index
 *   bz-index-search.c  a search, with files that left the Maildir pruned
 * The tables and SQL are in db/bz-db-index.c. */
#pragma once

#include <gio/gio.h>

#include "bz-db.h"

G_BEGIN_DECLS

#define BZ_INDEX_ERROR (bz_index_error_quark ())
GQuark bz_index_error_quark (void);

typedef enum
{
  BZ_INDEX_ERROR_QUERY, /* the user's query cannot be read; the message says why */
  BZ_INDEX_ERROR_FILE,  /* the message file cannot be read */
} BzIndexError;

/* At most this much text of one message goes into the index. */
#define BZ_INDEX_MAX_TEXT (64 * 1024)

/* --- bz-index-text.c ----------------------------------------------------- */

typedef struct
{
  char *subject;
  char *sender;
  char *recipients; /* To and Cc, decoded */
  char *body;       /* text/plain parts, and HTML parts reduced to text */
} BzIndexText;

void bz_index_text_free (BzIndexText *text);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzIndexText, bz_index_text_free)

/* Initialises GMime once. g_mime_init() is not thread-safe and the store
 * calls it too: the daemon calls this on the main thread before any
 * worker starts. */
void bz_index_text_init (void);

/* Reads the message file at @path: decoded headers and the text of its
 * inline text parts (attachments are not read), at most BZ_INDEX_MAX_TEXT
 * bytes, all valid UTF-8. Memory stays bounded whatever the file's size.
 * NULL with BZ_INDEX_ERROR_FILE (or a GIOError) when it cannot be read. */
BzIndexText *bz_index_text_read (const char *path, GError **error);

/* Visible text of an HTML fragment: tags, comments, <script> and <style>
 * dropped, the common entities decoded. Returns a new string. */
char *bz_index_text_from_html (const char *html, gsize len);

/* --- bz-index-query.c ---------------------------------------------------- */

/* Turns what a user typed into an FTS5 MATCH expression in which every
 * term is a quoted string: words (all must match), "exact phrases",
 * prefix* and the field filters from:, to: and subject: (from:alice,
 * subject:"weekly report", from:ali*). Returns a new string, or NULL with
 * BZ_INDEX_ERROR_QUERY and a message for the user (unterminated quote,
 * empty query, a filter without a term...). */
char *bz_index_query_translate (const char *query, GError **error);

/* The GNOME Shell form: each of @terms is a word to match as a prefix (the
 * user is still typing). Returns a new expression, or NULL with
 * BZ_INDEX_ERROR_QUERY when no term has a letter or digit. */
char *bz_index_query_from_terms (const char *const *terms, GError **error);

/* --- bz-index-snippet.c -------------------------------------------------- */

/* About 140 characters of @body around the first body term of @match (an
 * expression from the functions above), on one line, "…" where cut; the
 * start of the body when no term is found as is. Returns a new string. */
char *bz_index_snippet_make (const char *body, const char *match);

/* --- bz-index-search.c --------------------------------------------------- */

/* Runs @match (from the functions above) against the database at @db
 * (a connection of the calling thread) for @account (NULL: all), best
 * first, each hit with its snippet. A hit whose file left the Maildir is looked for in new/ and cur/
 * (mail readers move files), recorded at its new place, or else dropped
 * from the index and from the answer. Returns BzDbHit (transfer full), at
 * most @limit, or NULL with @error. */
GPtrArray *bz_index_search (BzDb *db, const char *match, const char *account, guint limit,
                            GError **error);

/* Where the message file recorded at @recorded is now: itself, or the
 * file of the same unique name in new/ or cur/ of its Maildir (a mail
 * reader moved it), or NULL when it is gone. Returns a new string. */
char *bz_index_locate (const char *recorded);

/* --- bz-index-worker.c --------------------------------------------------- */

#define BZ_TYPE_INDEX_WORKER (bz_index_worker_get_type ())
G_DECLARE_FINAL_TYPE (BzIndexWorker, bz_index_worker, BZ, INDEX_WORKER, GObject)

/* A worker for the database at @db_path; its thread starts on the first
 * kick. Transfer full. */
BzIndexWorker *bz_index_worker_new (const char *db_path);
/* Asks the worker to index every message not indexed yet (after a sync,
 * at start-up): returns at once; kicks while it works are merged. A
 * different @db_path (a reload moved data-dir) applies to the next run. */
void bz_index_worker_kick (BzIndexWorker *self, const char *db_path);
/* Stops the thread at the next message and waits for it. Idempotent; also
 * done by dispose. Work not committed is done again by the next run. */
void bz_index_worker_stop (BzIndexWorker *self);

G_END_DECLS

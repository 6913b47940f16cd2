/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The agent's memory: every UIDL ever seen per account, and an index of the
 * messages stored in the Maildirs.
 *
 * A BzDb is one SQLite connection. It is not thread-safe: open one per
 * thread (WAL lets readers and the one writer work at the same time; a
 * writer waits up to the busy timeout for another).
 *
 * Message states, per (account, UIDL):
 *   pending  the file was written and fsynced in tmp/; the row names its
 *            final path in new/; the rename may or may not have happened.
 *            Only the store creates it; start-up recovery settles it.
 *   stored   the file is in the Maildir (path) and the UIDL was on the
 *            server at the last sync. Only these may be DELEd.
 *   skipped  larger than max-size: not downloaded; size and the headers of
 *            TOP 0 are kept; path is NULL. Fetched when max-size allows.
 *   gone     the UIDL vanished from the server without us deleting it.
 *            Never fetched again. Keeps its path when it had been stored.
 *   deleted  we DELEd it after storing it and the server committed the
 *            deletion at QUIT. Keeps its path.
 *   known    another client (mpop, getmail, fetchmail, Thunderbird)
 *            delivered it; recorded by `buzonctl import`. Never fetched;
 *            DELEd as the keep policy says, counting days:N from fetched,
 *            which holds the other client's first-seen time (or the import
 *            time). path is NULL: not in our Maildir. Becomes deleted or
 *            gone like a stored message.
 * Gone and deleted rows without a local copy (path NULL) are forgotten
 * BZ_DB_PRUNE_GRACE_DAYS after they left, when their UIDL is still absent
 * (bz_db_prune_left()).
 * A message we stored keeps its path whatever happens on the server, so
 * "in the Maildir" is (path != NULL && state != pending). */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define BZ_DB_ERROR (bz_db_error_quark ())
GQuark bz_db_error_quark (void);

typedef enum
{
  BZ_DB_ERROR_FAILED,   /* SQLite error, I/O error */
  BZ_DB_ERROR_CORRUPT,  /* not a database, or not ours, or damaged */
  BZ_DB_ERROR_TOO_NEW,  /* written by a newer buzon; left untouched */
  BZ_DB_ERROR_CONFLICT, /* the UIDL is already known in another state */
  BZ_DB_ERROR_NO_SPACE, /* the disk (or quota) is full: nothing was written */
  BZ_DB_ERROR_QUERY,    /* the full-text engine refused a MATCH expression */
} BzDbError;

typedef enum
{
  BZ_DB_STATE_PENDING,
  BZ_DB_STATE_STORED,
  BZ_DB_STATE_SKIPPED,
  BZ_DB_STATE_GONE,
  BZ_DB_STATE_DELETED,
  BZ_DB_STATE_KNOWN,
  BZ_DB_STATE_LAST,
} BzDbState;

/* "pending", "stored", ...: the strings stored in the database. */
const char *bz_db_state_to_string (BzDbState state);

/* The header index of one message; strings are valid UTF-8 or NULL. */
typedef struct
{
  char *message_id; /* without the angle brackets */
  char *from;       /* decoded, e.g. "Zoë <zoe@example.com>" */
  char *subject;    /* RFC 2047 decoded */
  gint64 date;      /* unix time, 0 when missing or malformed */
} BzDbHeaders;

/* Deep copy; NULL in, NULL out. */
BzDbHeaders *bz_db_headers_copy (const BzDbHeaders *headers);
void bz_db_headers_free (BzDbHeaders *headers);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzDbHeaders, bz_db_headers_free)

/* One row, as the queries below return it. */
typedef struct
{
  char *account;
  char *uidl;
  BzDbState state;
  char *path;     /* absolute path of the file, NULL when not stored */
  guint64 size;   /* the server's size (LIST octets) */
  gint64 fetched; /* unix time the row was stored or skipped */
  BzDbHeaders headers;
} BzDbMessage;

void bz_db_message_free (BzDbMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzDbMessage, bz_db_message_free)

#define BZ_TYPE_DB (bz_db_get_type ())
G_DECLARE_FINAL_TYPE (BzDb, bz_db, BZ, DB, GObject)

/* Opens (creating it and its folder when missing) and migrates the database
 * at @path. A database from a newer version (BZ_DB_ERROR_TOO_NEW), a corrupt
 * or foreign file (BZ_DB_ERROR_CORRUPT) is refused, never altered; the
 * message names the path and the way out. Returns a new BzDb or NULL. */
BzDb *bz_db_open (const char *path, GError **error);
/* Opens an existing database read-only, without migrating it (a file of
 * any older schema version is accepted as it is; *@version receives its
 * version, 0 for an empty file). For questions that must change nothing
 * (`buzonctl import --dry-run`). Same refusals as bz_db_open(). */
BzDb *bz_db_open_read_only (const char *path, guint *version, GError **error);
/* Borrowed; the path given to bz_db_open(). */
const char *bz_db_get_path (BzDb *self);
/* The schema version this build writes (PRAGMA user_version). */
guint bz_db_schema_version (void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Commits are durable (synchronous=FULL,
 * see bz-db.c for why). Rollback never fails; it is a no-op outside a
 * transaction. */
gboolean bz_db_begin (BzDb *self, GError **error);
gboolean bz_db_commit (BzDb *self, GError **error);
void bz_db_rollback (BzDb *self);

/* --- questions for the sync ------------------------------------------- */

/* Indices into @uidls of the UIDLs the database does not know in any state
 * for @account, in the order given (a GArray of guint, transfer full), or
 * NULL on error. */
GArray *bz_db_find_new_uidls (BzDb *self, const char *account, const char *const *uidls,
                              gsize n_uidls, GError **error);
/* One pass over the database for a sync: returns the indices into
 * @server_uidls (the server's complete list) of the UIDLs unknown in
 * any state, in the order given (a GArray of guint, transfer full), after
 * marking gone every stored or skipped message missing from the list (one
 * transaction; @n_gone, optional, receives the count). @sorted (optional)
 * are the indices of @server_uidls in strcmp() order, when the caller has
 * them already. NULL on error. */
GArray *bz_db_sync_uidls (BzDb *self, const char *account, const char *const *server_uidls,
                          gsize n_uidls, const guint *sorted, guint *n_gone, GError **error);

/* The diff of bz_db_sync_uidls() made while the listing arrives, when the
 * server lists in strcmp() order (bz-db-merge.c). Holds a read of @self
 * open until ended: use nothing else of @self meanwhile. NULL with
 * BZ_DB_ERROR when the rows cannot be read (transfer full, free with
 * bz_db_uidl_merge_free()). */
typedef struct _BzDbUidlMerge BzDbUidlMerge;
BzDbUidlMerge *bz_db_uidl_merge_new (BzDb *self, const char *account, GError **error);
/* The next UIDL of the listing, in the listing's order. @uidl must stay
 * valid until the merge is ended. Cannot fail: a UIDL not above the one
 * before, or a read error, only makes the merge unusable. */
void bz_db_uidl_merge_feed (BzDbUidlMerge *merge, const char *uidl);
/* The listing is complete: walks the remaining rows and ends the read. */
void bz_db_uidl_merge_end (BzDbUidlMerge *merge);
/* Ends the merge and, when it is usable for a listing of @n_uidls UIDLs
 * (all fed, in order, no row changed since it began), moves its result to
 * *@fresh (guint indices, as bz_db_sync_uidls() returns) and *@vanished
 * (UIDLs to mark gone), both transfer full. FALSE: diff instead. */
gboolean bz_db_uidl_merge_take (BzDbUidlMerge *merge, gsize n_uidls, GArray **fresh,
                                GPtrArray **vanished);
void bz_db_uidl_merge_free (BzDbUidlMerge *merge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzDbUidlMerge, bz_db_uidl_merge_free)
/* bz_db_sync_uidls() with the result of @merge (optional) when it is
 * usable, else the diff as usual: the same answer either way. */
GArray *bz_db_sync_uidls_merged (BzDb *self, const char *account, BzDbUidlMerge *merge,
                                 const char *const *server_uidls, gsize n_uidls,
                                 const guint *sorted, guint *n_gone, GError **error);
/* How long rows of messages that left the server are kept. */
#define BZ_DB_PRUNE_GRACE_DAYS 30
/* Forgets the gone and deleted messages of @account without a copy in the
 * Maildir (path NULL) that left the server
 * more than @grace seconds before @now (unix time) and whose UIDL is not in
 * @server_uidls (the server's complete list; @sorted, optional, its
 * indices in strcmp() order). A gone or deleted row is taken to have left
 * at the first call that sees it. One transaction; see bz-db-prune.c for
 * why this keeps exactly-once. @n_pruned (optional) receives the count. */
gboolean bz_db_prune_left (BzDb *self, const char *account, const char *const *server_uidls,
                           gsize n_uidls, const guint *sorted, gint64 now, gint64 grace,
                           guint *n_pruned, GError **error);
/* Marks deleted the given stored or known messages (call after QUIT
 * succeeded), in one transaction. UIDLs in another state are left alone. */
gboolean bz_db_mark_deleted (BzDb *self, const char *account, const char *const *uidls,
                             gsize n_uidls, GError **error);
/* UIDLs (char *, transfer full) of the stored and known messages of
 * @account fetched (known: first seen) before @before (unix time): the
 * candidates of keep = days:N, and with G_MAXINT64 of keep = delete. */
GPtrArray *bz_db_list_stored_before (BzDb *self, const char *account, gint64 before,
                                     GError **error);
/* Records a message too large to fetch, with its server @size and the
 * headers of TOP 0 (@headers may be NULL). Updates an existing skipped row;
 * BZ_DB_ERROR_CONFLICT when the UIDL is known in another state. */
gboolean bz_db_record_skipped (BzDb *self, const char *account, const char *uidl, guint64 size,
                               const BzDbHeaders *headers, GError **error);
/* The skipped messages of @account (BzDbMessage, transfer full), so that a
 * raised max-size fetches them: the store accepts a skipped UIDL again. */
GPtrArray *bz_db_list_skipped (BzDb *self, const char *account, GError **error);

/* --- imported state (buzonctl import) ---------------------------------- */

/* One UIDL another client delivered. */
typedef struct
{
  const char *uidl;
  gint64 seen; /* unix time the other client first saw it; 0 unknown */
} BzDbKnownUidl;

/* Records @uidls as known for @account in ONE transaction (all or
 * nothing). A UIDL the database has in any state is left as it is (a
 * stored row stays stored) and counted in @n_existing; the others are
 * added (@n_added) with fetched = their seen time, or @now when 0.
 * @getmail_form: the UIDLs are written as getmail writes them, '/' as '-'
 * (see bz_db_adopt_getmail_uidls()). Both counters are optional. */
gboolean bz_db_import_known (BzDb *self, const char *account, const BzDbKnownUidl *uidls,
                             gsize n_uidls, gboolean getmail_form, gint64 now, guint *n_added,
                             guint *n_existing, GError **error);
/* Counts, without writing, how many of @uidls the database has for
 * @account in any state (what bz_db_import_known() would report as
 * existing). Works on a read-only handle of any schema version. */
gboolean bz_db_count_existing (BzDb *self, const char *account, const BzDbKnownUidl *uidls,
                               gsize n_uidls, guint *n_existing, GError **error);
/* Before the diff of a sync: each known row imported in getmail's form
 * that is the form of a UIDL of @server_uidls containing '/' gets that
 * UIDL (the server's real name), and rows matching a server UIDL exactly
 * lose the mark, so that later syncs compare names directly. One
 * transaction; nothing to do (one indexed look) for other accounts.
 * @n_adopted (optional) receives the count of renamed rows. */
gboolean bz_db_adopt_getmail_uidls (BzDb *self, const char *account,
                                    const char *const *server_uidls, gsize n_uidls,
                                    guint *n_adopted, GError **error);

/* --- questions for D-Bus and buzonctl --------------------------------- */

/* The @limit newest (by time fetched) messages in the Maildir of @account,
 * or of every account when @account is NULL; BzDbMessage, transfer full.
 * Paths are as last recorded: see bz_store_refresh_paths() for files a mail
 * client moved since. */
GPtrArray *bz_db_list_newest (BzDb *self, const char *account, guint limit, GError **error);
/* Fills @counts (indexed by BzDbState) for @account. */
gboolean bz_db_count_states (BzDb *self, const char *account, guint counts[BZ_DB_STATE_LAST],
                             GError **error);
/* Whether the database has any row (in any state) for @account: when it
 * has none, the sync looks for the account's messages in its Maildir
 * (bz_store_rebuild()). */
gboolean bz_db_account_has_messages (BzDb *self, const char *account, gboolean *has,
                                     GError **error);
/* The number of messages of @account in its Maildir (StoredCount). */
gboolean bz_db_count_stored (BzDb *self, const char *account, guint *count, GError **error);

/* What this connection has seen of the file: its own row changes and the
 * commits of every other connection. Two equal marks mean no row changed
 * in between, so a figure read at the first still holds. */
typedef struct
{
  gint64 changes;      /* sqlite3_total_changes64() */
  gint64 data_version; /* PRAGMA data_version */
} BzDbMark;

/* Fills @mark; FALSE with BZ_DB_ERROR when the pragma cannot be read. */
gboolean bz_db_get_mark (BzDb *self, BzDbMark *mark, GError **error);

/* --- used by agent/store only (the exactly-once protocol) -------------- */

/* Inside a transaction: records @uidl as pending with its final @path.
 * Replaces a skipped row; BZ_DB_ERROR_CONFLICT when the UIDL is known in
 * any other state (storing it would store it twice). */
gboolean bz_db_add_pending (BzDb *self, const char *account, const char *uidl, const char *path,
                            guint64 size, gint64 fetched, const BzDbHeaders *headers,
                            GError **error);
/* Inside a transaction: pending -> stored, recording the file's current
 * @path. Also updates the path of a stored row (a client moved the file). */
gboolean bz_db_set_stored (BzDb *self, const char *account, const char *uidl, const char *path,
                           GError **error);
/* Inside a transaction: removes a pending row (the message will be fetched
 * again). Rows in other states are left alone. */
gboolean bz_db_drop_pending (BzDb *self, const char *account, const char *uidl, GError **error);
/* The pending rows of @account (BzDbMessage, transfer full). */
GPtrArray *bz_db_list_pending (BzDb *self, const char *account, GError **error);

/* --- the size a stored message has (DESIGN.md: a message whose stored
 * bytes are in doubt is never DELEd) ------------------------------------ */

/* The recorded size of @uidl (LIST's octets when it was fetched; the
 * octets received when the server's size disagreed), 0 when unknown or
 * no such row. */
gboolean bz_db_get_size (BzDb *self, const char *account, const char *uidl, guint64 *size,
                         GError **error);
/* Records @size as the size of the stored message @uidl. */
gboolean bz_db_set_size (BzDb *self, const char *account, const char *uidl, guint64 size,
                         GError **error);
/* --- the full-text index (bz-db-index.c) ------------------------------- */

/* A message the indexer has still to read. */
typedef struct
{
  gint64 id;     /* the messages row */
  char *account; /* its account */
  char *path;    /* the file as last recorded */
  char *from;    /* the header index, or NULL */
  char *subject;
} BzDbIndexTodo;

void bz_db_index_todo_free (BzDbIndexTodo *todo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzDbIndexTodo, bz_db_index_todo_free)

/* What the index keeps of one message: valid UTF-8 or NULL. */
typedef struct
{
  const char *subject;
  const char *sender;
  const char *recipients;
  const char *body;
} BzDbIndexText;

/* Up to @limit messages in a Maildir that the indexer has not handled yet,
 * with ids above @after, lowest first (BzDbIndexTodo, transfer full). */
GPtrArray *bz_db_index_list_todo (BzDb *self, gint64 after, guint limit, GError **error);
/* How many messages wait for the indexer. */
gboolean bz_db_index_count_todo (BzDb *self, guint *count, GError **error);
/* Inside a transaction: indexes row @id with @text, or only marks it
 * handled when @text is NULL (the file was missing or unreadable). A row
 * deleted meanwhile is skipped, not an error. */
gboolean bz_db_index_put (BzDb *self, gint64 id, const BzDbIndexText *text, GError **error);
/* Takes row @id out of the search results (its file left the Maildir);
 * it stays marked handled, so it is not indexed again. */
gboolean bz_db_index_drop (BzDb *self, gint64 id, GError **error);
/* Inside a transaction: takes out of the index up to @limit rows whose
 * message was deleted or left the Maildir records, setting @removed to
 * how many. FALSE with @error. */
gboolean bz_db_index_sweep (BzDb *self, guint limit, guint *removed, GError **error);

/* One search result. */
typedef struct
{
  gint64 id; /* the messages row: a stable handle for the search provider */
  BzDbMessage *message;
  char *snippet; /* the text around the match, one line; set by agent/index */
} BzDbHit;

void bz_db_hit_free (BzDbHit *hit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzDbHit, bz_db_hit_free)

/* The @limit (> 0) best matches (bz_rank(): the subject and sender weigh more) of the
 * FTS5 expression @match among messages in a Maildir of @account (NULL:
 * every account); BzDbHit, transfer full. @match must come from
 * bz_index_query_translate(): raw user text is never a MATCH expression.
 * BZ_DB_ERROR_QUERY when FTS5 refuses the expression. */
GPtrArray *bz_db_index_search (BzDb *self, const char *match, const char *account, guint limit,
                               GError **error);
/* The indexed body text of row @id ("" when none). NULL with @error. */
char *bz_db_index_get_body (BzDb *self, gint64 id, GError **error);
/* The message of row @id if it is in a Maildir (transfer full), else NULL
 * with @error unset; NULL with @error on failure. */
BzDbMessage *bz_db_get_message (BzDb *self, gint64 id, GError **error);

G_END_DECLS

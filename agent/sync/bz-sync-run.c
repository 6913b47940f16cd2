/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The steps of one account's sync, run in a worker thread. The order is
 * what keeps DESIGN.md's promise: nothing is DELEd unless the database says
 * it is stored, and deletions only take effect at a successful QUIT. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "bz-common-order.h"
#include "bz-common-text.h"
#include "bz-log.h"
#include "bz-oauth2.h"
#include "bz-sync-private.h"

/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - sync - error - quark, bz_sync_error)
/* clang-format on */

/* Sessions one run may open: a misfit or an answer cut off ends one, and
 * the next goes on from there (bz-sync-check.c). */
#define MAX_SESSIONS 4

/* One message as the server lists it in this session: the UIDL listing's
 * own entries, taken over (16 bytes, one per message on the server for the
 * whole run: 3.2 MB for 200,000). uidl is borrowed from the listing's
 * strings or the synthetic table. Sizes are kept apart, only once LIST
 * was asked: a sync that finds nothing new never needs them. */
typedef BzPop3UidlEntry ServerEntry;

/* ServerEntry.flags */
#define SERVER_SHARED (1u << 0) /* another message has the same UIDL */
#define SERVER_SIZED (1u << 1)  /* its size is LIST's (asked in this session) */

G_STATIC_ASSERT (sizeof (ServerEntry) <= 2 * sizeof (guint64));

/* A copy of one entry with its size, for the short lists of what to
 * fetch, skip or delete. */
typedef struct
{
  guint msgno;
  guint flags;
  guint64 size; /* 0 when not SERVER_SIZED */
  const char *uidl;
} ServerMessage;

static gint
compare_msgno (gconstpointer a, gconstpointer b)
{
  const ServerMessage *ma = a, *mb = b;

  return (ma->msgno > mb->msgno) - (ma->msgno < mb->msgno);
}

static gboolean
check_cancelled (GCancellable *cancellable, GError **error)
{
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static void
session_options (BzAccount *account, BzPop3SessionOptions *options)
{
  memset (options, 0, sizeof *options);
  options->net.host = account->host;
  options->net.port = account->port;
  options->net.ca_file = account->tls_ca_file;
  options->net.pin_sha256 = account->tls_pin_sha256;
  options->net.connect_timeout_ms = account->timeout_s * 1000;
  options->net.io_timeout_ms = account->timeout_s * 1000;
  options->security = account->security;
  options->allow_plaintext = bz_account_plaintext_allowed (account);
}

/* One OAuth2 login attempt with a token from bz_oauth2_get_token(). */
static BzPop3Session *
open_oauth2_once (BzAccount *account, gboolean refresh, GCancellable *cancellable, GError **error)
{
  BzPop3SessionOptions options;
  g_autoptr (BzPop3Session) session = NULL;
  char *token;
  gboolean ok;

  /* the token first: a revoked sign-in costs no connection */
  token = bz_oauth2_get_token (account, refresh, cancellable, error);
  if (token == NULL)
    return NULL;
  session_options (account, &options);
  session = bz_pop3_session_connect (&options, cancellable, error);
  ok = session != NULL && bz_pop3_session_login_oauth2 (session, account->auth, account->user,
                                                        token, cancellable, error);
  bz_oauth2_token_free (token);
  if (!ok)
    {
      if (session != NULL)
        bz_pop3_session_abort (session);
      return NULL;
    }
  return g_steal_pointer (&session);
}

/* A token the server refuses may have been revoked or have lost its
 * scope, or the clocks disagree about its expiry: refresh it and try
 * once more, never in a loop. */
static BzPop3Session *
open_oauth2_session (BzAccount *account, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) first_error = NULL;
  g_autoptr (GError) second_error = NULL;
  BzPop3Session *session = open_oauth2_once (account, FALSE, cancellable, &first_error);

  if (session != NULL)
    return session;
  if (!g_error_matches (first_error, BZ_POP3_ERROR, BZ_POP3_ERROR_AUTH))
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return NULL;
    }
  g_debug ("%s: the server refused the access token (%s); refreshing it and retrying once",
           account->name, first_error->message);
  session = open_oauth2_once (account, TRUE, cancellable, &second_error);
  if (session != NULL)
    return session;
  if (g_error_matches (second_error, BZ_POP3_ERROR, BZ_POP3_ERROR_AUTH))
    {
      /* a token refused twice is no use to the next sync either */
      bz_oauth2_forget_token (account);
      if (account->oauth2 != BZ_OAUTH2_COMMAND && account->oauth2 != BZ_OAUTH2_GOA)
        g_prefix_error (&second_error,
                        "%s: the server refused a fresh access token too; sign in again with: "
                        "buzonctl authorize %s: ",
                        account->name, account->name);
    }
  g_propagate_error (error, g_steal_pointer (&second_error));
  return session;
}

/* How long a connection made before the password was known may wait for
 * it: a pinentry can take minutes, and servers drop connections that have
 * not logged in. One that waited longer is replaced by a fresh one. */
#define PASSWORD_WAIT_KEEP_US (10 * G_USEC_PER_SEC)

static gint64
password_wait_keep_us (void)
{
#ifdef BZ_TEST_HOOKS
  /* tests make a short wait count as long */
  const char *ms = g_getenv ("BUZON_TEST_PASSWORD_KEEP_MS");

  if (ms != NULL)
    return g_ascii_strtoll (ms, NULL, 10) * 1000;
#endif
  return PASSWORD_WAIT_KEEP_US;
}

/* The run's first session connects while the password is looked up
 * (bz-sync-password.c) and waits for it only to log in. A lookup that
 * fails is the error, as when it came before the connection. */
static BzPop3Session *
connect_for_password (BzSyncRun *run, const BzPop3SessionOptions *options,
                      GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) connect_error = NULL;
  gint64 waited;

  if (run->password != NULL)
    return bz_pop3_session_connect (options, cancellable, error);
  if (!bz_sync_password_failed (run->password_source))
    session = bz_pop3_session_connect (options, cancellable, &connect_error);
  waited = g_get_monotonic_time ();
  run->password = bz_sync_password_wait (run->password_source, cancellable, error);
  waited = g_get_monotonic_time () - waited;
  if (run->password == NULL)
    {
      if (session != NULL)
        bz_pop3_session_abort (session);
      return NULL;
    }
  if (waited > password_wait_keep_us ())
    {
      bz_log_account (G_LOG_LEVEL_DEBUG, run->account->name,
                      "the password took %.1f s; connecting again", waited / 1e6);
      if (session != NULL)
        bz_pop3_session_abort (session);
      g_clear_object (&session);
      g_clear_error (&connect_error);
      return bz_pop3_session_connect (options, cancellable, error);
    }
  if (session == NULL)
    g_propagate_error (error, g_steal_pointer (&connect_error));
  return g_steal_pointer (&session);
}

static BzPop3Session *
open_session (BzSyncRun *run, GCancellable *cancellable, GError **error)
{
  BzAccount *account = run->account;
  BzPop3SessionOptions options = { 0 };
  g_autoptr (BzPop3Session) session = NULL;

  if (account->oauth2 != BZ_OAUTH2_NONE)
    {
      session = open_oauth2_session (account, cancellable, error);
      if (session != NULL)
        g_debug ("%s: logged in to %s as %s with %s", account->name, account->host, account->user,
                 bz_pop3_session_get_auth_used (session));
      return g_steal_pointer (&session);
    }

  session_options (account, &options);

  session = connect_for_password (run, &options, cancellable, error);
  if (session == NULL)
    return NULL;
  if (!bz_pop3_session_login (session, account->auth, account->user, run->password, cancellable,
                              error))
    {
      bz_pop3_session_abort (session);
      return NULL;
    }
  bz_log_account (G_LOG_LEVEL_DEBUG, account->name, "logged in to %s as %s with %s", account->host,
                  account->user, bz_pop3_session_get_auth_used (session));
  return g_steal_pointer (&session);
}

/* A server without UIDL (keep = delete only): each message is named by a
 * digest of its header block and size, read with TOP 0, so that a message
 * stored by a session that died before QUIT is recognised and not stored a
 * second time. Identical copies within one listing get an ordinal. */
static GPtrArray *
synthesize_uidls (BzSyncRun *run, GArray *list, GError **error)
{
  g_autofree guint *msgnos = g_new (guint, MAX (list->len, 1));
  g_autoptr (GPtrArray) headers = NULL;
  g_autoptr (GPtrArray) uidls = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < list->len; i++)
    msgnos[i] = g_array_index (list, BzPop3ListEntry, i).msgno;
  headers = bz_sync_fetch_headers (run, msgnos, list->len, error);
  if (headers == NULL)
    return NULL;
  for (guint i = 0; i < list->len; i++)
    {
      const BzDbHeaders *h = g_ptr_array_index (headers, i);
      g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
      g_autofree char *size =
          g_strdup_printf ("%" G_GUINT64_FORMAT, g_array_index (list, BzPop3ListEntry, i).size);
      g_autofree char *date = NULL;
      g_autofree char *base = NULL;
      guint n;

      if (h == NULL)
        {
          g_set_error (error, BZ_SYNC_ERROR, BZ_SYNC_ERROR_FAILED,
                       "%s: the server refused TOP for message %u, needed "
                       "to name messages on a server without UIDL",
                       run->account->host, msgnos[i]);
          return NULL;
        }
      date = g_strdup_printf ("%" G_GINT64_FORMAT, h->date);
      g_checksum_update (sum, (const guchar *) size, -1);
      g_checksum_update (sum, (const guchar *) (h->message_id ? h->message_id : ""), -1);
      g_checksum_update (sum, (const guchar *) "\n", 1);
      g_checksum_update (sum, (const guchar *) (h->from ? h->from : ""), -1);
      g_checksum_update (sum, (const guchar *) "\n", 1);
      g_checksum_update (sum, (const guchar *) (h->subject ? h->subject : ""), -1);
      g_checksum_update (sum, (const guchar *) date, -1);
      base = g_strdup_printf ("nouidl-%.40s", g_checksum_get_string (sum));
      n = GPOINTER_TO_UINT (g_hash_table_lookup (seen, base)) + 1;
      g_hash_table_replace (seen, g_strdup (base), GUINT_TO_POINTER (n));
      if (n == 1)
        g_ptr_array_add (uidls, g_steal_pointer (&base));
      else
        g_ptr_array_add (uidls, g_strdup_printf ("%s#%u", base, n));
    }
  return g_steal_pointer (&uidls);
}

/* The session's messages in the server's order. UIDL alone answers an
 * incremental sync; sizes are asked (LIST) only for the messages that are
 * fetched or skipped. */
typedef struct
{
  GArray *messages;      /* ServerEntry */
  guint64 *sizes;        /* by index into messages; NULL until a size is asked */
  GPtrArray *names;      /* the UIDLs in server order, borrowed from: */
  GStringChunk *strings; /* the server's UIDL listing, or */
  GPtrArray *synthetic;  /* the names made without UIDL */
  guint *by_uidl;        /* indices sorted by UIDL, built on first lookup */
  gboolean have_sizes;   /* from LIST already (a server without UIDL) */
  BzDbUidlMerge *merge;  /* the diff made while the listing came, if any */
} ServerList;

static void
server_list_clear (ServerList *list)
{
  g_clear_pointer (&list->messages, g_array_unref);
  g_clear_pointer (&list->sizes, g_free);
  g_clear_pointer (&list->names, g_ptr_array_unref);
  g_clear_pointer (&list->strings, g_string_chunk_free);
  g_clear_pointer (&list->synthetic, g_ptr_array_unref);
  g_clear_pointer (&list->by_uidl, g_free);
  g_clear_pointer (&list->merge, bz_db_uidl_merge_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ServerList, server_list_clear)

/* Sorts the index by UIDL and flags the messages that share one: RFC 1939
 * forbids it, and a server that does it anyway would have us store one
 * and later DELE the other. Returns how many UIDLs are shared. */
static guint
server_list_sort (ServerList *list)
{
  guint n = list->messages->len;
  guint n_shared = 0;

  /* names[i] is messages[i]'s UIDL */
  list->by_uidl = bz_common_order_strings ((const char *const *) list->names->pdata, n);
  for (guint i = 1; i < n; i++)
    {
      ServerEntry *a = &g_array_index (list->messages, ServerEntry, list->by_uidl[i - 1]);
      ServerEntry *b = &g_array_index (list->messages, ServerEntry, list->by_uidl[i]);
      if (strcmp (a->uidl, b->uidl) == 0)
        {
          n_shared += (a->flags & SERVER_SHARED) ? 0 : 1;
          a->flags |= SERVER_SHARED;
          b->flags |= SERVER_SHARED;
        }
    }
  return n_shared;
}

/* The index of the server's message with @uidl, or -1 (also for a shared
 * UIDL: such messages are neither fetched nor deleted). */
static gint
server_list_find (ServerList *list, const char *uidl)
{
  guint lo = 0, hi = list->messages->len;

  if (list->by_uidl == NULL)
    server_list_sort (list);
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      ServerEntry *m = &g_array_index (list->messages, ServerEntry, list->by_uidl[mid]);
      int cmp = strcmp (m->uidl, uidl);

      if (cmp == 0)
        return (m->flags & SERVER_SHARED) ? -1 : (gint) list->by_uidl[mid];
      if (cmp < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return -1;
}

static gint
compare_list_msgno (gconstpointer a, gconstpointer b)
{
  const BzPop3ListEntry *ea = a, *eb = b;

  return (ea->msgno > eb->msgno) - (ea->msgno < eb->msgno);
}

/* Fills in the size of each of @wanted (indices into list->messages): LIST n
 * pipelined for a few, one whole LIST when many are wanted. */
/* Entry @idx with its size. */
static ServerMessage
server_list_message (ServerList *list, guint idx)
{
  const ServerEntry *e = &g_array_index (list->messages, ServerEntry, idx);
  ServerMessage m = { e->msgno, e->flags, 0, e->uidl };

  if (list->sizes != NULL)
    m.size = list->sizes[idx];
  return m;
}

static void
server_list_set_size (ServerList *list, guint idx, guint64 size)
{
  if (list->sizes == NULL)
    list->sizes = g_new0 (guint64, MAX (list->messages->len, 1));
  list->sizes[idx] = size;
  g_array_index (list->messages, ServerEntry, idx).flags |= SERVER_SIZED;
}

static gboolean
server_list_fill_sizes (BzSyncRun *run, ServerList *list, GArray *wanted, GError **error)
{
  g_autofree guint *msgnos = NULL;
  g_autofree guint64 *sizes = NULL;

  if (wanted->len == 0 || list->have_sizes)
    return TRUE;
  if (wanted->len > list->messages->len / 4)
    {
      g_autoptr (GArray) all = bz_pop3_session_list (run->session, run->cancellable, error);
      if (all == NULL)
        return FALSE;
      g_array_sort (all, compare_list_msgno);
      for (guint i = 0; i < wanted->len; i++)
        {
          guint idx = g_array_index (wanted, guint, i);
          BzPop3ListEntry key = { g_array_index (list->messages, ServerEntry, idx).msgno, 0 };
          const BzPop3ListEntry *e =
              bsearch (&key, all->data, all->len, sizeof (BzPop3ListEntry), compare_list_msgno);
          if (e != NULL)
            server_list_set_size (list, idx, e->size);
        }
      return TRUE;
    }
  msgnos = g_new (guint, wanted->len);
  sizes = g_new0 (guint64, wanted->len);
  for (guint i = 0; i < wanted->len; i++)
    msgnos[i] = g_array_index (list->messages, ServerEntry, g_array_index (wanted, guint, i)).msgno;
  if (!bz_pop3_session_list_many (run->session, msgnos, wanted->len, sizes, run->cancellable,
                                  error))
    return FALSE;
  for (guint i = 0; i < wanted->len; i++)
    server_list_set_size (list, g_array_index (wanted, guint, i), sizes[i]);
  return TRUE;
}

/* Builds the session's message table from UIDL (sizes still 0), or from
 * LIST and TOP 0 on a server without UIDL (sizes known). */
typedef struct
{
  BzSyncRun *run;
  ServerList *list;
  gboolean tried;
} ListingWalk;

/* Each UIDL as it arrives: the database walks beside the listing. It
 * starts with the first line, when the server has had its time to compute
 * the listing and the database thread is long done; if it is not, the
 * diff waits for the end as before. */
static void
walk_uidl (const char *uidl, gpointer data)
{
  ListingWalk *w = data;

  if (!w->tried)
    {
      BzDb *db = bz_sync_prep_peek_db (w->run->prep);

      w->tried = TRUE;
      if (db != NULL)
        w->list->merge = bz_db_uidl_merge_new (db, w->run->account->name, NULL);
    }
  if (w->list->merge != NULL)
    bz_db_uidl_merge_feed (w->list->merge, uidl);
}

static gboolean
list_server (BzSyncRun *run, ServerList *out, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (BzPop3UidlList) uidls = NULL;
  ListingWalk walk = { run, out, FALSE };

  out->messages = g_array_new (FALSE, TRUE, sizeof (ServerEntry));
  uidls =
      bz_pop3_session_uidl_full (run->session, walk_uidl, &walk, run->cancellable, &local_error);
  /* the read it holds ends before anything else uses the database */
  if (out->merge != NULL)
    bz_db_uidl_merge_end (out->merge);
  if (uidls == NULL)
    {
      g_autoptr (GArray) list = NULL;

      if (!g_error_matches (local_error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_UIDL))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (run->account->keep != BZ_KEEP_DELETE)
        {
          g_set_error (error, BZ_SYNC_ERROR, BZ_SYNC_ERROR_NO_UIDL,
                       "%s: the server does not support UIDL, so buzon cannot "
                       "tell which messages it already has; such a server "
                       "can only be used with keep = delete",
                       run->account->host);
          return FALSE;
        }
      list = bz_pop3_session_list (run->session, run->cancellable, error);
      if (list == NULL)
        return FALSE;
      out->synthetic = synthesize_uidls (run, list, error);
      if (out->synthetic == NULL)
        return FALSE;
      out->names = g_ptr_array_new_full (list->len, NULL);
      out->sizes = g_new0 (guint64, MAX (list->len, 1));
      for (guint i = 0; i < list->len; i++)
        {
          ServerEntry m = { 0 };
          m.msgno = g_array_index (list, BzPop3ListEntry, i).msgno;
          m.flags = SERVER_SIZED;
          m.uidl = g_ptr_array_index (out->synthetic, i);
          out->sizes[i] = g_array_index (list, BzPop3ListEntry, i).size;
          g_array_append_val (out->messages, m);
          g_ptr_array_add (out->names, (gpointer) m.uidl);
        }
      out->have_sizes = TRUE;
      return TRUE;
    }

  /* the listing's entries are the table, its strings the names */
  g_array_unref (out->messages);
  out->messages = g_steal_pointer (&uidls->entries);
  out->strings = g_steal_pointer (&uidls->strings);
  out->names = g_ptr_array_new_full (out->messages->len, NULL);
  for (guint i = 0; i < out->messages->len; i++)
    g_ptr_array_add (out->names, (gpointer) g_array_index (out->messages, ServerEntry, i).uidl);
  return TRUE;
}

/* Records the too-large messages with their headers from TOP 0. */
static gboolean
skip_messages (BzSyncRun *run, GArray *skip, GError **error)
{
  g_autofree guint *msgnos = NULL;
  g_autoptr (GPtrArray) headers = NULL;

  if (skip->len == 0)
    return TRUE;
  msgnos = g_new (guint, skip->len);
  for (guint i = 0; i < skip->len; i++)
    msgnos[i] = g_array_index (skip, ServerMessage, i).msgno;
  headers = bz_sync_fetch_headers (run, msgnos, skip->len, error);
  if (headers == NULL)
    return FALSE;
  for (guint i = 0; i < skip->len; i++)
    {
      const ServerMessage *m = &g_array_index (skip, ServerMessage, i);

      if (!bz_db_record_skipped (run->db, run->account->name, m->uidl, m->size,
                                 g_ptr_array_index (headers, i), error))
        return FALSE;
      g_autofree char *shown = bz_common_text_sanitize (m->uidl, -1);

      run->result->skipped++;
      bz_log_account (G_LOG_LEVEL_INFO, run->account->name,
                      "message %s of %" G_GUINT64_FORMAT
                      " bytes skipped (max-size %" G_GUINT64_FORMAT ")",
                      shown, m->size, run->account->max_size);
    }
  return TRUE;
}

/* The messages the keep policy says to delete now: only stored ones, and
 * known ones (another client delivered them; DESIGN.md "Imported state"). */
static GArray *
messages_to_delete (BzSyncRun *run, ServerList *server, GError **error)
{
  g_autoptr (GArray) dele = g_array_new (FALSE, FALSE, sizeof (ServerMessage));
  g_autoptr (GArray) candidates = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) unsized = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GPtrArray) stored = NULL;
  gint64 before;

  switch (run->account->keep)
    {
    case BZ_KEEP_FOREVER:
      return g_steal_pointer (&dele);
    case BZ_KEEP_DELETE:
      before = G_MAXINT64;
      break;
    case BZ_KEEP_DAYS:
    default:
      before = run->now - (gint64) run->account->keep_days * 24 * 3600;
      break;
    }
  stored = bz_db_list_stored_before (run->db, run->account->name, before, error);
  if (stored == NULL)
    return NULL;
  for (guint i = 0; i < stored->len; i++)
    {
      gint found = server_list_find (server, g_ptr_array_index (stored, i));
      if (found >= 0)
        {
          guint idx = (guint) found;
          if (!(g_array_index (server->messages, ServerEntry, idx).flags & SERVER_SIZED))
            g_array_append_val (unsized, idx);
          g_array_append_val (candidates, idx);
        }
    }
  if (!server_list_fill_sizes (run, server, unsized, error))
    return NULL;
  /* A message whose stored bytes are in doubt is never DELEd: only while
   * the server's size is the one recorded for the stored copy (0: not
   * known, from before sizes were recorded so). */
  for (guint i = 0; i < candidates->len; i++)
    {
      ServerMessage one = server_list_message (server, g_array_index (candidates, guint, i));
      const ServerMessage *m = &one;
      guint64 recorded = 0;

      if (!bz_db_get_size (run->db, run->account->name, m->uidl, &recorded, error))
        return NULL;
      if (recorded != 0 && (!(m->flags & SERVER_SIZED) || recorded != m->size))
        {
          g_autofree char *shown = bz_common_text_sanitize (m->uidl, -1);
          g_warning (
              "%s: message %s is not deleted from the server: its size there (%" G_GUINT64_FORMAT
              ") is not that of the stored copy (%" G_GUINT64_FORMAT ")",
              run->account->name, shown, m->size, recorded);
          continue;
        }
      if (!g_hash_table_contains (run->no_dele, m->uidl))
        g_array_append_val (dele, *m);
    }
  return g_steal_pointer (&dele);
}

static gboolean
apply_keep_policy (BzSyncRun *run, ServerList *server, GError **error)
{
  g_autoptr (GArray) dele = NULL;
  g_autofree guint *msgnos = NULL;
  g_autofree const char **uidls = NULL;

  dele = messages_to_delete (run, server, error);
  if (dele == NULL)
    return FALSE;
  if (dele->len > 0)
    {
      msgnos = g_new (guint, dele->len);
      uidls = g_new0 (const char *, dele->len + 1);
      for (guint i = 0; i < dele->len; i++)
        {
          msgnos[i] = g_array_index (dele, ServerMessage, i).msgno;
          uidls[i] = g_array_index (dele, ServerMessage, i).uidl;
        }
      if (!bz_pop3_session_dele_many (run->session, msgnos, dele->len, run->cancellable, error))
        return FALSE;
      /* A cancel after DELE must not commit deletions we did not intend:
       * dropping the connection rolls them back. */
      if (!check_cancelled (run->cancellable, error))
        return FALSE;
    }
  if (!bz_pop3_session_quit (run->session, run->cancellable, error))
    return FALSE;
  if (dele->len > 0)
    {
      if (!bz_db_mark_deleted (run->db, run->account->name, uidls, dele->len, error))
        return FALSE;
      run->result->removed = dele->len;
    }
  return TRUE;
}

static gboolean
sync_session (BzSyncRun *run, GError **error)
{
  g_auto (ServerList) server = { 0 };
  g_autoptr (GArray) new_idx = NULL;
  g_autoptr (GPtrArray) skipped = NULL;
  g_autoptr (GArray) wanted = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) fetch = g_array_new (FALSE, FALSE, sizeof (ServerMessage));
  g_autoptr (GArray) skip = g_array_new (FALSE, FALSE, sizeof (ServerMessage));
  g_autoptr (GArray) skipped_sizes = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 max_size = run->account->max_size;
  guint n_new;
  guint n_pruned = 0;

  if (!list_server (run, &server, error))
    return FALSE;
  if (server_list_sort (&server) > 0)
    {
      for (guint i = 0; i < server.messages->len; i++)
        {
          const ServerEntry *m = &g_array_index (server.messages, ServerEntry, server.by_uidl[i]);
          if ((m->flags & SERVER_SHARED) &&
              (i == 0 ||
               strcmp (m->uidl,
                       g_array_index (server.messages, ServerEntry, server.by_uidl[i - 1]).uidl) !=
                   0))
            {
              g_autofree char *shown = bz_common_text_sanitize (m->uidl, -1);
              bz_log_account (G_LOG_LEVEL_WARNING, run->account->name,
                              "the server gives UIDL \"%s\" to more than one message; "
                              "they are left on the server",
                              shown);
            }
        }
    }
  if (run->db == NULL && (run->db = bz_sync_prep_get_db (run->prep, error)) == NULL)
    return FALSE;
  /* UIDLs imported from getmail (which writes '/' as '-') take the
   * server's names before the diff compares names exactly. */
  if (server.synthetic == NULL &&
      !bz_db_adopt_getmail_uidls (run->db, run->account->name,
                                  (const char *const *) server.names->pdata, server.names->len,
                                  NULL, error))
    return FALSE;
  /* the names are the UIDLs in server order, already sorted by by_uidl */
  new_idx = bz_db_sync_uidls_merged (run->db, run->account->name, server.merge,
                                     (const char *const *) server.names->pdata, server.names->len,
                                     server.by_uidl, &run->result->gone, error);
  if (new_idx == NULL)
    return FALSE;
  /* The database knows none of the server's messages, nor any other of
   * the account: a first sync, or the state was lost. What the Maildir already
   * holds is recognised by the digest in its file names instead of being
   * downloaded again. (With keep = delete the server often has only new
   * messages: the rows of earlier ones keep the Maildir from being read
   * on every sync.) */
  if (new_idx->len > 0 && new_idx->len == server.names->len)
    {
      gboolean known = FALSE;
      guint n_rebuilt = 0;

      if (!bz_db_account_has_messages (run->db, run->account->name, &known, error))
        return FALSE;
      if (!known &&
          !bz_store_rebuild (run->db, run->account->name, run->account->maildir,
                             (const char *const *) server.names->pdata, new_idx, &n_rebuilt, error))
        return FALSE;
      if (n_rebuilt > 0)
        bz_log_account (G_LOG_LEVEL_MESSAGE, run->account->name,
                        "%u messages already in the Maildir were not in the database; "
                        "recorded them again instead of downloading them",
                        n_rebuilt);
    }
  /* Rows of messages that left the server long ago would make every
   * diff above slower forever; only UIDLs absent from this list go. */
  if (!bz_db_prune_left (run->db, run->account->name, (const char *const *) server.names->pdata,
                         server.names->len, server.by_uidl, run->now,
                         (gint64) BZ_DB_PRUNE_GRACE_DAYS * 24 * 3600, &n_pruned, error))
    return FALSE;
  if (n_pruned > 0)
    bz_log_account (G_LOG_LEVEL_DEBUG, run->account->name,
                    "forgot %u messages that left the server more than %d days ago", n_pruned,
                    BZ_DB_PRUNE_GRACE_DAYS);
  for (guint i = 0; i < new_idx->len; i++)
    {
      guint idx = g_array_index (new_idx, guint, i);
      if (!(g_array_index (server.messages, ServerEntry, idx).flags & SERVER_SHARED))
        g_array_append_val (wanted, idx);
    }
  n_new = wanted->len;
  g_clear_pointer (&new_idx, g_array_unref);
  /* Skipped earlier: fetched if max-size allows it now. */
  skipped = bz_db_list_skipped (run->db, run->account->name, error);
  if (skipped == NULL)
    return FALSE;
  for (guint i = 0; i < skipped->len; i++)
    {
      BzDbMessage *s = g_ptr_array_index (skipped, i);
      gint found = server_list_find (&server, s->uidl);
      if (found >= 0)
        {
          guint idx = (guint) found;
          g_array_append_val (wanted, idx);
          g_array_append_val (skipped_sizes, s->size);
        }
    }
  g_clear_pointer (&skipped, g_ptr_array_unref);
  if (!server_list_fill_sizes (run, &server, wanted, error))
    return FALSE;
  for (guint i = 0; i < wanted->len; i++)
    {
      ServerMessage one = server_list_message (&server, g_array_index (wanted, guint, i));
      const ServerMessage *m = &one;
      /* Skipped after sending far more than LIST said (its row has the
       * octets read): fetched again only when it would not be cut off
       * again, as a RETR now would be. */
      guint64 seen = i < n_new ? 0 : g_array_index (skipped_sizes, guint64, i - n_new);
      guint64 limit = bz_pop3_fetch_limit (m->size, max_size);
      gboolean lied = seen > m->size && limit > 0 && seen > limit;

      if ((max_size == 0 || m->size <= max_size) && !lied)
        g_array_append_val (fetch, *m);
      else if (i < n_new)
        g_array_append_val (skip, *m);
      /* else: skipped earlier and still too large */
    }
  g_clear_pointer (&wanted, g_array_unref);
  /* Oldest first, as the server numbers them, so an interrupted sync has
   * stored a prefix of the mailbox. */
  g_array_sort (fetch, compare_msgno);

  if (!skip_messages (run, skip, error))
    return FALSE;

  if (fetch->len > 0)
    {
      gboolean fetched;
      guint n_fetch = fetch->len;
      g_autofree guint *msgnos = g_new (guint, fetch->len);
      g_autofree const char **fuidls = g_new0 (const char *, fetch->len + 1);
      g_autofree guint64 *sizes = g_new (guint64, fetch->len);

      for (guint i = 0; i < fetch->len; i++)
        {
          const ServerMessage *m = &g_array_index (fetch, ServerMessage, i);
          msgnos[i] = m->msgno;
          fuidls[i] = m->uidl;
          sizes[i] = m->size;
        }
      g_clear_pointer (&fetch, g_array_unref);
      fetched = bz_sync_fetch_messages (run, msgnos, fuidls, sizes, n_fetch, error);
      if (!bz_sync_check_record_doubts (run, fetched ? error : NULL) || !fetched)
        return FALSE;
    }
  if (!check_cancelled (run->cancellable, error))
    return FALSE;
  return apply_keep_policy (run, &server, error);
}

static gboolean
run_locked (BzSync *sync, BzAccount *account, const char *db_path, BzSyncPassword *password,
            gint64 now, GCancellable *cancellable, BzSyncResult *result, GError **error)
{
  g_autoptr (BzSyncPrep) prep = NULL;
  BzSyncRun run = { 0 };
  gint64 start = g_get_monotonic_time ();
  gboolean ok;

  memset (result, 0, sizeof *result);
  prep = bz_sync_prep_start (account, db_path);

  run.sync = sync;
  run.account = account;
  run.prep = prep;
  run.cancellable = cancellable;
  run.now = now > 0 ? now : g_get_real_time () / G_USEC_PER_SEC;
  run.fixed_clock = now > 0;
  run.result = result;

  run.password_source = password;
  bz_sync_check_init (&run);

  for (guint attempt = 1;; attempt++)
    {
      g_autoptr (GError) local = NULL;

      run.session = open_session (&run, cancellable, &local);
      ok = run.session != NULL && sync_session (&run, &local);
      if (run.session != NULL)
        {
          /* Without a clean QUIT the server rolls back any DELE. */
          if (!ok)
            bz_pop3_session_abort (run.session);
          g_clear_object (&run.session);
        }
      if (ok)
        break;
      /* An answer that did not fit ended the session before anything
       * after it was stored: a new session fetches the rest, carefully. */
      if (!bz_sync_check_record_cut (&run, error))
        break;
      if (attempt < MAX_SESSIONS && bz_sync_check_can_retry (&run, local) &&
          !g_cancellable_is_cancelled (cancellable))
        {
          g_warning ("%s: %s; going on in a new session, one message at a time", account->name,
                     local->message);
          run.careful = TRUE;
          continue;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      break;
    }
  bz_sync_check_clear (&run);
  /* A database that could not be opened or recovered is the cause to
   * report, whatever the session met meanwhile (it used to be found before
   * connecting). */
  if (bz_sync_prep_failed (prep, ok ? error : NULL))
    {
      /* ...but not over a password that could not be had: that lookup
       * used to come first of all */
      if (!ok && error != NULL && (password == NULL || !bz_sync_password_failed (password)))
        {
          g_clear_error (error);
          bz_sync_prep_failed (prep, error);
        }
      ok = FALSE;
    }
  else if (!bz_sync_prep_count_stored (prep, &result->stored_total, ok ? error : NULL))
    ok = FALSE;
  result->seconds = (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC;
  return ok;
}

gboolean
bz_sync_run_worker (BzSync *sync, BzAccount *account, const char *db_path, BzSyncPassword *password,
                    gint64 now, GCancellable *cancellable, BzSyncResult *result, GError **error)
{
  g_autofree char *previous = g_strdup (bz_log_get_thread_account ());
  int lock_fd;
  gboolean ok = FALSE;

  memset (result, 0, sizeof *result);
  /* what the network, POP3, store and database code logs meanwhile is
   * about this account */
  bz_log_set_thread_account (account->name);
  lock_fd = bz_sync_lock_account (db_path, account->name, error);
  if (lock_fd >= 0)
    {
      ok = run_locked (sync, account, db_path, password, now, cancellable, result, error);
      close (lock_fd);
    }
  bz_log_set_thread_account (previous);
  return ok;
}

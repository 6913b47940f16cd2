/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The transaction-state commands. RETR/TOP and DELE keep up to
 * pipeline_window commands in flight when the server offers PIPELINING
 * (RFC 2449 §6.6); the commands queued while waiting go out in one write. */
#include "config.h"

#include <string.h>

#include "bz-pop3-listing.h"
#include "bz-pop3-session-private.h"

static gboolean
bz_pop3_commands_parse_uint (BzPop3Session *self, const char *str, guint64 max, guint64 *out,
                             const char **end, GError **error)
{
  return bz_pop3_listing_number (self->host, str, max, out, end, error);
}

/* Parses "msgno value" as answered by LIST and UIDL. */
static gboolean
bz_pop3_commands_parse_pair (BzPop3Session *self, const char *line, guint *msgno, const char **rest,
                             GError **error)
{
  return bz_pop3_listing_pair (self->host, line, msgno, rest, error);
}

/* Sends @line and expects +OK; a -ERR becomes an error named @what. */
static BzPop3Cmd *
bz_pop3_commands_simple (BzPop3Session *self, const char *line, BzPop3CmdKind kind,
                         BzPop3Error fallback, const char *what, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (BzPop3Cmd) cmd = bz_pop3_session_call (self, kind, line, cancellable, error);

  if (cmd == NULL)
    return NULL;
  if (!cmd->ok)
    {
      bz_pop3_session_set_server_error (self, cmd, fallback, what, error);
      return NULL;
    }
  return g_steal_pointer (&cmd);
}

typedef struct
{
  BzPop3Session *self;
  GArray *entries;
  GError *error; /* the first bad line */
} ListReader;

/* Each line of a LIST listing as it arrives: no copy of the whole answer. */
static void
bz_pop3_commands_list_line (const char *line, gsize len, gpointer data)
{
  ListReader *r = data;
  BzPop3ListEntry entry = { 0 };
  const char *rest;

  if (r->error != NULL)
    return;
  if (!bz_pop3_commands_parse_pair (r->self, line, &entry.msgno, &rest, &r->error) ||
      !bz_pop3_commands_parse_uint (r->self, rest, G_MAXINT64, &entry.size, NULL, &r->error))
    return;
  g_array_append_val (r->entries, entry);
}

GArray *
bz_pop3_session_list (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3Cmd) done = NULL;
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (BzPop3ListEntry));
  ListReader reader = { self, entries, NULL };
  BzPop3Cmd *cmd;
  gboolean ran;

  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), NULL);
  if (!bz_pop3_session_check_usable (self, error))
    return NULL;
  cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_LINES, "LIST");
  cmd->max_lines = BZ_POP3_MAX_MESSAGES;
  cmd->line_func = bz_pop3_commands_list_line;
  cmd->line_data = &reader;
  ran = bz_pop3_session_run (self, cmd, cancellable, error);
  if (ran)
    done = bz_pop3_session_take (self, cmd);
  if (!ran || !done->ok)
    {
      g_clear_error (&reader.error);
      if (ran)
        bz_pop3_session_set_server_error (self, done, BZ_POP3_ERROR_SERVER, "LIST failed", error);
      return NULL;
    }
  if (reader.error != NULL)
    {
      g_propagate_error (error, reader.error);
      return NULL;
    }
  return g_steal_pointer (&entries);
}

void
bz_pop3_uidl_list_free (BzPop3UidlList *list)
{
  if (list == NULL)
    return;
  g_clear_pointer (&list->entries, g_array_unref);
  g_clear_pointer (&list->strings, g_string_chunk_free);
  g_free (list);
}

static gboolean
bz_pop3_commands_check_uidl (BzPop3Session *self, const char *line, gsize len, GError **error)
{
  return bz_pop3_listing_check_uidl (self->host, line, len, error);
}

typedef struct
{
  BzPop3Session *self;
  BzPop3UidlList *list;
  GError *error; /* the first bad line */
  gsize bytes;   /* of the UIDLs so far */
  BzPop3UidlFunc func;
  gpointer func_data;
} UidlReader;

/* Each line of the listing as it arrives: no copy of the whole answer.
 * RFC 1939 allows 0x21..0x7E; anything else non-blank is accepted too,
 * since servers in the wild send UTF-8 and a UIDL only has to be stable.
 * An empty one ("1 \tabc") cannot name a message: a protocol error. */
static void
bz_pop3_commands_uidl_line (const char *line, gsize len, gpointer data)
{
  UidlReader *r = data;
  BzPop3UidlEntry entry = { 0 };
  const char *rest;
  gsize uidl_len;

  if (r->error != NULL)
    return;
  if (!bz_pop3_commands_parse_pair (r->self, line, &entry.msgno, &rest, &r->error))
    return;
  uidl_len = strcspn (rest, " \t");
  if (!bz_pop3_commands_check_uidl (r->self, line, uidl_len, &r->error))
    return;
  r->bytes += uidl_len;
  if (r->bytes > BZ_POP3_MAX_UIDL_BYTES)
    {
      g_set_error (&r->error, BZ_POP3_ERROR, BZ_POP3_ERROR_LIMIT,
                   "%s: a listing whose UIDLs add up to more than %d MiB", r->self->host,
                   BZ_POP3_MAX_UIDL_BYTES / (1024 * 1024));
      return;
    }
  entry.uidl = g_string_chunk_insert_len (r->list->strings, rest, (gssize) uidl_len);
  g_array_append_val (r->list->entries, entry);
  if (r->func != NULL)
    r->func (entry.uidl, r->func_data);
}

BzPop3UidlList *
bz_pop3_session_uidl (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  return bz_pop3_session_uidl_full (self, NULL, NULL, cancellable, error);
}

BzPop3UidlList *
bz_pop3_session_uidl_full (BzPop3Session *self, BzPop3UidlFunc func, gpointer user_data,
                           GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3UidlList) list = g_new0 (BzPop3UidlList, 1);
  g_autoptr (BzPop3Cmd) done = NULL;
  UidlReader reader = { self, list, NULL, 0, func, user_data };
  BzPop3Cmd *cmd;
  gboolean ran;

  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), NULL);
  if (!bz_pop3_session_check_usable (self, error))
    return NULL;
  list->entries = g_array_new (FALSE, FALSE, sizeof (BzPop3UidlEntry));
  list->strings = g_string_chunk_new (64 * 1024);
  cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_LINES, "UIDL");
  cmd->max_lines = BZ_POP3_MAX_MESSAGES;
  cmd->line_func = bz_pop3_commands_uidl_line;
  cmd->line_data = &reader;
  ran = bz_pop3_session_run (self, cmd, cancellable, error);
  if (ran)
    done = bz_pop3_session_take (self, cmd);
  if (!ran || !done->ok)
    {
      g_clear_error (&reader.error);
      if (ran)
        bz_pop3_session_set_server_error (self, done, BZ_POP3_ERROR_NO_UIDL, "UIDL failed", error);
      return NULL;
    }
  if (reader.error != NULL)
    {
      g_propagate_error (error, reader.error);
      return NULL;
    }
  return g_steal_pointer (&list);
}

static guint
bz_pop3_commands_window (BzPop3Session *self)
{
  if (!bz_pop3_session_has_capability (self, "PIPELINING"))
    return 1;
  return self->options.pipeline_window;
}

gboolean
bz_pop3_session_fetch_many (BzPop3Session *self, const guint *msgnos, gsize n_msgnos, gboolean top,
                            guint top_lines, BzPop3MessageSink *sink, GCancellable *cancellable,
                            GError **error)
{
  return bz_pop3_session_fetch_checked (self, msgnos, n_msgnos, top, top_lines, NULL, sink,
                                        cancellable, error);
}

guint64
bz_pop3_fetch_limit (guint64 size, guint64 max_size)
{
  guint64 limit = 0;

  if (size > 0)
    limit =
        size > (G_MAXUINT64 - BZ_POP3_SIZE_SLACK) / 2 ? G_MAXUINT64 : 2 * size + BZ_POP3_SIZE_SLACK;
  if (max_size > 0 && (limit == 0 || max_size < limit))
    limit = max_size;
  return limit;
}

gboolean
bz_pop3_session_fetch_checked (BzPop3Session *self, const guint *msgnos, gsize n_msgnos,
                               gboolean top, guint top_lines, const BzPop3FetchOptions *options,
                               BzPop3MessageSink *sink, GCancellable *cancellable, GError **error)
{
  guint window;
  gsize next = 0;
  gboolean need_noop = FALSE;
  g_autoptr (GError) error_local = NULL;

  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), FALSE);
  g_return_val_if_fail (msgnos != NULL || n_msgnos == 0, FALSE);
  g_return_val_if_fail (sink != NULL && sink->begin != NULL && sink->write != NULL &&
                            sink->end != NULL && sink->fail != NULL,
                        FALSE);

  if (!bz_pop3_session_check_usable (self, error))
    return FALSE;
  window = bz_pop3_commands_window (self);
  if (options != NULL && options->window > 0)
    window = MIN (window, options->window);
  /* Two commands a message: its RETR/TOP and a NOOP sentinel; without
   * PIPELINING one at a time, the NOOP after the answer was read. */
  if (bz_pop3_session_has_capability (self, "PIPELINING"))
    window *= 2;
  else
    window = 1;
  self->sink = sink;
  g_clear_error (&self->misfit);
  while (next < n_msgnos || need_noop || !g_queue_is_empty (&self->inflight))
    {
      BzPop3Cmd *head;
      gboolean sent_group = FALSE;

      /* Refilled in groups: one TLS record and one segment for many
       * commands, instead of one for each answer read. */
      if (self->misfit == NULL && need_noop && g_queue_get_length (&self->inflight) < window)
        {
          bz_pop3_session_queue (self, BZ_POP3_CMD_SIMPLE, "NOOP");
          need_noop = FALSE;
          sent_group = TRUE;
        }
      while (self->misfit == NULL && next < n_msgnos &&
             g_queue_get_length (&self->inflight) < window &&
             (sent_group || g_queue_get_length (&self->inflight) <= window / 2))
        {
          char line[64];
          BzPop3Cmd *cmd;
          guint64 size = options != NULL && options->sizes != NULL ? options->sizes[next] : 0;

          if (top)
            g_snprintf (line, sizeof (line), "TOP %u %u", msgnos[next], top_lines);
          else
            g_snprintf (line, sizeof (line), "RETR %u", msgnos[next]);
          cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_SINK, line);
          cmd->msgno = msgnos[next++];
          /* A TOP answer is a part of the message: only its limit applies. */
          cmd->facts.expected = top ? 0 : size;
          cmd->limit = bz_pop3_fetch_limit (size, options != NULL ? options->max_size : 0);
          /* a TOP answer is read for its header block: never endless */
          if (top && cmd->limit == 0)
            cmd->limit = BZ_POP3_MAX_TOP;
          /* A NOOP after each answer frames it: an answer sent twice (even
           * of the same size) or any other extra answer lands on the NOOP,
           * whose single line cannot take the data that follows, so the
           * parser fails before the next message's answer is stored. */
          if (g_queue_get_length (&self->inflight) < window)
            bz_pop3_session_queue (self, BZ_POP3_CMD_SIMPLE, "NOOP");
          else
            need_noop = TRUE;
          sent_group = TRUE;
        }
      if (g_queue_is_empty (&self->inflight))
        break;
      if (!bz_pop3_session_run (self, NULL, cancellable, &error_local))
        {
          /* Bytes that are no answer where one was due: the stream is out
           * of step with the commands (an extra or repeated answer). */
          if (g_error_matches (error_local, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL))
            {
              GError *misfit = g_error_new (BZ_POP3_ERROR, BZ_POP3_ERROR_MISFIT,
                                            "%s (the answers are out of step with the commands)",
                                            error_local->message);
              g_clear_error (&error_local);
              error_local = misfit;
            }
          bz_pop3_session_fail_inflight (self, error_local);
          self->sink = NULL;
          g_propagate_error (error, g_steal_pointer (&error_local));
          return FALSE;
        }
      while ((head = g_queue_peek_head (&self->inflight)) != NULL && head->done)
        bz_pop3_cmd_free (g_queue_pop_head (&self->inflight));
    }
  self->sink = NULL;
  if (self->misfit != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->misfit));
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_pop3_session_retr (BzPop3Session *self, guint msgno, BzPop3MessageSink *sink,
                      GCancellable *cancellable, GError **error)
{
  return bz_pop3_session_fetch_many (self, &msgno, 1, FALSE, 0, sink, cancellable, error);
}

gboolean
bz_pop3_session_top (BzPop3Session *self, guint msgno, guint lines, BzPop3MessageSink *sink,
                     GCancellable *cancellable, GError **error)
{
  return bz_pop3_session_fetch_many (self, &msgno, 1, TRUE, lines, sink, cancellable, error);
}

gboolean
bz_pop3_session_dele (BzPop3Session *self, guint msgno, GCancellable *cancellable, GError **error)
{
  return bz_pop3_session_dele_many (self, &msgno, 1, cancellable, error);
}

/* Called for each +OK of bz_pop3_commands_simple_many(), in command order. */
typedef gboolean (*BzPop3OkFunc) (BzPop3Session *self, BzPop3Cmd *cmd, gsize index,
                                  gpointer user_data, GError **error);

/* "@verb msgno" for each of @msgnos, with up to the pipeline window in
 * flight; fails on the first -ERR (or @on_ok error). After a failure
 * nothing new is sent, but the answers to what is in flight are still read
 * so that the session stays usable. */
static gboolean
bz_pop3_commands_simple_many (BzPop3Session *self, const char *verb, const guint *msgnos,
                              gsize n_msgnos, BzPop3OkFunc on_ok, gpointer user_data,
                              GCancellable *cancellable, GError **error)
{
  guint window;
  gsize next = 0;
  gsize answered = 0;
  g_autoptr (GError) first_err = NULL;

  if (!bz_pop3_session_check_usable (self, error))
    return FALSE;
  window = bz_pop3_commands_window (self);
  while (next < n_msgnos || !g_queue_is_empty (&self->inflight))
    {
      BzPop3Cmd *head;

      while (first_err == NULL && next < n_msgnos && g_queue_get_length (&self->inflight) < window)
        {
          char line[48];
          BzPop3Cmd *cmd;

          g_snprintf (line, sizeof (line), "%s %u", verb, msgnos[next]);
          cmd = bz_pop3_session_queue (self, BZ_POP3_CMD_SIMPLE, line);
          cmd->msgno = msgnos[next++];
        }
      if (g_queue_is_empty (&self->inflight))
        break;
      if (!bz_pop3_session_run (self, NULL, cancellable, error))
        return FALSE;
      while ((head = g_queue_peek_head (&self->inflight)) != NULL && head->done)
        {
          g_autoptr (BzPop3Cmd) cmd = g_queue_pop_head (&self->inflight);
          gsize index = answered++;

          if (first_err != NULL)
            continue;
          if (!cmd->ok)
            {
              g_autofree char *what = g_strdup_printf ("%s %u failed", verb, cmd->msgno);
              bz_pop3_session_set_server_error (self, cmd, BZ_POP3_ERROR_SERVER, what, &first_err);
            }
          else if (on_ok != NULL)
            {
              on_ok (self, cmd, index, user_data, &first_err);
            }
        }
    }
  if (first_err != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_err));
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_pop3_session_dele_many (BzPop3Session *self, const guint *msgnos, gsize n_msgnos,
                           GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), FALSE);
  g_return_val_if_fail (msgnos != NULL || n_msgnos == 0, FALSE);
  return bz_pop3_commands_simple_many (self, "DELE", msgnos, n_msgnos, NULL, NULL, cancellable,
                                       error);
}

/* "+OK msgno size" of LIST n: the size into sizes[index]. */
static gboolean
bz_pop3_commands_list_ok (BzPop3Session *self, BzPop3Cmd *cmd, gsize index, gpointer user_data,
                          GError **error)
{
  guint64 *sizes = user_data;
  const char *rest;
  guint n = 0;

  if (!bz_pop3_commands_parse_pair (self, cmd->text != NULL ? cmd->text : "", &n, &rest, error) ||
      !bz_pop3_commands_parse_uint (self, rest, G_MAXINT64, &sizes[index], NULL, error))
    return FALSE;
  if (n != cmd->msgno)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
                   "%s: LIST %u answered for message %u", self->host, cmd->msgno, n);
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_pop3_session_list_many (BzPop3Session *self, const guint *msgnos, gsize n_msgnos, guint64 *sizes,
                           GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), FALSE);
  g_return_val_if_fail (msgnos != NULL || n_msgnos == 0, FALSE);
  g_return_val_if_fail (sizes != NULL || n_msgnos == 0, FALSE);
  return bz_pop3_commands_simple_many (self, "LIST", msgnos, n_msgnos, bz_pop3_commands_list_ok,
                                       sizes, cancellable, error);
}

gboolean
bz_pop3_session_quit (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3Cmd) cmd = NULL;
  gboolean ok;

  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), FALSE);
  cmd = bz_pop3_commands_simple (self, "QUIT", BZ_POP3_CMD_SIMPLE, BZ_POP3_ERROR_SERVER,
                                 "QUIT failed", cancellable, error);
  ok = cmd != NULL;
  if (self->conn != NULL)
    bz_net_connection_close (self->conn);
  self->broken = TRUE;
  return ok;
}

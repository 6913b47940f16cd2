/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The session object: connecting, greeting, CAPA, STLS, and the command
 * queue with its I/O loop. Each command queues its expected response with
 * the parser; the parser's callbacks fill in the oldest unfinished command,
 * which is what keeps pipelined responses matched to their commands. */
#include "config.h"

#include <string.h>

#include "bz-common-text.h"
#include "bz-pop3-session-private.h"

G_DEFINE_TYPE (BzPop3Session, bz_pop3_session, G_TYPE_OBJECT)

void
bz_pop3_cmd_free (BzPop3Cmd *cmd)
{
  if (cmd == NULL)
    return;
  g_free (cmd->code);
  g_free (cmd->text);
  if (cmd->lines != NULL)
    g_ptr_array_unref (cmd->lines);
  g_free (cmd);
}

static BzPop3Cmd *
bz_pop3_session_current (BzPop3Session *self)
{
  for (GList *l = self->inflight.head; l != NULL; l = l->next)
    {
      BzPop3Cmd *cmd = l->data;
      if (!cmd->done)
        return cmd;
    }
  return NULL;
}

static BzPop3Error
bz_pop3_session_code_to_error (const char *code, BzPop3Error fallback)
{
  static const struct
  {
    const char *code;
    BzPop3Error error;
  } map[] = {
    { "IN-USE", BZ_POP3_ERROR_IN_USE },     { "LOGIN-DELAY", BZ_POP3_ERROR_LOGIN_DELAY },
    { "SYS/TEMP", BZ_POP3_ERROR_SYS_TEMP }, { "SYS/PERM", BZ_POP3_ERROR_SYS_PERM },
    { "AUTH", BZ_POP3_ERROR_AUTH },
  };

  if (code == NULL)
    return fallback;
  /* Codes are hierarchical (RFC 2449 §8): "SYS/TEMP/QUOTA" is a SYS/TEMP. */
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    {
      gsize len = strlen (map[i].code);
      if (g_ascii_strncasecmp (code, map[i].code, len) == 0 &&
          (code[len] == '\0' || code[len] == '/'))
        return map[i].error;
    }
  return fallback;
}

/* The server's words go into the message sanitised (no terminal escapes,
 * valid UTF-8) and cut short: the message reaches terminals, the journal
 * and the bus. */
static GError *
bz_pop3_session_server_error (BzPop3Session *self, BzPop3Cmd *cmd, BzPop3Error fallback,
                              const char *what)
{
  g_autofree char *code =
      cmd->code != NULL ? bz_common_text_sanitize_short (cmd->code, -1, 64) : NULL;
  g_autofree char *text = bz_common_text_sanitize_short (cmd->text, -1, BZ_POP3_MAX_QUOTED);

  return g_error_new (BZ_POP3_ERROR, bz_pop3_session_code_to_error (cmd->code, fallback),
                      "%s: %s: -ERR%s%s%s%s%s", self->host, what, code != NULL ? " [" : "",
                      code != NULL ? code : "", code != NULL ? "]" : "", text[0] != '\0' ? " " : "",
                      text);
}

void
bz_pop3_session_set_server_error (BzPop3Session *self, BzPop3Cmd *cmd, BzPop3Error fallback,
                                  const char *what, GError **error)
{
  g_propagate_error (error, bz_pop3_session_server_error (self, cmd, fallback, what));
}

void
bz_pop3_session_prefix_error (BzPop3Session *self, GError **error)
{
  g_autofree char *prefix = NULL;

  if (error == NULL || *error == NULL)
    return;
  prefix = g_strdup_printf ("%s: ", self->host);
  if (!g_str_has_prefix ((*error)->message, prefix))
    g_prefix_error (error, "%s", prefix);
}

/* Hands @len bytes of the current answer to the sink. The digest is taken
 * here, over whole buffers, rather than line by line as they arrive. */
static gboolean
bz_pop3_session_sink_write (BzPop3Session *self, BzPop3Cmd *cmd, const char *data, gsize len,
                            GError **error)
{
  bz_pop3_digest_update (&cmd->digest, data, len);
  return self->sink->write (self->sink, data, len, error);
}

static gboolean
bz_pop3_session_sink_flush (BzPop3Session *self, BzPop3Cmd *cmd, GError **error)
{
  gsize len = self->sinkbuf_len;

  self->sinkbuf_len = 0;
  if (len == 0)
    return TRUE;
  return bz_pop3_session_sink_write (self, cmd, self->sinkbuf, len, error);
}

/* "+OK" or "-ERR", then a space or the line end, as the parser reads a
 * status line: @head holds the line's first bytes (all of it when @eol). */
static gboolean
bz_pop3_looks_like_status (const guint8 *head, gsize len, gboolean eol)
{
  const char *h = (const char *) head;

  if (len >= 3 && g_ascii_strncasecmp (h, "+OK", 3) == 0)
    return len > 3 ? h[3] == ' ' : eol;
  if (len >= 4 && g_ascii_strncasecmp (h, "-ERR", 4) == 0)
    return len > 4 ? h[4] == ' ' : eol;
  return FALSE;
}

/* The number of "+OK 1234 octets", or G_MAXUINT64 without one. */
static guint64
bz_pop3_status_octets (const char *text)
{
  guint64 value = 0;

  if (text == NULL || !g_ascii_isdigit (*text))
    return G_MAXUINT64;
  for (; g_ascii_isdigit (*text); text++)
    {
      guint digit = *text - '0';
      if (value > (G_MAXUINT64 - 1 - digit) / 10)
        return G_MAXUINT64;
      value = value * 10 + digit;
    }
  return *text == '\0' || *text == ' ' ? value : G_MAXUINT64;
}

gboolean
bz_pop3_message_facts_fit (const BzPop3MessageFacts *facts)
{
  g_return_val_if_fail (facts != NULL, FALSE);
  if (facts->cut || facts->status_first)
    return FALSE;
  /* The status line's number is not held against an answer whose size is
   * right: servers count it in their own ways, and the NOOP after each
   * answer already catches one answer taken for another. */
  return facts->expected == 0 || facts->octets == facts->expected;
}

/* Accounts @len bytes (and a line end when @eol) of a SINK answer. FALSE
 * with BZ_POP3_ERROR_TOO_LARGE once past the command's limit. */
static gboolean
bz_pop3_session_account (BzPop3Session *self, BzPop3Cmd *cmd, const char *data, gsize len,
                         gboolean eol, GError **error)
{
  if (!cmd->head_done)
    {
      gsize take = MIN (len, sizeof cmd->head - cmd->head_len);

      memcpy (cmd->head + cmd->head_len, data, take);
      cmd->head_len += take;
      if (eol || cmd->head_len == sizeof cmd->head)
        {
          cmd->head_done = TRUE;
          cmd->facts.status_first = bz_pop3_looks_like_status (cmd->head, cmd->head_len, eol);
        }
    }
  /* LIST counts CRLF: each line end is two octets. */
  cmd->facts.octets += len + (eol ? 2 : 0);
  cmd->facts.lines += eol ? 1 : 0;
  if (cmd->limit > 0 && cmd->facts.octets > cmd->limit)
    {
      cmd->facts.cut = TRUE;
      if (self->sink->check != NULL)
        self->sink->check (self->sink, cmd->msgno, &cmd->facts);
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_TOO_LARGE,
                   "%s: message %u is larger than %" G_GUINT64_FORMAT
                   " octets (LIST said %" G_GUINT64_FORMAT "); stopped reading it",
                   self->host, cmd->msgno, cmd->limit, cmd->facts.expected);
      return FALSE;
    }
  return TRUE;
}

/* Another RETR/TOP after @cmd is still waiting for its answer (a NOOP
 * sentinel is read to the end as usual: it leaves the stream in step). */
static gboolean
bz_pop3_session_more_inflight (BzPop3Session *self, BzPop3Cmd *cmd)
{
  GList *l = g_queue_find (&self->inflight, cmd);

  for (l = l != NULL ? l->next : NULL; l != NULL; l = l->next)
    {
      BzPop3Cmd *later = l->data;
      if (!later->done && later->kind == BZ_POP3_CMD_SINK)
        return TRUE;
    }
  return FALSE;
}

static gboolean
bz_pop3_session_on_status (gpointer user_data, gboolean ok, gboolean continuation, const char *code,
                           const char *text, GError **error)
{
  BzPop3Session *self = user_data;
  BzPop3Cmd *cmd = bz_pop3_session_current (self);

  if (cmd == NULL)
    {
      g_set_error_literal (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
                           "response without a command");
      return FALSE;
    }
  cmd->ok = ok;
  cmd->continuation = continuation;
  cmd->code = g_strdup (code);
  cmd->text = g_strdup (text);
  if (ok && !continuation && cmd->kind == BZ_POP3_CMD_SINK)
    {
      cmd->began = TRUE;
      cmd->facts.status_octets = bz_pop3_status_octets (text);
      self->sinkbuf_len = 0;
      bz_pop3_digest_init (&cmd->digest);
      return self->sink->begin (self->sink, cmd->msgno, error);
    }
  if (ok && !continuation && cmd->kind == BZ_POP3_CMD_LINES)
    {
      g_string_truncate (self->line, 0);
      cmd->n_lines = 0;
      return TRUE;
    }
  cmd->done = TRUE;
  if (cmd->kind == BZ_POP3_CMD_SINK)
    {
      g_autoptr (GError) reason =
          bz_pop3_session_server_error (self, cmd, BZ_POP3_ERROR_SERVER, "message not retrieved");
      self->sink->fail (self->sink, cmd->msgno, reason);
    }
  return TRUE;
}

static gboolean
bz_pop3_session_on_data (gpointer user_data, const char *data, gsize len, gboolean eol,
                         GError **error)
{
  BzPop3Session *self = user_data;
  BzPop3Cmd *cmd = bz_pop3_session_current (self);

  g_assert (cmd != NULL);
  if (cmd->kind == BZ_POP3_CMD_LINES)
    {
      /* A listing is small lines: a server cannot make us hold megabytes
       * of one, nor millions of them. */
      if (self->line->len + len > BZ_POP3_MAX_LIST_LINE)
        {
          g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LIMIT,
                       "%s: a line of a listing is longer than %d bytes", self->host,
                       BZ_POP3_MAX_LIST_LINE);
          return FALSE;
        }
      if (eol && ++cmd->n_lines > cmd->max_lines)
        {
          g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LIMIT,
                       "%s: a listing of more than %u lines", self->host, cmd->max_lines);
          return FALSE;
        }
      g_string_append_len (self->line, data, len);
      if (eol)
        {
          if (cmd->line_func != NULL)
            cmd->line_func (self->line->str, self->line->len, cmd->line_data);
          else
            g_ptr_array_add (cmd->lines, g_strndup (self->line->str, self->line->len));
          g_string_truncate (self->line, 0);
        }
      return TRUE;
    }

  if (!bz_pop3_session_account (self, cmd, data, len, eol, error))
    return FALSE;
  /* Coalesce lines into one sink write per buffer; a fragment too big for
   * the buffer goes straight through. */
  if (self->sinkbuf_len + len + 1 > BZ_POP3_SINK_BUFFER)
    {
      if (!bz_pop3_session_sink_flush (self, cmd, error))
        return FALSE;
      if (len + 1 > BZ_POP3_SINK_BUFFER)
        {
          if (!bz_pop3_session_sink_write (self, cmd, data, len, error))
            return FALSE;
          len = 0;
        }
    }
  memcpy (self->sinkbuf + self->sinkbuf_len, data, len);
  self->sinkbuf_len += len;
  if (eol)
    self->sinkbuf[self->sinkbuf_len++] = '\n';
  return TRUE;
}

static gboolean
bz_pop3_session_on_end (gpointer user_data, GError **error)
{
  BzPop3Session *self = user_data;
  BzPop3Cmd *cmd = bz_pop3_session_current (self);

  g_assert (cmd != NULL);
  cmd->done = TRUE;
  if (cmd->kind != BZ_POP3_CMD_SINK)
    return TRUE;
  if (!bz_pop3_session_sink_flush (self, cmd, error))
    return FALSE;
  cmd->facts.digest = bz_pop3_digest_finish (&cmd->digest);
  if (!bz_pop3_message_facts_fit (&cmd->facts) &&
      (self->sink->check == NULL || !self->sink->check (self->sink, cmd->msgno, &cmd->facts)))
    {
      g_autoptr (GError) misfit = NULL;
      char status[32] = "";

      if (cmd->facts.status_octets != G_MAXUINT64)
        g_snprintf (status, sizeof status, ", its status line %" G_GUINT64_FORMAT,
                    cmd->facts.status_octets);
      misfit = g_error_new (BZ_POP3_ERROR, BZ_POP3_ERROR_MISFIT,
                            "%s: the answer for message %u does not fit: %s%" G_GUINT64_FORMAT
                            " octets where LIST said %" G_GUINT64_FORMAT "%s",
                            self->host, cmd->msgno,
                            cmd->facts.status_first ? "it begins with a status line, " : "",
                            cmd->facts.octets, cmd->facts.expected, status);
      self->sink->fail (self->sink, cmd->msgno, misfit);
      /* Later answers already on their way must not reach the sink: only
       * a stream with nothing else in flight may go on. */
      if (bz_pop3_session_more_inflight (self, cmd))
        {
          g_propagate_error (error, g_steal_pointer (&misfit));
          return FALSE;
        }
      g_clear_error (&self->misfit);
      self->misfit = g_steal_pointer (&misfit);
      return TRUE;
    }
  return self->sink->end (self->sink, cmd->msgno, error);
}

static const BzPop3ParserCallbacks bz_pop3_session_callbacks = {
  .status = bz_pop3_session_on_status,
  .data = bz_pop3_session_on_data,
  .end = bz_pop3_session_on_end,
};

BzPop3Cmd *
bz_pop3_session_queue (BzPop3Session *self, BzPop3CmdKind kind, const char *line)
{
  BzPop3Cmd *cmd = g_new0 (BzPop3Cmd, 1);

  cmd->kind = kind;
  if (kind == BZ_POP3_CMD_LINES)
    cmd->lines = g_ptr_array_new_with_free_func (g_free);
  cmd->max_lines = BZ_POP3_MAX_CAPA_LINES;
  cmd->facts.status_octets = G_MAXUINT64;
  g_queue_push_tail (&self->inflight, cmd);
  bz_pop3_parser_expect (self->parser, kind == BZ_POP3_CMD_SIMPLE ? BZ_POP3_EXPECT_SINGLE
                                       : kind == BZ_POP3_CMD_AUTH ? BZ_POP3_EXPECT_CONTINUATION
                                                                  : BZ_POP3_EXPECT_MULTI);
  if (line != NULL)
    {
      g_string_append (self->wbuf, line);
      g_string_append (self->wbuf, "\r\n");
    }
  return cmd;
}

BzPop3Cmd *
bz_pop3_session_take (BzPop3Session *self, BzPop3Cmd *cmd)
{
  g_return_val_if_fail (g_queue_peek_head (&self->inflight) == cmd, NULL);
  g_return_val_if_fail (cmd->done, NULL);
  return g_queue_pop_head (&self->inflight);
}

gboolean
bz_pop3_session_flush (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  gboolean ok;

  if (self->wbuf->len == 0)
    return TRUE;
  ok = bz_net_connection_write_all (self->conn, self->wbuf->str, self->wbuf->len, cancellable,
                                    error);
  /* The buffer may have carried a password; it is pre-sized so that a
   * login line never made it reallocate and leave a copy behind. */
  explicit_bzero (self->wbuf->str, self->wbuf->len);
  g_string_truncate (self->wbuf, 0);
  if (!ok)
    {
      self->broken = TRUE;
      bz_pop3_session_prefix_error (self, error);
    }
  return ok;
}

static guint
bz_pop3_session_count_done (BzPop3Session *self)
{
  guint n = 0;
  for (GList *l = self->inflight.head; l != NULL; l = l->next)
    n += ((BzPop3Cmd *) l->data)->done ? 1 : 0;
  return n;
}

gboolean
bz_pop3_session_run (BzPop3Session *self, BzPop3Cmd *cmd, GCancellable *cancellable, GError **error)
{
  guint done_before = cmd == NULL ? bz_pop3_session_count_done (self) : 0;

  if (!bz_pop3_session_flush (self, cancellable, error))
    return FALSE;
  for (;;)
    {
      gssize n;

      if (cmd != NULL ? cmd->done : bz_pop3_session_count_done (self) > done_before)
        return TRUE;
      if (bz_pop3_parser_pending (self->parser) == 0)
        return TRUE;
      n = bz_net_connection_read (self->conn, self->rbuf, BZ_POP3_READ_CHUNK, cancellable, error);
      if (n < 0)
        {
          self->broken = TRUE;
          bz_pop3_session_prefix_error (self, error);
          return FALSE;
        }
      if (n == 0)
        {
          self->broken = TRUE;
          g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_CLOSED,
                       "%s: connection closed by the server inside a response", self->host);
          return FALSE;
        }
      if (!bz_pop3_parser_feed (self->parser, self->rbuf, n, error))
        {
          self->broken = TRUE;
          /* A sink may fail without an error, and callers may pass none. */
          if (error != NULL && *error != NULL &&
              ((*error)->domain == BZ_POP3_ERROR || (*error)->domain == BZ_NET_ERROR))
            bz_pop3_session_prefix_error (self, error);
          return FALSE;
        }
    }
}

BzPop3Cmd *
bz_pop3_session_call (BzPop3Session *self, BzPop3CmdKind kind, const char *line,
                      GCancellable *cancellable, GError **error)
{
  BzPop3Cmd *cmd;

  if (!bz_pop3_session_check_usable (self, error))
    return NULL;
  cmd = bz_pop3_session_queue (self, kind, line);
  if (!bz_pop3_session_run (self, cmd, cancellable, error))
    return NULL;
  return bz_pop3_session_take (self, cmd);
}

gboolean
bz_pop3_session_check_usable (BzPop3Session *self, GError **error)
{
  if (self->conn == NULL || self->broken)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_CLOSED,
                   "%s: the session ended after an earlier error or QUIT", self->host);
      return FALSE;
    }
  return TRUE;
}

gboolean
bz_pop3_session_is_usable (BzPop3Session *self)
{
  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), FALSE);
  return self->conn != NULL && !self->broken;
}

void
bz_pop3_session_fail_inflight (BzPop3Session *self, const GError *reason)
{
  for (GList *l = self->inflight.head; l != NULL; l = l->next)
    {
      BzPop3Cmd *cmd = l->data;
      if (cmd->done || cmd->kind != BZ_POP3_CMD_SINK)
        continue;
      cmd->done = TRUE;
      self->sink->fail (self->sink, cmd->msgno, reason);
    }
  g_queue_clear_full (&self->inflight, (GDestroyNotify) bz_pop3_cmd_free);
}

gboolean
bz_pop3_session_read_capa (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3Cmd) cmd = NULL;

  g_hash_table_remove_all (self->capa);
  self->have_capa = FALSE;
  cmd = bz_pop3_session_call (self, BZ_POP3_CMD_LINES, "CAPA", cancellable, error);
  if (cmd == NULL)
    return FALSE;
  /* RFC 1939 servers have no CAPA: then nothing is known, which is fine. */
  if (!cmd->ok)
    return TRUE;
  self->have_capa = TRUE;
  for (guint i = 0; i < cmd->lines->len; i++)
    {
      const char *line = g_ptr_array_index (cmd->lines, i);
      const char *space = strchr (line, ' ');
      g_autofree char *tag = NULL;

      tag = g_ascii_strup (line, space != NULL ? space - line : -1);
      if (tag[0] == '\0')
        continue;
      g_hash_table_replace (self->capa, g_steal_pointer (&tag),
                            space != NULL ? g_strstrip (g_strdup (space)) : g_strdup (""));
    }
  return TRUE;
}

static void
bz_pop3_session_read_apop_timestamp (BzPop3Session *self, const char *greeting)
{
  const char *open = strchr (greeting, '<');
  const char *close = open != NULL ? strchr (open, '>') : NULL;

  if (close == NULL || memchr (open, '@', close - open) == NULL)
    return;
  self->apop_timestamp = g_strndup (open, close - open + 1);
}

static gboolean
bz_pop3_session_start_tls (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  if (!bz_net_connection_start_tls (self->conn, cancellable, error))
    {
      self->broken = TRUE;
      bz_pop3_session_prefix_error (self, error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
bz_pop3_session_stls (BzPop3Session *self, GCancellable *cancellable, GError **error)
{
  g_autoptr (BzPop3Cmd) cmd = NULL;

  if (!bz_pop3_session_has_capability (self, "STLS"))
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_STLS,
                   "%s: security is starttls but the server does not offer STLS", self->host);
      return FALSE;
    }
  cmd = bz_pop3_session_call (self, BZ_POP3_CMD_SIMPLE, "STLS", cancellable, error);
  if (cmd == NULL)
    return FALSE;
  if (!cmd->ok)
    {
      bz_pop3_session_set_server_error (self, cmd, BZ_POP3_ERROR_NO_STLS, "STLS refused", error);
      return FALSE;
    }
  /* Nothing can be buffered here: a byte after the +OK would already have
   * failed the parser, so no plaintext injection survives into TLS. */
  if (!bz_pop3_session_start_tls (self, cancellable, error))
    return FALSE;
  /* RFC 2595 §4: forget what was learnt before TLS and ask again. */
  return bz_pop3_session_read_capa (self, cancellable, error);
}

BzPop3Session *
bz_pop3_session_connect (const BzPop3SessionOptions *options, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (BzPop3Session) self = NULL;
  g_autoptr (BzPop3Cmd) greeting = NULL;
  BzPop3Cmd *queued;

  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (options->net.host != NULL, NULL);

  self = g_object_new (BZ_TYPE_POP3_SESSION, NULL);
  self->options = *options;
  self->host = g_strdup (options->net.host);
  self->ca_file = g_strdup (options->net.ca_file);
  self->pin_sha256 = g_strdup (options->net.pin_sha256);
  self->options.net.host = self->host;
  self->options.net.ca_file = self->ca_file;
  self->options.net.pin_sha256 = self->pin_sha256;
  if (self->options.pipeline_window == 0)
    self->options.pipeline_window = BZ_POP3_DEFAULT_WINDOW;

  self->conn = bz_net_connection_open (&self->options.net, cancellable, error);
  if (self->conn == NULL)
    {
      bz_pop3_session_prefix_error (self, error);
      return NULL;
    }
  if (options->security == BZ_SECURITY_TLS && !bz_pop3_session_start_tls (self, cancellable, error))
    return NULL;

  /* Owned by the in-flight queue until taken: a failed read leaves it
   * there for finalize, so it must not be freed by scope before that. */
  queued = bz_pop3_session_queue (self, BZ_POP3_CMD_SIMPLE, NULL);
  if (!bz_pop3_session_run (self, queued, cancellable, error))
    return NULL;
  greeting = bz_pop3_session_take (self, queued);
  if (!greeting->ok)
    {
      bz_pop3_session_set_server_error (self, greeting, BZ_POP3_ERROR_SERVER,
                                        "server refused the connection", error);
      return NULL;
    }
  bz_pop3_session_read_apop_timestamp (self, greeting->text);

  if (!bz_pop3_session_read_capa (self, cancellable, error))
    return NULL;
  if (options->security == BZ_SECURITY_STARTTLS && !bz_pop3_session_stls (self, cancellable, error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
bz_pop3_session_has_capability (BzPop3Session *self, const char *tag)
{
  g_autofree char *up = NULL;

  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), FALSE);
  up = g_ascii_strup (tag, -1);
  return g_hash_table_contains (self->capa, up);
}

const char *
bz_pop3_session_get_capability_args (BzPop3Session *self, const char *tag)
{
  g_autofree char *up = NULL;
  const char *args;

  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), NULL);
  up = g_ascii_strup (tag, -1);
  args = g_hash_table_lookup (self->capa, up);
  return args != NULL && args[0] != '\0' ? args : NULL;
}

const char *
bz_pop3_session_get_auth_used (BzPop3Session *self)
{
  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), NULL);
  return self->auth_used;
}

BzNetConnection *
bz_pop3_session_get_connection (BzPop3Session *self)
{
  g_return_val_if_fail (BZ_IS_POP3_SESSION (self), NULL);
  return self->conn;
}

void
bz_pop3_session_abort (BzPop3Session *self)
{
  g_return_if_fail (BZ_IS_POP3_SESSION (self));
  self->broken = TRUE;
  if (self->conn != NULL)
    bz_net_connection_close (self->conn);
}

static void
bz_pop3_session_finalize (GObject *object)
{
  BzPop3Session *self = BZ_POP3_SESSION (object);

  g_queue_clear_full (&self->inflight, (GDestroyNotify) bz_pop3_cmd_free);
  g_clear_object (&self->conn);
  g_clear_error (&self->misfit);
  bz_pop3_parser_free (self->parser);
  explicit_bzero (self->wbuf->str, self->wbuf->allocated_len);
  g_string_free (self->wbuf, TRUE);
  g_string_free (self->line, TRUE);
  g_free (self->rbuf);
  g_free (self->sinkbuf);
  g_hash_table_unref (self->capa);
  g_free (self->apop_timestamp);
  g_free (self->host);
  g_free (self->ca_file);
  g_free (self->pin_sha256);
  G_OBJECT_CLASS (bz_pop3_session_parent_class)->finalize (object);
}

static void
bz_pop3_session_class_init (BzPop3SessionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bz_pop3_session_finalize;
}

static void
bz_pop3_session_init (BzPop3Session *self)
{
  g_queue_init (&self->inflight);
  self->parser = bz_pop3_parser_new (&bz_pop3_session_callbacks, self);
  self->wbuf = g_string_sized_new (4096);
  self->line = g_string_new (NULL);
  self->rbuf = g_malloc (BZ_POP3_READ_CHUNK);
  self->sinkbuf = g_malloc (BZ_POP3_SINK_BUFFER);
  self->capa = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

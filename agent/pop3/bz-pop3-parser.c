/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The parser is a small state machine driven by memchr() over whatever the
 * caller fed, so that a 100 MB message costs one callback per line and no
 * copy; only a status line is ever accumulated. */
#include "config.h"

#include <string.h>

#include "bz-common-text.h"
#include "bz-pop3-error.h"
#include "bz-pop3-parser.h"

typedef enum
{
  BZ_POP3_PARSER_STATE_STATUS,     /* accumulating a status line */
  BZ_POP3_PARSER_STATE_LINE_START, /* at the first byte of a data line */
  BZ_POP3_PARSER_STATE_DOT,        /* a data line began with "." */
  BZ_POP3_PARSER_STATE_DOT_CR,     /* ... followed by "\r" */
  BZ_POP3_PARSER_STATE_LINE,       /* inside a data line */
  BZ_POP3_PARSER_STATE_LINE_CR,    /* a data fragment ended with "\r" */
  BZ_POP3_PARSER_STATE_FAILED,
} BzPop3ParserState;

struct _BzPop3Parser
{
  const BzPop3ParserCallbacks *callbacks;
  gpointer user_data;
  GQueue expected; /* of GINT_TO_POINTER (BzPop3Expect) */
  BzPop3ParserState state;
  GString *status;
  gsize data_line_len; /* bytes of the current data line so far */
  gsize max_status_line;
  gsize max_data_line;
};

BzPop3Parser *
bz_pop3_parser_new (const BzPop3ParserCallbacks *callbacks, gpointer user_data)
{
  BzPop3Parser *self = g_new0 (BzPop3Parser, 1);

  g_return_val_if_fail (callbacks != NULL, NULL);

  self->callbacks = callbacks;
  self->user_data = user_data;
  g_queue_init (&self->expected);
  self->state = BZ_POP3_PARSER_STATE_STATUS;
  self->status = g_string_sized_new (128);
  self->max_status_line = BZ_POP3_PARSER_MAX_STATUS_LINE;
  self->max_data_line = BZ_POP3_PARSER_MAX_DATA_LINE;
  return self;
}

void
bz_pop3_parser_free (BzPop3Parser *self)
{
  if (self == NULL)
    return;
  g_queue_clear (&self->expected);
  g_string_free (self->status, TRUE);
  g_free (self);
}

void
bz_pop3_parser_expect (BzPop3Parser *self, BzPop3Expect expect)
{
  g_return_if_fail (self != NULL);
  g_queue_push_tail (&self->expected, GINT_TO_POINTER (expect));
}

guint
bz_pop3_parser_pending (BzPop3Parser *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_queue_get_length (&self->expected);
}

void
bz_pop3_parser_set_limits (BzPop3Parser *self, gsize max_status_line, gsize max_data_line)
{
  g_return_if_fail (self != NULL);
  if (max_status_line > 0)
    self->max_status_line = max_status_line;
  if (max_data_line > 0)
    self->max_data_line = max_data_line;
}

static BzPop3Expect
bz_pop3_parser_head (BzPop3Parser *self)
{
  return (BzPop3Expect) GPOINTER_TO_INT (g_queue_peek_head (&self->expected));
}

/* Splits an RFC 2449 "[CODE] text" off @text; @text is modified in place. */
static void
bz_pop3_parser_split_code (char *text, const char **code, const char **rest)
{
  char *close;

  *code = NULL;
  *rest = text;
  if (text[0] != '[')
    return;
  close = strchr (text + 1, ']');
  if (close == NULL || close == text + 1)
    return;
  *close = '\0';
  *code = text + 1;
  text = close + 1;
  while (*text == ' ')
    text++;
  *rest = text;
}

static gboolean
bz_pop3_parser_status_line (BzPop3Parser *self, GError **error)
{
  BzPop3Expect expect = bz_pop3_parser_head (self);
  char *line = self->status->str;
  gsize len = self->status->len;
  const char *code = NULL;
  const char *text = "";
  gboolean ok;
  gboolean continuation = FALSE;
  gboolean complete;

  if (len > 0 && line[len - 1] == '\r')
    line[--len] = '\0';
  if (memchr (line, '\0', len) != NULL)
    {
      g_set_error_literal (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
                           "NUL byte in a status line");
      return FALSE;
    }

  if (g_ascii_strncasecmp (line, "+OK", 3) == 0 && (line[3] == '\0' || line[3] == ' '))
    {
      ok = TRUE;
      if (line[3] == ' ')
        bz_pop3_parser_split_code (line + 4, &code, &text);
    }
  else if (g_ascii_strncasecmp (line, "-ERR", 4) == 0 && (line[4] == '\0' || line[4] == ' '))
    {
      ok = FALSE;
      if (line[4] == ' ')
        bz_pop3_parser_split_code (line + 5, &code, &text);
    }
  else if (expect == BZ_POP3_EXPECT_CONTINUATION && line[0] == '+' &&
           (line[1] == '\0' || line[1] == ' '))
    {
      ok = TRUE;
      continuation = TRUE;
      text = line[1] == ' ' ? line + 2 : "";
    }
  else
    {
      g_autofree char *shown = bz_common_text_sanitize_short (line, len, 64);
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL, "unexpected response \"%s\"",
                   shown);
      return FALSE;
    }

  /* A response is complete unless data follows; pop before the callback so
   * that the callback may queue the next expectation and see a true count. */
  complete = !(ok && !continuation && expect == BZ_POP3_EXPECT_MULTI);
  if (complete)
    g_queue_pop_head (&self->expected);
  self->state = complete ? BZ_POP3_PARSER_STATE_STATUS : BZ_POP3_PARSER_STATE_LINE_START;
  self->data_line_len = 0;
  if (!self->callbacks->status (self->user_data, ok, continuation, code, text, error))
    return FALSE;
  g_string_truncate (self->status, 0);
  return TRUE;
}

static gboolean
bz_pop3_parser_emit (BzPop3Parser *self, const char *data, gsize len, gboolean eol, GError **error)
{
  self->data_line_len += len;
  if (self->data_line_len > self->max_data_line)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LINE_TOO_LONG,
                   "data line longer than %" G_GSIZE_FORMAT " bytes", self->max_data_line);
      return FALSE;
    }
  if (eol)
    self->data_line_len = 0;
  if (self->callbacks->data == NULL)
    return TRUE;
  return self->callbacks->data (self->user_data, data, len, eol, error);
}

static gboolean
bz_pop3_parser_end (BzPop3Parser *self, GError **error)
{
  g_queue_pop_head (&self->expected);
  self->state = BZ_POP3_PARSER_STATE_STATUS;
  if (self->callbacks->end == NULL)
    return TRUE;
  return self->callbacks->end (self->user_data, error);
}

/* Consumes one chunk of status line; returns the bytes used or -1. */
static gssize
bz_pop3_parser_feed_status (BzPop3Parser *self, const char *p, gsize len, GError **error)
{
  const char *nl;
  gsize take;

  if (g_queue_is_empty (&self->expected))
    {
      g_set_error_literal (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
                           "data received while no response was expected");
      return -1;
    }
  /* A first byte that cannot start a status line fails at once, so that a
   * peer speaking another protocol is caught before it fills the buffer;
   * only the first byte, so that a long "+..." still fails as too long. */
  if (self->status->len == 0 && p[0] != '+' && p[0] != '-' && p[0] != '\n')
    {
      g_set_error_literal (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL, "not a POP3 status line");
      return -1;
    }
  nl = memchr (p, '\n', len);
  take = nl != NULL ? (gsize) (nl - p) : len;
  if (self->status->len + take > self->max_status_line)
    {
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LINE_TOO_LONG,
                   "status line longer than %" G_GSIZE_FORMAT " bytes", self->max_status_line);
      return -1;
    }
  g_string_append_len (self->status, p, take);
  if (nl == NULL)
    return take;
  if (!bz_pop3_parser_status_line (self, error))
    return -1;
  return take + 1;
}

/* Consumes the inside of a data line up to and including its end; the
 * common case is one memchr() and one callback per line. */
static gssize
bz_pop3_parser_feed_line (BzPop3Parser *self, const char *p, gsize len, GError **error)
{
  const char *nl = memchr (p, '\n', len);
  gsize take;

  if (nl != NULL)
    {
      take = nl - p;
      if (!bz_pop3_parser_emit (self, p, take > 0 && p[take - 1] == '\r' ? take - 1 : take, TRUE,
                                error))
        return -1;
      self->state = BZ_POP3_PARSER_STATE_LINE_START;
      return take + 1;
    }
  /* Hold back a trailing "\r": it may be half of the line end. */
  if (p[len - 1] == '\r')
    {
      self->state = BZ_POP3_PARSER_STATE_LINE_CR;
      if (len > 1 && !bz_pop3_parser_emit (self, p, len - 1, FALSE, error))
        return -1;
      return len;
    }
  if (!bz_pop3_parser_emit (self, p, len, FALSE, error))
    return -1;
  return len;
}

gboolean
bz_pop3_parser_feed (BzPop3Parser *self, const char *data, gsize len, GError **error)
{
  const char *p = data;
  const char *end = data + len;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (self->state == BZ_POP3_PARSER_STATE_FAILED)
    {
      g_set_error_literal (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL, "parser already failed");
      return FALSE;
    }

  while (p < end)
    {
      gssize used = 1;

      switch (self->state)
        {
        case BZ_POP3_PARSER_STATE_STATUS:
          used = bz_pop3_parser_feed_status (self, p, end - p, error);
          break;
        case BZ_POP3_PARSER_STATE_LINE_START:
          if (*p == '.')
            self->state = BZ_POP3_PARSER_STATE_DOT;
          else
            used = 0, self->state = BZ_POP3_PARSER_STATE_LINE;
          break;
        case BZ_POP3_PARSER_STATE_DOT:
          if (*p == '\r')
            {
              self->state = BZ_POP3_PARSER_STATE_DOT_CR;
            }
          else if (*p == '\n')
            {
              if (!bz_pop3_parser_end (self, error))
                used = -1;
            }
          else
            {
              /* Byte-stuffed: the leading dot is dropped, this byte is data. */
              used = 0;
              self->state = BZ_POP3_PARSER_STATE_LINE;
            }
          break;
        case BZ_POP3_PARSER_STATE_DOT_CR:
          if (*p == '\n')
            {
              if (!bz_pop3_parser_end (self, error))
                used = -1;
            }
          else
            {
              used = 0;
              self->state = BZ_POP3_PARSER_STATE_LINE;
              if (!bz_pop3_parser_emit (self, "\r", 1, FALSE, error))
                used = -1;
            }
          break;
        case BZ_POP3_PARSER_STATE_LINE_CR:
          if (*p == '\n')
            {
              self->state = BZ_POP3_PARSER_STATE_LINE_START;
              if (!bz_pop3_parser_emit (self, "", 0, TRUE, error))
                used = -1;
            }
          else
            {
              /* A lone "\r" inside a line is data. */
              used = 0;
              self->state = BZ_POP3_PARSER_STATE_LINE;
              if (!bz_pop3_parser_emit (self, "\r", 1, FALSE, error))
                used = -1;
            }
          break;
        case BZ_POP3_PARSER_STATE_LINE:
          used = bz_pop3_parser_feed_line (self, p, end - p, error);
          break;
        case BZ_POP3_PARSER_STATE_FAILED:
        default:
          g_assert_not_reached ();
        }
      if (used < 0)
        {
          self->state = BZ_POP3_PARSER_STATE_FAILED;
          return FALSE;
        }
      p += used;
    }
  return TRUE;
}

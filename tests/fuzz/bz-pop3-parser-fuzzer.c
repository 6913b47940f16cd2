/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the POP3 response parser. The first bytes choose the
 * queued expectations, the feed size and the line caps; the rest is the
 * server's byte stream. Besides "no crash", it checks that the stream fed
 * in one piece and fed in chunks gives the same result. */
#include "config.h"

#include <string.h>

#include "bz-pop3-error.h"
#include "bz-pop3-parser.h"

#define HEADER_LEN 8

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

typedef struct
{
  GString *log;
  GString *line;
  guint n_status;
} FuzzRecorder;

static gboolean
fuzz_status (gpointer user_data, gboolean ok, gboolean continuation, const char *code,
             const char *text, GError **error)
{
  FuzzRecorder *rec = user_data;

  g_assert (text != NULL);
  g_string_append_printf (rec->log, "S%d%d[%s]%s\n", ok, continuation, code != NULL ? code : "",
                          text);
  rec->n_status++;
  return TRUE;
}

static gboolean
fuzz_data (gpointer user_data, const char *data, gsize len, gboolean eol, GError **error)
{
  FuzzRecorder *rec = user_data;

  g_assert (len == 0 || memchr (data, '\n', len) == NULL);
  g_string_append_len (rec->line, data, len);
  if (eol)
    {
      g_string_append_c (rec->log, 'L');
      g_string_append_len (rec->log, rec->line->str, rec->line->len);
      g_string_append_c (rec->log, '\n');
      g_string_truncate (rec->line, 0);
    }
  return TRUE;
}

static gboolean
fuzz_end (gpointer user_data, GError **error)
{
  FuzzRecorder *rec = user_data;

  g_assert (rec->line->len == 0);
  g_string_append (rec->log, "E\n");
  return TRUE;
}

static const BzPop3ParserCallbacks fuzz_callbacks = {
  .status = fuzz_status,
  .data = fuzz_data,
  .end = fuzz_end,
};

/* Returns the transcript; @error_code is -1 on success. */
static GString *
fuzz_run (const guint8 *header, const guint8 *stream, gsize len, gsize chunk, gint *error_code,
          guint *pending)
{
  g_autoptr (BzPop3Parser) parser = NULL;
  g_autoptr (GError) error = NULL;
  FuzzRecorder rec = { g_string_new (NULL), g_string_new (NULL), 0 };
  guint n_expects = 1 + header[0] % 32;
  guint32 kinds = header[1] | header[2] << 8 | header[3] << 16 | (guint32) header[4] << 24;
  gsize off = 0;

  parser = bz_pop3_parser_new (&fuzz_callbacks, &rec);
  bz_pop3_parser_set_limits (parser, 8 + header[6] * 4, 8 + header[7] * 16);
  for (guint i = 0; i < n_expects; i++)
    {
      guint kind = (kinds >> ((i % 16) * 2)) & 3;
      bz_pop3_parser_expect (parser, kind == 3 ? BZ_POP3_EXPECT_MULTI : (BzPop3Expect) kind);
    }
  *error_code = -1;
  while (off < len)
    {
      gsize n = MIN (chunk, len - off);
      if (!bz_pop3_parser_feed (parser, (const char *) stream + off, n, &error))
        {
          g_assert (error != NULL);
          g_assert (error->domain == BZ_POP3_ERROR);
          *error_code = error->code;
          /* A failed parser stays failed. */
          g_clear_error (&error);
          g_assert (!bz_pop3_parser_feed (parser, "+OK\r\n", 5, &error));
          break;
        }
      off += n;
    }
  g_assert (rec.n_status <= n_expects);
  *pending = bz_pop3_parser_pending (parser);
  g_assert (*pending <= n_expects);
  g_string_free (rec.line, TRUE);
  return rec.log;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  const guint8 *stream = data + HEADER_LEN;
  gsize len;
  gsize chunk;
  gint err_whole, err_chunked;
  guint pending_whole, pending_chunked;
  g_autoptr (GString) whole = NULL;
  g_autoptr (GString) chunked = NULL;

  if (size < HEADER_LEN)
    return 0;
  len = size - HEADER_LEN;
  chunk = 1 + data[5] % 16;
  whole = fuzz_run (data, stream, len, G_MAXSIZE, &err_whole, &pending_whole);
  chunked = fuzz_run (data, stream, len, chunk, &err_chunked, &pending_chunked);
  /* Where the stream is split must not matter. */
  g_assert (err_whole == err_chunked);
  if (err_whole == -1)
    {
      g_assert (pending_whole == pending_chunked);
      g_assert (g_string_equal (whole, chunked));
    }
  return 0;
}

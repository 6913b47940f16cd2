/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "bz-pop3-test-sink.h"

static gboolean
bz_test_sink_begin (BzPop3MessageSink *parent, guint msgno, GError **error)
{
  BzTestSink *sink = (BzTestSink *) parent;

  g_assert_null (sink->current);
  sink->current = g_byte_array_new ();
  sink->current_msgno = msgno;
  sink->n_begin++;
  return TRUE;
}

static gboolean
bz_test_sink_write (BzPop3MessageSink *parent, const char *data, gsize len, GError **error)
{
  BzTestSink *sink = (BzTestSink *) parent;

  g_assert_nonnull (sink->current);
  g_assert_cmpuint (len, >, 0);
  g_byte_array_append (sink->current, (const guint8 *) data, len);
  sink->n_write++;
  return TRUE;
}

static gboolean
bz_test_sink_end (BzPop3MessageSink *parent, guint msgno, GError **error)
{
  BzTestSink *sink = (BzTestSink *) parent;

  g_assert_nonnull (sink->current);
  g_assert_cmpuint (msgno, ==, sink->current_msgno);
  g_hash_table_replace (sink->messages, GUINT_TO_POINTER (msgno),
                        g_byte_array_free_to_bytes (sink->current));
  sink->current = NULL;
  sink->n_end++;
  g_array_append_val (sink->order, msgno);
  return TRUE;
}

static void
bz_test_sink_fail (BzPop3MessageSink *parent, guint msgno, const GError *reason)
{
  BzTestSink *sink = (BzTestSink *) parent;

  g_assert_nonnull (reason);
  if (sink->current != NULL && sink->current_msgno == msgno)
    g_clear_pointer (&sink->current, g_byte_array_unref);
  sink->n_fail++;
  g_array_append_val (sink->failed, msgno);
  g_clear_error (&sink->last_fail);
  sink->last_fail = g_error_copy (reason);
}

BzTestSink *
bz_test_sink_new (void)
{
  BzTestSink *sink = g_new0 (BzTestSink, 1);

  sink->parent.begin = bz_test_sink_begin;
  sink->parent.write = bz_test_sink_write;
  sink->parent.end = bz_test_sink_end;
  sink->parent.fail = bz_test_sink_fail;
  sink->messages =
      g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) g_bytes_unref);
  sink->failed = g_array_new (FALSE, FALSE, sizeof (guint));
  sink->order = g_array_new (FALSE, FALSE, sizeof (guint));
  return sink;
}

void
bz_test_sink_free (BzTestSink *sink)
{
  if (sink == NULL)
    return;
  g_hash_table_unref (sink->messages);
  if (sink->current != NULL)
    g_byte_array_unref (sink->current);
  g_array_unref (sink->failed);
  g_array_unref (sink->order);
  g_clear_error (&sink->last_fail);
  g_free (sink);
}

GBytes *
bz_test_sink_get (BzTestSink *sink, guint msgno)
{
  return g_hash_table_lookup (sink->messages, GUINT_TO_POINTER (msgno));
}

char *
bz_test_message_id (const char *data, gsize len)
{
  const char *p = data;
  const char *end = data + len;

  /* Headers only: stop at the first empty line. */
  while (p < end && *p != '\n')
    {
      const char *eol = memchr (p, '\n', end - p);
      gsize line_len = (eol != NULL ? eol : end) - p;

      if (line_len > 11 && g_ascii_strncasecmp (p, "Message-ID:", 11) == 0)
        {
          const char *open = memchr (p, '<', line_len);
          const char *close = open != NULL ? memchr (open, '>', p + line_len - open) : NULL;
          if (close != NULL)
            return g_strndup (open + 1, close - open - 1);
        }
      if (eol == NULL)
        break;
      p = eol + 1;
    }
  return NULL;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The indexed text is kept deflated (message_body, schema 7): FTS5 needs
 * it back to take a row out of its contentless index, and snippets are
 * cut from it, but nothing else reads it. Mail text deflates to a third or
 * less, and a copy as large as the index itself was most of the index's
 * size. zlib through GIO, which links it anyway. */

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "bz-db-private.h"

/* The fastest level: on the bench's realistic mail it deflates 158 MB/s
 * to a 3.9th, where level 3 managed 82 MB/s to a 4.3th and was two thirds
 * of the indexer's time (perf). */
#define DEFLATE_LEVEL 1

/* What inflating one row may produce: the index keeps at most 64 KB of
 * text a message. A damaged file must not inflate into gigabytes. */
#define MAX_INFLATED (4 * 1024 * 1024)

/* One whole conversion of @in by @conv into a new GBytes of at most @max
 * bytes; @in is small, so no streaming. */
static GBytes *
convert_all (GConverter *conv, const guint8 *in, gsize len, gsize max, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_sized_new ((guint) MIN (len / 2 + 64, G_MAXUINT));
  gsize pos = 0;

  for (;;)
    {
      gsize read = 0, written = 0;
      GConverterResult res;
      guint old = out->len;

      g_byte_array_set_size (out, old + (guint) MAX (len, 4096));
      res = g_converter_convert (conv, in + pos, len - pos, out->data + old, out->len - old,
                                 G_CONVERTER_INPUT_AT_END, &read, &written, error);
      g_byte_array_set_size (out, old + (guint) written);
      if (res == G_CONVERTER_ERROR)
        return NULL;
      pos += read;
      if (res == G_CONVERTER_FINISHED)
        return g_byte_array_free_to_bytes (g_steal_pointer (&out));
      if (out->len > max)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "compressed text inflates past %" G_GSIZE_FORMAT " bytes", max);
          return NULL;
        }
      /* a GConverter that neither reads nor writes would loop forever */
      if (read == 0 && written == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                               "compressed text ends early");
          return NULL;
        }
    }
}

/* One compressor per thread, reset for each text: a new one allocates
 * and clears a quarter of a megabyte, an mmap and its page faults per
 * message. */
static GPrivate thread_compressor = G_PRIVATE_INIT (g_object_unref);

GBytes *
bz_db_deflate (const char *text, GError **error)
{
  GConverter *conv = g_private_get (&thread_compressor);
  gsize len = strlen (text);

  if (conv == NULL)
    {
      conv = G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, DEFLATE_LEVEL));
      g_private_set (&thread_compressor, conv);
    }
  else
    g_converter_reset (conv);
  /* deflate never grows its input by more than a few bytes per block */
  return convert_all (conv, (const guint8 *) text, len, len + len / 8 + 1024, error);
}

char *
bz_db_inflate (const void *data, gsize len, GError **error)
{
  g_autoptr (GZlibDecompressor) conv = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  g_autoptr (GBytes) out = NULL;
  gsize size;
  const char *text;

  out = convert_all (G_CONVERTER (conv), data, len, MAX_INFLATED, error);
  if (out == NULL)
    return NULL;
  text = g_bytes_get_data (out, &size);
  return g_strndup (text != NULL ? text : "", size);
}

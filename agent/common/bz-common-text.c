/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "bz-common-text.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Characters a terminal acts on instead of showing: C0, DEL, C1 (U+0080 to
 * U+009F, which some terminals read as 8-bit CSI, OSC, ...), and the bidi
 * embeddings, overrides and isolates (they make text read otherwise than
 * it is stored). */
static gboolean
is_control (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069);
}

/* Appends the sanitised form of @text to @out; stops before @out passes
 * @max_bytes (G_MAXSIZE: no cap). Returns TRUE when all of @text fit. */
static gboolean
sanitize_into (GString *out, const char *text, gsize len, gsize max_bytes)
{
  const char *p = text;
  const char *end = text + len;

  while (p < end)
    {
      const char *piece;
      gsize piece_len;
      gunichar c = g_utf8_get_char_validated (p, end - p);
      gsize n;

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          piece = REPLACEMENT;
          piece_len = 3;
          n = 1;
        }
      else
        {
          n = g_utf8_next_char (p) - p;
          if (c == '\t')
            piece = " ", piece_len = 1;
          else if (is_control (c))
            piece = REPLACEMENT, piece_len = 3;
          else
            piece = p, piece_len = n;
        }
      if (out->len + piece_len > max_bytes)
        return FALSE;
      g_string_append_len (out, piece, piece_len);
      p += n;
    }
  return TRUE;
}

char *
bz_common_text_sanitize (const char *text, gssize len)
{
  GString *out;

  if (text == NULL)
    return g_strdup ("");
  if (len < 0)
    len = strlen (text);
  out = g_string_sized_new (len + 1);
  sanitize_into (out, text, len, G_MAXSIZE);
  return g_string_free (out, FALSE);
}

char *
bz_common_text_sanitize_short (const char *text, gssize len, gsize max_bytes)
{
  GString *out;

  if (text == NULL)
    return g_strdup ("");
  if (len < 0)
    len = strlen (text);
  out = g_string_sized_new (MIN ((gsize) len, max_bytes) + 4);
  if (!sanitize_into (out, text, len, max_bytes))
    g_string_append (out, "\xe2\x80\xa6"); /* … */
  return g_string_free (out, FALSE);
}

gboolean
bz_common_text_is_clean (const char *text, gssize len)
{
  g_autofree char *clean = NULL;

  if (text == NULL)
    return TRUE;
  if (len < 0)
    len = strlen (text);
  clean = bz_common_text_sanitize (text, len);
  return strlen (clean) == (gsize) len && memcmp (clean, text, len) == 0;
}

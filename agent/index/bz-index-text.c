/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What of a message the index keeps: decoded headers, and the text of its
 * inline text/plain and text/html parts. GMime parses the file in place
 * (its parts are windows on the file stream), and each part is read
 * through decoding filters only up to what is still allowed, so a 50 MB
 * message costs no more memory than a small one. */

#include "config.h"

#include <fcntl.h>
#include <string.h>

#include <gmime/gmime.h>

#include "bz-index.h"

/* Raw HTML is mostly markup: read this much of it for the text budget. */
#define HTML_READ_FACTOR 4

/* clang-format off: the quark name has hyphens */
G_DEFINE_QUARK (bz - index - error - quark, bz_index_error)
/* clang-format on */

static void
stream_unref (GMimeStream *stream)
{
  g_object_unref (stream);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, stream_unref)

static void
parser_unref (GMimeParser *parser)
{
  g_object_unref (parser);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, parser_unref)

static void
message_unref (GMimeMessage *message)
{
  g_object_unref (message);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, message_unref)

void
bz_index_text_free (BzIndexText *text)
{
  if (text == NULL)
    return;
  g_free (text->subject);
  g_free (text->sender);
  g_free (text->recipients);
  g_free (text->body);
  g_free (text);
}

typedef struct
{
  GString *body;
  gsize budget; /* bytes of text still allowed */
} Collect;

/* Up to @max decoded bytes of @part, converted to UTF-8 (invalid bytes
 * replaced). */
static char *
read_part (GMimePart *part, gsize max)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  const char *charset = g_mime_object_get_content_type_parameter (GMIME_OBJECT (part), "charset");
  g_autoptr (GMimeStream) filtered = NULL;
  g_autoptr (GString) raw = g_string_new (NULL);
  GMimeStream *source;
  GMimeFilter *filter;
  char buf[8192];

  if (content == NULL || (source = g_mime_data_wrapper_get_stream (content)) == NULL)
    return g_strdup ("");
  g_mime_stream_reset (source);
  filtered = g_mime_stream_filter_new (source);
  filter = g_mime_filter_basic_new (g_mime_data_wrapper_get_encoding (content), FALSE);
  g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), filter);
  g_object_unref (filter);
  if (charset != NULL && g_ascii_strcasecmp (charset, "utf-8") != 0 &&
      g_ascii_strcasecmp (charset, "us-ascii") != 0)
    {
      /* NULL for a charset iconv does not know: the bytes then go through
       * as they are and only valid UTF-8 survives. */
      filter = g_mime_filter_charset_new (charset, "UTF-8");
      if (filter != NULL)
        {
          g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), filter);
          g_object_unref (filter);
        }
    }
  while (raw->len < max)
    {
      gssize n = g_mime_stream_read (filtered, buf, MIN (sizeof buf, max - raw->len));
      if (n <= 0)
        break;
      g_string_append_len (raw, buf, n);
    }
  return g_utf8_make_valid (raw->str, (gssize) raw->len);
}

static void
append_text (Collect *c, const char *text)
{
  gsize len = strlen (text);
  const char *end;

  if (c->budget == 0 || len == 0)
    return;
  if (len > c->budget)
    {
      /* cut at a character boundary */
      end = g_utf8_find_prev_char (text, text + c->budget + 1);
      len = end != NULL ? (gsize) (end - text) : 0;
    }
  if (c->body->len > 0)
    {
      g_string_append_c (c->body, '\n');
      c->budget = c->budget > 0 ? c->budget - 1 : 0;
    }
  g_string_append_len (c->body, text, (gssize) len);
  c->budget = len < c->budget ? c->budget - len : 0;
}

static void
part_cb (GMimeObject *parent, GMimeObject *object, gpointer user_data)
{
  Collect *c = user_data;
  GMimeContentType *type;
  g_autofree char *text = NULL;

  if (c->budget == 0 || !GMIME_IS_TEXT_PART (object) ||
      g_mime_part_is_attachment (GMIME_PART (object)))
    return;
  type = g_mime_object_get_content_type (object);
  if (g_mime_content_type_is_type (type, "text", "plain"))
    text = read_part (GMIME_PART (object), c->budget);
  else if (g_mime_content_type_is_type (type, "text", "html"))
    {
      g_autofree char *html = read_part (GMIME_PART (object), c->budget * HTML_READ_FACTOR);
      text = bz_index_text_from_html (html, strlen (html));
    }
  if (text != NULL)
    append_text (c, text);
}

static char *
addresses (InternetAddressList *list)
{
  g_autofree char *text = NULL;

  if (list == NULL || internet_address_list_length (list) == 0)
    return NULL;
  text = internet_address_list_to_string (list, NULL, FALSE);
  return text != NULL ? g_utf8_make_valid (text, -1) : NULL;
}

void
bz_index_text_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      g_mime_init ();
      g_once_init_leave (&once, 1);
    }
}

BzIndexText *
bz_index_text_read (const char *path, GError **error)
{
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeParser) parser = NULL;
  g_autoptr (GMimeMessage) message = NULL;
  g_autoptr (BzIndexText) text = g_new0 (BzIndexText, 1);
  g_autoptr (GString) recipients = g_string_new (NULL);
  Collect collect = { NULL, BZ_INDEX_MAX_TEXT };
  const char *subject;
  char *to, *cc;

  bz_index_text_init ();
  stream = g_mime_stream_fs_open (path, O_RDONLY | O_CLOEXEC, 0, error);
  if (stream == NULL)
    return NULL;
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  if (message == NULL)
    {
      g_set_error (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_FILE, "%s is not a mail message", path);
      return NULL;
    }
  subject = g_mime_message_get_subject (message);
  if (subject != NULL)
    text->subject = g_utf8_make_valid (subject, -1);
  text->sender = addresses (g_mime_message_get_from (message));
  to = addresses (g_mime_message_get_to (message));
  cc = addresses (g_mime_message_get_cc (message));
  if (to != NULL)
    g_string_append (recipients, to);
  if (cc != NULL)
    g_string_append_printf (recipients, "%s%s", recipients->len > 0 ? ", " : "", cc);
  g_free (to);
  g_free (cc);
  if (recipients->len > 0)
    text->recipients = g_strdup (recipients->str);
  collect.body = g_string_new (NULL);
  g_mime_message_foreach (message, part_cb, &collect);
  text->body = g_string_free (collect.body, FALSE);
  return g_steal_pointer (&text);
}

/* --- HTML ----------------------------------------------------------------- */

static const struct
{
  const char *name;
  const char *text;
} entities[] = {
  { "amp", "&" },    { "lt", "<" },     { "gt", ">" },     { "quot", "\"" },  { "apos", "'" },
  { "nbsp", " " },   { "eacute", "é" }, { "egrave", "è" }, { "aacute", "á" }, { "oacute", "ó" },
  { "uacute", "ú" }, { "iacute", "í" }, { "ntilde", "ñ" }, { "uuml", "ü" },   { "ouml", "ö" },
  { "auml", "ä" },   { "szlig", "ß" },  { "ccedil", "ç" }, { "euro", "€" },   { "copy", "©" },
  { "mdash", "—" },  { "ndash", "–" },  { "hellip", "…" },
};

/* Decodes the entity at @p (after '&'); returns the bytes consumed, 0 when
 * it is not one we know (the '&' then stays as it is). */
static gsize
decode_entity (const char *p, const char *end, GString *out)
{
  const char *semi = memchr (p, ';', MIN ((gsize) (end - p), 10));
  gsize len;

  if (semi == NULL)
    return 0;
  len = (gsize) (semi - p);
  if (len >= 2 && p[0] == '#')
    {
      gboolean hex = p[1] == 'x' || p[1] == 'X';
      g_autofree char *digits = g_strndup (p + (hex ? 2 : 1), len - (hex ? 2 : 1));
      char *rest = NULL;
      guint64 cp = g_ascii_strtoull (digits, &rest, hex ? 16 : 10);

      if (digits[0] == '\0' || *rest != '\0' || !g_unichar_validate ((gunichar) cp) || cp == 0 ||
          cp > 0x10FFFF)
        return 0;
      g_string_append_unichar (out, (gunichar) cp);
      return len + 1;
    }
  for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
    {
      if (strlen (entities[i].name) == len && strncmp (p, entities[i].name, len) == 0)
        {
          g_string_append (out, entities[i].text);
          return len + 1;
        }
    }
  return 0;
}

/* TRUE when the tag at @p (after '<') is @name followed by a delimiter. */
static gboolean
tag_is (const char *p, const char *end, const char *name)
{
  gsize n = strlen (name);

  return (gsize) (end - p) > n && g_ascii_strncasecmp (p, name, n) == 0 &&
         (p[n] == '>' || p[n] == ' ' || p[n] == '\t' || p[n] == '\n' || p[n] == '/');
}

/* Skips to after the closing tag </name>, or to @end. */
static const char *
skip_element (const char *p, const char *end, const char *name)
{
  gsize n = strlen (name);

  for (; p < end; p++)
    {
      if (p[0] == '<' && end - p > (gssize) n + 1 && p[1] == '/' &&
          g_ascii_strncasecmp (p + 2, name, n) == 0)
        {
          const char *gt = memchr (p, '>', (gsize) (end - p));
          return gt != NULL ? gt + 1 : end;
        }
    }
  return end;
}

char *
bz_index_text_from_html (const char *html, gsize len)
{
  GString *out = g_string_sized_new (len / 2);
  const char *p = html, *end = html + len;
  gboolean space = TRUE; /* collapse runs of white space */

  while (p < end)
    {
      if (*p == '<')
        {
          const char *gt;

          if (end - p >= 4 && strncmp (p, "<!--", 4) == 0)
            {
              const char *close = g_strstr_len (p + 4, end - p - 4, "-->");
              p = close != NULL ? close + 3 : end;
              continue;
            }
          if (tag_is (p + 1, end, "script") || tag_is (p + 1, end, "style") ||
              tag_is (p + 1, end, "head"))
            {
              const char *name = tag_is (p + 1, end, "script")  ? "script"
                                 : tag_is (p + 1, end, "style") ? "style"
                                                                : "head";
              p = skip_element (p + 1, end, name);
              continue;
            }
          gt = memchr (p, '>', (gsize) (end - p));
          p = gt != NULL ? gt + 1 : end;
          /* a tag separates words: "a<br>b" is two words */
          if (!space)
            {
              g_string_append_c (out, ' ');
              space = TRUE;
            }
          continue;
        }
      if (*p == '&')
        {
          gsize used = decode_entity (p + 1, end, out);
          if (used > 0)
            {
              p += used + 1;
              space = FALSE;
              continue;
            }
        }
      if (g_ascii_isspace (*p))
        {
          if (!space)
            g_string_append_c (out, ' ');
          space = TRUE;
          p++;
          continue;
        }
      g_string_append_c (out, *p);
      space = FALSE;
      p++;
    }
  return g_string_free (out, FALSE);
}

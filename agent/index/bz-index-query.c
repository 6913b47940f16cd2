/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The user's query never reaches SQLite as typed: FTS5's own syntax
 * (NEAR, column filters, ^, parentheses, bare AND/OR/NOT) would turn
 * typing into SQL errors or surprises. We read our small language here
 * and write an expression in which every term is a quoted FTS5 string:
 *
 *   word            the word, anywhere (all words must match)
 *   "two words"     the words next to each other, in this order
 *   prefix*         any word that starts so ("weekly rep"* too)
 *   from:x to:x subject:x   x only in the sender, the To/Cc recipients
 *                   or the subject; x is a word, a prefix or a "phrase"
 */

#include "config.h"

#include <string.h>

#include "bz-index.h"

#define MAX_QUERY_BYTES 1024
#define MAX_TERMS 32

static const struct
{
  const char *field; /* what the user writes before ':' */
  const char *column;
} fields[] = {
  { "from", "sender" },
  { "to", "recipients" },
  { "subject", "subject" },
};

static gboolean
has_word_char (const char *text, gsize len)
{
  const char *end = text + len;

  for (const char *p = text; p < end; p = g_utf8_next_char (p))
    {
      if (g_unichar_isalnum (g_utf8_get_char (p)))
        return TRUE;
    }
  return FALSE;
}

/* Appends one term as an FTS5 string (quotes doubled, as FTS5 wants). */
static void
append_term (GString *out, const char *column, const char *text, gsize len, gboolean prefix)
{
  if (out->len > 0)
    g_string_append (out, " AND ");
  if (column != NULL)
    g_string_append_printf (out, "%s : ", column);
  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, text[i]);
    }
  g_string_append_c (out, '"');
  if (prefix)
    g_string_append (out, " *");
}

/* The column of a "field:" at @p, with @used set to its length with the
 * colon; NULL when @p does not start with a field we know. */
static const char *
parse_field (const char *p, gsize *used)
{
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      gsize n = strlen (fields[i].field);

      if (g_ascii_strncasecmp (p, fields[i].field, n) == 0 && p[n] == ':')
        {
          *used = n + 1;
          return fields[i].column;
        }
    }
  return NULL;
}

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *
bz_index_query_translate (const char *query, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  const char *p = query;
  guint n_terms = 0;

  g_return_val_if_fail (query != NULL, NULL);

  if (strlen (query) > MAX_QUERY_BYTES)
    {
      g_set_error (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY,
                   "the query is too long (at most %d bytes)", MAX_QUERY_BYTES);
      return NULL;
    }
  if (!g_utf8_validate (query, -1, NULL))
    {
      g_set_error_literal (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY,
                           "the query is not valid UTF-8");
      return NULL;
    }
  while (TRUE)
    {
      const char *column = NULL, *field_start, *text;
      gsize used = 0, len;
      gboolean prefix = FALSE;

      while (is_space (*p))
        p++;
      if (*p == '\0')
        break;
      field_start = p;
      column = parse_field (p, &used);
      p += used;
      if (*p == '"')
        {
          const char *close = strchr (p + 1, '"');

          if (close == NULL)
            {
              g_set_error (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY,
                           "the quote opened at \"%s\" is never closed", p);
              return NULL;
            }
          text = p + 1;
          len = (gsize) (close - text);
          p = close + 1;
          if (*p == '*')
            {
              prefix = TRUE;
              while (*p == '*')
                p++;
            }
        }
      else
        {
          text = p;
          while (*p != '\0' && !is_space (*p) && *p != '"')
            p++;
          len = (gsize) (p - text);
          while (len > 0 && text[len - 1] == '*')
            {
              prefix = TRUE;
              len--;
            }
        }
      if (!has_word_char (text, len))
        {
          if (column != NULL)
            {
              g_set_error (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY,
                           "\"%.*s\" needs a word after it (for example %.*salice)", (int) used,
                           field_start, (int) used, field_start);
              return NULL;
            }
          if (prefix)
            {
              g_set_error_literal (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY,
                                   "a \"*\" must end a word (for example repo*)");
              return NULL;
            }
          /* punctuation alone ("-", "&") matches nothing: leave it out */
          continue;
        }
      if (++n_terms > MAX_TERMS)
        {
          g_set_error (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY,
                       "the query has too many terms (at most %d)", MAX_TERMS);
          return NULL;
        }
      append_term (out, column, text, len, prefix);
    }
  if (out->len == 0)
    {
      g_set_error_literal (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY,
                           "the query has no word to search for");
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
bz_index_query_from_terms (const char *const *terms, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  guint n_terms = 0;

  for (guint i = 0; terms != NULL && terms[i] != NULL && n_terms < MAX_TERMS; i++)
    {
      gsize len = strlen (terms[i]);

      if (len > MAX_QUERY_BYTES || !g_utf8_validate (terms[i], -1, NULL) ||
          !has_word_char (terms[i], len))
        continue;
      append_term (out, NULL, terms[i], len, TRUE);
      n_terms++;
    }
  if (out->len == 0)
    {
      g_set_error_literal (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY,
                           "the search terms have no word to search for");
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

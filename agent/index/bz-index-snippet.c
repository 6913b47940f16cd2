/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The text around a match, made here rather than by FTS5's snippet():
 * that one tokenizes the whole body of every hit again (about 1 ms for a
 * 13 KB body, 20 hits per search), while finding the first term in the
 * case-folded body is a plain string search. The terms come from our own
 * MATCH expression (quoted strings only, see bz-index-query.c); a term we
 * do not find as typed (an accent, a prefix inside a longer word of
 * another case) leaves the snippet at the start of the body. */

#include "config.h"

#include <string.h>

#include "bz-index.h"

/* Characters of context shown before and after the first match. */
#define BEFORE 40
#define AFTER 100

/* The body terms of @match (quoted strings not after "column :"), the
 * first word of each, case-folded. */
static GPtrArray *
body_terms (const char *match)
{
  GPtrArray *terms = g_ptr_array_new_with_free_func (g_free);
  const char *p = match;

  while ((p = strchr (p, '"')) != NULL)
    {
      g_autoptr (GString) term = g_string_new (NULL);
      gboolean in_column = p - match >= 2 && p[-1] == ' ' && p[-2] == ':';

      for (p++; *p != '\0'; p++)
        {
          if (*p == '"' && p[1] == '"')
            {
              g_string_append_c (term, '"');
              p++;
              continue;
            }
          if (*p == '"')
            break;
          g_string_append_c (term, *p);
        }
      if (*p == '"')
        p++;
      /* a phrase's words may be split by any white space in the body:
       * look for its first word */
      g_string_truncate (term, strcspn (term->str, " \t"));
      if (!in_column && term->len > 0)
        g_ptr_array_add (terms, g_utf8_casefold (term->str, (gssize) term->len));
    }
  return terms;
}

/* Moves @p back to the start of the word it is in (at most 20 bytes). */
static const char *
word_start (const char *start, const char *p)
{
  for (guint i = 0; i < 20 && p > start && !g_ascii_isspace (p[-1]); i++)
    p = g_utf8_find_prev_char (start, p);
  return p;
}

static gboolean
is_ascii (const char *s)
{
  for (; *s != '\0'; s++)
    if ((guchar) *s >= 0x80)
      return FALSE;
  return TRUE;
}

/* Where @term (case-folded) first occurs in @body, or NULL. ASCII terms
 * (most) are found by a case-blind byte search of the body as is; others
 * through a folded copy of the body, @folded, made once on demand. */
static const char *
find_term (const char *body, char **folded, const char *term)
{
  const char *hit;

  if (is_ascii (term))
    return strcasestr (body, term);
  /* as typed first: folding a long body costs more than the search */
  hit = strstr (body, term);
  if (hit != NULL)
    return hit;
  if (*folded == NULL)
    *folded = g_utf8_casefold (body, -1);
  hit = strstr (*folded, term);
  if (hit == NULL)
    return NULL;
  /* folding keeps the character count for nearly every script, so a
   * character offset in the folded text points into the original */
  return g_utf8_offset_to_pointer (body, g_utf8_pointer_to_offset (*folded, hit));
}

char *
bz_index_snippet_make (const char *body, const char *match)
{
  g_autoptr (GPtrArray) terms = NULL;
  g_autofree char *folded = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  const char *at = NULL, *begin, *end, *body_end;

  if (body == NULL || *body == '\0')
    return g_strdup ("");
  body_end = body + strlen (body);
  terms = body_terms (match);
  for (guint i = 0; i < terms->len; i++)
    {
      const char *hit = find_term (body, &folded, g_ptr_array_index (terms, i));

      if (hit != NULL && hit <= body_end && (at == NULL || hit < at))
        at = hit;
    }
  if (at == NULL)
    at = body;
  begin = at;
  for (guint i = 0; i < BEFORE && begin > body; i++)
    begin = g_utf8_find_prev_char (body, begin);
  begin = word_start (body, begin);
  end = at;
  for (guint i = 0; i < AFTER && end < body_end; i++)
    end = g_utf8_next_char (end);
  if (begin > body)
    g_string_append (out, "…");
  for (const char *p = begin; p < end; p++)
    {
      /* one line, white space collapsed */
      if (g_ascii_isspace (*p))
        {
          if (out->len > 0 && out->str[out->len - 1] != ' ')
            g_string_append_c (out, ' ');
          continue;
        }
      g_string_append_c (out, *p);
    }
  if (end < body_end)
    g_string_append (out, "…");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

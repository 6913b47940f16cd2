/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "bz-common-text.h"
#include "bz-pop3-error.h"
#include "bz-pop3-listing.h"

gboolean
bz_pop3_listing_number (const char *host, const char *str, guint64 max, guint64 *out,
                        const char **end, GError **error)
{
  guint64 value = 0;
  const char *p;

  while (*str == ' ')
    str++;
  if (!g_ascii_isdigit (*str))
    {
      g_autofree char *shown = bz_common_text_sanitize_short (str, -1, 40);
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL, "%s: expected a number in \"%s\"",
                   host, shown);
      return FALSE;
    }
  for (p = str; g_ascii_isdigit (*p); p++)
    {
      guint digit = *p - '0';
      if (value > (max - digit) / 10)
        {
          p = NULL;
          break;
        }
      value = value * 10 + digit;
    }
  if (p == NULL || (*p != '\0' && *p != ' '))
    {
      g_autofree char *shown = bz_common_text_sanitize_short (str, -1, 40);
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL, "%s: bad number in \"%s\"", host,
                   shown);
      return FALSE;
    }
  *out = value;
  if (end != NULL)
    *end = p;
  return TRUE;
}

/* Parses "msgno value" as answered by LIST and UIDL. */
gboolean
bz_pop3_listing_pair (const char *host, const char *line, guint *msgno, const char **rest,
                      GError **error)
{
  guint64 n;
  const char *end;

  if (!bz_pop3_listing_number (host, line, G_MAXUINT, &n, &end, error))
    return FALSE;
  while (*end == ' ')
    end++;
  if (*end == '\0')
    {
      g_autofree char *shown = bz_common_text_sanitize_short (line, -1, 40);
      g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL, "%s: missing value in \"%s\"",
                   host, shown);
      return FALSE;
    }
  *msgno = (guint) n;
  *rest = end;
  return TRUE;
}

gboolean
bz_pop3_listing_check_uidl (const char *host, const char *line, gsize len, GError **error)
{
  g_autofree char *shown = NULL;

  if (len > 0 && len <= BZ_POP3_MAX_UIDL_LEN)
    return TRUE;
  shown = bz_common_text_sanitize_short (line, -1, 40);
  if (len == 0)
    g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL,
                 "%s: UIDL line without a UIDL: \"%s\"", host, shown);
  else
    g_set_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LIMIT,
                 "%s: a UIDL of %" G_GSIZE_FORMAT " characters, longer than the %d of RFC 1939: "
                 "\"%s\"",
                 host, len, BZ_POP3_MAX_UIDL_LEN, shown);
  return FALSE;
}

gboolean
bz_pop3_listing_list_line (const char *host, const char *line, guint *msgno, guint64 *size,
                           GError **error)
{
  const char *rest;

  return bz_pop3_listing_pair (host, line, msgno, &rest, error) &&
         bz_pop3_listing_number (host, rest, G_MAXINT64, size, NULL, error);
}

/* RFC 1939 allows 0x21..0x7E; anything else non-blank is accepted too,
 * since servers in the wild send UTF-8 and a UIDL only has to be stable. */
gboolean
bz_pop3_listing_uidl_line (const char *host, const char *line, guint *msgno, const char **uidl,
                           gsize *uidl_len, GError **error)
{
  const char *rest;
  gsize len;

  if (!bz_pop3_listing_pair (host, line, msgno, &rest, error))
    return FALSE;
  len = strcspn (rest, " \t");
  if (!bz_pop3_listing_check_uidl (host, line, len, error))
    return FALSE;
  *uidl = rest;
  *uidl_len = len;
  return TRUE;
}

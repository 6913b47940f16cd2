/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the lines of LIST and UIDL listings (and of their
 * one-message answers): every line of the input goes through the LIST and
 * the UIDL line parsers. Besides "no crash": what is accepted is within
 * the bounds (a size in 63 bits, a UIDL of 1 to 70 non-blank bytes inside
 * the line), a size survives printing and parsing again, and every error
 * message is clean UTF-8 (no server byte a terminal would act on). */
#include "config.h"

#include <string.h>

#include "bz-common-text.h"
#include "bz-pop3-error.h"
#include "bz-pop3-listing.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

static void
fuzz_check_error (GError *error)
{
  g_assert (error != NULL);
  g_assert (error->domain == BZ_POP3_ERROR);
  g_assert (g_str_has_prefix (error->message, "fuzz: "));
  g_assert (g_utf8_validate (error->message, -1, NULL));
  g_assert (bz_common_text_is_clean (error->message, -1));
  g_error_free (error);
}

static void
fuzz_line (const char *line)
{
  GError *error = NULL;
  guint msgno = 0;
  guint64 size = 0;
  const char *uidl = NULL;
  gsize uidl_len = 0;

  if (bz_pop3_listing_list_line ("fuzz", line, &msgno, &size, &error))
    {
      g_autofree char *again = g_strdup_printf ("%u %" G_GUINT64_FORMAT, msgno, size);
      guint msgno2 = 0;
      guint64 size2 = 0;

      g_assert (size <= G_MAXINT64);
      g_assert (bz_pop3_listing_list_line ("fuzz", again, &msgno2, &size2, NULL));
      g_assert (msgno2 == msgno && size2 == size);
    }
  else
    fuzz_check_error (error);
  error = NULL;
  if (bz_pop3_listing_uidl_line ("fuzz", line, &msgno, &uidl, &uidl_len, &error))
    {
      g_assert (uidl >= line && uidl + uidl_len <= line + strlen (line));
      g_assert (uidl_len >= 1 && uidl_len <= BZ_POP3_MAX_UIDL_LEN);
      g_assert (memchr (uidl, ' ', uidl_len) == NULL && memchr (uidl, '\t', uidl_len) == NULL);
    }
  else
    fuzz_check_error (error);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  /* one listing: lines end with LF (a CR before it is the line end's),
   * NUL bytes cut a line short as the session's NUL-terminated copy does */
  g_autofree char *copy = g_strndup ((const char *) data, size);
  char *line = copy;

  for (;;)
    {
      char *nl = strchr (line, '\n');

      if (nl != NULL)
        {
          *nl = '\0';
          if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        }
      fuzz_line (line);
      if (nl == NULL)
        break;
      line = nl + 1;
    }
  return 0;
}

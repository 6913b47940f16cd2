/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the sanitiser of server text: whatever goes in,
 * what comes out is valid UTF-8 without controls, the same when
 * sanitised again, and the short form stays within its bound. */
#include "config.h"

#include <string.h>

#include "bz-common-text.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  g_autofree char *out = bz_common_text_sanitize ((const char *) data, (gssize) size);
  g_autofree char *again = NULL;
  gsize max = size > 0 ? data[0] : 0;
  g_autofree char *cut = NULL;

  g_assert (g_utf8_validate (out, -1, NULL));
  g_assert (bz_common_text_is_clean (out, -1));
  for (const char *p = out; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      g_assert (c >= 0x20 && (c < 0x7f || c > 0x9f));
    }
  again = bz_common_text_sanitize (out, -1);
  g_assert (strcmp (again, out) == 0);
  /* valid, clean input comes back as it was */
  if (g_utf8_validate ((const char *) data, (gssize) size, NULL) &&
      bz_common_text_is_clean ((const char *) data, (gssize) size))
    g_assert (strlen (out) == size && memcmp (out, data, size) == 0);
  cut = bz_common_text_sanitize_short ((const char *) data, (gssize) size, max);
  g_assert (g_utf8_validate (cut, -1, NULL));
  g_assert (strlen (cut) <= max + 3);
  return 0;
}

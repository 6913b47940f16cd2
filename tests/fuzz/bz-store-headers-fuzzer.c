/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the header index (bz_store_headers_parse(), GMime
 * underneath): a header block as a server (or the sender of a message)
 * chose it. Besides "no crash": every field is clean UTF-8, and parsing
 * does not depend on bytes after the length given. */
#include "config.h"

#include <string.h>

#include "bz-common-text.h"
#include "bz-store-headers.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

static void
fuzz_check (const char *field)
{
  if (field == NULL)
    return;
  g_assert (field[0] != '\0');
  g_assert (g_utf8_validate (field, -1, NULL));
  g_assert (bz_common_text_is_clean (field, -1));
}

int
LLVMFuzzerTestOneInput (const guint8 *data, gsize size)
{
  g_autoptr (BzDbHeaders) h = bz_store_headers_parse ((const char *) data, size);
  /* the same block with garbage after it, outside the length given */
  g_autofree char *padded = g_malloc (size + 8);
  g_autoptr (BzDbHeaders) h2 = NULL;

  g_assert (h != NULL);
  fuzz_check (h->message_id);
  fuzz_check (h->from);
  fuzz_check (h->subject);
  memcpy (padded, data, size);
  memcpy (padded + size, "\nX: \x1b\xff\n\n", 8);
  h2 = bz_store_headers_parse (padded, size);
  g_assert (g_strcmp0 (h->message_id, h2->message_id) == 0);
  g_assert (g_strcmp0 (h->from, h2->from) == 0);
  g_assert (g_strcmp0 (h->subject, h2->subject) == 0);
  g_assert (h->date == h2->date);
  return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sanitiser for server text (agent/common/bz-common-text.c), and the
 * header index that uses it: what a terminal would act on never passes. */
#include "config.h"

#include <string.h>

#include "bz-common-order.h"
#include "bz-common-text.h"
#include "bz-store-headers.h"

#define FFFD "\xef\xbf\xbd"

typedef struct
{
  const char *in;
  gssize len;
  const char *out;
} Case;

static void
test_sanitize (void)
{
  static const Case cases[] = {
    { "plain text", -1, "plain text" },
    { "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xab", -1,
      "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xab" },
    { "\x1b]0;pwned\x07", -1, FFFD "]0;pwned" FFFD },
    { "a\x1b[2Jb", -1, "a" FFFD "[2Jb" },
    { "tab\there", -1, "tab here" },
    { "line\r\nbreak", -1, "line" FFFD FFFD "break" },
    { "del\x7f", -1, "del" FFFD },
    { "c1 \xc2\x9b"
      "31m",
      -1, "c1 " FFFD "31m" }, /* U+009B CSI */
    { "raw \x9b"
      "31m",
      -1, "raw " FFFD "31m" },              /* not UTF-8 */
    { "\xc2\x85next", -1, FFFD "next" },    /* U+0085 NEL */
    { "\xc2\xa0nbsp", -1, "\xc2\xa0nbsp" }, /* U+00A0 is text */
    { "rlo \xe2\x80\xae"
      "txt",
      -1, "rlo " FFFD "txt" },
    { "lri \xe2\x81\xa6x\xe2\x81\xa9", -1, "lri " FFFD "x" FFFD },
    { "cut \xe6\x97", -1, "cut " FFFD FFFD },
    { "nul\0after", 9, "nul" FFFD "after" },
    { "", -1, "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = bz_common_text_sanitize (cases[i].in, cases[i].len);
      g_assert_cmpstr (out, ==, cases[i].out);
      g_assert_true (g_utf8_validate (out, -1, NULL));
      g_assert_true (bz_common_text_is_clean (out, -1));
    }
  g_assert_false (bz_common_text_is_clean ("a\x1b", -1));
  g_assert_true (bz_common_text_is_clean (NULL, -1));
  {
    g_autofree char *out = bz_common_text_sanitize (NULL, -1);
    g_assert_cmpstr (out, ==, "");
  }
}

static void
test_sanitize_short (void)
{
  g_autofree char *fits = bz_common_text_sanitize_short ("short", -1, 10);
  g_autofree char *cut = bz_common_text_sanitize_short ("abcdef\xc3\xab", -1, 7);
  g_autofree char *ctl = bz_common_text_sanitize_short ("ab\x1b"
                                                        "cdef",
                                                        -1, 4);

  g_assert_cmpstr (fits, ==, "short");
  /* never half a character */
  g_assert_cmpstr (cut, ==, "abcdef\xe2\x80\xa6");
  g_assert_cmpstr (ctl, ==, "ab\xe2\x80\xa6");
}

/* RFC 2047 words are decoded: the decoded text must be clean too. */
static void
test_headers (void)
{
  const char *block = "From: =?UTF-8?B?G10wO3B3bmVkBw==?= <a@example.com>\n"
                      "Subject: =?UTF-8?B?G1sySmNsZWFyZWQ=?= =?UTF-8?Q?=C2=9B31m?=\n"
                      "Message-ID: <x@example.com>\n"
                      "\n";
  g_autoptr (BzDbHeaders) h = bz_store_headers_parse (block, strlen (block));

  g_assert_nonnull (h->subject);
  g_assert_nonnull (strstr (h->subject, "cleared"));
  g_assert_null (strchr (h->subject, '\x1b'));
  g_assert_null (strstr (h->subject, "\xc2\x9b"));
  g_assert_true (bz_common_text_is_clean (h->subject, -1));
  g_assert_nonnull (h->from);
  g_assert_nonnull (strstr (h->from, "pwned"));
  g_assert_true (bz_common_text_is_clean (h->from, -1));
}

/* The merge joins need strcmp order with equal UIDLs in the server's
 * order; a listing in order already must come back as is. */
static void
test_order (void)
{
  const char *sorted[] = { "a", "ab", "b", "b", "c" };
  const char *mixed[] = { "b", "a", "c", "b", "ab", "B" };
  const guint want_mixed[] = { 5, 1, 4, 0, 3, 2 };
  g_autofree guint *o1 = bz_common_order_strings (sorted, G_N_ELEMENTS (sorted));
  g_autofree guint *o2 = bz_common_order_strings (mixed, G_N_ELEMENTS (mixed));
  g_autofree guint *o3 = bz_common_order_strings (NULL, 0);
  g_autoptr (GPtrArray) many = g_ptr_array_new_with_free_func (g_free);
  g_autofree guint *o4 = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++)
    g_assert_cmpuint (o1[i], ==, i);
  for (guint i = 0; i < G_N_ELEMENTS (mixed); i++)
    g_assert_cmpuint (o2[i], ==, want_mixed[i]);
  g_assert_nonnull (o3);
  /* in order but for the very last one: still sorted */
  for (guint i = 0; i < 1000; i++)
    g_ptr_array_add (many, g_strdup_printf ("%08u", i + 1));
  g_ptr_array_add (many, g_strdup ("00000000"));
  o4 = bz_common_order_strings ((const char *const *) many->pdata, many->len);
  g_assert_cmpuint (o4[0], ==, 1000);
  for (guint i = 1; i <= 1000; i++)
    g_assert_cmpuint (o4[i], ==, i - 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/common/text/sanitize", test_sanitize);
  g_test_add_func ("/common/text/sanitize-short", test_sanitize_short);
  g_test_add_func ("/common/text/headers", test_headers);
  g_test_add_func ("/common/order", test_order);
  return g_test_run ();
}

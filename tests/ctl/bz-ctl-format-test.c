/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl's output helpers: relative times, tables, JSON strings. */
#include "config.h"

#include "bz-ctl.h"

#define NOW G_GINT64_CONSTANT (1700000000)

static void
test_ago (void)
{
  const struct
  {
    gint64 when;
    const char *text;
  } cases[] = {
    { 0, "never" },
    { NOW, "just now" },
    { NOW + 30, "just now" }, /* a server clock slightly ahead */
    { NOW - 59, "just now" },
    { NOW - 60, "1 min ago" },
    { NOW - 5 * 60 - 10, "5 min ago" },
    { NOW - 3600, "1 h ago" },
    { NOW - 47 * 3600, "47 h ago" },
    { NOW - 3 * 86400, "3 days ago" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = bz_ctl_format_ago (cases[i].when, NOW);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

static void
test_in (void)
{
  const struct
  {
    gint64 when;
    const char *text;
  } cases[] = {
    { 0, "-" },
    { NOW - 10, "now" },
    { NOW + 59, "now" },
    { NOW + 60, "in 1 min" },
    { NOW + 11 * 60 + 1, "in 12 min" }, /* rounded up */
    { NOW + 2 * 3600, "in 2 h" },
    { NOW + 5 * 86400, "in 5 days" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = bz_ctl_format_in (cases[i].when, NOW);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

static void
test_date (void)
{
  g_autofree char *never = bz_ctl_format_date (0);
  g_autofree char *text = NULL;

  g_setenv ("TZ", "UTC", TRUE);
  text = bz_ctl_format_date (NOW);
  g_assert_cmpstr (never, ==, "-");
  g_assert_cmpstr (text, ==, "2023-11-14 22:13");
}

static void
test_table (void)
{
  g_autoptr (BzCtlTable) table = bz_ctl_table_new (3, "A", "BB", "C");
  g_autofree char *text = NULL;

  /* widths count characters: "ü" is one column, not two bytes */
  bz_ctl_table_add (table, "über", "x", "last column is not padded");
  bz_ctl_table_add (table, "a\nb", "yyyy", "z");
  /* two wide characters fill four columns; "e" + U+0301 is one */
  bz_ctl_table_add (table, "山田", "e\xcc\x81", "w");
  text = bz_ctl_table_to_string (table);
  g_assert_cmpstr (text, ==,
                   "A     BB    C\n"
                   "über  x     last column is not padded\n"
                   "a b   yyyy  z\n"
                   "山田  e\xcc\x81     w\n");
}

static void
test_json_string (void)
{
  g_autoptr (GString) out = g_string_new (NULL);

  bz_ctl_json_string (out, "a\"b\\c\nd\te\x01 ü");
  g_assert_cmpstr (out->str, ==, "\"a\\\"b\\\\c\\nd\\te\\u0001 ü\"");
  g_string_truncate (out, 0);
  bz_ctl_json_string (out, "bad \xff byte");
  g_assert_cmpstr (out->str, ==, "\"bad \xef\xbf\xbd byte\"");
  g_string_truncate (out, 0);
  bz_ctl_json_string (out, NULL);
  g_assert_cmpstr (out->str, ==, "\"\"");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ctl/format/ago", test_ago);
  g_test_add_func ("/ctl/format/in", test_in);
  g_test_add_func ("/ctl/format/date", test_date);
  g_test_add_func ("/ctl/format/table", test_table);
  g_test_add_func ("/ctl/format/json-string", test_json_string);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl output: relative times, aligned tables and JSON strings. JSON is
 * written by hand because the only values are strings, numbers and
 * booleans we already hold, and json-glib is not otherwise needed. */
#include "config.h"

#include <stdarg.h>

#include "bz-common-text.h"
#include "bz-ctl.h"

char *
bz_ctl_format_ago (gint64 when, gint64 now)
{
  gint64 delta;

  if (when <= 0)
    return g_strdup ("never");
  delta = now - when;
  /* a clock a little ahead of ours is not worth a negative duration */
  if (delta < 60)
    return g_strdup ("just now");
  if (delta < 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT " min ago", delta / 60);
  if (delta < 2 * 86400)
    return g_strdup_printf ("%" G_GINT64_FORMAT " h ago", delta / 3600);
  return g_strdup_printf ("%" G_GINT64_FORMAT " days ago", delta / 86400);
}

char *
bz_ctl_format_in (gint64 when, gint64 now)
{
  gint64 delta;

  if (when <= 0)
    return g_strdup ("-");
  delta = when - now;
  if (delta < 60)
    return g_strdup ("now");
  /* round up: "in 0 min" would read as "now" when a minute remains */
  if (delta < 3600)
    return g_strdup_printf ("in %" G_GINT64_FORMAT " min", (delta + 59) / 60);
  if (delta < 2 * 86400)
    return g_strdup_printf ("in %" G_GINT64_FORMAT " h", delta / 3600);
  return g_strdup_printf ("in %" G_GINT64_FORMAT " days", delta / 86400);
}

char *
bz_ctl_format_date (gint64 when)
{
  g_autoptr (GDateTime) dt = NULL;

  if (when <= 0)
    return g_strdup ("-");
  dt = g_date_time_new_from_unix_local (when);
  if (dt == NULL)
    return g_strdup ("-");
  return g_date_time_format (dt, "%Y-%m-%d %H:%M");
}

char *
bz_ctl_one_line (const char *value)
{
  g_autofree char *copy = g_strdup (value != NULL ? value : "");

  /* line breaks read as spaces; every other control (C1 too), and what
   * is not UTF-8, as the common sanitiser shows it */
  for (char *p = copy; *p != '\0'; p++)
    {
      if (*p == '\n' || *p == '\r')
        *p = ' ';
    }
  return bz_common_text_sanitize (copy, -1);
}

/* --- tables -------------------------------------------------------------- */

/* Terminal columns of @text: East Asian wide characters take two, combining
 * marks none. */
static glong
bz_ctl_display_width (const char *text)
{
  glong width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

struct _BzCtlTable
{
  guint columns;
  GPtrArray *cells; /* char*, row after row */
};

static void
bz_ctl_table_add_valist (BzCtlTable *table, va_list args)
{
  for (guint i = 0; i < table->columns; i++)
    g_ptr_array_add (table->cells, bz_ctl_one_line (va_arg (args, const char *)));
}

BzCtlTable *
bz_ctl_table_new (guint columns, ...)
{
  BzCtlTable *table = g_new0 (BzCtlTable, 1);
  va_list args;

  table->columns = columns;
  table->cells = g_ptr_array_new_with_free_func (g_free);
  va_start (args, columns);
  bz_ctl_table_add_valist (table, args);
  va_end (args);
  return table;
}

void
bz_ctl_table_add (BzCtlTable *table, ...)
{
  va_list args;

  va_start (args, table);
  bz_ctl_table_add_valist (table, args);
  va_end (args);
}

char *
bz_ctl_table_to_string (BzCtlTable *table)
{
  g_autofree glong *widths = g_new0 (glong, table->columns);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < table->cells->len; i++)
    {
      glong len = bz_ctl_display_width (g_ptr_array_index (table->cells, i));
      widths[i % table->columns] = MAX (widths[i % table->columns], len);
    }
  for (guint i = 0; i < table->cells->len; i++)
    {
      const char *cell = g_ptr_array_index (table->cells, i);
      guint column = i % table->columns;

      g_string_append (out, cell);
      if (column + 1 == table->columns)
        {
          g_string_append_c (out, '\n');
          continue;
        }
      for (glong pad = bz_ctl_display_width (cell); pad < widths[column] + 2; pad++)
        g_string_append_c (out, ' ');
    }
  return g_string_free (out, FALSE);
}

void
bz_ctl_table_free (BzCtlTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->cells);
  g_free (table);
}

/* --- JSON ---------------------------------------------------------------- */

void
bz_ctl_json_string (GString *out, const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value != NULL ? value : "", -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
          break;
        }
    }
  g_string_append_c (out, '"');
}

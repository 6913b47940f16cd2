/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl messages [ACCOUNT] [--limit N] [--json] */
#include "config.h"

#include <glib/gi18n.h>

#include <stdio.h>

#include "bz-ctl.h"

static const char *
lookup_string (GVariant *dict, const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return "";
  return value;
}

static gint64
lookup_int64 (GVariant *dict, const char *key)
{
  gint64 value = 0;

  if (!g_variant_lookup (dict, key, "x", &value))
    return 0;
  return value;
}

static guint64
lookup_uint64 (GVariant *dict, const char *key)
{
  guint64 value = 0;

  if (!g_variant_lookup (dict, key, "t", &value))
    return 0;
  return value;
}

static char *
messages_json (GVariant *messages)
{
  GString *out = g_string_new ("[");
  gsize n = g_variant_n_children (messages);
  static const char *const strings[] = {
    "account", "uidl", "path", "from", "subject", "message-id",
  };

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) dict = g_variant_get_child_value (messages, i);

      g_string_append (out, i > 0 ? ",{" : "{");
      for (gsize k = 0; k < G_N_ELEMENTS (strings); k++)
        {
          bz_ctl_json_string (out, strings[k]);
          g_string_append_c (out, ':');
          bz_ctl_json_string (out, lookup_string (dict, strings[k]));
          g_string_append_c (out, ',');
        }
      g_string_append_printf (out, "\"date\":%" G_GINT64_FORMAT ",\"size\":%" G_GUINT64_FORMAT "}",
                              lookup_int64 (dict, "date"), lookup_uint64 (dict, "size"));
    }
  g_string_append (out, "]\n");
  return g_string_free (out, FALSE);
}

static char *
messages_table (GVariant *messages, gboolean with_account)
{
  g_autoptr (BzCtlTable) table = NULL;
  gsize n = g_variant_n_children (messages);

  if (n == 0)
    return g_strdup (_ ("no messages stored\n"));
  /* the account column only helps when several accounts are listed */
  if (with_account)
    table = bz_ctl_table_new (5, _ ("DATE"), _ ("ACCOUNT"), _ ("FROM"), _ ("SUBJECT"), _ ("PATH"));
  else
    table = bz_ctl_table_new (4, _ ("DATE"), _ ("FROM"), _ ("SUBJECT"), _ ("PATH"));
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) dict = g_variant_get_child_value (messages, i);
      g_autofree char *date = bz_ctl_format_date (lookup_int64 (dict, "date"));
      g_autofree char *from = g_utf8_substring (lookup_string (dict, "from"), 0, 40);
      g_autofree char *subject = g_utf8_substring (lookup_string (dict, "subject"), 0, 60);

      if (with_account)
        bz_ctl_table_add (table, date, lookup_string (dict, "account"), from, subject,
                          lookup_string (dict, "path"));
      else
        bz_ctl_table_add (table, date, from, subject, lookup_string (dict, "path"));
    }
  return bz_ctl_table_to_string (table);
}

int
bz_ctl_messages (int argc, char **argv)
{
  gboolean json = FALSE;
  gint limit = 20;
  const GOptionEntry entries[] = {
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, N_ ("At most N messages (default 20)"), "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print JSON for scripts"), NULL },
    { NULL }
  };
  g_autoptr (BzCtlClient) client = NULL;
  g_autoptr (GVariant) messages = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  const char *account = "";
  int exit_code;

  if (!bz_ctl_parse ("messages", N_ ("[ACCOUNT]"),
                     N_ ("The newest stored messages (of every account, or of ACCOUNT): "
                         "date, sender, subject and the file in the Maildir."),
                     entries, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc > 2)
    {
      g_printerr (_ ("buzonctl messages: unexpected argument \"%s\"\n"), argv[2]);
      return BZ_CTL_EXIT_USAGE;
    }
  if (limit < 1)
    {
      g_printerr (_ ("buzonctl messages: --limit must be at least 1\n"));
      return BZ_CTL_EXIT_USAGE;
    }
  if (argc == 2)
    account = argv[1];
  client = bz_ctl_client_new (&exit_code);
  if (client == NULL)
    return exit_code;
  if (!bz_dbus_manager_call_list_messages_sync (client->manager, account, (guint) limit, &messages,
                                                NULL, &error))
    return bz_ctl_print_error (_ ("cannot list messages"), error);
  /* JSON is UTF-8 whatever the locale; g_print() would transliterate */
  if (json)
    {
      text = messages_json (messages);
      fputs (text, stdout);
    }
  else
    {
      text = messages_table (messages, account[0] == '\0');
      g_print ("%s", text);
    }
  return BZ_CTL_EXIT_OK;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl messages [ACCOUNT] [--limit N] [--json]
 * buzonctl search QUERY [--account NAME] [--limit N] [--json]: the same
 * output plus the snippet of each match. */
#include "config.h"

#include <glib/gi18n.h>

#include <stdio.h>
#include <string.h>

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
messages_json (GVariant *messages, gboolean with_snippet)
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
      if (with_snippet)
        {
          bz_ctl_json_string (out, "snippet");
          g_string_append_c (out, ':');
          bz_ctl_json_string (out, lookup_string (dict, "snippet"));
          g_string_append_c (out, ',');
        }
      g_string_append_printf (out, "\"date\":%" G_GINT64_FORMAT ",\"size\":%" G_GUINT64_FORMAT "}",
                              lookup_int64 (dict, "date"), lookup_uint64 (dict, "size"));
    }
  g_string_append (out, "]\n");
  return g_string_free (out, FALSE);
}

/* With @with_snippet, each row is followed by the text around the match,
 * indented, on a line of its own. */
static char *
messages_table (GVariant *messages, gboolean with_account, gboolean with_snippet)
{
  g_autoptr (BzCtlTable) table = NULL;
  g_autoptr (GString) out = NULL;
  g_autofree char *text = NULL;
  gsize n = g_variant_n_children (messages);
  const char *line;

  if (n == 0)
    return g_strdup (with_snippet ? _ ("no stored message matches\n") : _ ("no messages stored\n"));
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
  text = bz_ctl_table_to_string (table);
  if (!with_snippet)
    return g_steal_pointer (&text);
  /* the table's lines, each message's followed by its snippet */
  out = g_string_new (NULL);
  line = text;
  for (gsize i = 0; i <= n && *line != '\0'; i++)
    {
      const char *end = strchr (line, '\n');
      gsize len = end != NULL ? (gsize) (end - line + 1) : strlen (line);

      g_string_append_len (out, line, (gssize) len);
      line += len;
      if (i > 0)
        {
          g_autoptr (GVariant) dict = g_variant_get_child_value (messages, i - 1);
          g_autofree char *snippet = bz_ctl_one_line (lookup_string (dict, "snippet"));

          g_string_append_printf (out, "    %s\n", snippet);
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
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
      text = messages_json (messages, FALSE);
      fputs (text, stdout);
    }
  else
    {
      text = messages_table (messages, account[0] == '\0', FALSE);
      g_print ("%s", text);
    }
  return BZ_CTL_EXIT_OK;
}

int
bz_ctl_search (int argc, char **argv)
{
  gboolean json = FALSE;
  gint limit = 20;
  g_autofree char *account = NULL;
  const GOptionEntry entries[] = {
    { "account", 'a', 0, G_OPTION_ARG_STRING, &account, N_ ("Only the messages of ACCOUNT"),
      N_ ("NAME") },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, N_ ("At most N messages (default 20)"), "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print JSON for scripts"), NULL },
    { NULL }
  };
  g_autoptr (BzCtlClient) client = NULL;
  g_autoptr (GVariant) messages = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  int exit_code;

  if (!bz_ctl_parse ("search", N_ ("QUERY"),
                     N_ ("Full-text search of the stored mail, best match first: words (all "
                         "must match), \"exact phrases\", prefix*, and from:, to:, subject: "
                         "before a word or phrase. Shows what \"messages\" shows plus the text "
                         "around the match."),
                     entries, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc < 2)
    {
      g_printerr (
          _ ("buzonctl search: missing QUERY (e.g. buzonctl search 'from:alice invoice')\n"));
      return BZ_CTL_EXIT_USAGE;
    }
  if (argc > 2)
    {
      g_printerr (_ ("buzonctl search: unexpected argument \"%s\" (quote a query of several "
                     "words)\n"),
                  argv[2]);
      return BZ_CTL_EXIT_USAGE;
    }
  if (limit < 1)
    {
      g_printerr (_ ("buzonctl search: --limit must be at least 1\n"));
      return BZ_CTL_EXIT_USAGE;
    }
  client = bz_ctl_client_new (&exit_code);
  if (client == NULL)
    return exit_code;
  if (!bz_dbus_manager_call_search_sync (client->manager, argv[1], account != NULL ? account : "",
                                         (guint) limit, &messages, NULL, &error))
    {
      exit_code = bz_ctl_print_error (_ ("cannot search"), error);
      /* a query the agent cannot read is the user's to fix, like a bad option */
      if (g_error_matches (error, BZ_DBUS_ERROR, BZ_DBUS_ERROR_INVALID_ARGS))
        exit_code = BZ_CTL_EXIT_USAGE;
      return exit_code;
    }
  if (json)
    {
      text = messages_json (messages, TRUE);
      fputs (text, stdout);
    }
  else
    {
      text = messages_table (messages, account == NULL, TRUE);
      g_print ("%s", text);
    }
  return BZ_CTL_EXIT_OK;
}

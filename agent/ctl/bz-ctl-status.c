/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl status [--json] */
#include "config.h"

#include <glib/gi18n.h>

#include <stdio.h>

#include "bz-ctl.h"

static void
status_json_account (GString *out, BzDbusAccount *account)
{
  guint done = 0, total = 0;
  GVariant *progress = bz_dbus_account_get_progress (account);

  if (progress != NULL)
    g_variant_get (progress, "(uu)", &done, &total);
  g_string_append (out, "{\"name\":");
  bz_ctl_json_string (out, bz_dbus_account_get_name (account));
  g_string_append (out, ",\"host\":");
  bz_ctl_json_string (out, bz_dbus_account_get_host (account));
  g_string_append (out, ",\"user\":");
  bz_ctl_json_string (out, bz_dbus_account_get_user (account));
  g_string_append_printf (out, ",\"enabled\":%s",
                          bz_dbus_account_get_enabled (account) ? "true" : "false");
  g_string_append (out, ",\"state\":");
  bz_ctl_json_string (out, bz_dbus_account_get_state (account));
  g_string_append_printf (out, ",\"last_sync\":%" G_GINT64_FORMAT,
                          bz_dbus_account_get_last_sync (account));
  g_string_append (out, ",\"last_error\":");
  bz_ctl_json_string (out, bz_dbus_account_get_last_error (account));
  g_string_append (out, ",\"attention\":");
  bz_ctl_json_string (out, bz_dbus_account_get_attention (account));
  g_string_append_printf (
      out, ",\"next_sync\":%" G_GINT64_FORMAT ",\"stored_count\":%u,\"progress\":[%u,%u]}",
      bz_dbus_account_get_next_sync (account), bz_dbus_account_get_stored_count (account), done,
      total);
}

static char *
status_json (BzCtlClient *client, GPtrArray *accounts)
{
  GString *out = g_string_new ("{\"version\":");

  bz_ctl_json_string (out, bz_dbus_manager_get_version (client->manager));
  g_string_append_printf (out, ",\"online\":%s,\"accounts\":[",
                          bz_dbus_manager_get_online (client->manager) ? "true" : "false");
  for (guint i = 0; i < accounts->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      status_json_account (out, g_ptr_array_index (accounts, i));
    }
  g_string_append (out, "]}\n");
  return g_string_free (out, FALSE);
}

/* The State property (a fixed word on the bus) for a person. */
static const char *
state_label (const char *state)
{
  static const struct
  {
    const char *state;
    const char *label;
  } labels[] = {
    { "idle", NC_ ("account state", "idle") },
    { "connecting", NC_ ("account state", "connecting") },
    { "syncing", NC_ ("account state", "syncing") },
    { "error", NC_ ("account state", "error") },
    { "offline", NC_ ("account state", "offline") },
    { "disabled", NC_ ("account state", "disabled") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (state, labels[i].state) == 0)
      return g_dpgettext2 (GETTEXT_PACKAGE, "account state", labels[i].label);
  return state != NULL ? state : "?";
}

static char *
status_table (BzCtlClient *client, GPtrArray *accounts)
{
  g_autoptr (BzCtlTable) table = bz_ctl_table_new (6, _ ("ACCOUNT"), _ ("STATE"), _ ("LAST SYNC"),
                                                   _ ("STORED"), _ ("NEXT SYNC"), _ ("ERROR"));
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *table_text = NULL;

  for (guint i = 0; i < accounts->len; i++)
    {
      BzDbusAccount *account = g_ptr_array_index (accounts, i);
      g_autofree char *last = bz_ctl_format_ago (bz_dbus_account_get_last_sync (account), now);
      g_autofree char *next = bz_ctl_format_in (bz_dbus_account_get_next_sync (account), now);
      g_autofree char *stored = g_strdup_printf ("%u", bz_dbus_account_get_stored_count (account));
      g_autofree char *state = g_strdup (state_label (bz_dbus_account_get_state (account)));
      GVariant *progress = bz_dbus_account_get_progress (account);
      const char *error = bz_dbus_account_get_last_error (account);

      /* "syncing 12/40" says more than "syncing" */
      if (g_strcmp0 (bz_dbus_account_get_state (account), "syncing") == 0 && progress != NULL)
        {
          guint done = 0, total = 0;

          g_variant_get (progress, "(uu)", &done, &total);
          if (total > 0)
            {
              g_free (state);
              /* TRANSLATORS: the state of an account during a sync, with its progress */
              state = g_strdup_printf (_ ("syncing %u/%u"), done, total);
            }
        }
      bz_ctl_table_add (table, bz_dbus_account_get_name (account), state, last, stored, next,
                        error != NULL && error[0] != '\0' ? error : "-");
    }
  table_text = bz_ctl_table_to_string (table);
  if (!bz_dbus_manager_get_online (client->manager))
    return g_strdup_printf (_ ("%s(offline: no network connection)\n"), table_text);
  if (accounts->len == 0)
    return g_strdup_printf (_ ("%s(no accounts configured)\n"), table_text);
  return g_steal_pointer (&table_text);
}

int
bz_ctl_status (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print JSON for scripts"), NULL }, { NULL }
  };
  g_autoptr (BzCtlClient) client = NULL;
  g_autoptr (GPtrArray) accounts = NULL;
  g_autofree char *text = NULL;
  int exit_code;

  if (!bz_ctl_parse ("status", NULL,
                     N_ ("Every account: state, last sync, stored messages, next sync, error."),
                     entries, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc > 1)
    {
      g_printerr (_ ("buzonctl status: unexpected argument \"%s\"\n"), argv[1]);
      return BZ_CTL_EXIT_USAGE;
    }
  client = bz_ctl_client_new (&exit_code);
  if (client == NULL)
    return exit_code;
  accounts = bz_ctl_client_get_accounts (client);
  /* JSON is UTF-8 whatever the locale; g_print() would transliterate */
  if (json)
    {
      text = status_json (client, accounts);
      fputs (text, stdout);
    }
  else
    {
      text = status_table (client, accounts);
      g_print ("%s", text);
    }
  return BZ_CTL_EXIT_OK;
}

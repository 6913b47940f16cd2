/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl import mpop|getmail|fetchmail|thunderbird [FILE] --account NAME
 * [--dry-run] [--force]: take over another client's seen-UIDL state, so
 * that switching to buzon downloads nothing twice (DESIGN.md "Imported
 * state"). Works on the database directly, under the account's sync lock,
 * whether or not buzond runs. */
#include "config.h"

#include <glib/gi18n.h>

#include <string.h>
#include <unistd.h>

#include "bz-config.h"
#include "bz-ctl.h"
#include "bz-db.h"
#include "bz-import.h"
#include "bz-sync.h"

/* "5,231": the separator of the documented output, whatever the locale. */
static char *
format_count (guint n)
{
  g_autofree char *digits = g_strdup_printf ("%u", n);
  GString *out = g_string_new (NULL);
  gsize len = strlen (digits);

  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, digits[i]);
    }
  return g_string_free (out, FALSE);
}

/* How many of @uidls the database has already, without changing the file
 * in any way (not even a schema upgrade). */
static gboolean
count_existing_read_only (const char *db_path, const char *account, const BzDbKnownUidl *uidls,
                          gsize n, guint *n_existing, GError **error)
{
  g_autoptr (BzDb) db = NULL;
  guint version = 0;

  *n_existing = 0;
  if (!g_file_test (db_path, G_FILE_TEST_EXISTS))
    return TRUE;
  db = bz_db_open_read_only (db_path, &version, error);
  if (db == NULL)
    return FALSE;
  if (version == 0)
    return TRUE;
  return bz_db_count_existing (db, account, uidls, n, n_existing, error);
}

static int
run_import (BzAccount *account, const char *db_path, BzImportState *state, gboolean dry_run)
{
  g_autoptr (GError) error = NULL;
  g_autofree BzDbKnownUidl *uidls = g_new (BzDbKnownUidl, MAX (state->entries->len, 1));
  g_autofree char *shown = bz_import_display_path (state->path);
  g_autofree char *added_text = NULL;
  g_autofree char *existing_text = NULL;
  guint n = state->entries->len;
  guint added = 0, existing = 0;
  int lock_fd;
  gboolean ok;

  for (guint i = 0; i < n; i++)
    {
      uidls[i].uidl = g_array_index (state->entries, BzImportEntry, i).uidl;
      uidls[i].seen = g_array_index (state->entries, BzImportEntry, i).seen;
    }
  if (dry_run)
    {
      /* reads only: no lock, no file created, no schema upgrade */
      ok = count_existing_read_only (db_path, account->name, uidls, n, &existing, &error);
      added = n - existing;
    }
  else
    {
      g_autoptr (BzDb) db = NULL;

      /* A sync running meanwhile could fetch a message we are about to
       * call known, or mark gone what we add: one at a time. */
      lock_fd = bz_sync_lock_account (db_path, account->name, &error);
      if (lock_fd < 0)
        {
          g_printerr ("buzonctl: %s: %s\n", account->name, error->message);
          return BZ_CTL_EXIT_FAILED;
        }
      db = bz_db_open (db_path, &error);
      ok = db != NULL &&
           bz_db_import_known (db, account->name, uidls, n, state->getmail_form,
                               g_get_real_time () / G_USEC_PER_SEC, &added, &existing, &error);
      g_clear_object (&db);
      close (lock_fd);
    }
  if (!ok)
    {
      g_printerr (_ ("buzonctl: %s: %s; nothing was imported\n"), account->name, error->message);
      return BZ_CTL_EXIT_FAILED;
    }
  added_text = format_count (added);
  existing_text = format_count (existing);
  g_print (_ ("%s: imported %s UIDLs from %s (%s already known)\n"), account->name, added_text,
           shown, existing_text);
  if (dry_run)
    g_print (_ ("dry run: nothing was recorded\n"));
  return BZ_CTL_EXIT_OK;
}

int
bz_ctl_import (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *account_name = NULL;
  gboolean dry_run = FALSE, force = FALSE;
  const GOptionEntry entries[] = {
    { "account", 'a', 0, G_OPTION_ARG_STRING, &account_name,
      N_ ("The buzon account that takes over the state (required)"), N_ ("NAME") },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
      N_ ("Print what would be imported; change nothing"), NULL },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      N_ ("Import even when the file is another host's or user's"), NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      N_ ("Find NAME in FILE instead of $XDG_CONFIG_HOME/buzon/accounts.conf"), N_ ("FILE") },
    { NULL }
  };
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (BzAccount) account = NULL;
  g_autoptr (BzImportState) state = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  BzImportTarget target;
  BzImportFormat format;

  if (!bz_ctl_parse ("import", N_ ("mpop|getmail|fetchmail|thunderbird [FILE]"),
                     N_ ("Record the messages another POP3 client already delivered as known "
                         "to buzon: never fetched, and deleted as the account's keep says. "
                         "Without FILE the client's default state file is read."),
                     entries, &argc, &argv))
    return BZ_CTL_EXIT_USAGE;
  if (argc < 2 || argc > 3)
    {
      g_printerr (_ ("buzonctl import: give the client (mpop, getmail, fetchmail or "
                     "thunderbird) and optionally its state FILE\n"));
      return BZ_CTL_EXIT_USAGE;
    }
  if (!bz_import_format_from_string (argv[1], &format))
    {
      g_printerr (_ ("buzonctl import: unknown client \"%s\": mpop, getmail, fetchmail or "
                     "thunderbird\n"),
                  argv[1]);
      return BZ_CTL_EXIT_USAGE;
    }
  if (account_name == NULL)
    {
      g_printerr (_ ("buzonctl import: --account NAME is required\n"));
      return BZ_CTL_EXIT_USAGE;
    }
  account = bz_ctl_find_config_account (config_path, account_name, &config);
  if (account == NULL)
    return BZ_CTL_EXIT_USAGE;
  target.host = account->host;
  target.port = account->port;
  target.user = account->user;
  if (argc == 3)
    path = g_strdup (argv[2]);
  else
    path = bz_import_default_path (format, &target, &error);
  if (path == NULL)
    {
      g_printerr ("buzonctl: %s: %s\n", account->name, error->message);
      return BZ_CTL_EXIT_FAILED;
    }
  state = bz_import_read (format, path, &target, force, &error);
  if (state == NULL)
    {
      g_printerr ("buzonctl: %s: %s\n", account->name, error->message);
      return BZ_CTL_EXIT_FAILED;
    }
  return run_import (account, bz_config_get_database_path (config), state, dry_run);
}

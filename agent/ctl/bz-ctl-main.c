/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl: pick the command, hand over to its file. */
#include "config.h"

#include <glib/gi18n.h>

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "buzon-i18n.h"
#include "bz-ctl.h"

typedef struct
{
  const char *name;
  BzCtlCommandFunc func;
  const char *summary;
} BzCtlCommand;

static const BzCtlCommand commands[] = {
  { "status", bz_ctl_status, N_ ("every account: state, last sync, error, counts, next sync") },
  { "sync", bz_ctl_sync, N_ ("start a sync; --wait shows progress and ends with the result") },
  { "watch", bz_ctl_watch, N_ ("print events as they happen") },
  { "messages", bz_ctl_messages, N_ ("newest stored messages") },
  { "search", bz_ctl_search, N_ ("full-text search of stored mail") },
  { "set-password", bz_ctl_set_password, N_ ("read a password into the keyring") },
  { "forget-password", bz_ctl_forget_password, N_ ("remove a password from the keyring") },
  { "add", bz_ctl_add, N_ ("set up an account from an e-mail address") },
  { "remove", bz_ctl_remove, N_ ("take an account out of accounts.conf (mail stays)") },
  { "import", bz_ctl_import,
    N_ ("take over the state of mpop, getmail, fetchmail or Thunderbird") },
  { "authorize", bz_ctl_authorize, N_ ("OAuth2 sign-in; stores the refresh token in the keyring") },
};

static void
print_usage (FILE *out)
{
  fprintf (out, _ ("Usage: buzonctl COMMAND [OPTION…]\n\n"
                   "Talks to buzond, the POP3 mail-sync agent.\n\nCommands:\n"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-16s %s\n", commands[i].name, _ (commands[i].summary));
  fprintf (out, _ ("\nRun \"buzonctl COMMAND --help\" for the options of a command.\n"
                   "Exit status: 0 success, 1 failure (e.g. a failed sync), "
                   "2 usage error or buzond not running.\n"));
}

int
main (int argc, char **argv)
{
  const char *name;

  bz_i18n_init ();
  if (argc < 2)
    {
      print_usage (stderr);
      return BZ_CTL_EXIT_USAGE;
    }
  name = argv[1];
  if (g_strcmp0 (name, "--help") == 0 || g_strcmp0 (name, "-h") == 0 ||
      g_strcmp0 (name, "help") == 0)
    {
      print_usage (stdout);
      return BZ_CTL_EXIT_OK;
    }
  if (g_strcmp0 (name, "--version") == 0)
    {
      g_print ("buzonctl %s\n", BZ_VERSION);
      return BZ_CTL_EXIT_OK;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (strcmp (name, commands[i].name) == 0)
        return commands[i].func (argc - 1, argv + 1);
    }
  g_printerr (_ ("buzonctl: unknown command \"%s\"\nTry \"buzonctl --help\".\n"), name);
  return BZ_CTL_EXIT_USAGE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzond: parse the command line, then hand over. */
#include "config.h"

#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>

#include "buzon-i18n.h"
#include "bz-config.h"
#include "bz-daemon.h"
#include "bz-log.h"
#include "bz-once.h"
#include "bz-sync-thread.h"

/* How many nice levels the daemon's sync threads run below it. */
#define BZ_DAEMON_SYNC_NICE 5

/* The store keeps a batch's finished files open until its commit, within
 * a budget from this limit (bz-store-batch.c); systemd and most shells
 * start services at a soft limit of 1024 with a far higher hard limit,
 * meant to be raised by programs that need more and use no select(),
 * like this one (GLib polls). */
static void
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= 16384)
    return;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? 16384 : MIN (limit.rlim_max, 16384);
  (void) setrlimit (RLIMIT_NOFILE, &limit);
}

/* glibc gives a thread that meets a busy arena an arena of its own, up to
 * eight per core, and keeps every one for the life of the process with
 * whatever its last thread left in it. Four arenas are one each for the
 * threads that allocate at the same time (main loop, GDBus worker, sync
 * worker, committer); threads that come and go (database preparation,
 * indexer, search) reuse them. Quick daemon cells, A/B (issue 18): idle
 * anonymous memory 0.65 MB less after a sync (4 interleaved pairs), 0.3 MB
 * with 40 accounts, ListMessages' p99 no worse; the full-size cell showed
 * no difference beyond its noise in either. Two arenas saved no more and
 * doubled ListMessages' p99 once in four runs (the main loop waiting on a
 * worker's arena lock). */
static void
limit_arenas (void)
{
  (void) mallopt (M_ARENA_MAX, 4);
}

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *account = NULL;
  gboolean once = FALSE;
  gboolean verbose = FALSE;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      N_ ("Read accounts from FILE instead of $XDG_CONFIG_HOME/buzon/accounts.conf"), N_ ("FILE") },
    { "once", 0, 0, G_OPTION_ARG_NONE, &once,
      N_ ("Sync every enabled account once, print a summary line each, exit"), NULL },
    { "account", 'a', 0, G_OPTION_ARG_STRING, &account, N_ ("Only this account (with --once)"),
      N_ ("NAME") },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_ ("Log debug messages"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_ ("Print the version and exit"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (N_ ("- POP3 mail-sync agent"));
  g_autoptr (GError) error = NULL;
  g_autoptr (BzConfig) config = NULL;
  g_autoptr (BzDaemon) daemon = NULL;

  limit_arenas ();
  bz_i18n_init ();
  g_set_prgname ("buzond");
  /* the context's texts and the entries' are N_() strings */
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_description (context,
                                    N_ ("Exit status: 0 all synced, 1 at least one account "
                                        "failed, 2 usage or config error."));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr (_ ("buzond: %s\nTry \"buzond --help\".\n"), error->message);
      return BZ_EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_printerr (_ ("buzond: unexpected argument \"%s\"\nTry \"buzond --help\".\n"), argv[1]);
      return BZ_EXIT_USAGE;
    }
  if (version)
    {
      g_print ("buzond %s\n", BZ_VERSION);
      return BZ_EXIT_OK;
    }
  raise_fd_limit ();
  /* Lines a sync's threads log (network, POP3, store, database) name the
   * account the thread works for. */
  g_log_set_writer_func (bz_log_writer, NULL, NULL);
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  config = bz_config_load (config_path, &error);
  if (config == NULL)
    {
      g_printerr ("buzond: %s\n", error->message);
      return BZ_EXIT_USAGE;
    }
  if (once)
    return bz_once_run (config, account);
  if (account != NULL)
    {
      g_printerr (_ ("buzond: --account needs --once\n"));
      return BZ_EXIT_USAGE;
    }
  /* Syncs are background work: a D-Bus client (a mail reader's
   * ListMessages, the desktop's search) is answered before them. */
  bz_sync_thread_set_nice (BZ_DAEMON_SYNC_NICE);
  daemon = bz_daemon_new (config);
  return bz_daemon_run (daemon);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers for the daemon tests: run buzond (path in $BZ_TEST_BUZOND) on the
 * private session bus of dbus-run-session with the harness's XDG folders,
 * and talk to it through the generated proxies. */
#pragma once

#include <gio/gio.h>

#include "bz-dbus-error.h"
#include "bz-dbus-generated.h"
#include "bz-test-util.h"

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *process;
  GDBusConnection *bus;
  BzDbusManager *manager;
  gboolean exited;
  /* buzond's stdout and stderr (GLib logs INFO and DEBUG to stdout):
   * copied to our stderr as they come, and kept (daemon_test_log_find()) */
  GThread *log_thread;
  GMutex log_lock;
  GString *log;
} DaemonRun;

/* Starts faultpop for user @user with the harness password, up to 20
 * connections and 100 s, plus the NULL-terminated extra arguments; aborts
 * the test when it does not start. Returns it (force_exit it when done). */
GSubprocess *daemon_test_faultpop (guint16 *port, const char *user, const char *first_arg,
                                   ...) G_GNUC_NULL_TERMINATED;

/* An [account NAME] group for dovecot user @user on the plaintext port
 * (loopback, security = none) with the harness password from a file;
 * @extra (may be NULL) is appended verbatim. Returns a new string. */
char *daemon_test_account (const char *name, const char *user, guint16 port, guint interval,
                           const char *extra);
/* Writes $XDG_CONFIG_HOME/buzon/accounts.conf. */
void daemon_test_write_config (const char *text);
/* The Maildir buzond writes for @account. Returns a new string. */
char *daemon_test_maildir (const char *account);
/* Files in new/ and cur/ of @maildir. */
guint daemon_test_count_files (const char *maildir);

/* Starts buzond with the NULL-terminated "NAME=VALUE" pairs added to its
 * environment (G_DEBUG=fatal-criticals always) and waits (10 s) until it
 * owns org.buzon.Agent1. Aborts the test on failure. */
DaemonRun *daemon_test_start (const char *first_env, ...);
/* Sends @signum (0: none) and waits at most @timeout_ms for the exit.
 * Returns TRUE when it exited by itself with status 0. */
gboolean daemon_test_stop (DaemonRun *run, int signum, guint timeout_ms);
/* Stops it if needed (SIGKILL), frees everything. */
void daemon_test_free (DaemonRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DaemonRun, daemon_test_free)

/* Offset of the first @needle in buzond's output so far, or -1. */
gssize daemon_test_log_find (DaemonRun *run, const char *needle);

/* A proxy of account @name (its properties follow PropertiesChanged). */
BzDbusAccount *daemon_test_account_proxy (DaemonRun *run, const char *name);

/* Collects SyncFinished of one account proxy. */
typedef struct
{
  guint n;
  gboolean ok;
  guint new_messages;
  char *error;
  GArray *times_us; /* monotonic time of each */
} SyncFinishedLog;

void daemon_test_watch_finished (BzDbusAccount *proxy, SyncFinishedLog *log);
void daemon_test_finished_clear (SyncFinishedLog *log);
/* Waits until @log has @n entries (or @timeout_ms passes); returns TRUE
 * when it has. */
gboolean daemon_test_wait_finished (SyncFinishedLog *log, guint n, guint timeout_ms);

/* TRUE when @error is the D-Bus error named @name. */
gboolean daemon_test_error_is (const GError *error, const char *name);

G_END_DECLS

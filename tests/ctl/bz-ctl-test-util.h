/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers of the buzonctl tests: run buzonctl and buzond with a bound,
 * write accounts.conf, record the bus with dbus-monitor, and check that a
 * secret appears nowhere. Paths of the programs come from the environment
 * meson sets: BZ_CTL_BUZONCTL, BZ_CTL_BUZOND, BZ_CTL_PTY. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Longest any single command may take before the test fails. */
#define CTL_RUN_TIMEOUT_MS 30000

/* The output of one finished command. */
typedef struct
{
  int status; /* exit code, or 128 + signal */
  char *out;  /* stdout, NUL-terminated */
  char *err;  /* stderr, NUL-terminated */
} CtlResult;

void ctl_result_free (CtlResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlResult, ctl_result_free)

/* Runs @argv (NULL-terminated) with @input on stdin (NULL: empty) and
 * extra environment @envp ("K=V" strings or NULL), failing the test when it
 * takes longer than CTL_RUN_TIMEOUT_MS. */
CtlResult *ctl_run_full (const char *const *argv, const char *input, const char *const *envp);
/* buzonctl with the NULL-terminated arguments. */
CtlResult *ctl_run (const char *first, ...) G_GNUC_NULL_TERMINATED;
/* buzonctl with @input on stdin. */
CtlResult *ctl_run_input (const char *input, const char *first, ...) G_GNUC_NULL_TERMINATED;
/* buzonctl on a pseudo-terminal (ctl-pty.py): @answers are pairs of
 * prompt and text to type, NULL-terminated; out is what the terminal
 * showed. */
CtlResult *ctl_run_tty (const char *const *answers, const char *first, ...) G_GNUC_NULL_TERMINATED;
/* buzond --once with G_MESSAGES_DEBUG=all; its stderr is appended to the
 * daemon log (ctl_daemon_log_path()). */
CtlResult *ctl_run_once (const char *config, const char *account);

/* Where every buzond run of this test writes its stderr. */
const char *ctl_daemon_log_path (void);

/* Starts `buzond --config @config` (G_MESSAGES_DEBUG=all, stderr to the
 * daemon log) and waits until it owns org.buzon.Agent1. */
GSubprocess *ctl_daemon_start (const char *config);
/* SIGTERM, then waits (bounded) for the exit; asserts a clean exit. */
void ctl_daemon_stop (GSubprocess *daemon);

/* Writes @text as a fresh accounts.conf; returns its path. */
char *ctl_write_config (const char *name, const char *text);

/* Starts dbus-monitor --session into a file and waits until it records. */
GSubprocess *ctl_monitor_start (char **log_path);

/* Fails the test when @file holds @secret as text, as the hex byte dump
 * dbus-monitor prints for arrays of bytes, or any run of 4 or more of its
 * letters and digits (a quote may be escaped). A missing file is no
 * finding when @may_be_missing. */
void ctl_assert_file_lacks (const char *file, const char *secret, gboolean may_be_missing);

/* Parses @json with Python and evaluates @expr over it (bound to d);
 * returns what Python printed, without the final newline. */
char *ctl_json_eval (const char *json, const char *expr);

/* Iterates the default context until @cond or @timeout_ms; the result. */
gboolean ctl_wait (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms);

G_END_DECLS

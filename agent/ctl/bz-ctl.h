/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl internals: one function per command (bz-ctl-<group>.c), the
 * connection to buzond (bz-ctl-bus.c) and the output helpers
 * (bz-ctl-format.c). Nothing here is used outside agent/ctl and its tests. */
#pragma once

#include <gio/gio.h>

#include "bz-account.h"
#include "bz-config.h"
#include "bz-dbus-error.h"
#include "bz-dbus-generated.h"

G_BEGIN_DECLS

/* Exit codes, as buzond's (DESIGN.md "Command line"). */
#define BZ_CTL_EXIT_OK 0
#define BZ_CTL_EXIT_FAILED 1 /* a sync or keyring operation failed */
#define BZ_CTL_EXIT_USAGE 2  /* bad arguments, bad config, no daemon */

/* A command: @argv[0] is the command name; returns an exit code. */
typedef int (*BzCtlCommandFunc) (int argc, char **argv);

int bz_ctl_status (int argc, char **argv);
int bz_ctl_sync (int argc, char **argv);
int bz_ctl_watch (int argc, char **argv);
int bz_ctl_messages (int argc, char **argv);
int bz_ctl_search (int argc, char **argv);
int bz_ctl_set_password (int argc, char **argv);
int bz_ctl_forget_password (int argc, char **argv);
int bz_ctl_add (int argc, char **argv);
int bz_ctl_remove (int argc, char **argv);

/* --- bz-ctl-password.c --------------------------------------------------- */

/* Reads one line as set-password does: on a terminal after @prompt with
 * echo off, else the first line of standard input. Returns its length
 * (without the line end; @buf is NUL-terminated) or -1 with @error set.
 * The caller wipes @buf. */
gssize bz_ctl_password_read (const char *prompt, char *buf, gsize size, GError **error);

/* --- bz-ctl-remove.c ----------------------------------------------------- */

/* Asks a running buzond to Reload its config, never starting one, and
 * says what happened on stdout (or why it failed on stderr). FALSE when a
 * running daemon could not reload. */
gboolean bz_ctl_reload_if_running (void);
int bz_ctl_import (int argc, char **argv);
int bz_ctl_authorize (int argc, char **argv);

/* Loads the config (@config_path NULL = the default) and finds account
 * @name in it (transfer full), or NULL after printing why to stderr.
 * @config_out (optional) receives the loaded config (transfer full). */
BzAccount *bz_ctl_find_config_account (const char *config_path, const char *name,
                                       BzConfig **config_out);

/* --- bz-ctl-bus.c -------------------------------------------------------- */

/* Parses @argv with a GOptionContext for command @name ("PARAMS" shown in
 * the usage line), printing errors to stderr. Returns FALSE when the caller
 * must exit with BZ_CTL_EXIT_USAGE; argv keeps only positional arguments.
 * On --help GOption prints and exits 0 itself. */
gboolean bz_ctl_parse (const char *name, const char *params, const char *summary,
                       const GOptionEntry *entries, int *argc, char ***argv);

/* What a command talking to buzond holds. */
typedef struct
{
  BzDbusManager *manager;      /* org.buzon.Agent1.Manager at the root */
  GDBusObjectManager *objects; /* the account objects */
} BzCtlClient;

/* Connects to buzond, starting it by D-Bus activation when it can be.
 * Returns a new client (free with bz_ctl_client_free()), or NULL after
 * printing why to stderr and setting @exit_code (BZ_CTL_EXIT_USAGE when the
 * daemon neither runs nor can be started). */
BzCtlClient *bz_ctl_client_new (int *exit_code);
void bz_ctl_client_free (BzCtlClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzCtlClient, bz_ctl_client_free)

/* Every account (BzDbusAccount*, transfer full in the array), sorted by
 * name. */
GPtrArray *bz_ctl_client_get_accounts (BzCtlClient *client);

/* The account named @name (transfer full), or NULL after printing "no
 * account named ..." to stderr. */
BzDbusAccount *bz_ctl_client_find_account (BzCtlClient *client, const char *name);

/* TRUE while buzond owns its bus name. */
gboolean bz_ctl_client_is_running (BzCtlClient *client);

/* Prints a D-Bus error for @what to stderr without the
 * "GDBus.Error:org.buzon.Agent1.Error.X: " prefix; returns the exit code:
 * BZ_CTL_EXIT_USAGE when the daemon is gone or the account unknown, else
 * BZ_CTL_EXIT_FAILED. */
int bz_ctl_print_error (const char *what, GError *error);

/* The message printed when buzond neither runs nor can be activated. */
void bz_ctl_print_not_running (void);

/* --- bz-ctl-format.c ----------------------------------------------------- */

/* "just now", "5 min ago", "3 h ago", "2 days ago", or "never" for 0.
 * Relative to @now (unix seconds). Returns a new string. */
char *bz_ctl_format_ago (gint64 when, gint64 now);
/* "now", "in 12 min", "in 2 h", or "-" for 0. Returns a new string. */
char *bz_ctl_format_in (gint64 when, gint64 now);
/* Local "YYYY-MM-DD HH:MM", or "-" for 0. Returns a new string. */
char *bz_ctl_format_date (gint64 when);

/* A table of text cells printed with columns padded to the widest cell
 * (counted in terminal columns: a CJK character is two, a combining mark
 * none); the last column is not padded. */
typedef struct _BzCtlTable BzCtlTable;
BzCtlTable *bz_ctl_table_new (guint columns, ...); /* the header cells */
/* Adds a row of exactly as many cells as columns; the cells are copied. */
void bz_ctl_table_add (BzCtlTable *table, ...);
/* Returns the table as text, one line per row. New string. */
char *bz_ctl_table_to_string (BzCtlTable *table);
void bz_ctl_table_free (BzCtlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzCtlTable, bz_ctl_table_free)

/* Appends @value as a JSON string (quotes and escapes included). @value is
 * UTF-8, as every D-Bus string is; invalid bytes become U+FFFD. */
void bz_ctl_json_string (GString *out, const char *value);

/* One control character or newline in @value would break a table row or a
 * watch line: returns a copy with them replaced by spaces. */
char *bz_ctl_one_line (const char *value);

G_END_DECLS

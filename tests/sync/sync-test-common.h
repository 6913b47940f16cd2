/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers for the `sync` suite: one folder per case with its own
 * XDG_CONFIG_HOME / XDG_DATA_HOME, running the built `buzond --once`
 * (path in $BZ_TEST_BUZOND) and looking at what it left in the Maildir,
 * the database and the server. */
#pragma once

#include <gio/gio.h>

#include "bz-db.h"
#include "bz-test-util.h"

G_BEGIN_DECLS

typedef struct
{
  char *dir;           /* the case's folder under $BZ_TEST_TMPDIR */
  char *config_home;   /* XDG_CONFIG_HOME given to buzond */
  char *data_home;     /* XDG_DATA_HOME given to buzond */
  char *config_path;   /* $config_home/buzon/accounts.conf */
  char *password_file; /* holds $BZ_TEST_PASSWORD (password-command = cat) */
} SyncCase;

/* One finished buzond run. */
typedef struct
{
  int status;      /* exit code, or 128 + signal */
  char *out;       /* stdout (the summary lines) */
  char *err;       /* stderr */
  gdouble seconds; /* wall time */
  glong maxrss_kb; /* peak RSS of buzond itself (sync-rss-helper) */
} SyncRun;

SyncCase *sync_case_new (void);
void sync_case_free (SyncCase *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncCase, sync_case_free)

void sync_run_free (SyncRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncRun, sync_run_free)

/* Writes @text as the case's accounts.conf. */
void sync_case_write_config (SyncCase *c, const char *text);

/* An [account NAME] group for dovecot user @user over plaintext POP3 on
 * localhost (loopback, so allowed) with the harness password; @extra
 * lines (may be NULL) are appended. Returns a new string. */
char *sync_case_dovecot_account (SyncCase *c, const char *name, const char *user,
                                 const char *extra);

/* Same for a faultpop.py on 127.0.0.1:@port with user "test" and password
 * "secret" (its defaults). */
char *sync_case_faultpop_account (SyncCase *c, const char *name, guint16 port, const char *extra);

/* The Maildir buzond writes for account @name (the default location). */
char *sync_case_maildir (SyncCase *c, const char *name);
/* The database buzond writes (the default location). */
char *sync_case_db_path (SyncCase *c);

/* Runs buzond --once with the NULL-terminated extra arguments after @now. @now, when
 * not NULL, is passed as BUZON_TEST_NOW. Waits at most 150 s (then kills
 * it and fails the test). Prints its output with --verbose test runs. */
SyncRun *sync_case_run (SyncCase *c, const char *now, ...) G_GNUC_NULL_TERMINATED;

/* Starts buzond --once itself (no helper in between, so that a test can
 * kill -9 the real process) with the NULL-terminated extra arguments;
 * its output is discarded. Unref the result after waiting for it. */
GSubprocess *sync_case_spawn (SyncCase *c, ...) G_GNUC_NULL_TERMINATED;

/* The summary line of account @name in @run's stdout, or NULL (borrowed
 * from a static buffer; valid until the next call). */
char *sync_run_summary (SyncRun *run, const char *name);

/* Every message file in @maildir's new/ and cur/: Message-ID (without the
 * brackets) -> GPtrArray of paths (so duplicates show). *n_files_out
 * receives the number of files. */
GHashTable *sync_maildir_scan (const char *maildir, guint *n_files_out);

/* SHA-256 of a file's contents after CRLF -> LF; aborts when unreadable. */
char *sync_file_checksum (const char *path);

/* Message-ID -> checksum (as above) of every mail in @mails
 * (BzTestMail, e.g. from bz_test_fill_user()). */
GHashTable *sync_mails_checksums (GPtrArray *mails);

/* Asserts @maildir holds each message of @sources (Message-ID ->
 * checksum) exactly once and byte-exact (after CRLF normalisation), and
 * nothing else; returns the number of files. */
guint sync_assert_maildir_matches (const char *maildir, GHashTable *sources);

/* Files in new/ and cur/ of dovecot user @user: its server mailbox. */
guint sync_server_count (const char *user);

/* Count of rows of @account in @state, read with db/bz-db.h. */
guint sync_db_count (SyncCase *c, const char *account, BzDbState state);

/* Runs mailgen.py with the given arguments (after --maildir @maildir)
 * and returns its parsed output like bz_test_mailgen(). */
GPtrArray *sync_mailgen (const char *maildir, const char *first_arg, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS

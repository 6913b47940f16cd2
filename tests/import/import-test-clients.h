/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers of the import suite's dovecot cases (import-test-clients.c). */
#pragma once

#include "sync-test-common.h"

G_BEGIN_DECLS

/* One finished program. */
typedef struct
{
  int status; /* exit code, or 128 + signal */
  char *out;
  char *err;
} Result;

void result_free (Result *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Result, result_free)

/* Runs @argv with @envp (NULL: ours) in @cwd (NULL: ours), stdin empty;
 * fails the test when it does not finish in 120 s. */
Result *run_program (const char *const *argv, const char *const *envp, const char *cwd);
/* $BZ_TEST_BUZONCTL with the NULL-terminated arguments and the case's
 * config and data folders. */
Result *buzonctl (SyncCase *c, const char *first, ...) G_GNUC_NULL_TERMINATED;

void assert_contains (const char *haystack, const char *needle);
/* Writes @text (creating folders) and sets @mode. */
void write_text (const char *path, const char *text, int mode);
/* $HOME/@name, new string. */
char *home_path (const char *name);
/* @count small mailgen messages (seed 1) from @start into @user's mailbox. */
void fill (const char *user, guint count, guint start);

/* Size of dovecot's log now. */
gsize log_offset (void);
/* RETRs of @user's one session logged after @offset (waits, bounded, for
 * dovecot's line). */
guint retrs_since (const char *user, gsize offset);
/* buzond --once (BUZON_TEST_NOW = @now when not NULL), which must succeed;
 * returns the RETRs of its session. */
guint sync_counting_retrs (SyncCase *c, const char *user, const char *now);

/* The real clients, in $HOME, keeping mail on the server. mpop over
 * implicit TLS downloads everything new; getmail at most @max_messages
 * (TLS when @tls); fetchmail at most @limit, over implicit TLS. */
void run_mpop (const char *user);
void run_getmail (const char *user, guint max_messages, const char *host, guint16 port,
                  const char *password, gboolean tls);
void run_fetchmail (const char *user, guint limit);
/* The server's UIDLs of @user in message order (Python's poplib). */
GStrv server_uidls (const char *user);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared between the files of agent/store/ and its tests only. */
#pragma once

#include "bz-store-error.h"

G_BEGIN_DECLS

/* Sets @error for a failed system call on @path; ENOSPC and EDQUOT become
 * BZ_STORE_ERROR_NO_SPACE. Returns FALSE. */
gboolean bz_store_fail_errno (GError **error, int errsv, const char *what, const char *path);
/* fsync() of a folder, so that entries created or renamed in it last. */
gboolean bz_store_fsync_dir (const char *path, GError **error);
/* syncfs() of the file system holding the folder @path. */
gboolean bz_store_syncfs (const char *path, GError **error);

/* getpid(), asked once per process (glibc no longer caches it, and each
 * Maildir name carries it: one system call per message otherwise). */
int bz_store_maildir_pid (void);

/* Borrowed; this host's name as it appears in our Maildir names. */
const char *bz_store_maildir_host (void);

#ifdef BZ_TEST_HOOKS
/* Test hooks (-Dtest-hooks=true builds only). After @bytes more bytes, every message write fails with
 * ENOSPC, as on a full disk; -1 turns it off. Process-wide. */
void bz_store_test_fail_writes_after (gint64 bytes);
/* Tests: how many folders bz_store_fsync_dir() flushed so far. */
guint bz_store_test_count_dir_fsyncs (void);
/* Tests: the next commits' flush fails with EIO while @fail is set. */
void bz_store_test_fail_flush (gboolean fail);
/* Tests: while @refuse is set, O_TMPFILE fails with EOPNOTSUPP, as on a
 * file system without it: new files are named in tmp/ and renamed. */
void bz_store_test_refuse_tmpfile (gboolean refuse);
/* Tests: while @refuse is set, unnamed files are linked through
 * /proc/self/fd, as where linkat(AT_EMPTY_PATH) is refused. */
void bz_store_test_refuse_empty_path (gboolean refuse);
/* Tests: while @fail is set, the flush that makes a commit's links into
 * new/ durable (step 4 for unnamed files) fails with EIO. */
void bz_store_test_fail_link_flush (gboolean fail);
/* Tests: at most @budget finished files stay open in the whole process
 * (0: the default, from RLIMIT_NOFILE). */
void bz_store_test_set_open_budget (guint budget);
#endif
/* write(2) as the store does it (honouring the test hook when built in). */
gssize bz_store_write (int fd, const void *data, gsize len);

G_END_DECLS

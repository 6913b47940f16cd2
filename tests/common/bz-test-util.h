/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers for GTest programs run by tests/harness/run-with-dovecot.py: the
 * harness environment, faultpop.py, mailgen.py and bounded waiting.
 * tests/README.md documents the environment variables. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BZ_TEST_ERROR (bz_test_error_quark ())
GQuark bz_test_error_quark (void);

typedef enum
{
  BZ_TEST_ERROR_FAILED,  /* a helper program failed or said something unexpected */
  BZ_TEST_ERROR_TIMEOUT, /* a helper program did not answer in time */
} BzTestError;

/* One message written by mailgen.py. */
typedef struct
{
  char *message_id; /* without angle brackets: "bz-K-S@test.buzon" */
  char *path;       /* absolute path of the file in <maildir>/new */
  guint64 size;     /* bytes on disk (LF line ends) */
} BzTestMail;

void bz_test_mail_free (BzTestMail *mail);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BzTestMail, bz_test_mail_free)

/* Value of harness variable @name (owned by the environment); aborts the
 * test with a clear message when it is unset. */
const char *bz_test_env (const char *name);

/* @name parsed as a TCP port; aborts the test when unset or not a port. */
guint16 bz_test_env_port (const char *name);

/* Starts faultpop.py with the NULL-terminated extra arguments and waits (at
 * most 10 s) for its "PORT n" line. Returns a new subprocess (stdout is a
 * pipe the caller may ignore) or NULL with @error set. */
GSubprocess *bz_test_faultpop_start (guint16 *port_out, GError **error, const char *first_arg,
                                     ...) G_GNUC_NULL_TERMINATED;

/* Same with a NULL-terminated array; @args may be NULL. */
GSubprocess *bz_test_faultpop_startv (const char *const *args, guint16 *port_out, GError **error);

/* Runs mailgen.py into @maildir (profile NULL means "mixed"). Returns a new
 * array of BzTestMail (free function set) or NULL with @error set. */
GPtrArray *bz_test_mailgen (const char *maildir, guint count, guint seed, guint start,
                            const char *profile, GError **error);

/* mailgen into $BZ_TEST_MAIL_ROOT/@user/Maildir; @mails_out (optional)
 * receives a new array as from bz_test_mailgen(). */
gboolean bz_test_fill_user (const char *user, guint count, guint seed, guint start,
                            const char *profile, GPtrArray **mails_out, GError **error);

/* A new copy of @data with every CRLF turned into LF (a lone CR stays);
 * @len_out (optional) receives its length. Always NUL-terminated. */
char *bz_test_normalize_crlf (const char *data, gsize len, gsize *len_out);

/* Creates a fresh folder from @tmpl (a g_mkdtemp() template such as
 * "sync-XXXXXX") under $BZ_TEST_TMPDIR, or g_get_tmp_dir() outside the
 * harness. Returns the new path; aborts the test on failure. */
char *bz_test_mkdtemp (const char *tmpl);

/* Iterates the thread-default main context until @cond returns TRUE or
 * @timeout_ms passes. Returns the last value of @cond. */
gboolean bz_test_wait_until (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms);

/* Skips the current test because of the machine (no ::1, no mount
 * namespace), unless $BZ_TEST_NO_SKIP is set, as CI sets it: there the
 * condition is known to hold, so a skip would hide a failure. */
void bz_test_skip_or_fail (const char *why);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `buzond --once` against a faultpop.py whose answers do not fit what was
 * asked (DESIGN.md: the wire is checked, not trusted): an unsolicited +OK
 * between pipelined answers, an answer sent twice, sizes that lie or that
 * count LF line ends, listings beyond sane bounds, and terminal escapes
 * in a server's -ERR text. The desync cases use keep = delete and check
 * what the server kept: nothing lost, nothing stored twice or under
 * another message's UIDL, no status line stored as mail. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sync-test-common.h"

#define SEED 7

/* Peak RSS allowed whatever the server sends; AddressSanitizer adds its
 * own ~10-20 MB of shadow memory and quarantine. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_LIMIT_KB (45 * 1024)
#else
#define RSS_LIMIT_KB (20 * 1024)
#endif

typedef struct
{
  SyncCase *c;
  GSubprocess *server;
  guint16 port;
  char *state_path; /* faultpop --state-file */
  char *maildir;
} Wire;

static void
wire_free (Wire *w)
{
  if (w->server != NULL)
    g_subprocess_force_exit (w->server);
  g_clear_object (&w->server);
  sync_case_free (w->c);
  g_free (w->state_path);
  g_free (w->maildir);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wire, wire_free)

/* faultpop with @messages small messages of seed SEED, up to @conns
 * connections, and the extra arguments; an account "w" for it with the
 * @extra config lines. */
static Wire *
wire_new (const char *messages, const char *conns, const char *extra, ...)
{
  Wire *w = g_new0 (Wire, 1);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *account = NULL;
  va_list ap;

  w->c = sync_case_new ();
  w->state_path = g_build_filename (w->c->dir, "faultpop.state", NULL);
  w->maildir = sync_case_maildir (w->c, "w");
  g_ptr_array_add (args, (gpointer) "--messages");
  g_ptr_array_add (args, (gpointer) messages);
  g_ptr_array_add (args, (gpointer) "--seed");
  g_ptr_array_add (args, (gpointer) G_STRINGIFY (SEED));
  g_ptr_array_add (args, (gpointer) "--max-connections");
  g_ptr_array_add (args, (gpointer) conns);
  g_ptr_array_add (args, (gpointer) "--lifetime");
  g_ptr_array_add (args, (gpointer) "100");
  g_ptr_array_add (args, (gpointer) "--state-file");
  g_ptr_array_add (args, w->state_path);
  va_start (ap, extra);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  w->server = bz_test_faultpop_startv ((const char *const *) args->pdata, &w->port, &error);
  g_assert_no_error (error);
  account = sync_case_faultpop_account (w->c, "w", w->port, extra);
  sync_case_write_config (w->c, account);
  return w;
}

/* Message-ID -> checksum of faultpop's messages 1..@n. */
static GHashTable *
reference (Wire *w, guint n)
{
  g_autofree char *dir = g_build_filename (w->c->dir, "reference", NULL);
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (GError) error = NULL;

  mails = bz_test_mailgen (dir, n, SEED, 1, "small", &error);
  g_assert_no_error (error);
  return sync_mails_checksums (mails);
}

static const char *
summary (SyncRun *run)
{
  const char *line = sync_run_summary (run, "w");

  if (line == NULL)
    g_error ("no summary line for w in:\n%s", run->out);
  return line;
}

static void
assert_contains (const char *text, const char *fragment)
{
  if (strstr (text, fragment) == NULL)
    g_error ("\"%s\" does not say \"%s\"", text, fragment);
}

/* The UIDLs the server still has, sorted, joined by spaces. */
static char *
server_left (Wire *w)
{
  g_autofree char *data = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (w->state_path, &data, NULL, &error);
  g_assert_no_error (error);
  g_strchomp (data);
  lines = g_strsplit (data, "\n", -1);
  if (lines[0] == NULL || lines[0][0] == '\0')
    return g_strdup ("");
  return g_strjoinv (" ", lines);
}

/* Every stored row names a file holding its own message (UIDL bzSEED-K
 * is Message-ID bz-K-SEED@test.buzon), and no file of the Maildir
 * starts with a status line. Returns the number of stored rows. */
static guint
assert_uidls_match_files (Wire *w)
{
  g_autofree char *db_path = sync_case_db_path (w->c);
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 0;

  db = bz_db_open (db_path, &error);
  g_assert_no_error (error);
  rows = bz_db_list_newest (db, "w", 100000, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < rows->len; i++)
    {
      const BzDbMessage *m = g_ptr_array_index (rows, i);
      g_autofree char *data = NULL;
      g_autofree char *want = NULL;
      guint k = 0;

      if (m->path == NULL)
        continue;
      g_assert_true (sscanf (m->uidl, "bz" G_STRINGIFY (SEED) "-%u", &k) == 1);
      g_file_get_contents (m->path, &data, NULL, &error);
      g_assert_no_error (error);
      if (g_str_has_prefix (data, "+OK") || g_str_has_prefix (data, "-ERR"))
        g_error ("%s (%s) starts with a status line", m->path, m->uidl);
      want = g_strdup_printf ("Message-ID: <bz-%u-%d@test.buzon>", k, SEED);
      if (strstr (data, want) == NULL)
        g_error ("%s is stored as %s but is another message", m->path, m->uidl);
      n++;
    }
  return n;
}

/* One unsolicited "+OK" before the 10th pipelined answer: the misfit ends
 * that session before anything after it is stored, a second session
 * fetches the rest one at a time, and every message is stored once and
 * deleted from the server only after it was stored. */
static void
test_extra_ok (void)
{
  g_autoptr (Wire) w = wire_new ("30", "3", "keep = delete", "--extra-ok-before-retr", "10", NULL);
  g_autoptr (GHashTable) ref = reference (w, 30);
  g_autoptr (SyncRun) r = NULL;
  g_autofree char *left = NULL;

  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
  g_assert_cmpuint (assert_uidls_match_files (w), ==, 30);
  g_assert_cmpuint (sync_assert_maildir_matches (w->maildir, ref), ==, 30);
  assert_contains (summary (r), "w: 30 new, 30 removed from server");
  left = server_left (w);
  g_assert_cmpstr (left, ==, "");
  assert_contains (r->err, "does not fit");
}

/* The 10th answer sent twice: every later answer would be one behind. */
static void
test_repeated_answer (void)
{
  g_autoptr (Wire) w = wire_new ("30", "3", "keep = delete", "--repeat-retr", "10", NULL);
  g_autoptr (GHashTable) ref = reference (w, 30);
  g_autoptr (SyncRun) r = NULL;
  g_autofree char *left = NULL;

  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_contains (summary (r), "w: 30 new, 30 removed from server");
  g_assert_cmpuint (sync_assert_maildir_matches (w->maildir, ref), ==, 30);
  g_assert_cmpuint (assert_uidls_match_files (w), ==, 30);
  left = server_left (w);
  g_assert_cmpstr (left, ==, "");
}

/* The same with messages all of one size: the size cannot tell the
 * answers apart, the NOOP after each RETR does. */
static void
test_repeated_same_size (void)
{
  g_autoptr (Wire) w = wire_new ("20", "3", "keep = delete", "--repeat-retr", "7", "--profile",
                                 "large", "--size", "4000", NULL);
  g_autofree char *dir = g_build_filename (w->c->dir, "reference", NULL);
  g_autoptr (GPtrArray) mails = sync_mailgen (dir, "--count", "20", "--seed", G_STRINGIFY (SEED),
                                              "--profile", "large", "--size", "4000", NULL);
  g_autoptr (GHashTable) ref = sync_mails_checksums (mails);
  g_autoptr (SyncRun) r = NULL;
  g_autofree char *left = NULL;

  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpuint (assert_uidls_match_files (w), ==, 20);
  g_assert_cmpuint (sync_assert_maildir_matches (w->maildir, ref), ==, 20);
  g_assert_cmpint (r->status, ==, 0);
  assert_contains (summary (r), "w: 20 new, 20 removed from server");
  left = server_left (w);
  g_assert_cmpstr (left, ==, "");
}

/* LIST says message 5 is 1000 octets; it is some 3 KB. Fetched alone it
 * comes the same: kept (the server miscounts), but never DELEd on that
 * evidence; the others are deleted as keep says. */
static void
test_lying_size (void)
{
  g_autoptr (Wire) w = wire_new ("12", "3", "keep = delete", "--claim-size", "5", "1000", NULL);
  g_autoptr (GHashTable) ref = reference (w, 12);
  g_autoptr (SyncRun) r = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autofree char *left = NULL;

  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_contains (summary (r), "w: 12 new, 11 removed from server");
  g_assert_cmpuint (sync_assert_maildir_matches (w->maildir, ref), ==, 12);
  g_assert_cmpuint (assert_uidls_match_files (w), ==, 12);
  left = server_left (w);
  g_assert_cmpstr (left, ==, "bz7-5");

  /* nor in a later run: the evidence is the same */
  r2 = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_contains (summary (r2), "w: 0 new, 12 stored");
  g_free (left);
  left = server_left (w);
  g_assert_cmpstr (left, ==, "bz7-5");
}

/* LIST says message 3 has 10 octets and it sends 5 MB: the RETR stops
 * far short of that, the message is recorded as skipped (too large), the
 * rest syncs in a new session, memory stays flat, and the next sync does
 * not try it again. */
static void
test_lying_size_huge (void)
{
  g_autoptr (Wire) w = wire_new ("8", "4", "keep = delete", "--claim-size", "3", "10", "--pad", "3",
                                 "5000000", NULL);
  g_autoptr (GHashTable) ref = reference (w, 8);
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (GHashTable) ids = NULL;
  g_autofree char *left = NULL;
  guint n = 0;

  g_hash_table_remove (ref, "bz-3-7@test.buzon");
  r1 = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_contains (summary (r1), "w: 7 new, 7 removed from server, 1 skipped (too large)");
  g_assert_cmpuint (sync_assert_maildir_matches (w->maildir, ref), ==, 7);
  g_assert_cmpuint (assert_uidls_match_files (w), ==, 7);
  g_assert_cmpuint (sync_db_count (w->c, "w", BZ_DB_STATE_SKIPPED), ==, 1);
  g_test_message ("peak RSS: %ld KiB", r1->maxrss_kb);
  g_assert_cmpint (r1->maxrss_kb, <, RSS_LIMIT_KB);
  left = server_left (w);
  g_assert_cmpstr (left, ==, "bz7-3");

  r2 = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_contains (summary (r2), "w: 0 new,");
  ids = sync_maildir_scan (w->maildir, &n);
  g_assert_cmpuint (n, ==, 7);
}

/* max-size holds against what arrives, not only against what LIST says. */
static void
test_max_size_arrived (void)
{
  g_autoptr (Wire) w = wire_new ("4", "3", "max-size = 100000", "--claim-size", "2", "60000",
                                 "--pad", "2", "400000", NULL);
  g_autoptr (GHashTable) ref = reference (w, 4);
  g_autoptr (SyncRun) r = NULL;

  g_hash_table_remove (ref, "bz-2-7@test.buzon");
  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_contains (summary (r), "w: 3 new, 1 skipped (too large)");
  g_assert_cmpuint (sync_assert_maildir_matches (w->maildir, ref), ==, 3);
}

/* A server that counts LF line ends (LIST, STAT and RETR agree among
 * themselves, not with the CRLF octets sent) still syncs in one run:
 * each message comes twice alike and is kept, and none is DELEd on that
 * evidence alone. */
static void
test_lf_sizes (void)
{
  g_autoptr (Wire) w = wire_new ("10", "3", "keep = delete", "--lf-sizes", NULL);
  g_autoptr (GHashTable) ref = reference (w, 10);
  g_autoptr (SyncRun) r = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autofree char *left = NULL;

  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
  assert_contains (summary (r), "w: 10 new, 10 stored");
  g_assert_cmpuint (sync_assert_maildir_matches (w->maildir, ref), ==, 10);
  g_assert_cmpuint (assert_uidls_match_files (w), ==, 10);
  left = server_left (w);
  g_assert_cmpstr (left, ==, "bz7-1 bz7-2 bz7-3 bz7-4 bz7-5 bz7-6 bz7-7 bz7-8 bz7-9 bz7-10");

  /* a later run has no more evidence: still nothing deleted */
  r2 = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_contains (summary (r2), "w: 0 new, 10 stored");
  g_free (left);
  left = server_left (w);
  g_assert_cmpstr (left, ==, "bz7-1 bz7-2 bz7-3 bz7-4 bz7-5 bz7-6 bz7-7 bz7-8 bz7-9 bz7-10");
}

/* UIDLs of 100,000 characters: refused at the first (RFC 1939 allows
 * 70), with a message naming the account, and memory stays flat. */
static void
test_huge_uidls (void)
{
  g_autoptr (Wire) w = wire_new ("300", "1", NULL, "--uidl-len", "100000", NULL);
  g_autoptr (SyncRun) r = NULL;
  g_autoptr (GHashTable) ids = NULL;
  guint n = 0;

  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 1);
  assert_contains (summary (r), "w: failed");
  assert_contains (summary (r), "listing");
  g_test_message ("peak RSS: %ld KiB", r->maxrss_kb);
  g_assert_cmpint (r->maxrss_kb, <, RSS_LIMIT_KB);
  ids = sync_maildir_scan (w->maildir, &n);
  g_assert_cmpuint (n, ==, 0);
}

/* 71 characters: one more than RFC 1939 allows. */
static void
test_uidl_71 (void)
{
  g_autoptr (Wire) w = wire_new ("3", "1", NULL, "--uidl-len", "71", NULL);
  g_autoptr (SyncRun) r = NULL;

  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 1);
  assert_contains (summary (r), "w: failed");
  assert_contains (summary (r), "a UIDL of 71 characters, longer than the 70 of RFC 1939");
  g_assert_cmpuint (sync_db_count (w->c, "w", BZ_DB_STATE_STORED), ==, 0);
}

/* A listing of 260,000 UIDLs, more than the 250,000 allowed. */
static void
test_numerous_uidls (void)
{
  g_autoptr (Wire) w = wire_new ("3", "1", NULL, "--uidl-extra", "260000", NULL);
  g_autoptr (SyncRun) r = NULL;

  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 1);
  assert_contains (summary (r), "w: failed");
  assert_contains (summary (r), "a listing of more than 250000 lines");
  g_test_message ("peak RSS: %ld KiB", r->maxrss_kb);
  g_assert_cmpint (r->maxrss_kb, <, RSS_LIMIT_KB);
}

/* A size beyond 64 bits is an error, not G_MAXUINT64 stored as -1. */
static void
test_size_overflow (void)
{
  /* +OK / 1 99999999999999999999999 / 2 100 / 3 100 / . */
  g_autoptr (Wire) w = wire_new ("3", "1", NULL, "--raw-after", "LIST",
                                 "2b4f4b0d0a3120393939393939393939393939393939393939393939393939"
                                 "0d0a32203130300d0a33203130300d0a2e0d0a",
                                 NULL);
  g_autoptr (SyncRun) r = NULL;

  r = sync_case_run (w->c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 1);
  assert_contains (summary (r), "w: failed");
  assert_contains (summary (r), "bad number");
  g_assert_cmpuint (sync_db_count (w->c, "w", BZ_DB_STATE_STORED), ==, 0);
}

/* No byte of a server's -ERR text that a terminal would act on reaches
 * the output of buzond --once: ESC, BEL, C1 CSI, bidi overrides. */
static void
test_err_escapes (void)
{
  /* "-ERR [SYS/TEMP] \e]0;pwned\a\e[2J\xc2\x9b31m\xe2\x80\xaeevil\x9b\r\n" */
  g_autoptr (Wire) w = wire_new ("3", "1", NULL, "--raw-after", "PASS",
                                 "2d455252205b5359532f54454d505d201b5d303b70776e6564071b5b324a"
                                 "c29b33316de280ae6576696c9b0d0a",
                                 NULL);
  g_autoptr (SyncRun) r = NULL;
  const char *forbidden[] = { "\x1b", "\x07", "\xc2\x9b", "\xe2\x80\xae", "\x9b" };

  r = sync_case_run (w->c, NULL, "--verbose", NULL);
  g_assert_cmpint (r->status, ==, 1);
  assert_contains (summary (r), "w: failed (temporary)");
  assert_contains (summary (r), "pwned");
  assert_contains (summary (r), "evil");
  for (guint i = 0; i < G_N_ELEMENTS (forbidden); i++)
    {
      g_assert_null (strstr (r->out, forbidden[i]));
      g_assert_null (strstr (r->err, forbidden[i]));
    }
  g_assert_true (g_utf8_validate (r->out, -1, NULL));
  g_assert_true (g_utf8_validate (r->err, -1, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/wire/extra-ok", test_extra_ok);
  g_test_add_func ("/sync/wire/repeated-answer", test_repeated_answer);
  g_test_add_func ("/sync/wire/repeated-same-size", test_repeated_same_size);
  g_test_add_func ("/sync/wire/lying-size", test_lying_size);
  g_test_add_func ("/sync/wire/lying-size-huge", test_lying_size_huge);
  g_test_add_func ("/sync/wire/max-size-arrived", test_max_size_arrived);
  g_test_add_func ("/sync/wire/lf-sizes", test_lf_sizes);
  g_test_add_func ("/sync/wire/huge-uidls", test_huge_uidls);
  g_test_add_func ("/sync/wire/uidl-71", test_uidl_71);
  g_test_add_func ("/sync/wire/numerous-uidls", test_numerous_uidls);
  g_test_add_func ("/sync/wire/size-overflow", test_size_overflow);
  g_test_add_func ("/sync/wire/err-escapes", test_err_escapes);
  return g_test_run ();
}

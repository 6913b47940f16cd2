/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `buzond --once` against tests/harness/faultpop.py: a connection dropped
 * or stalled in the middle of a RETR, a server without UIDL, and the
 * RFC 2449 response codes on PASS. faultpop serves mailgen messages, so
 * mailgen with the same seed and profile gives the reference copies. */
#include "config.h"

#include <string.h>

#include "sync-test-common.h"

#define SEED 7

/* Message-ID -> checksum of what faultpop --messages @n --seed SEED
 * --profile small serves. */
static GHashTable *
reference (SyncCase *c, guint n)
{
  g_autofree char *dir = g_build_filename (c->dir, "reference", NULL);
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (GError) error = NULL;

  mails = bz_test_mailgen (dir, n, SEED, 1, "small", &error);
  g_assert_no_error (error);
  return sync_mails_checksums (mails);
}

static GSubprocess *
faultpop (guint16 *port, const char *messages, const char *max_connections, const char *lifetime,
          ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;
  va_list ap;

  g_ptr_array_add (args, (gpointer) "--messages");
  g_ptr_array_add (args, (gpointer) messages);
  g_ptr_array_add (args, (gpointer) "--seed");
  g_ptr_array_add (args, (gpointer) G_STRINGIFY (SEED));
  g_ptr_array_add (args, (gpointer) "--profile");
  g_ptr_array_add (args, (gpointer) "small");
  g_ptr_array_add (args, (gpointer) "--max-connections");
  g_ptr_array_add (args, (gpointer) max_connections);
  g_ptr_array_add (args, (gpointer) "--lifetime");
  g_ptr_array_add (args, (gpointer) lifetime);
  va_start (ap, lifetime);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  proc = bz_test_faultpop_startv ((const char *const *) args->pdata, port, &error);
  g_assert_no_error (error);
  return proc;
}

static const char *
summary (SyncRun *run, const char *name)
{
  const char *line = sync_run_summary (run, name);

  if (line == NULL)
    g_error ("no summary line for %s in:\n%s", name, run->out);
  return line;
}

static void
assert_contains (const char *line, const char *fragment)
{
  if (strstr (line, fragment) == NULL)
    g_error ("\"%s\" does not say \"%s\"", line, fragment);
}

/* The 300th RETR breaks off mid-message: the 299 before it are kept, the
 * next sync fetches the rest, every message exactly once. */
static void
test_drop_in_retr (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) ref = reference (c, 400);
  g_autoptr (GSubprocess) server = NULL;
  g_autofree char *account = NULL;
  g_autofree char *maildir = sync_case_maildir (c, "drop");
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (GHashTable) ids = NULL;
  guint n = 0;
  guint16 port = 0;

  server = faultpop (&port, "400", "2", "60", "--drop-in-retr", "300", NULL);
  account = sync_case_faultpop_account (c, "drop", port, NULL);
  sync_case_write_config (c, account);

  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 1);
  assert_contains (summary (r1, "drop"), "drop: failed (temporary)");
  assert_contains (summary (r1, "drop"), "299 new stored before the failure");
  ids = sync_maildir_scan (maildir, &n);
  g_assert_cmpuint (n, ==, 299);
  g_assert_cmpuint (g_hash_table_size (ids), ==, 299);
  g_assert_cmpuint (sync_db_count (c, "drop", BZ_DB_STATE_STORED), ==, 299);
  g_assert_cmpuint (sync_db_count (c, "drop", BZ_DB_STATE_PENDING), ==, 0);

  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_contains (summary (r2, "drop"), "drop: 101 new,");
  assert_contains (summary (r2, "drop"), "400 stored");
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, ref), ==, 400);
  g_assert_cmpuint (sync_db_count (c, "drop", BZ_DB_STATE_STORED), ==, 400);
}

static void
test_no_uidl_forever (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GSubprocess) server = NULL;
  g_autofree char *account = NULL;
  g_autofree char *maildir = sync_case_maildir (c, "nu");
  g_autoptr (SyncRun) r = NULL;
  g_autoptr (GHashTable) ids = NULL;
  guint16 port = 0;
  guint n = 0;
  const char *line;

  server = faultpop (&port, "5", "1", "30", "--no-uidl", NULL);
  account = sync_case_faultpop_account (c, "nu", port, "keep = forever");
  sync_case_write_config (c, account);
  r = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 1);
  line = summary (r, "nu");
  assert_contains (line, "nu: failed (permanent)");
  assert_contains (line, "UIDL");
  assert_contains (line, "keep = delete");
  ids = sync_maildir_scan (maildir, &n);
  g_assert_cmpuint (n, ==, 0);
}

/* Without UIDL and keep = delete: the first session breaks off in the
 * 10th RETR (before QUIT, so the server deletes nothing); the second must
 * recognise the 9 it already has, fetch the other 11 and delete all 20;
 * the third finds an empty mailbox. */
static void
test_no_uidl_delete (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) ref = reference (c, 20);
  g_autoptr (GSubprocess) server = NULL;
  g_autofree char *account = NULL;
  g_autofree char *maildir = sync_case_maildir (c, "nd");
  g_autofree char *log_path = g_build_filename (c->dir, "faultpop.log", NULL);
  g_autofree char *log = NULL;
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (SyncRun) r3 = NULL;
  g_autoptr (GHashTable) ids = NULL;
  g_auto (GStrv) lines = NULL;
  guint16 port = 0;
  guint n = 0, n_dele = 0;

  server = faultpop (&port, "20", "3", "60", "--no-uidl", "--drop-in-retr", "10", "--log", log_path,
                     NULL);
  account = sync_case_faultpop_account (c, "nd", port, "keep = delete");
  sync_case_write_config (c, account);

  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 1);
  ids = sync_maildir_scan (maildir, &n);
  g_assert_cmpuint (n, ==, 9);

  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_contains (summary (r2, "nd"), "nd: 11 new,");
  assert_contains (summary (r2, "nd"), "20 removed from server");
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, ref), ==, 20);

  r3 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r3->status, ==, 0);
  assert_contains (summary (r3, "nd"), "nd: 0 new,");
  g_assert_null (strstr (summary (r3, "nd"), "removed"));
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, ref), ==, 20);

  /* Exactly 20 DELEs, all in the second session. */
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  lines = g_strsplit (log, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], "DELE", 4) == 0 || strstr (lines[i], " DELE ") != NULL)
      n_dele++;
  g_assert_cmpuint (n_dele, ==, 20);
}

/* A server breaking RFC 1939 with one UIDL for two messages: neither is
 * fetched or deleted (storing one and later DELEing the other would lose
 * it), the rest syncs normally. */
static void
test_duplicate_uidl (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GSubprocess) server = NULL;
  g_autofree char *account = NULL;
  g_autofree char *maildir = sync_case_maildir (c, "dup");
  g_autofree char *log_path = g_build_filename (c->dir, "faultpop.log", NULL);
  g_autofree char *log = NULL;
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (GHashTable) ids = NULL;
  g_auto (GStrv) lines = NULL;
  guint16 port = 0;
  guint n = 0, n_dele = 0;

  /* +OK / 1 same / 2 same / 3 other / . */
  server = faultpop (&port, "3", "2", "60", "--log", log_path, "--raw-after", "UIDL",
                     "2b4f4b0d0a312073616d650d0a322073616d650d0a33206f746865720d0a2e0d0a", NULL);
  account = sync_case_faultpop_account (c, "dup", port, "keep = delete");
  sync_case_write_config (c, account);

  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 0);
  assert_contains (summary (r1, "dup"), "dup: 1 new,");
  assert_contains (summary (r1, "dup"), "1 removed from server");
  ids = sync_maildir_scan (maildir, &n);
  g_assert_cmpuint (n, ==, 1);

  /* The same again: nothing stored twice, the two still not touched. */
  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_contains (summary (r2, "dup"), "dup: 0 new,");
  g_clear_pointer (&ids, g_hash_table_unref);
  ids = sync_maildir_scan (maildir, &n);
  g_assert_cmpuint (n, ==, 1);

  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  lines = g_strsplit (log, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], "DELE", 4) == 0 || strstr (lines[i], " DELE ") != NULL)
      {
        n_dele++;
        g_assert_nonnull (strstr (lines[i], "DELE 3"));
      }
  g_assert_cmpuint (n_dele, ==, 1);
}

typedef struct
{
  const char *code;
  const char *says; /* the code, as the server gave it */
  const char *kind; /* buzond's reading of it */
} RespCase;

static void
test_resp_code (gconstpointer data)
{
  const RespCase *rc = data;
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GSubprocess) server = NULL;
  g_autofree char *account = NULL;
  g_autoptr (SyncRun) r = NULL;
  guint16 port = 0;
  const char *line;

  server = faultpop (&port, "3", "1", "30", "--resp-code", "PASS", rc->code, NULL);
  account = sync_case_faultpop_account (c, "rc", port, NULL);
  sync_case_write_config (c, account);
  r = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r->status, ==, 1);
  line = summary (r, "rc");
  assert_contains (line, "rc: failed");
  assert_contains (line, rc->says);
  assert_contains (line, rc->kind);
  g_assert_cmpuint (sync_db_count (c, "rc", BZ_DB_STATE_STORED), ==, 0);
}

/* A server that stops sending in the 50th RETR: with timeout = 2 the sync
 * gives up within seconds and keeps the 49 before; the next sync (the
 * same mailbox served again) completes. */
static void
test_timeout (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (GHashTable) ref = reference (c, 100);
  g_autoptr (GSubprocess) stalled = NULL;
  g_autoptr (GSubprocess) fine = NULL;
  g_autofree char *account = NULL;
  g_autofree char *maildir = sync_case_maildir (c, "to");
  g_autoptr (SyncRun) r1 = NULL;
  g_autoptr (SyncRun) r2 = NULL;
  g_autoptr (GHashTable) ids = NULL;
  guint16 port = 0;
  guint n = 0;

  stalled = faultpop (&port, "100", "1", "20", "--stall-in-retr", "50", NULL);
  account = sync_case_faultpop_account (c, "to", port, "timeout = 2");
  sync_case_write_config (c, account);
  r1 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r1->status, ==, 1);
  assert_contains (summary (r1, "to"), "to: failed (temporary)");
  assert_contains (summary (r1, "to"), "49 new stored before the failure");
  /* well before the default timeout (60 s): the account's 2 s applied */
  g_assert_cmpfloat (r1->seconds, <, 40.0);
  ids = sync_maildir_scan (maildir, &n);
  g_assert_cmpuint (n, ==, 49);
  g_subprocess_force_exit (stalled);

  /* faultpop serves one connection at a time and the stalled one holds
   * it, so the same mailbox (same seed, same UIDLs) comes from a second
   * instance. */
  fine = faultpop (&port, "100", "1", "30", NULL);
  g_free (account);
  account = sync_case_faultpop_account (c, "to", port, "timeout = 2");
  sync_case_write_config (c, account);
  r2 = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (r2->status, ==, 0);
  assert_contains (summary (r2, "to"), "to: 51 new,");
  g_assert_cmpuint (sync_assert_maildir_matches (maildir, ref), ==, 100);
}

int
main (int argc, char **argv)
{
  static const RespCase resp[] = {
    { "LOGIN-DELAY", "[LOGIN-DELAY]", "(login delay" },
    { "IN-USE", "[IN-USE]", "(mailbox in use" },
    { "SYS/TEMP", "[SYS/TEMP]", "(temporary)" },
    { "AUTH", "[AUTH]", "(permanent)" },
  };

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/fault/drop-in-retr-300", test_drop_in_retr);
  g_test_add_func ("/sync/fault/no-uidl-forever", test_no_uidl_forever);
  g_test_add_func ("/sync/fault/no-uidl-delete", test_no_uidl_delete);
  g_test_add_func ("/sync/fault/duplicate-uidl", test_duplicate_uidl);
  g_test_add_data_func ("/sync/fault/resp-login-delay", &resp[0], test_resp_code);
  g_test_add_data_func ("/sync/fault/resp-in-use", &resp[1], test_resp_code);
  g_test_add_data_func ("/sync/fault/resp-sys-temp", &resp[2], test_resp_code);
  g_test_add_data_func ("/sync/fault/resp-auth", &resp[3], test_resp_code);
  g_test_add_func ("/sync/fault/timeout", test_timeout);
  return g_test_run ();
}

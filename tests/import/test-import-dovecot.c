/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl import end to end, against the harness dovecot with the real
 * mpop, getmail6 and fetchmail: each downloads part of a mailbox, buzon
 * takes over its state and fetches only the rest (RETRs counted in
 * dovecot's log), and a second sync fetches nothing. Also keep = delete
 * and days:N on imported rows, wrong host/user, --dry-run, garbage files,
 * a Thunderbird popstate.dat, and getmail's '/' -> '-' against faultpop. */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "import-test-clients.h"

/* The Message-IDs in the Maildir of account @name, as a count. */
static guint
maildir_files (SyncCase *c, const char *name)
{
  g_autofree char *maildir = sync_case_maildir (c, name);
  g_autoptr (GHashTable) scan = NULL;
  guint n = 0;

  scan = sync_maildir_scan (maildir, &n);
  return n;
}

/* Whether message @k of mailgen seed @seed is in the Maildir. */
static gboolean
maildir_has_seed (SyncCase *c, const char *name, guint k, guint seed)
{
  g_autofree char *maildir = sync_case_maildir (c, name);
  g_autofree char *id = g_strdup_printf ("bz-%u-%u@test.buzon", k, seed);
  g_autoptr (GHashTable) scan = sync_maildir_scan (maildir, NULL);

  return g_hash_table_contains (scan, id);
}

/* Distinct Message-IDs in the Maildir of account @name. */
static guint
maildir_ids (SyncCase *c, const char *name)
{
  g_autofree char *maildir = sync_case_maildir (c, name);
  g_autoptr (GHashTable) scan = sync_maildir_scan (maildir, NULL);

  return g_hash_table_size (scan);
}

static gboolean
maildir_has (SyncCase *c, const char *name, guint k)
{
  return maildir_has_seed (c, name, k, 1);
}

static void
write_account (SyncCase *c, const char *user, const char *extra)
{
  g_autofree char *account = sync_case_dovecot_account (c, "work", user, extra);
  sync_case_write_config (c, account);
}

/* An account over implicit TLS on the POP3S port, as getmail's file name
 * holds the port. */
static void
write_tls_account (SyncCase *c, const char *user, const char *extra)
{
  g_autofree char *text = g_strdup_printf (
      "[account work]\nhost = localhost\nport = %u\nsecurity = tls\ntls-ca-file = %s\n"
      "user = %s\npassword-command = cat %s\ntimeout = 20\n%s\n",
      bz_test_env_port ("BZ_TEST_POP3S_PORT"), bz_test_env ("BZ_TEST_CA_FILE"), user,
      c->password_file, extra != NULL ? extra : "");
  sync_case_write_config (c, text);
}

/* Imports (@n_known UIDLs), syncs (only @rest are fetched, all of them
 * mail the client had not delivered: messages @first_new.. when known),
 * syncs again (nothing fetched). */
static void
assert_takes_over (SyncCase *c, const char *user, const char *client, const char *expect_line,
                   guint n_known, guint rest, guint first_new)
{
  g_autoptr (Result) imp = buzonctl (c, "import", client, "--account", "work", NULL);

  g_assert_cmpint (imp->status, ==, 0);
  g_assert_cmpstr (imp->out, ==, expect_line);
  g_assert_cmpuint (sync_counting_retrs (c, user, NULL), ==, rest);
  g_assert_cmpuint (maildir_files (c, "work"), ==, rest);
  g_assert_cmpuint (maildir_ids (c, "work"), ==, rest);
  /* @first_new = 0: the client chose which messages it took */
  for (guint k = first_new; first_new > 0 && k < first_new + rest; k++)
    g_assert_true (maildir_has (c, "work", k));
  g_assert_cmpuint (sync_counting_retrs (c, user, NULL), ==, 0);
  g_assert_cmpuint (maildir_files (c, "work"), ==, rest);
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, n_known);
}

static void
test_mpop (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (Result) again = NULL;

  fill ("test1", 10, 1);
  run_mpop ("test1");
  fill ("test1", 5, 11);
  write_account (c, "test1", NULL);
  assert_takes_over (c, "test1", "mpop",
                     "work: imported 10 UIDLs from ~/.mpop_uidls/test1_at_localhost "
                     "(0 already known)\n",
                     10, 5, 11);
  /* importing again changes nothing */
  again = buzonctl (c, "import", "mpop", "--account", "work", NULL);
  g_assert_cmpint (again->status, ==, 0);
  g_assert_cmpstr (again->out, ==,
                   "work: imported 0 UIDLs from ~/.mpop_uidls/test1_at_localhost "
                   "(10 already known)\n");
}

static void
test_getmail (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *line = NULL;
  guint16 port = bz_test_env_port ("BZ_TEST_POP3S_PORT");

  fill ("test2", 10, 1);
  run_getmail ("test2", 4, "localhost", port, bz_test_env ("BZ_TEST_PASSWORD"), TRUE);
  write_tls_account (c, "test2", NULL);
  line = g_strdup_printf ("work: imported 4 UIDLs from ~/.getmail/oldmail-localhost-%u-test2 "
                          "(0 already known)\n",
                          port);
  /* getmail picks its 4 in its own order */
  assert_takes_over (c, "test2", "getmail", line, 4, 6, 0);
}

static void
test_fetchmail (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();

  fill ("test3", 10, 1);
  run_fetchmail ("test3", 3);
  write_account (c, "test3", NULL);
  assert_takes_over (c, "test3", "fetchmail",
                     "work: imported 3 UIDLs from ~/.fetchids (0 already known)\n", 3, 7, 4);
}

static void
test_keep_delete (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (Result) imp = NULL;

  fill ("test4", 10, 1);
  run_mpop ("test4");
  fill ("test4", 5, 11);
  write_account (c, "test4", "keep = delete");
  imp = buzonctl (c, "import", "mpop", "--account", "work", NULL);
  g_assert_cmpint (imp->status, ==, 0);
  /* the 5 new are fetched; all 15 are DELEd, the 10 mpop delivered too */
  g_assert_cmpuint (sync_counting_retrs (c, "test4", NULL), ==, 5);
  g_assert_cmpuint (sync_server_count ("test4"), ==, 0);
  g_assert_cmpuint (maildir_files (c, "work"), ==, 5);
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_DELETED), ==, 15);
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 0);
}

static void
test_thunderbird_days (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_auto (GStrv) uidls = NULL;
  g_autofree char *popstate = home_path ("tb/Mail/localhost/popstate.dat");
  g_autofree char *text = NULL;
  g_autofree char *now_text = NULL;
  g_autoptr (Result) imp = NULL;
  g_autofree char *expect = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 old = now - 10 * 86400, recent = now - 86400;

  fill ("test5", 10, 1);
  uidls = server_uidls ("test5");
  g_assert_cmpuint (g_strv_length (uidls), ==, 10);
  /* the documented format: k and d were delivered, b (too big) and f
   * (body to fetch) were not; a second server's section is ignored */
  text = g_strdup_printf ("# POP3 State File\n"
                          "# This is a generated file!  Do not edit.\n"
                          "\n"
                          "*localhost test5\n"
                          "k %s %" G_GINT64_FORMAT "\n"
                          "k %s %" G_GINT64_FORMAT "\n"
                          "d %s %" G_GINT64_FORMAT "\n"
                          "b %s %" G_GINT64_FORMAT "\n"
                          "f %s %" G_GINT64_FORMAT "\n"
                          "*pop.other.org test5\n"
                          "k %s %" G_GINT64_FORMAT "\n",
                          uidls[0], old, uidls[1], old, uidls[2], recent, uidls[3], old, uidls[4],
                          old, uidls[5], old);
  write_text (popstate, text, 0600);
  write_account (c, "test5", "keep = days:5");
  imp = buzonctl (c, "import", "thunderbird", popstate, "--account", "work", NULL);
  g_assert_cmpint (imp->status, ==, 0);
  expect = g_strdup_printf (
      "work: imported 3 UIDLs from ~/tb/Mail/localhost/popstate.dat (0 already known)\n");
  g_assert_cmpstr (imp->out, ==, expect);
  now_text = g_strdup_printf ("%" G_GINT64_FORMAT, now);
  /* 4..10 fetched (b, f and the other server's are not delivered); the two
   * k entries first seen 10 days ago are DELEd, the d entry of yesterday
   * and everything just fetched stay */
  g_assert_cmpuint (sync_counting_retrs (c, "test5", now_text), ==, 7);
  g_assert_cmpuint (maildir_files (c, "work"), ==, 7);
  g_assert_false (maildir_has (c, "work", 3));
  g_assert_true (maildir_has (c, "work", 4));
  g_assert_cmpuint (sync_server_count ("test5"), ==, 8);
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_DELETED), ==, 2);
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 1);
  g_assert_cmpuint (sync_counting_retrs (c, "test5", now_text), ==, 0);
  g_assert_cmpuint (sync_server_count ("test5"), ==, 8);
}

static void
test_days_from_import_time (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autoptr (Result) imp = NULL;
  g_autofree char *in_2_days = NULL;
  g_autofree char *in_6_days = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  /* mpop 1.4.18 writes no times: days:N counts from the import */
  fill ("test6", 3, 1);
  run_mpop ("test6");
  write_account (c, "test6", "keep = days:5");
  imp = buzonctl (c, "import", "mpop", "--account", "work", NULL);
  g_assert_cmpint (imp->status, ==, 0);
  in_2_days = g_strdup_printf ("%" G_GINT64_FORMAT, now + 2 * 86400);
  in_6_days = g_strdup_printf ("%" G_GINT64_FORMAT, now + 6 * 86400);
  g_assert_cmpuint (sync_counting_retrs (c, "test6", in_2_days), ==, 0);
  g_assert_cmpuint (sync_server_count ("test6"), ==, 3);
  g_assert_cmpuint (sync_counting_retrs (c, "test6", in_6_days), ==, 0);
  g_assert_cmpuint (sync_server_count ("test6"), ==, 0);
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_DELETED), ==, 3);
  g_assert_cmpuint (maildir_files (c, "work"), ==, 0);
}

static void
test_mismatch (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *file = home_path (".mpop_uidls/test7_at_localhost");
  g_autofree char *other = NULL;
  g_autofree char *wrong_host = NULL;
  g_autofree char *getmail_file = home_path (".getmail/oldmail-localhost-110-test7");
  g_autoptr (Result) user = NULL;
  g_autoptr (Result) host = NULL;
  g_autoptr (Result) forced = NULL;
  g_autoptr (Result) gm = NULL;

  fill ("test7", 3, 1);
  run_mpop ("test7");
  /* the account is test8 on the same server */
  other = sync_case_dovecot_account (c, "work", "test8", NULL);
  wrong_host = g_strdup_printf ("[account elsewhere]\nhost = 127.0.0.1\nport = %u\n"
                                "security = none\nuser = test7\npassword-command = cat %s\n",
                                bz_test_env_port ("BZ_TEST_POP3_PORT"), c->password_file);
  {
    g_autofree char *both = g_strconcat (other, wrong_host, NULL);
    sync_case_write_config (c, both);
  }
  user = buzonctl (c, "import", "mpop", file, "--account", "work", NULL);
  g_assert_cmpint (user->status, ==, 1);
  assert_contains (user->err, "~/.mpop_uidls/test7_at_localhost");
  assert_contains (user->err, "user test7 on localhost");
  assert_contains (user->err, "user test8 on localhost");
  host = buzonctl (c, "import", "mpop", file, "--account", "elsewhere", NULL);
  g_assert_cmpint (host->status, ==, 1);
  assert_contains (host->err, "user test7 on localhost");
  assert_contains (host->err, "user test7 on 127.0.0.1");
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 0);

  /* getmail's state of another port */
  write_text (getmail_file, "U1\0", 0600);
  g_file_set_contents (getmail_file, "U1\0001700000000\n", 15, NULL);
  gm = buzonctl (c, "import", "getmail", getmail_file, "--account", "elsewhere", NULL);
  g_assert_cmpint (gm->status, ==, 1);
  assert_contains (gm->err, "oldmail-localhost-110-test7");
  assert_contains (gm->err, "oldmail-127.0.0.1-");

  forced = buzonctl (c, "import", "mpop", file, "--account", "work", "--force", NULL);
  g_assert_cmpint (forced->status, ==, 0);
  assert_contains (forced->out, "work: imported 3 UIDLs");
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 3);
}

static void
test_dry_run (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *db = sync_case_db_path (c);
  g_autofree char *data_buzon = g_path_get_dirname (db);
  g_autoptr (Result) fresh = NULL;
  g_autoptr (Result) dry = NULL;
  g_autoptr (Result) real = NULL;
  g_autofree char *first_line = NULL;
  const char *line = "work: imported 3 UIDLs from ~/.mpop_uidls/test9_at_localhost "
                     "(2 already known)\n";

  write_account (c, "test9", NULL);
  /* with no database yet, a dry run does not create one */
  fill ("test9", 2, 1);
  run_mpop ("test9");
  fresh = buzonctl (c, "import", "mpop", "--account", "work", "--dry-run", NULL);
  g_assert_cmpint (fresh->status, ==, 0);
  assert_contains (fresh->out, "imported 2 UIDLs");
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (data_buzon, G_FILE_TEST_EXISTS));

  /* buzon stored 1 and 2; mpop then delivered 1..5 */
  g_assert_cmpuint (sync_counting_retrs (c, "test9", NULL), ==, 2);
  fill ("test9", 3, 3);
  run_mpop ("test9");
  dry = buzonctl (c, "import", "mpop", "--account", "work", "--dry-run", NULL);
  g_assert_cmpint (dry->status, ==, 0);
  first_line = g_strndup (dry->out, strcspn (dry->out, "\n") + 1);
  g_assert_cmpstr (first_line, ==, line);
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 0);
  real = buzonctl (c, "import", "mpop", "--account", "work", NULL);
  g_assert_cmpint (real->status, ==, 0);
  g_assert_cmpstr (real->out, ==, line);
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 3);
  /* stored rows stayed stored */
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_STORED), ==, 2);
  g_assert_cmpuint (sync_counting_retrs (c, "test9", NULL), ==, 0);

  /* the import takes the account's sync lock: while a sync holds it,
   * the import fails and records nothing */
  {
    g_autofree char *lock = g_build_filename (data_buzon, "locks", "work.lock", NULL);
    g_autoptr (Result) busy = NULL;
    int fd = g_open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);
    fill ("test9", 1, 6);
    run_mpop ("test9");
    busy = buzonctl (c, "import", "mpop", "--account", "work", NULL);
    close (fd);
    g_assert_cmpint (busy->status, ==, 1);
    assert_contains (busy->err, "work: another buzon process is syncing");
    g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 3);
  }
}

static void
test_garbage (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *binary = home_path ("garbage/binary");
  g_autofree char *truncated = home_path ("garbage/mpop-truncated");
  g_autofree char *half = home_path ("garbage/fetchids");
  g_autofree char *noend = home_path ("garbage/popstate-noend");
  g_autofree char *missing = home_path ("garbage/missing");
  g_autofree char *data = g_malloc (4096);
  g_autoptr (GError) error = NULL;
  struct
  {
    const char *client;
    const char *path;
    const char *expect;
  } cases[] = {
    { "mpop", binary, "~/garbage/binary line 1: binary data" },
    { "fetchmail", binary, "~/garbage/binary line 1: binary data" },
    { "mpop", truncated, "~/garbage/mpop-truncated line 4: the file ends" },
    { "fetchmail", half, "~/garbage/fetchids line 4: binary data" },
    { "thunderbird", noend, "~/garbage/popstate-noend line 3: the file ends in the middle" },
    { "getmail", missing, "cannot read ~/garbage/missing" },
    { "getmail", c->dir, "a folder" },
  };

  for (guint i = 0; i < 4096; i++)
    data[i] = (char) (g_random_int () & 0xff);
  data[0] = '\x7f'; /* ELF-like: a control byte on line 1 */
  g_file_set_contents (binary, data, 4096, &error);
  if (error != NULL)
    {
      g_clear_error (&error);
      write_text (binary, "", 0600);
      g_file_set_contents (binary, data, 4096, &error);
    }
  g_assert_no_error (error);
  write_text (truncated, "# mpop\n 5 localhost test10\nA\nB\n", 0600);
  /* good lines, then binary: nothing of the good part is imported */
  write_text (half,
              "test10@localhost A\ntest10@localhost B\ntest10@localhost C\n"
              "test10@localhost \x01\x02\n",
              0600);
  write_text (noend, "*localhost test10\nk A 1700000000\nk B 17000", 0600);
  write_account (c, "test10", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Result) r =
          buzonctl (c, "import", cases[i].client, cases[i].path, "--account", "work", NULL);
      g_assert_cmpint (r->status, ==, 1);
      assert_contains (r->err, "work");
      assert_contains (r->err, cases[i].expect);
      g_assert_cmpstr (r->out, ==, "");
    }
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 0);
  /* a good file of more than a thousand: the count is written 1,234 */
  {
    g_autofree char *many = home_path ("garbage/many");
    g_autoptr (GString) ids = g_string_new ("other@localhost X1\n");
    g_autoptr (Result) r = NULL;

    for (guint i = 0; i < 1234; i++)
      g_string_append_printf (ids, "test10@localhost U%05u\n", i);
    write_text (many, ids->str, 0600);
    r = buzonctl (c, "import", "fetchmail", many, "--account", "work", NULL);
    g_assert_cmpint (r->status, ==, 0);
    g_assert_cmpstr (r->out, ==,
                     "work: imported 1,234 UIDLs from ~/garbage/many (0 already known)\n");
    g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 1234);
  }
  /* usage errors */
  {
    g_autoptr (Result) no_account = buzonctl (c, "import", "mpop", NULL);
    g_autoptr (Result) bad_client = buzonctl (c, "import", "pine", "--account", "work", NULL);
    g_autoptr (Result) no_such = buzonctl (c, "import", "mpop", "--account", "nope", NULL);
    g_assert_cmpint (no_account->status, ==, 2);
    g_assert_cmpint (bad_client->status, ==, 2);
    g_assert_cmpint (no_such->status, ==, 2);
    assert_contains (no_such->err, "nope");
  }
}

/* getmail writes '/' in UIDLs as '-': a server whose UIDLs end in '/'
 * (faultpop) must still be matched. */
static void
test_getmail_slash (void)
{
  g_autoptr (SyncCase) c = sync_case_new ();
  g_autofree char *log = g_build_filename (c->dir, "faultpop.log", NULL);
  g_autofree char *oldmail = NULL;
  g_autofree char *text = NULL;
  g_autofree char *account = NULL;
  g_autoptr (GSubprocess) server = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Result) imp = NULL;
  g_autoptr (SyncRun) first = NULL;
  g_autoptr (SyncRun) second = NULL;
  g_auto (GStrv) lines = NULL;
  guint16 port = 0;
  guint retr = 0, n_delivered = 0;
  gsize text_len = 0;
  gboolean delivered[6] = { FALSE };

  server = bz_test_faultpop_start (&port, &error, "--messages", "5", "--uidl-suffix-hex", "2f",
                                   "--max-connections", "3", "--log", log, NULL);
  g_assert_no_error (error);
  run_getmail ("test", 3, "127.0.0.1", port, "secret", FALSE);
  oldmail = g_strdup_printf ("%s/.getmail/oldmail-127.0.0.1-%u-test", g_get_home_dir (), port);
  g_assert_true (g_file_get_contents (oldmail, &text, &text_len, NULL));
  /* "<uidl>\0<time>\n" lines: the NULs as spaces for the string functions */
  for (gsize i = 0; i < text_len; i++)
    text[i] = text[i] == '\0' ? ' ' : text[i];
  /* getmail's own form: "bz0-K-" for the server's "bz0-K/" */
  g_assert_null (strchr (text, '/'));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      guint k = 0;
      g_assert_cmpint (sscanf (lines[i], "bz0-%u-", &k), ==, 1);
      g_assert_nonnull (strstr (lines[i], "- "));
      g_assert_cmpuint (k, >=, 1);
      g_assert_cmpuint (k, <=, 5);
      delivered[k] = TRUE;
      n_delivered++;
    }
  g_assert_cmpuint (n_delivered, ==, 3);
  g_clear_pointer (&lines, g_strfreev);
  account = sync_case_faultpop_account (c, "work", port, NULL);
  sync_case_write_config (c, account);
  imp = buzonctl (c, "import", "getmail", "--account", "work", NULL);
  g_assert_cmpint (imp->status, ==, 0);
  assert_contains (imp->out, "work: imported 3 UIDLs");
  first = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (first->status, ==, 0);
  second = sync_case_run (c, NULL, NULL);
  g_assert_cmpint (second->status, ==, 0);
  g_assert_cmpuint (maildir_files (c, "work"), ==, 2);
  /* exactly the two getmail did not deliver (faultpop's mailbox is
   * mailgen seed 0) */
  for (guint k = 1; k <= 5; k++)
    g_assert_cmpint (maildir_has_seed (c, "work", k, 0), ==, !delivered[k]);
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    retr += g_str_has_prefix (lines[i], "RETR") ? 1 : 0;
  /* getmail's 3, then buzon's 2, then none */
  g_assert_cmpuint (retr, ==, 5);
  g_assert_cmpuint (sync_db_count (c, "work", BZ_DB_STATE_KNOWN), ==, 3);
  g_subprocess_force_exit (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/import/mpop", test_mpop);
  g_test_add_func ("/import/getmail", test_getmail);
  g_test_add_func ("/import/fetchmail", test_fetchmail);
  g_test_add_func ("/import/keep-delete", test_keep_delete);
  g_test_add_func ("/import/thunderbird-days", test_thunderbird_days);
  g_test_add_func ("/import/days-from-import-time", test_days_from_import_time);
  g_test_add_func ("/import/mismatch", test_mismatch);
  g_test_add_func ("/import/dry-run", test_dry_run);
  g_test_add_func ("/import/garbage", test_garbage);
  g_test_add_func ("/import/getmail-slash", test_getmail_slash);
  return g_test_run ();
}

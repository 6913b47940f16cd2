/* SPDX-License-Identifier: GPL-3.0-or-later */
/* agent/store/: header index, Maildir naming, the batch protocol, recovery,
 * a mail client's moves, and a full disk (a real tmpfs, and injected). */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "bz-store.h"
#include "bz-test-util.h"
#include "bz-store-private.h"
#include "bz-test-messages.h"

typedef struct
{
  char *dir;
  char *maildir;
  char *db_path;
  BzDb *db;
  gboolean named; /* O_TMPFILE refused: every new file is named in tmp/ */
} Fixture;

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
    }
  g_remove (path);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->dir = g_dir_make_tmp ("bz-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  fx->maildir = g_build_filename (fx->dir, "mail", "work", NULL);
  fx->db_path = g_build_filename (fx->dir, "buzon.db", NULL);
  fx->db = bz_db_open (fx->db_path, &error);
  g_assert_no_error (error);
  /* what expected_in_tmp() counts on, whatever RLIMIT_NOFILE allows */
  bz_store_test_set_open_budget (128);
}

/* As before Linux 6.10 without CAP_DAC_READ_SEARCH: unnamed files are
 * linked through /proc/self/fd. */
static void
fixture_setup_proc_link (Fixture *fx, gconstpointer data)
{
  fixture_setup (fx, data);
  bz_store_test_refuse_empty_path (TRUE);
}

/* As on a file system without O_TMPFILE: the tmp/ + rename() path. */
static void
fixture_setup_named (Fixture *fx, gconstpointer data)
{
  fixture_setup (fx, data);
  fx->named = TRUE;
  bz_store_test_refuse_tmpfile (TRUE);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  bz_store_test_fail_writes_after (-1);
  bz_store_test_fail_flush (FALSE);
  bz_store_test_refuse_tmpfile (FALSE);
  bz_store_test_refuse_empty_path (FALSE);
  bz_store_test_fail_link_flush (FALSE);
  bz_store_test_set_open_budget (0);
  g_clear_object (&fx->db);
  rm_rf (fx->dir);
  g_free (fx->dir);
  g_free (fx->maildir);
  g_free (fx->db_path);
}

static guint
count_files (const char *maildir, const char *sub)
{
  g_autofree char *path = g_build_filename (maildir, sub, NULL);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* How many files @n finished messages leave in tmp/ before the commit:
 * none when they are unnamed (O_TMPFILE, where the file system of the
 * Maildir has it), but past the 128 the fixture lets the process hold
 * open, which get their names there. */
static guint
expected_in_tmp (Fixture *fx, guint n)
{
  g_autofree char *tmp = g_build_filename (fx->maildir, "tmp", NULL);
  int fd;

  if (fx->named)
    return n;
  fd = open (tmp, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return n;
  close (fd);
  return n > 128 ? n - 128 : 0;
}

/* Streams @data into the batch in chunks of @chunk bytes. */
static gboolean
ingest (BzStoreBatch *batch, const char *uidl, const char *data, gsize chunk, GError **error)
{
  gsize len = strlen (data);

  if (!bz_store_batch_begin (batch, uidl, len + 10, error))
    return FALSE;
  for (gsize off = 0; off < len; off += chunk)
    {
      if (!bz_store_batch_write (batch, data + off, MIN (chunk, len - off), error))
        return FALSE;
    }
  return bz_store_batch_finish (batch, error);
}

static void
test_headers (void)
{
  struct
  {
    const char *text;
    const char *subject;
    const char *from;
    const char *message_id;
    gint64 date;
  } cases[] = {
    { "Subject: =?UTF-8?B?w6lsw6h2ZQ==?=\nFrom: a@b.c\nDate: Tue, 14 Nov 2023 22:13:20 "
      "+0000\n\nbody\n",
      "élève", "a@b.c", NULL, 1700000000 },
    { "Subject: =?utf-8?q?Caf=C3=A9_cr=C3=A8me?=\nMessage-ID: <abc@example.org>\n\n", "Café crème",
      NULL, "abc@example.org", 0 },
    { "Subject: =?ISO-8859-1?Q?Caf=E9?= au lait\nFrom: =?UTF-8?B?Wm/Dqw==?= <zoe@example.org>\n\n",
      "Café au lait", "Zoë <zoe@example.org>", NULL, 0 },
    { "Subject: a long\n  subject, folded\nDate: Wed, 15 Nov 2023\n 00:13:20 +0200\n\n",
      "a long  subject, folded", NULL, NULL, 1700000000 },
    { "X-Only: nothing useful\n\nSubject: in the body, not a header\n", NULL, NULL, NULL, 0 },
    { "Subject: bad date\nDate: not a date at all\n\n", "bad date", NULL, NULL, 0 },
    { "Date: Tue, 99 Foo 2023 99:99:99 +9999\n\n", NULL, NULL, NULL, 0 },
    { "", NULL, NULL, NULL, 0 },
    { "\nSubject: body only\n", NULL, NULL, NULL, 0 },
    /* cut at the capture cap: no blank line */
    { "Subject: truncated\nFrom: x@y.z", "truncated", "x@y.z", NULL, 0 },
    /* only four fields reach GMime: names that merely start like them,
     * folded fields around them and the obsolete "Name :" form */
    { "Received: from a\n\tby b; Tue, 14 Nov 2023 22:13:20 +0000\n"
      "Subjects: no\nFrom-Address: no@example.org\nMessage-IDs: <no@x>\n"
      "Dates: Mon, 1 Jan 2024 00:00:00 +0000\n"
      "Subject : old\n form\nX-After: 1\n continued\n"
      "message-id:\n <mid@example.org>\nFROM:\tc@d.e\n\n",
      "old form", "c@d.e", "mid@example.org", 0 },
    /* as a GMimeMessage reads them: the last Subject, Date and Message-ID
     * count, every From adds its addresses, each kept up to a syntax
     * error (an unclosed comment) */
    { "Subject: first\nFrom: a@b.c\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
      "Message-ID: <one@x>\nSubject: second\nFrom: d@e.f\n"
      "Date: Tue, 14 Nov 2023 22:13:20 +0000\nMessage-ID: <two@x>\n\n",
      "second", "a@b.c, d@e.f", "two@x", 1700000000 },
    { "From: Alice <alice@example.org>(To: Bob <bob@example.org>\n\n", NULL,
      "Alice <alice@example.org>", NULL, 0 },
    /* CRLF line ends; a TOP answer's body after the empty line is not
     * header, whatever it looks like */
    { "Subject: crlf\r\nX-A: b\r\n\r\nFrom: body@example.org\r\n"
      "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n",
      "crlf", NULL, NULL, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (BzDbHeaders) h = bz_store_headers_parse (cases[i].text, strlen (cases[i].text));
      g_test_message ("case %u: subject=%s from=%s id=%s date=%" G_GINT64_FORMAT, i, h->subject,
                      h->from, h->message_id, h->date);
      g_assert_cmpstr (h->subject, ==, cases[i].subject);
      g_assert_cmpstr (h->from, ==, cases[i].from);
      g_assert_cmpstr (h->message_id, ==, cases[i].message_id);
      g_assert_cmpint (h->date, ==, cases[i].date);
    }
}

static void
test_headers_invalid_utf8 (void)
{
  /* raw Latin-1 bytes, undeclared: still valid UTF-8 in the index */
  const char text[] = "Subject: Caf\xe9 \xff\xfe\nFrom: J\xfcrgen <j@x.de>\n\n";
  g_autoptr (BzDbHeaders) h = bz_store_headers_parse (text, sizeof text - 1);

  g_assert_nonnull (h->subject);
  g_assert_true (g_utf8_validate (h->subject, -1, NULL));
  g_assert_true (g_str_has_prefix (h->subject, "Caf"));
  g_assert_nonnull (h->from);
  g_assert_true (g_utf8_validate (h->from, -1, NULL));
}

static void
test_maildir_names (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GRegex) re =
      g_regex_new ("^[0-9]{10,}\\.M[0-9]{6}P[0-9]+Q[0-9]+B[0-9a-f]{32}\\.[^/:]+$", 0, 0, NULL);
  g_autofree char *host = bz_store_maildir_sanitize_host ("a/b:c.example");

  g_assert_cmpstr (host, ==, "a\\057b\\072c.example");
  for (guint i = 0; i < 20000; i++)
    {
      char *name = bz_store_maildir_unique_name ("work", i % 2 ? "uidl-a" : "uidl-b");
      g_assert_true (g_regex_match (re, name, 0, NULL));
      g_assert_false (g_hash_table_contains (seen, name));
      g_hash_table_add (seen, name);
    }
}

/* The digest of (account, UIDL) in every name, found again after a mail
 * client moved the file and added flags; other deliverers' names (dovecot
 * writes "SECS.MUSECSPpidQn.host" too) are not taken for ours. */
static void
test_maildir_name_digest (void)
{
  g_autofree char *name = bz_store_maildir_unique_name ("work", "UID:1/x");
  g_autofree char *digest = bz_store_maildir_digest ("work", "UID:1/x");
  g_autofree char *other = bz_store_maildir_digest ("wor", "kUID:1/x");
  g_autofree char *in_cur = g_strdup_printf ("%s,S=1234:2,RS", name);
  BzStoreMaildirName parsed = { 0 };

  g_assert_cmpuint (strlen (digest), ==, BZ_STORE_DIGEST_LEN);
  g_assert_cmpstr (digest, !=, other);
  g_assert_null (strpbrk (name, "/:"));
  g_assert_true (bz_store_maildir_parse_name (in_cur, &parsed));
  g_assert_cmpstr (parsed.digest, ==, digest);
  g_assert_cmpint (parsed.pid, ==, getpid ());
  g_assert_cmpstr (parsed.host, ==, bz_store_maildir_host ());
  g_assert_cmpint (parsed.time, >, 1700000000);
  bz_store_maildir_name_clear (&parsed);
  g_assert_false (bz_store_maildir_parse_name ("1700000000.M1P2Q3.host", NULL));
  g_assert_false (bz_store_maildir_parse_name ("1700000000.M1P2.host,S=3:2,S", NULL));
  g_assert_false (bz_store_maildir_parse_name ("1700000000.12345_1.otherhost", NULL));
}

static void
test_maildir_ensure (Fixture *fx, gconstpointer data)
{
  const char *subs[] = { "", "tmp", "new", "cur" };
  g_autoptr (GError) error = NULL;

  g_assert_true (bz_store_maildir_ensure (fx->maildir, &error));
  g_assert_no_error (error);
  g_assert_true (bz_store_maildir_ensure (fx->maildir, &error));
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    {
      g_autofree char *path = g_build_filename (fx->maildir, subs[i], NULL);
      GStatBuf st;
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_true (S_ISDIR (st.st_mode));
      g_assert_cmpint (st.st_mode & 0777, ==, 0700);
    }
}

/* Folders left by a process killed before it flushed them are flushed by
 * the next one: the Maildir and its parent, every time. */
static void
test_maildir_ensure_existing (Fixture *fx, gconstpointer data)
{
  const char *subs[] = { "tmp", "new", "cur" };
  g_autoptr (GError) error = NULL;
  guint before;

  g_assert_cmpint (g_mkdir_with_parents (fx->maildir, 0700), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    {
      g_autofree char *path = g_build_filename (fx->maildir, subs[i], NULL);
      g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
    }
  before = bz_store_test_count_dir_fsyncs ();
  g_assert_true (bz_store_maildir_ensure (fx->maildir, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (bz_store_test_count_dir_fsyncs () - before, ==, 2);
}

static void
test_batch (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;
  g_autoptr (GPtrArray) newest = NULL;
  guint n = 0;

  g_assert_no_error (error);
  /* sizes across the 64 KiB buffer and the header split across writes */
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *uidl = NULL;
      g_autofree char *msg = bz_test_message_new (i, 2000 + i * 40000, &uidl);
      g_assert_true (ingest (batch, uidl, msg, i == 0 ? 7 : 4096, &error));
      g_assert_no_error (error);
    }
  /* an abandoned message leaves nothing */
  g_assert_true (bz_store_batch_begin (batch, "dropped", 10, &error));
  g_assert_true (bz_store_batch_write (batch, "Subject: x\n", 11, &error));
  bz_store_batch_abort (batch);
  g_assert_cmpuint (bz_store_batch_get_n_finished (batch), ==, 5);
  g_assert_cmpuint (count_files (fx->maildir, "new"), ==, 0);
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, expected_in_tmp (fx, 5));

  g_assert_true (bz_store_batch_commit (batch, &stored, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 5);
  g_assert_cmpuint (count_files (fx->maildir, "new"), ==, 5);
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, 0);
  for (guint i = 0; i < stored->len; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (stored, i);
      g_autofree char *expected = bz_test_message_new (i, 2000 + i * 40000, NULL);
      g_autofree char *contents = NULL;
      g_autofree char *suffix = g_strdup_printf (",S=%zu", strlen (expected));
      gsize len = 0;

      g_assert_true (g_file_get_contents (msg->path, &contents, &len, NULL));
      g_assert_cmpmem (contents, len, expected, strlen (expected));
      g_assert_true (g_str_has_suffix (msg->path, suffix));
      g_assert_cmpuint (msg->size, ==, strlen (expected) + 10);
      g_autofree char *from = g_strdup_printf ("Zoë <sender%u@example.org>", i);

      g_assert_cmpstr (msg->headers.from, ==, from);
      g_assert_true (g_str_has_prefix (msg->headers.subject, "Café number "));
      g_assert_cmpint (msg->headers.date, ==, 1700000000);
    }
  g_assert_cmpstr (((BzDbMessage *) stored->pdata[0])->headers.from, ==,
                   "Zoë <sender0@example.org>");
  g_assert_cmpstr (((BzDbMessage *) stored->pdata[0])->headers.message_id, ==, "msg0@example.org");
  g_assert_true (bz_db_count_stored (fx->db, "work", &n, &error));
  g_assert_cmpuint (n, ==, 5);
  newest = bz_db_list_newest (fx->db, "work", 10, &error);
  g_assert_cmpuint (newest->len, ==, 5);
  g_assert_cmpstr (((BzDbMessage *) newest->pdata[0])->headers.subject, ==, "Café number 4");

  /* the same UIDL again is refused, not stored twice */
  g_clear_pointer (&stored, g_ptr_array_unref);
  {
    g_autofree char *uidl = NULL;
    g_autofree char *msg = bz_test_message_new (1, 100, &uidl);
    g_autofree char *other = NULL;
    g_autofree char *msg2 = bz_test_message_new (5, 100, &other);
    g_assert_true (ingest (batch, uidl, msg, 4096, &error));
    g_assert_true (ingest (batch, other, msg2, 4096, &error));
  }
  g_assert_false (bz_store_batch_commit (batch, &stored, &error));
  g_assert_error (error, BZ_STORE_ERROR, BZ_STORE_ERROR_DUPLICATE);
  g_assert_cmpuint (stored->len, ==, 1);
  g_assert_cmpuint (count_files (fx->maildir, "new"), ==, 6);
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, 0);
}

/* A row left pending by a crash after the rename, whose file a mail client
 * then moved to cur/ with flags; and a stored file moved the same way. */
/* Header blocks wait for the commit to be indexed, up to a budget per
 * batch; past it they are indexed at finish. Both ways give the same
 * index, for blocks big and small. Only the indexed fields wait: the
 * big blocks' size is in a Subject that a later one replaces. */
static void
test_batch_header_budget (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;
  const guint n = 12;

  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GString) msg = g_string_new (NULL);
      g_autofree char *uidl = g_strdup_printf ("big-%u", i);
      /* 8 KiB and 200 KiB blocks alternate: 12 of them exceed 1 MiB */
      gsize filler = i % 2 == 0 ? 8 * 1024 : 200 * 1024;

      g_string_append (msg, "X-Filler: not indexed\nSubject: replaced");
      while (msg->len < filler)
        g_string_append (msg, "\n 0123456789abcdef0123456789abcdef0123456789abcdef");
      g_string_append_c (msg, '\n');
      g_string_append_printf (msg,
                              "Subject: block %u\nMessage-ID: <big%u@example.org>\n"
                              "\nbody %u\n",
                              i, i, i);
      g_assert_true (ingest (batch, uidl, msg->str, 4096, &error));
      g_assert_no_error (error);
    }
  g_assert_true (bz_store_batch_commit (batch, &stored, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (stored, i);
      g_autofree char *subject = g_strdup_printf ("block %u", i);
      g_autofree char *id = g_strdup_printf ("big%u@example.org", i);
      g_autofree char *uidl = g_strdup_printf ("big-%u", i);

      g_assert_cmpstr (msg->uidl, ==, uidl);
      g_assert_cmpstr (msg->headers.subject, ==, subject);
      g_assert_cmpstr (msg->headers.message_id, ==, id);
    }
}

/* One flush makes a batch durable; when it fails no file of the batch is
 * known to be on disk: nothing is stored, nothing is left behind, and the
 * same messages can be stored by a later commit. */
static void
test_batch_flush_error (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;
  guint n = 0;

  g_assert_no_error (error);
  /* data: the flush to use; both must fail the same way */
  bz_store_batch_set_flush (batch, (BzStoreFlush) GPOINTER_TO_INT (data));
  for (guint round = 0; round < 2; round++)
    {
      for (guint i = 0; i < 3; i++)
        {
          g_autofree char *uidl = NULL;
          g_autofree char *msg = bz_test_message_new (i, 3000, &uidl);

          g_assert_true (ingest (batch, uidl, msg, 4096, &error));
          g_assert_no_error (error);
        }
      g_clear_pointer (&stored, g_ptr_array_unref);
      bz_store_test_fail_flush (round == 0);
      if (round == 0)
        {
          g_assert_false (bz_store_batch_commit (batch, &stored, &error));
          g_assert_error (error, BZ_STORE_ERROR, BZ_STORE_ERROR_IO);
          g_clear_error (&error);
          g_assert_cmpuint (stored->len, ==, 0);
          g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, 0);
          g_assert_cmpuint (count_files (fx->maildir, "new"), ==, 0);
          g_assert_true (bz_db_count_stored (fx->db, "work", &n, &error));
          g_assert_cmpuint (n, ==, 0);
        }
      else
        {
          g_assert_true (bz_store_batch_commit (batch, &stored, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (stored->len, ==, 3);
          g_assert_cmpuint (count_files (fx->maildir, "new"), ==, 3);
          g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, 0);
        }
    }
  g_assert_true (bz_db_count_stored (fx->db, "work", &n, &error));
  g_assert_cmpuint (n, ==, 3);
}

/* More finished messages than the process keeps open: the ones past the
 * budget are closed (named in tmp/ first when unnamed) and reopened by the
 * commit if needed; all are stored byte for byte, nothing stays in tmp/,
 * and the budget is whole again for the next batch. */
static void
test_batch_many (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;
  guint n = 0;

  g_assert_no_error (error);
  bz_store_batch_set_flush (batch, BZ_STORE_FLUSH_SYNCFS);
  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *uidl = NULL;
      g_autofree char *msg = bz_test_message_new (i, 1000 + i * 50, &uidl);

      g_assert_true (ingest (batch, uidl, msg, 4096, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, expected_in_tmp (fx, 200));
  g_assert_true (bz_store_batch_commit (batch, &stored, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 200);
  for (guint i = 0; i < stored->len; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (stored, i);
      g_autofree char *expected = bz_test_message_new (i, 1000 + i * 50, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      g_assert_true (g_file_get_contents (msg->path, &contents, &len, NULL));
      g_assert_cmpmem (contents, len, expected, strlen (expected));
    }
  g_assert_cmpuint (count_files (fx->maildir, "new"), ==, 200);
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, 0);
  g_assert_true (bz_db_count_stored (fx->db, "work", &n, &error));
  g_assert_cmpuint (n, ==, 200);

  for (guint i = 200; i < 300; i++)
    {
      g_autofree char *uidl = NULL;
      g_autofree char *msg = bz_test_message_new (i, 1000, &uidl);

      g_assert_true (ingest (batch, uidl, msg, 4096, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, expected_in_tmp (fx, 100));
  g_clear_pointer (&stored, g_ptr_array_unref);
  g_assert_true (bz_store_batch_commit (batch, &stored, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 100);
}

/* When the links into new/ cannot be made durable (step 4), the files are
 * in new/ but their rows stay pending: not reported stored, so never
 * DELEd; the next recovery, which flushes them itself, settles them. */
static void
test_batch_link_flush_error (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;
  guint counts[BZ_DB_STATE_LAST];
  guint settled = 0;

  g_assert_no_error (error);
  bz_store_batch_set_flush (batch, BZ_STORE_FLUSH_SYNCFS);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *uidl = NULL;
      g_autofree char *msg = bz_test_message_new (i, 3000, &uidl);

      g_assert_true (ingest (batch, uidl, msg, 4096, &error));
      g_assert_no_error (error);
    }
  if (expected_in_tmp (fx, 3) != 0)
    {
      bz_test_skip_or_fail ("no O_TMPFILE on this file system: the renames are flushed by fsync()");
      return;
    }
  bz_store_test_fail_link_flush (TRUE);
  g_assert_false (bz_store_batch_commit (batch, &stored, &error));
  g_assert_error (error, BZ_STORE_ERROR, BZ_STORE_ERROR_IO);
  g_clear_error (&error);
  bz_store_test_fail_link_flush (FALSE);
  g_assert_cmpuint (stored->len, ==, 0);
  g_assert_cmpuint (count_files (fx->maildir, "new"), ==, 3);
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, 0);
  g_assert_true (bz_db_count_states (fx->db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_PENDING], ==, 3);
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 0);

  g_assert_true (bz_store_recover (fx->db, "work", fx->maildir, &settled, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (settled, ==, 3);
  g_assert_true (bz_db_count_states (fx->db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_PENDING], ==, 0);
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 3);
}

/* syncfs() only where the kernel reports writeback errors through it. */
static void
test_flush_for_release (void)
{
  g_assert_cmpint (bz_store_flush_for_release ("5.8.0"), ==, BZ_STORE_FLUSH_SYNCFS);
  g_assert_cmpint (bz_store_flush_for_release ("5.10.0-26-amd64"), ==, BZ_STORE_FLUSH_SYNCFS);
  g_assert_cmpint (bz_store_flush_for_release ("6.1.0-13-amd64"), ==, BZ_STORE_FLUSH_SYNCFS);
  g_assert_cmpint (bz_store_flush_for_release ("10.0"), ==, BZ_STORE_FLUSH_SYNCFS);
  g_assert_cmpint (bz_store_flush_for_release ("5.7.19"), ==, BZ_STORE_FLUSH_FDATASYNC);
  g_assert_cmpint (bz_store_flush_for_release ("4.19.0-25-amd64"), ==, BZ_STORE_FLUSH_FDATASYNC);
  g_assert_cmpint (bz_store_flush_for_release ("3.10.0-1160.el7.x86_64"), ==,
                   BZ_STORE_FLUSH_FDATASYNC);
  g_assert_cmpint (bz_store_flush_for_release ("5"), ==, BZ_STORE_FLUSH_FDATASYNC);
  g_assert_cmpint (bz_store_flush_for_release (""), ==, BZ_STORE_FLUSH_FDATASYNC);
  g_assert_cmpint (bz_store_flush_for_release ("v6.1"), ==, BZ_STORE_FLUSH_FDATASYNC);
}

/* The fdatasync() path of old kernels stores a batch like syncfs() does,
 * the files byte for byte (the batch test's checks), and a file that
 * cannot be opened for its flush drops only itself. */
static void
test_batch_fdatasync (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;
  guint n = 0;

  g_assert_no_error (error);
  bz_store_batch_set_flush (batch, BZ_STORE_FLUSH_FDATASYNC);
  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *uidl = NULL;
      g_autofree char *msg = bz_test_message_new (i, 1000 + i * 50, &uidl);

      g_assert_true (ingest (batch, uidl, msg, 4096, &error));
      g_assert_no_error (error);
    }
  g_assert_true (bz_store_batch_commit (batch, &stored, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 200);
  for (guint i = 0; i < stored->len; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (stored, i);
      g_autofree char *uidl = bz_test_message_read_uidl (msg->path);
      g_assert_cmpstr (uidl, ==, msg->uidl);
    }
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, 0);
  g_assert_true (bz_db_count_stored (fx->db, "work", &n, &error));
  g_assert_cmpuint (n, ==, 200);
}

static void
test_client_view (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;
  g_autoptr (GPtrArray) newest = NULL;
  g_autofree char *name = bz_store_maildir_unique_name ("work", "u-pending");
  g_autofree char *pending_new = NULL;
  g_autofree char *pending_cur = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *base = NULL;
  guint counts[BZ_DB_STATE_LAST];
  guint settled = 0;

  g_assert_no_error (error);
  g_assert_true (ingest (batch, "u-stored", "Subject: one\n\nbody\n", 4096, &error));
  g_assert_true (bz_store_batch_commit (batch, &stored, &error));
  g_assert_no_error (error);
  base = g_path_get_basename (((BzDbMessage *) stored->pdata[0])->path);
  moved = g_strdup_printf ("%s/cur/%s:2,S", fx->maildir, base);
  g_assert_cmpint (g_rename (((BzDbMessage *) stored->pdata[0])->path, moved), ==, 0);

  pending_new = g_strdup_printf ("%s/new/%s,S=5", fx->maildir, name);
  pending_cur = g_strdup_printf ("%s/cur/%s,S=5:2,RS", fx->maildir, name);
  g_assert_true (g_file_set_contents (pending_cur, "x\n\ny\n", 5, NULL));
  g_assert_true (bz_db_begin (fx->db, &error));
  g_assert_true (bz_db_add_pending (fx->db, "work", "u-pending", pending_new, 5, 1, NULL, &error));
  g_assert_true (
      bz_db_add_pending (fx->db, "work", "u-lost", "/nowhere/new/x", 5, 1, NULL, &error));
  g_assert_true (bz_db_commit (fx->db, &error));

  g_assert_true (bz_store_recover (fx->db, "work", fx->maildir, &settled, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (settled, ==, 2);
  g_assert_true (bz_db_count_states (fx->db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_PENDING], ==, 0);
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 2);

  newest = bz_db_list_newest (fx->db, "work", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (newest->len, ==, 2);
  g_assert_true (bz_store_refresh_paths (fx->db, newest, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < newest->len; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (newest, i);
      g_assert_true (g_file_test (msg->path, G_FILE_TEST_EXISTS));
      g_assert_cmpstr (msg->path, ==, g_str_equal (msg->uidl, "u-stored") ? moved : pending_cur);
    }
  /* the refreshed path was written back */
  g_clear_pointer (&newest, g_ptr_array_unref);
  newest = bz_db_list_newest (fx->db, "work", 10, &error);
  for (guint i = 0; i < newest->len; i++)
    g_assert_true (g_file_test (((BzDbMessage *) newest->pdata[i])->path, G_FILE_TEST_EXISTS));
}

/* Makes @path look untouched for @age_s seconds (atime and mtime). */
static void
age_file (const char *path, gint64 age_s)
{
  struct utimbuf times;

  times.actime = times.modtime = (time_t) (g_get_real_time () / G_USEC_PER_SEC - age_s);
  g_assert_cmpint (utime (path, &times), ==, 0);
}

/* DESIGN.md: recovery removes buzon's own leftovers from tmp/; files of
 * other programs delivering into the same Maildir only once they are
 * older than 36 hours (the Maildir rule). */
static void
test_recover_tmp (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ours_dead = NULL;
  g_autofree char *ours_renamed_host = NULL;
  g_autofree char *ours_live = NULL;
  g_autofree char *foreign = NULL;
  g_autofree char *foreign_q = NULL;
  g_autofree char *foreign_old = NULL;
  g_autofree char *junk = NULL;
  g_autofree char *junk_old = NULL;
  g_autofree char *tail = NULL;
  g_autofree char *own = bz_store_maildir_unique_name ("work", "u1");

  g_assert_true (bz_store_maildir_ensure (fx->maildir, &error));
  tail = g_strdup (strchr (own, 'Q'));
  /* pid 0 is never ours: an earlier process's leftover */
  ours_dead = g_strdup_printf ("%s/tmp/1700000000.M000001P0%s", fx->maildir, tail);
  /* ours from before the machine was renamed */
  ours_renamed_host = g_strdup_printf (
      "%s/tmp/1700000000.M000002P0Q1B0123456789abcdef0123456789abcdef.oldname", fx->maildir);
  ours_live = g_strdup_printf ("%s/tmp/%s", fx->maildir, own);
  /* procmail, getmail, and dovecot's own pattern without our digest */
  foreign = g_strdup_printf ("%s/tmp/1700000000.12345_1.otherhost", fx->maildir);
  foreign_q =
      g_strdup_printf ("%s/tmp/1700000000.M000003P0Q1.%s", fx->maildir, bz_store_maildir_host ());
  foreign_old = g_strdup_printf ("%s/tmp/1600000000.99_1.otherhost", fx->maildir);
  junk = g_strdup_printf ("%s/tmp/junk", fx->maildir);
  junk_old = g_strdup_printf ("%s/tmp/junk-old", fx->maildir);
  g_assert_true (g_file_set_contents (ours_dead, "x", 1, NULL));
  g_assert_true (g_file_set_contents (ours_renamed_host, "x", 1, NULL));
  g_assert_true (g_file_set_contents (ours_live, "x", 1, NULL));
  g_assert_true (g_file_set_contents (foreign, "x", 1, NULL));
  g_assert_true (g_file_set_contents (foreign_q, "x", 1, NULL));
  g_assert_true (g_file_set_contents (foreign_old, "x", 1, NULL));
  g_assert_true (g_file_set_contents (junk, "x", 1, NULL));
  g_assert_true (g_file_set_contents (junk_old, "x", 1, NULL));
  /* just under and just over 36 hours */
  age_file (foreign, 35 * 3600);
  age_file (foreign_old, 37 * 3600);
  age_file (junk_old, 37 * 3600);
  g_assert_true (bz_store_recover (fx->db, "work", fx->maildir, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (ours_dead, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (ours_renamed_host, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (ours_live, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (foreign, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (foreign_q, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (junk, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (foreign_old, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (junk_old, G_FILE_TEST_EXISTS));
}

/* The state rebuilt from the Maildir: a database that lost its rows
 * recognises the files by the digest in their names, in new/ and in cur/
 * with flags, with the index fields read from the files; a UIDL with no
 * file stays a candidate, and a foreign file or one of another account
 * is not taken. */
static void
test_rebuild (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;
  g_autoptr (GPtrArray) newest = NULL;
  g_autoptr (GArray) candidates = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (BzDb) fresh = NULL;
  g_autofree char *fresh_path = g_build_filename (fx->dir, "fresh.db", NULL);
  g_autofree char *moved = NULL;
  g_autofree char *foreign = NULL;
  const char *uidls[] = { "u-new", "u-cur", "u-absent", "u-other-account" };
  guint counts[BZ_DB_STATE_LAST];
  guint n = 0;

  g_assert_no_error (error);
  g_assert_true (
      ingest (batch, "u-new", "Subject: one\nMessage-ID: <1@x>\n\nbody\n", 4096, &error));
  g_assert_true (ingest (batch, "u-cur", "Subject: two\n\nbody\n", 4096, &error));
  g_assert_true (bz_store_batch_commit (batch, &stored, &error));
  g_assert_no_error (error);
  {
    g_autofree char *base = g_path_get_basename (((BzDbMessage *) stored->pdata[1])->path);
    moved = g_strdup_printf ("%s/cur/%s:2,S", fx->maildir, base);
    g_assert_cmpint (g_rename (((BzDbMessage *) stored->pdata[1])->path, moved), ==, 0);
  }
  /* another account's message in the same Maildir, and a foreign file */
  {
    g_autofree char *name = bz_store_maildir_unique_name ("other", "u-other-account");
    g_autofree char *path = g_strdup_printf ("%s/new/%s", fx->maildir, name);
    g_assert_true (g_file_set_contents (path, "Subject: x\n\n", -1, NULL));
  }
  foreign = g_strdup_printf ("%s/new/1700000000.1_1.host", fx->maildir);
  g_assert_true (g_file_set_contents (foreign, "Subject: y\n\n", -1, NULL));

  fresh = bz_db_open (fresh_path, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (uidls); i++)
    g_array_append_val (candidates, i);
  g_assert_true (bz_store_rebuild (fresh, "work", fx->maildir, uidls, candidates, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (candidates->len, ==, 2);
  g_assert_cmpuint (g_array_index (candidates, guint, 0), ==, 2);
  g_assert_cmpuint (g_array_index (candidates, guint, 1), ==, 3);
  g_assert_true (bz_db_count_states (fresh, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, 2);
  g_assert_cmpuint (counts[BZ_DB_STATE_PENDING], ==, 0);
  newest = bz_db_list_newest (fresh, "work", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (newest->len, ==, 2);
  for (guint i = 0; i < newest->len; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (newest, i);
      gboolean is_new = g_str_equal (msg->uidl, "u-new");

      g_assert_true (is_new || g_str_equal (msg->uidl, "u-cur"));
      g_assert_cmpstr (msg->path, ==, is_new ? ((BzDbMessage *) stored->pdata[0])->path : moved);
      g_assert_cmpstr (msg->headers.subject, ==, is_new ? "one" : "two");
      g_assert_cmpint (msg->fetched, >, 1700000000);
      if (is_new)
        g_assert_cmpstr (msg->headers.message_id, ==, "1@x");
    }
  /* nothing more to recognise the second time */
  g_assert_true (bz_store_rebuild (fresh, "work", fx->maildir, uidls, candidates, &n, &error));
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpuint (candidates->len, ==, 2);
}

/* Ingests message @i (about @size bytes); FALSE with @error on failure. */
static gboolean
ingest_numbered (BzStoreBatch *batch, guint i, gsize size, GError **error)
{
  g_autofree char *uidl = NULL;
  g_autofree char *msg = bz_test_message_new (i, size, &uidl);

  return ingest (batch, uidl, msg, 16384, error);
}

static void
assert_state_after_no_space (Fixture *fx, guint n_good)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) newest = bz_db_list_newest (fx->db, "work", 0, &error);
  guint counts[BZ_DB_STATE_LAST];

  g_assert_no_error (error);
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, 0);
  g_assert_cmpuint (newest->len, ==, n_good);
  g_assert_true (bz_db_count_states (fx->db, "work", counts, &error));
  g_assert_cmpuint (counts[BZ_DB_STATE_PENDING], ==, 0);
  g_assert_cmpuint (counts[BZ_DB_STATE_STORED], ==, n_good);
  for (guint i = 0; i < newest->len; i++)
    {
      BzDbMessage *msg = g_ptr_array_index (newest, i);
      g_autofree char *uidl = bz_test_message_read_uidl (msg->path);
      g_assert_cmpstr (uidl, ==, msg->uidl);
    }
}

/* The batch goes on after a failed message: what finished is committed. */
static void
run_until_full (Fixture *fx, gsize size, guint max, guint *n_good)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;
  guint i;

  g_assert_no_error (error);
  for (i = 0; i < max; i++)
    {
      if (!ingest_numbered (batch, i, size, &error))
        break;
    }
  g_test_message ("write failed at message %u: %s", i, error ? error->message : "(none)");
  g_assert_error (error, BZ_STORE_ERROR, BZ_STORE_ERROR_NO_SPACE);
  g_assert_nonnull (strstr (error->message, "/tmp/"));
  g_assert_nonnull (strstr (error->message, g_strerror (ENOSPC)));
  g_clear_error (&error);
  g_assert_cmpuint (count_files (fx->maildir, "tmp"), ==, expected_in_tmp (fx, i));
  g_assert_true (bz_store_batch_commit (batch, &stored, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, i);
  *n_good = i;
}

static void
finish_run (Fixture *fx, guint from, guint to, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzStoreBatch) batch = bz_store_batch_new (fx->db, "work", fx->maildir, &error);
  g_autoptr (GPtrArray) stored = NULL;

  g_assert_true (bz_store_recover (fx->db, "work", fx->maildir, NULL, &error));
  for (guint i = from; i < to; i++)
    {
      g_assert_true (ingest_numbered (batch, i, size, &error));
      g_assert_no_error (error);
    }
  g_assert_true (bz_store_batch_commit (batch, &stored, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, to - from);
  assert_state_after_no_space (fx, to);
}

static void
test_no_space_injected (Fixture *fx, gconstpointer data)
{
  guint n_good = 0;

  bz_store_test_fail_writes_after (3 * 100000 + 50000);
  run_until_full (fx, 100000, 10, &n_good);
  g_assert_cmpuint (n_good, ==, 3);
  assert_state_after_no_space (fx, 3);
  bz_store_test_fail_writes_after (-1);
  finish_run (fx, 3, 6, 100000);
}

static void
test_no_space_tmpfs (Fixture *fx, gconstpointer data)
{
  g_autofree char *mnt = g_build_filename (fx->dir, "small", NULL);
  guint n_good = 0;

  /* A private mount namespace: the tmpfs vanishes with this process even
   * when an assertion kills it. */
  if (unshare (CLONE_NEWNS) != 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    {
      g_autofree char *why = g_strdup_printf ("no mount namespace here (%s); the injected "
                                              "ENOSPC test covers it",
                                              g_strerror (errno));
      bz_test_skip_or_fail (why);
      return;
    }
  g_assert_cmpint (g_mkdir (mnt, 0700), ==, 0);
  if (mount ("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0)
    {
      g_autofree char *why = g_strdup_printf ("cannot mount a tmpfs (%s); the injected "
                                              "ENOSPC test covers it",
                                              g_strerror (errno));
      bz_test_skip_or_fail (why);
      return;
    }
  g_free (fx->maildir);
  fx->maildir = g_build_filename (mnt, "work", NULL);
  run_until_full (fx, 150000, 20, &n_good);
  g_assert_cmpuint (n_good, >=, 3);
  g_assert_cmpuint (n_good, <, 20);
  assert_state_after_no_space (fx, n_good);
  /* space again */
  g_assert_cmpint (mount ("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=8m"), ==, 0);
  finish_run (fx, n_good, n_good + 5, 150000);
  g_assert_cmpint (umount2 (mnt, MNT_DETACH), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/headers", test_headers);
  g_test_add_func ("/store/headers-invalid-utf8", test_headers_invalid_utf8);
  g_test_add_func ("/store/maildir-names", test_maildir_names);
  g_test_add_func ("/store/maildir-name-digest", test_maildir_name_digest);
  g_test_add ("/store/maildir-ensure", Fixture, NULL, fixture_setup, test_maildir_ensure,
              fixture_teardown);
  g_test_add ("/store/maildir-ensure-existing", Fixture, NULL, fixture_setup,
              test_maildir_ensure_existing, fixture_teardown);
  g_test_add ("/store/batch", Fixture, NULL, fixture_setup, test_batch, fixture_teardown);
  g_test_add ("/store/batch-named", Fixture, NULL, fixture_setup_named, test_batch,
              fixture_teardown);
  g_test_add ("/store/batch-many", Fixture, NULL, fixture_setup, test_batch_many, fixture_teardown);
  g_test_add ("/store/batch-many-proc-link", Fixture, NULL, fixture_setup_proc_link,
              test_batch_many, fixture_teardown);
  g_test_add ("/store/batch-many-named", Fixture, NULL, fixture_setup_named, test_batch_many,
              fixture_teardown);
  g_test_add ("/store/batch-header-budget", Fixture, NULL, fixture_setup, test_batch_header_budget,
              fixture_teardown);
  g_test_add_func ("/store/flush-for-release", test_flush_for_release);
  g_test_add ("/store/batch-fdatasync", Fixture, NULL, fixture_setup, test_batch_fdatasync,
              fixture_teardown);
  g_test_add ("/store/batch-flush-error-fdatasync", Fixture,
              GINT_TO_POINTER (BZ_STORE_FLUSH_FDATASYNC), fixture_setup, test_batch_flush_error,
              fixture_teardown);
  g_test_add ("/store/batch-flush-error", Fixture, GINT_TO_POINTER (BZ_STORE_FLUSH_SYNCFS),
              fixture_setup, test_batch_flush_error, fixture_teardown);
  g_test_add ("/store/batch-flush-error-named", Fixture, GINT_TO_POINTER (BZ_STORE_FLUSH_SYNCFS),
              fixture_setup_named, test_batch_flush_error, fixture_teardown);
  g_test_add ("/store/batch-link-flush-error", Fixture, NULL, fixture_setup,
              test_batch_link_flush_error, fixture_teardown);
  g_test_add ("/store/client-view", Fixture, NULL, fixture_setup, test_client_view,
              fixture_teardown);
  g_test_add ("/store/recover-tmp", Fixture, NULL, fixture_setup, test_recover_tmp,
              fixture_teardown);
  g_test_add ("/store/rebuild", Fixture, NULL, fixture_setup, test_rebuild, fixture_teardown);
  g_test_add ("/store/no-space-injected", Fixture, NULL, fixture_setup, test_no_space_injected,
              fixture_teardown);
  g_test_add ("/store/no-space-injected-named", Fixture, NULL, fixture_setup_named,
              test_no_space_injected, fixture_teardown);
  g_test_add ("/store/no-space-tmpfs", Fixture, NULL, fixture_setup, test_no_space_tmpfs,
              fixture_teardown);
  g_test_add ("/store/no-space-tmpfs-named", Fixture, NULL, fixture_setup_named,
              test_no_space_tmpfs, fixture_teardown);
  return g_test_run ();
}

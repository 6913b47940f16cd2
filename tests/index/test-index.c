/* SPDX-License-Identifier: GPL-3.0-or-later */
/* agent/index without a bus or a server: the query language, what of a
 * message file is indexed, and the worker plus search over a real
 * database in a temporary folder. */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include <glib/gstdio.h>

#include "bz-index.h"

/* --- the query language ---------------------------------------------------- */

static void
test_query_translate (void)
{
  static const struct
  {
    const char *query;
    const char *match;
  } good[] = {
    { "invoice", "\"invoice\"" },
    { "  two   words ", "\"two\" AND \"words\"" },
    { "\"weekly report\"", "\"weekly report\"" },
    { "repo*", "\"repo\" *" },
    { "\"weekly rep\"*", "\"weekly rep\" *" },
    { "from:alice", "sender : \"alice\"" },
    { "FROM:ali*", "sender : \"ali\" *" },
    { "to:bob subject:\"the plan\"", "recipients : \"bob\" AND subject : \"the plan\"" },
    /* FTS5 syntax is text to us */
    { "NEAR(a b) OR c", "\"NEAR(a\" AND \"b)\" AND \"OR\" AND \"c\"" },
    { "sender:x ^y", "\"sender:x\" AND \"^y\"" },
    { "a - b", "\"a\" AND \"b\"" },
    { "café", "\"café\"" },
  };
  static const char *const bad[] = {
    "", "   ", "\"unclosed phrase", "from:", "from: alice", "*", "- -", "subject:\"\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *match = bz_index_query_translate (good[i].query, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (match, ==, good[i].match);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *match = bz_index_query_translate (bad[i], &error);

      g_assert_null (match);
      g_assert_error (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY);
      g_test_message ("%s -> %s", bad[i], error->message);
      g_assert_null (strstr (error->message, "fts5"));
      g_assert_null (strstr (error->message, "SQL"));
    }
}

static void
test_query_terms (void)
{
  const char *const terms[] = { "wee", "rep\"ort", "!", NULL };
  const char *const none[] = { "!", "", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *match = bz_index_query_from_terms (terms, &error);
  g_autofree char *nothing = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (match, ==, "\"wee\" * AND \"rep\"\"ort\" *");
  nothing = bz_index_query_from_terms (none, &error);
  g_assert_null (nothing);
  g_assert_error (error, BZ_INDEX_ERROR, BZ_INDEX_ERROR_QUERY);
}

static void
test_snippet (void)
{
  g_autoptr (GString) body = g_string_new ("Start of the body.\n");
  g_autofree char *around = NULL;
  g_autofree char *start = NULL;
  g_autofree char *phrase = NULL;
  g_autofree char *empty = bz_index_snippet_make ("", "\"x\"");

  for (guint i = 0; i < 50; i++)
    g_string_append (body, "filler words here\n");
  g_string_append (body, "The Zebra\tcrossing is closed.\n");
  for (guint i = 0; i < 50; i++)
    g_string_append (body, "more filler\n");

  /* around the first body term, case aside, on one line, cut with … */
  around = bz_index_snippet_make (body->str, "sender : \"start\" AND \"zebra\" *");
  g_test_message ("%s", around);
  g_assert_nonnull (strstr (around, "The Zebra crossing is closed."));
  g_assert_true (g_str_has_prefix (around, "…"));
  g_assert_true (g_str_has_suffix (around, "…"));
  g_assert_null (strchr (around, '\n'));
  g_assert_null (strchr (around, '\t'));
  g_assert_cmpuint (g_utf8_strlen (around, -1), <, 160);
  /* a term of a column filter is not looked for in the body; nothing
   * found: the start of the body */
  start = bz_index_snippet_make (body->str, "subject : \"zebra\"");
  g_assert_true (g_str_has_prefix (start, "Start of the body. filler"));
  phrase = bz_index_snippet_make (body->str, "\"zebra crossing\"");
  g_assert_nonnull (strstr (phrase, "Zebra crossing"));
  g_assert_cmpstr (empty, ==, "");
  {
    g_autoptr (GString) accented = g_string_new (NULL);
    g_autofree char *found = NULL;

    for (guint i = 0; i < 40; i++)
      g_string_append (accented, "日本語 filler ");
    g_string_append (accented, "Grüße aus KÖLN heute");
    found = bz_index_snippet_make (accented->str, "\"köln\"");
    g_assert_true (g_str_has_suffix (found, "Grüße aus KÖLN heute"));
    g_assert_true (g_utf8_validate (found, -1, NULL));
  }
}

/* --- text of a message ----------------------------------------------------- */

static void
test_html (void)
{
  const char *html = "<html><head><title>hidden title</title><style>p{x:y}</style></head>"
                     "<body><p>Caf&eacute;&nbsp;cr&#232;me</p><!-- secret -->"
                     "<script>var hiddenscript;</script>line<br>break &amp; &#x263A;</body>";
  g_autofree char *text = bz_index_text_from_html (html, strlen (html));

  g_assert_cmpstr (text, ==, "Café crème line break & ☺ ");
}

#define MULTIPART                                             \
  "From: =?ISO-8859-1?Q?Fran=E7ois?= <francois@example.fr>\n" \
  "To: Bob <bob@example.org>, carol@example.org\n"            \
  "Cc: Dave <dave@example.org>\n"                             \
  "Subject: =?UTF-8?B?R3LDvMOfZQ==?= quarterly\n"             \
  "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"                    \
  "MIME-Version: 1.0\n"                                       \
  "Content-Type: multipart/mixed; boundary=\"b1\"\n"          \
  "\n"                                                        \
  "--b1\n"                                                    \
  "Content-Type: multipart/alternative; boundary=\"b2\"\n"    \
  "\n"                                                        \
  "--b2\n"                                                    \
  "Content-Type: text/plain; charset=ISO-8859-1\n"            \
  "Content-Transfer-Encoding: quoted-printable\n"             \
  "\n"                                                        \
  "The plainword is here, caf=E9 cr=E8me.\n"                  \
  "--b2\n"                                                    \
  "Content-Type: text/html; charset=UTF-8\n"                  \
  "Content-Transfer-Encoding: base64\n"                       \
  "\n"                                                        \
  "PHA+VGhlIDxiPmh0bWx3b3JkPC9iPiBpcyBoZXJlPC9wPg==\n"        \
  "--b2--\n"                                                  \
  "--b1\n"                                                    \
  "Content-Type: text/plain; name=\"notes.txt\"\n"            \
  "Content-Disposition: attachment; filename=\"notes.txt\"\n" \
  "\n"                                                        \
  "attachmentword must not be indexed\n"                      \
  "--b1--\n"

static char *
write_file (const char *dir, const char *name, const char *data, gsize len)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, data, (gssize) len, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_text_read (void)
{
  g_autofree char *dir = g_dir_make_tmp ("bz-index-XXXXXX", NULL);
  g_autofree char *path = write_file (dir, "m1", MULTIPART, strlen (MULTIPART));
  g_autoptr (GError) error = NULL;
  g_autoptr (BzIndexText) text = bz_index_text_read (path, &error);
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  BzIndexText *none;

  g_assert_no_error (error);
  g_assert_nonnull (text);
  g_assert_cmpstr (text->subject, ==, "Grüße quarterly");
  g_assert_nonnull (strstr (text->sender, "François"));
  g_assert_nonnull (strstr (text->recipients, "bob@example.org"));
  g_assert_nonnull (strstr (text->recipients, "carol@example.org"));
  g_assert_nonnull (strstr (text->recipients, "Dave"));
  g_assert_nonnull (strstr (text->body, "plainword"));
  g_assert_nonnull (strstr (text->body, "café crème"));
  g_assert_nonnull (strstr (text->body, "htmlword"));
  g_assert_null (strstr (text->body, "<b>"));
  g_assert_null (strstr (text->body, "attachmentword"));

  none = bz_index_text_read (missing, &error);
  g_assert_null (none);
  g_assert_nonnull (error);
  g_remove (path);
  g_remove (dir);
}

/* A 3 MB text body is cut at BZ_INDEX_MAX_TEXT, at a character boundary. */
static void
test_text_cap (void)
{
  g_autofree char *dir = g_dir_make_tmp ("bz-index-XXXXXX", NULL);
  g_autoptr (GString) data = g_string_new ("From: a@example.org\nSubject: big\n"
                                           "Content-Type: text/plain; charset=UTF-8\n\n");
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BzIndexText) text = NULL;

  while (data->len < 3 * 1024 * 1024)
    g_string_append (data, "ñandú 日本語 word\n");
  g_string_append (data, "lastword\n");
  path = write_file (dir, "big", data->str, data->len);
  text = bz_index_text_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (text->body), <=, BZ_INDEX_MAX_TEXT);
  g_assert_cmpuint (strlen (text->body), >, BZ_INDEX_MAX_TEXT - 16);
  g_assert_true (g_utf8_validate (text->body, -1, NULL));
  g_assert_null (strstr (text->body, "lastword"));
  g_remove (path);
  g_remove (dir);
}

/* --- worker and search on a database --------------------------------------- */

typedef struct
{
  char *dir;
  char *maildir;
  char *db_path;
  BzDb *db;
} Fixture;

static void
add_stored (Fixture *fx, const char *uidl, const char *from, const char *subject, const char *body)
{
  g_autofree char *name = g_strdup_printf ("%s.buzon-test", uidl);
  g_autofree char *data = g_strdup_printf ("From: %s\nTo: tester@example.org\nSubject: %s\n\n%s\n",
                                           from, subject, body);
  g_autofree char *new_dir = g_build_filename (fx->maildir, "new", NULL);
  g_autofree char *path = write_file (new_dir, name, data, strlen (data));
  BzDbHeaders headers = { NULL, (char *) from, (char *) subject, 1700000000 };
  g_autoptr (GError) error = NULL;

  g_assert_true (bz_db_begin (fx->db, &error));
  g_assert_true (
      bz_db_add_pending (fx->db, "acct", uidl, path, strlen (data), 1700000000, &headers, &error));
  g_assert_true (bz_db_set_stored (fx->db, "acct", uidl, path, &error));
  g_assert_true (bz_db_commit (fx->db, &error));
  g_assert_no_error (error);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *subdirs[] = { "new", "cur", "tmp" };

  fx->dir = g_dir_make_tmp ("bz-index-XXXXXX", NULL);
  fx->maildir = g_build_filename (fx->dir, "mail", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *sub = g_build_filename (fx->maildir, subdirs[i], NULL);
      g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
    }
  fx->db_path = g_build_filename (fx->dir, "buzon.db", NULL);
  fx->db = bz_db_open (fx->db_path, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", fx->dir);

  g_clear_object (&fx->db);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (fx->dir);
  g_free (fx->maildir);
  g_free (fx->db_path);
}

/* Kicks a worker and waits (bounded) until nothing is left to index. */
static void
index_all (Fixture *fx)
{
  g_autoptr (BzIndexWorker) worker = bz_index_worker_new (fx->db_path);
  guint todo = 1;

  bz_index_worker_kick (worker, NULL);
  for (guint i = 0; i < 3000 && todo > 0; i++)
    {
      g_autoptr (GError) error = NULL;

      g_usleep (10 * 1000);
      g_assert_true (bz_db_index_count_todo (fx->db, &todo, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (todo, ==, 0);
  bz_index_worker_stop (worker);
}

/* The subjects of a search for @query, in order, joined by "|". */
static char *
search (Fixture *fx, const char *query)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *match = bz_index_query_translate (query, &error);
  g_autoptr (GPtrArray) hits = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  g_assert_no_error (error);
  hits = bz_index_search (fx->db, match, NULL, 10, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < hits->len; i++)
    {
      BzDbHit *hit = g_ptr_array_index (hits, i);

      g_string_append_printf (out, "%s%s", i > 0 ? "|" : "", hit->message->headers.subject);
      g_assert_nonnull (hit->snippet);
      g_assert_true (g_file_test (hit->message->path, G_FILE_TEST_IS_REGULAR));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_search (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDbMessage) gone = NULL;
  g_autofree char *new_name = NULL;
  g_autofree char *cur_name = NULL;
  char *result;

  add_stored (fx, "u1", "Alice <alice@example.org>", "Lunch", "the zebra crossing report");
  add_stored (fx, "u2", "Bob <bob@example.org>", "zebra", "nothing else");
  add_stored (fx, "u3", "Carol <carol@example.org>", "Budget", "crossing zebra the other way");
  add_stored (fx, "u4", "Dave <dave@example.org>", "Notes", "reporting season");
  index_all (fx);

  /* a word only in a body; once in each: the newer first */
  result = search (fx, "crossing");
  g_assert_cmpstr (result, ==, "Budget|Lunch");
  g_free (result);
  /* the subject weighs more than the body */
  result = search (fx, "zebra");
  g_assert_true (g_str_has_prefix (result, "zebra|"));
  g_free (result);
  /* a phrase: the words next to each other and in order */
  result = search (fx, "\"zebra crossing\"");
  g_assert_cmpstr (result, ==, "Lunch");
  g_free (result);
  /* a prefix */
  result = search (fx, "report*");
  /* both score alike: the newer first */
  g_assert_cmpstr (result, ==, "Notes|Lunch");
  g_free (result);
  /* a field */
  result = search (fx, "from:carol zebra");
  g_assert_cmpstr (result, ==, "Budget");
  g_free (result);
  result = search (fx, "from:zebra");
  g_assert_cmpstr (result, ==, "");
  g_free (result);

  /* a mail reader moves u1 to cur/ with flags: still found, path updated */
  new_name = g_build_filename (fx->maildir, "new", "u1.buzon-test", NULL);
  cur_name = g_build_filename (fx->maildir, "cur", "u1.buzon-test:2,S", NULL);
  g_assert_cmpint (g_rename (new_name, cur_name), ==, 0);
  result = search (fx, "crossing");
  g_assert_cmpstr (result, ==, "Budget|Lunch");
  g_free (result);

  /* the user deletes u3: it drops out, and out of the index for good */
  {
    g_autofree char *u3 = g_build_filename (fx->maildir, "new", "u3.buzon-test", NULL);
    g_assert_cmpint (g_unlink (u3), ==, 0);
  }
  result = search (fx, "crossing");
  g_assert_cmpstr (result, ==, "Lunch");
  g_free (result);
  g_assert_cmpint (g_file_test (cur_name, G_FILE_TEST_EXISTS), ==, TRUE);
  {
    g_autoptr (GPtrArray) hits = bz_index_search (fx->db, "\"crossing\"", NULL, 10, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (hits->len, ==, 1);
    g_assert_cmpstr (((BzDbHit *) g_ptr_array_index (hits, 0))->message->path, ==, cur_name);
  }
  /* a raw FTS5 error never carries SQL text */
  {
    g_autoptr (GPtrArray) hits = bz_index_search (fx->db, "\"unclosed", NULL, 10, &error);
    g_assert_null (hits);
    g_assert_error (error, BZ_DB_ERROR, BZ_DB_ERROR_QUERY);
    g_assert_null (strstr (error->message, "fts5"));
  }
}

/* Rows of message_text that match @match, asked of FTS5 directly: what
 * the index holds, whatever the search's join would hide. */
static gint64
index_rows (Fixture *fx, const char *match)
{
  sqlite3 *handle = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  g_assert_cmpint (sqlite3_open_v2 (fx->db_path, &handle, SQLITE_OPEN_READONLY, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (handle,
                                       "SELECT count(*) FROM message_text "
                                       "WHERE message_text MATCH ?1",
                                       -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, match, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (handle);
  return n;
}

static void
exec_sql (Fixture *fx, const char *sql)
{
  sqlite3 *handle = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open_v2 (fx->db_path, &handle, SQLITE_OPEN_READWRITE, NULL), ==,
                   SQLITE_OK);
  sqlite3_busy_timeout (handle, 5000);
  g_assert_cmpint (sqlite3_exec (handle, sql, NULL, NULL, &message), ==, SQLITE_OK);
  sqlite3_close (handle);
}

/* bz_rank: the weighted, saturated frequency of each word; equal scores
 * go newest first. */
static void
test_rank (Fixture *fx, gconstpointer data)
{
  char *result;

  add_stored (fx, "u1", "Ann <ann@example.org>", "Once", "otter alpha beta");
  add_stored (fx, "u2", "Ben <ben@example.org>", "Thrice", "otter otter otter beta");
  add_stored (fx, "u3", "Cid <cid@example.org>", "Otter news", "nothing here beta");
  add_stored (fx, "u4", "Dee <dee@example.org>", "Balanced", "wolf wolf wolf moon moon moon");
  add_stored (fx, "u5", "Eve <eve@example.org>", "Lopsided", "wolf wolf wolf wolf wolf wolf moon");
  index_all (fx);

  /* subject (weight 4) over three body hits (3), over one body hit */
  result = search (fx, "otter");
  g_assert_cmpstr (result, ==, "Otter news|Thrice|Once");
  g_free (result);
  /* every word counts, and each saturates: three of each beats six of
   * one and one of the other */
  result = search (fx, "wolf moon");
  g_assert_cmpstr (result, ==, "Balanced|Lopsided");
  g_free (result);
}

static guint damage_warnings;

/* The warnings about damaged indexed text are counted, not fatal;
 * everything else goes to GLib's writer (fatal warnings stay fatal). */
static GLogWriterOutput
count_damage_warnings (GLogLevelFlags log_level, const GLogField *fields, gsize n_fields,
                       gpointer user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0 &&
          (g_str_has_prefix (fields[i].value, "no snippet: ") ||
           strstr (fields[i].value, "is damaged") != NULL))
        {
          damage_warnings++;
          return G_LOG_WRITER_HANDLED;
        }
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

/* The index is contentless: taking a row out must really remove its
 * words (FTS5 needs the very text it indexed), a re-indexed row must not
 * keep its old words, and a deleted message's text leaves at the sweep. */
static void
test_remove (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  BzDbIndexText replaced = { "New subject", "Zed <zed@example.org>", "", "giraffe only" };
  guint removed = 0;
  char *result;

  add_stored (fx, "u1", "Ann <ann@example.org>", "Heron", "heron marsh");
  add_stored (fx, "u2", "Ben <ben@example.org>", "Marsh", "marsh walk");
  add_stored (fx, "u3", "Cid <cid@example.org>", "Walk", "walk alone");
  index_all (fx);
  g_assert_cmpint (index_rows (fx, "\"marsh\""), ==, 2);

  /* drop: the words of row 1 are gone from FTS5 itself */
  g_assert_true (bz_db_begin (fx->db, &error));
  g_assert_true (bz_db_index_drop (fx->db, 1, &error));
  g_assert_true (bz_db_commit (fx->db, &error));
  g_assert_no_error (error);
  g_assert_cmpint (index_rows (fx, "\"heron\""), ==, 0);
  g_assert_cmpint (index_rows (fx, "\"marsh\""), ==, 1);
  result = search (fx, "marsh");
  g_assert_cmpstr (result, ==, "Marsh");
  g_free (result);

  /* put again: the old words of row 2 go, the new ones come */
  g_assert_true (bz_db_begin (fx->db, &error));
  g_assert_true (bz_db_index_put (fx->db, 2, &replaced, &error));
  g_assert_true (bz_db_commit (fx->db, &error));
  g_assert_no_error (error);
  g_assert_cmpint (index_rows (fx, "\"marsh\""), ==, 0);
  g_assert_cmpint (index_rows (fx, "\"giraffe\""), ==, 1);
  {
    g_autofree char *body = bz_db_index_get_body (fx->db, 2, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (body, ==, "giraffe only");
  }

  /* the message row of u3 goes (as an account's rows do when it is
   * removed): the sweep takes its text out */
  exec_sql (fx, "DELETE FROM messages WHERE uidl = 'u3'");
  g_assert_cmpint (index_rows (fx, "\"walk\""), ==, 1);
  g_assert_true (bz_db_begin (fx->db, &error));
  g_assert_true (bz_db_index_sweep (fx->db, 100, &removed, &error));
  g_assert_true (bz_db_commit (fx->db, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (removed, ==, 1);
  g_assert_cmpint (index_rows (fx, "\"walk\""), ==, 0);

  /* damaged stored text is an error naming the database, not a crash */
  exec_sql (fx, "UPDATE message_body SET body = x'ffffffff00ff' WHERE id = 2");
  {
    g_autofree char *body = bz_db_index_get_body (fx->db, 2, &error);
    g_assert_null (body);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, fx->db_path));
    g_clear_error (&error);
  }
  /* a search still answers, the hit without a snippet */
  damage_warnings = 0;
  result = search (fx, "giraffe");
  g_assert_cmpuint (damage_warnings, ==, 1);
  g_assert_cmpstr (result, ==, "Marsh");
  g_free (result);
  /* taking the row out cannot tell FTS5 its words: the index is built
   * again from the files instead of being left inconsistent */
  g_assert_true (bz_db_begin (fx->db, &error));
  g_assert_true (bz_db_index_drop (fx->db, 2, &error));
  g_assert_true (bz_db_commit (fx->db, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (damage_warnings, ==, 2);
  g_assert_cmpint (index_rows (fx, "\"giraffe\""), ==, 0);
  {
    guint todo = 0;

    g_assert_true (bz_db_index_count_todo (fx->db, &todo, &error));
    g_assert_cmpuint (todo, ==, 2);
  }
  index_all (fx);
  g_assert_cmpint (index_rows (fx, "\"marsh\""), ==, 2);
  g_assert_cmpint (index_rows (fx, "\"heron\""), ==, 1);
}

/* A version 6 database (the index with its own copy of the text) is
 * upgraded by dropping that index: the messages stay, and the worker
 * indexes them again. */
static void
test_upgrade_v6 (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *v6 = "DROP TABLE message_text; DROP TABLE message_body;"
                   "CREATE VIRTUAL TABLE message_text USING fts5 ("
                   "  subject, sender, recipients, body,"
                   "  tokenize = 'unicode61 remove_diacritics 2');"
                   "INSERT INTO message_text (rowid, subject, sender, recipients, body)"
                   "  VALUES (1, 'Puffin', 'Ann', '', 'puffin cliff');"
                   "PRAGMA user_version = 6;";
  char *result;

  add_stored (fx, "u1", "Ann <ann@example.org>", "Puffin", "puffin cliff");
  index_all (fx);
  g_clear_object (&fx->db);
  exec_sql (fx, v6);

  fx->db = bz_db_open (fx->db_path, &error);
  g_assert_no_error (error);
  {
    guint todo = 0;

    g_assert_true (bz_db_index_count_todo (fx->db, &todo, &error));
    g_assert_cmpuint (todo, ==, 1);
  }
  g_assert_cmpint (index_rows (fx, "\"puffin\""), ==, 0);
  index_all (fx);
  g_assert_cmpint (index_rows (fx, "\"puffin\""), ==, 1);
  result = search (fx, "cliff");
  g_assert_cmpstr (result, ==, "Puffin");
  g_free (result);
}

/* Rows of deleted messages that the sweep has not taken out yet rank
 * above the one live hit: the search pages past them (more of them than
 * one page holds) instead of answering nothing. */
static void
test_orphans (Fixture *fx, gconstpointer data)
{
  char *result;

  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("gone%u", i);

      add_stored (fx, uidl, "Old <old@example.org>", "tern tern", "tern colony");
    }
  add_stored (fx, "live", "New <new@example.org>", "Alive", "one tern");
  index_all (fx);
  exec_sql (fx, "DELETE FROM messages WHERE uidl LIKE 'gone%'");
  g_assert_cmpint (index_rows (fx, "\"tern\""), ==, 41);

  result = search (fx, "tern");
  g_assert_cmpstr (result, ==, "Alive");
  g_free (result);
}

/* Version 8 rebuilds messages (its state CHECK without IN): the rows,
 * their ids and the indexer's markers survive, so nothing is indexed
 * again, and the CHECK still refuses a state that does not exist. */
static void
test_upgrade_v7 (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sqlite3 *handle = NULL;
  char *result;
  guint todo = 1;

  add_stored (fx, "u1", "Ann <ann@example.org>", "Gannet", "gannet colony");
  add_stored (fx, "u2", "Ben <ben@example.org>", "Skua", "skua colony");
  index_all (fx);
  g_clear_object (&fx->db);
  exec_sql (fx, "PRAGMA user_version = 7;");

  fx->db = bz_db_open (fx->db_path, &error);
  g_assert_no_error (error);
  g_assert_true (bz_db_index_count_todo (fx->db, &todo, &error));
  g_assert_cmpuint (todo, ==, 0);
  result = search (fx, "colony");
  g_assert_cmpstr (result, ==, "Skua|Gannet");
  g_free (result);

  g_assert_cmpint (sqlite3_open_v2 (fx->db_path, &handle, SQLITE_OPEN_READWRITE, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (handle, "UPDATE messages SET state = 'bogus'", NULL, NULL, NULL),
                   ==, SQLITE_CONSTRAINT);
  g_assert_cmpint (sqlite3_exec (handle, "UPDATE messages SET state = 'known'", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (handle);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (count_damage_warnings, NULL, NULL);
  g_test_add_func ("/index/query/translate", test_query_translate);
  g_test_add_func ("/index/query/terms", test_query_terms);
  g_test_add_func ("/index/snippet", test_snippet);
  g_test_add_func ("/index/text/html", test_html);
  g_test_add_func ("/index/text/read", test_text_read);
  g_test_add_func ("/index/text/cap", test_text_cap);
  g_test_add ("/index/search", Fixture, NULL, fixture_setup, test_search, fixture_teardown);
  g_test_add ("/index/rank", Fixture, NULL, fixture_setup, test_rank, fixture_teardown);
  g_test_add ("/index/remove", Fixture, NULL, fixture_setup, test_remove, fixture_teardown);
  g_test_add ("/index/upgrade-v6", Fixture, NULL, fixture_setup, test_upgrade_v6, fixture_teardown);
  g_test_add ("/index/upgrade-v7", Fixture, NULL, fixture_setup, test_upgrade_v7, fixture_teardown);
  g_test_add ("/index/orphans", Fixture, NULL, fixture_setup, test_orphans, fixture_teardown);
  return g_test_run ();
}

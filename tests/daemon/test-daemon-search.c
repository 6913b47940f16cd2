/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Full-text search end to end: buzond syncs from a real dovecot, indexes
 * in its idle thread, and answers Manager.Search, buzonctl search and
 * GNOME Shell's search provider on the private bus of dbus-run-session.
 * Each case runs as its own meson test (-p PATH). */
#include "config.h"

#include <signal.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "bz-db.h"
#include "daemon-test-common.h"

#define PROVIDER_PATH "/org/buzon/Agent1/SearchProvider"
#define PROVIDER_IFACE "org.gnome.Shell.SearchProvider2"

/* --- mail with known words ------------------------------------------------- */

static const char *const lunch =
    "From: Alice Example <alice@example.org>\n"
    "To: Buzon Tester <tester@localhost>\n"
    "Subject: Lunch plans\n"
    "Date: Mon, 01 Jan 2024 10:00:00 +0000\n"
    "Message-ID: <lunch@test.buzon>\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "\n"
    "Let us meet tomorrow. The zebra crossing by the station is closed.\n";

static const char *const numbers =
    "From: Bob Builder <bob@example.org>\n"
    "To: Buzon Tester <tester@localhost>\n"
    "Subject: Quarterly numbers\n"
    "Date: Tue, 02 Jan 2024 10:00:00 +0000\n"
    "Message-ID: <numbers@test.buzon>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\n"
    "\n"
    "--alt\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "\n"
    "We are crossing the zebra figures now.\n"
    "--alt\n"
    "Content-Type: text/html; charset=UTF-8\n"
    "\n"
    "<html><body><p>The <b>htmlonlyword</b> sits in HTML.</p></body></html>\n"
    "--alt--\n";

static const char *const tickets = "From: Carol Singer <carol@example.org>\n"
                                   "To: Buzon Tester <tester@localhost>\n"
                                   "Subject: Aquarium tickets\n"
                                   "Date: Wed, 03 Jan 2024 10:00:00 +0000\n"
                                   "Message-ID: <tickets@test.buzon>\n"
                                   "Content-Type: text/plain; charset=UTF-8\n"
                                   "\n"
                                   "The refurbishment of the shark tank ends in March.\n";

/* Delivers @text into dovecot's Maildir of @user as the harness's mail
 * user would own it. */
static void
put_mail (const char *user, const char *name, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *maildir =
      g_build_filename (bz_test_env ("BZ_TEST_MAIL_ROOT"), user, "Maildir", NULL);
  g_autofree char *tmp = g_build_filename (maildir, "tmp", name, NULL);
  g_autofree char *final = g_build_filename (maildir, "new", name, NULL);
  const char *uid = g_getenv ("BZ_TEST_MAIL_UID");
  const char *gid = g_getenv ("BZ_TEST_MAIL_GID");

  /* mailgen with no message makes the folders, owned as dovecot wants */
  g_assert_true (bz_test_fill_user (user, 0, 1, 1, "small", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (tmp, text, -1, &error));
  g_assert_no_error (error);
  if (getuid () == 0 && uid != NULL)
    g_assert_cmpint (chown (tmp, (uid_t) atoi (uid), gid != NULL ? (gid_t) atoi (gid) : 0), ==, 0);
  g_assert_cmpint (g_rename (tmp, final), ==, 0);
}

static char *
db_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "buzon", "buzon.db", NULL);
}

static DaemonRun *
start_and_sync (guint expected_new, const char *first_env, const char *second_env)
{
  g_autofree char *conf =
      daemon_test_account ("box", "test1", bz_test_env_port ("BZ_TEST_POP3_PORT"), 0, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDbusAccount) account = NULL;
  DaemonRun *run;
  SyncFinishedLog finished;

  daemon_test_write_config (conf);
  run = daemon_test_start (first_env, second_env, NULL);
  account = daemon_test_account_proxy (run, "box");
  daemon_test_watch_finished (account, &finished);
  g_assert_true (bz_dbus_account_call_sync_sync (account, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (daemon_test_wait_finished (&finished, 1, 60000));
  g_assert_true (finished.ok);
  g_assert_cmpuint (finished.new_messages, ==, expected_new);
  daemon_test_finished_clear (&finished);
  return run;
}

/* --- Manager.Search ----------------------------------------------------------- */

static GVariant *
search (DaemonRun *run, const char *query, const char *account, GError **error)
{
  GVariant *out = NULL;

  if (!bz_dbus_manager_call_search_sync (run->manager, query, account, 0, &out, NULL, error))
    return NULL;
  return out;
}

/* The subjects of @query's results, best first, joined with "|". */
static char *
subjects (DaemonRun *run, const char *query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) list = search (run, query, "", &error);
  g_autoptr (GString) out = g_string_new (NULL);

  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      g_autoptr (GVariant) m = g_variant_get_child_value (list, i);
      const char *subject = NULL;

      g_assert_true (g_variant_lookup (m, "subject", "&s", &subject));
      g_string_append_printf (out, "%s%s", i > 0 ? "|" : "", subject);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct
{
  DaemonRun *run;
  const char *query;
  guint want;
} WaitHits;

static gboolean
hits_cond (gpointer data)
{
  WaitHits *w = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) list = search (w->run, w->query, "", &error);

  return list != NULL && g_variant_n_children (list) == w->want;
}

/* The indexer runs after the sync, at idle priority: wait (bounded) until
 * it has what @query finds. */
static void
wait_hits (DaemonRun *run, const char *query, guint want)
{
  WaitHits w = { run, query, want };

  g_assert_true (bz_test_wait_until (hits_cond, &w, 60000));
}

static void
assert_invalid (DaemonRun *run, const char *query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) list = search (run, query, "", &error);

  g_assert_null (list);
  g_assert_true (daemon_test_error_is (error, "org.buzon.Agent1.Error.InvalidArgs"));
  g_test_message ("%s -> %s", query, error->message);
  g_assert_null (strstr (error->message, "fts5"));
  g_assert_null (strstr (error->message, "SQL"));
  g_assert_null (strstr (error->message, "syntax error"));
}

/* Runs buzonctl with @args; returns its stdout, @status its exit code. */
static char *
buzonctl (const char *const *args, int *status, char **err_out)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_TEST_BUZONCTL"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               err_out, &wait_status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  *status = WEXITSTATUS (wait_status);
  return out;
}

static void
test_search (void)
{
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) list = NULL;
  g_autoptr (GVariant) first = NULL;
  const char *path = NULL, *snippet = NULL, *s = NULL;
  char *result;

  put_mail ("test1", "1700000001.lunch.test", lunch);
  put_mail ("test1", "1700000002.numbers.test", numbers);
  put_mail ("test1", "1700000003.tickets.test", tickets);
  run = start_and_sync (3, NULL, NULL);
  wait_hits (run, "refurbishment", 1);

  /* a word only in a body, with the ListMessages keys and a snippet */
  list = search (run, "refurbishment", "box", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (list), ==, 1);
  first = g_variant_get_child_value (list, 0);
  g_assert_true (g_variant_lookup (first, "subject", "&s", &s));
  g_assert_cmpstr (s, ==, "Aquarium tickets");
  g_assert_true (g_variant_lookup (first, "from", "&s", &s));
  g_assert_nonnull (strstr (s, "carol@example.org"));
  g_assert_true (g_variant_lookup (first, "account", "&s", &s));
  g_assert_cmpstr (s, ==, "box");
  g_assert_true (g_variant_lookup (first, "message-id", "&s", &s));
  g_assert_cmpstr (s, ==, "tickets@test.buzon");
  g_assert_true (g_variant_lookup (first, "uidl", "&s", &s));
  g_assert_true (g_variant_lookup (first, "date", "x", NULL));
  g_assert_true (g_variant_lookup (first, "size", "t", NULL));
  g_assert_true (g_variant_lookup (first, "snippet", "&s", &snippet));
  g_assert_nonnull (strstr (snippet, "refurbishment"));
  g_assert_true (g_variant_lookup (first, "path", "&s", &path));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  /* a phrase: these words next to each other, in this order */
  result = subjects (run, "\"zebra crossing\"");
  g_assert_cmpstr (result, ==, "Lunch plans");
  g_free (result);
  result = subjects (run, "zebra crossing");
  g_assert_true (g_strcmp0 (result, "Lunch plans|Quarterly numbers") == 0 ||
                 g_strcmp0 (result, "Quarterly numbers|Lunch plans") == 0);
  g_free (result);
  /* a prefix, accents and case aside */
  result = subjects (run, "REFURB*");
  g_assert_cmpstr (result, ==, "Aquarium tickets");
  g_free (result);
  /* field filters */
  result = subjects (run, "from:alice");
  g_assert_cmpstr (result, ==, "Lunch plans");
  g_free (result);
  result = subjects (run, "from:bob zebra");
  g_assert_cmpstr (result, ==, "Quarterly numbers");
  g_free (result);
  result = subjects (run, "subject:aquarium");
  g_assert_cmpstr (result, ==, "Aquarium tickets");
  g_free (result);
  result = subjects (run, "from:zebra");
  g_assert_cmpstr (result, ==, "");
  g_free (result);
  /* an HTML part, reduced to text */
  result = subjects (run, "htmlonlyword");
  g_assert_cmpstr (result, ==, "Quarterly numbers");
  g_free (result);

  /* queries we cannot read: InvalidArgs in words, never SQL */
  assert_invalid (run, "\"zebra crossing");
  assert_invalid (run, "");
  assert_invalid (run, "from:");
  assert_invalid (run, "*");
  {
    g_autoptr (GVariant) none = search (run, "zebra", "nobody", &error);
    g_assert_null (none);
    g_assert_true (daemon_test_error_is (error, "org.buzon.Agent1.Error.UnknownAccount"));
    g_clear_error (&error);
  }

  /* buzonctl search: the messages table plus the snippet; --json */
  {
    const char *args[] = { "search", "from:alice", NULL };
    const char *json_args[] = { "search", "refurbishment", "--account", "box", "--json", NULL };
    const char *bad_args[] = { "search", "\"zebra", NULL };
    g_autofree char *out = NULL;
    g_autofree char *json = NULL;
    g_autofree char *bad_out = NULL;
    g_autofree char *bad_err = NULL;
    int status = -1;

    out = buzonctl (args, &status, NULL);
    g_test_message ("%s", out);
    g_assert_cmpint (status, ==, 0);
    g_assert_nonnull (strstr (out, "SUBJECT"));
    g_assert_nonnull (strstr (out, "Lunch plans"));
    g_assert_nonnull (strstr (out, "alice@example.org"));
    g_assert_nonnull (strstr (out, "\n    "));
    g_assert_nonnull (strstr (out, "zebra crossing"));
    g_assert_null (strstr (out, "Quarterly"));
    json = buzonctl (json_args, &status, NULL);
    g_test_message ("%s", json);
    g_assert_cmpint (status, ==, 0);
    g_assert_true (g_str_has_prefix (json, "[{"));
    g_assert_nonnull (strstr (json, "\"subject\":\"Aquarium tickets\""));
    g_assert_nonnull (strstr (json, "\"snippet\":\""));
    g_assert_nonnull (strstr (json, "refurbishment"));
    bad_out = buzonctl (bad_args, &status, &bad_err);
    g_assert_cmpint (status, ==, 2);
    g_assert_nonnull (strstr (bad_err, "never closed"));
    g_assert_null (strstr (bad_err, "fts5"));
  }

  /* the user deletes a file: its message drops out of every answer */
  g_assert_cmpint (g_unlink (path), ==, 0);
  result = subjects (run, "refurbishment");
  g_assert_cmpstr (result, ==, "");
  g_free (result);
  result = subjects (run, "aquarium");
  g_assert_cmpstr (result, ==, "");
  g_free (result);
  g_assert_true (daemon_test_stop (run, SIGTERM, 10000));
}

/* --- kill -9 while indexing ------------------------------------------------ */

static guint
todo_count (void)
{
  g_autofree char *path = db_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BzDb) db = bz_db_open (path, &error);
  guint todo = 0;

  g_assert_no_error (error);
  g_assert_true (bz_db_index_count_todo (db, &todo, &error));
  g_assert_no_error (error);
  return todo;
}

static gboolean
started_cond (gpointer data)
{
  guint todo = todo_count ();

  return todo > 0 && todo < GPOINTER_TO_UINT (data);
}

static gboolean
done_cond (gpointer data)
{
  return todo_count () == 0;
}

static void
test_search_kill (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (DaemonRun) again = NULL;
  g_autofree char *pause = g_build_filename (g_get_user_cache_dir (), "index-pause", NULL);
  g_autofree char *pause_env = g_strconcat ("BUZON_TEST_INDEX_PAUSE_FILE=", pause, NULL);
  g_autofree char *result = NULL;
  const guint total = 150;
  guint left;

  g_assert_true (bz_test_fill_user ("test1", total, 5, 1, "small", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_cache_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (pause, "", 0, &error));
  /* the indexer commits one batch, then waits on the pause file */
  run = start_and_sync (total, pause_env, NULL);
  g_assert_true (bz_test_wait_until (started_cond, GUINT_TO_POINTER (total), 60000));
  left = todo_count ();
  g_test_message ("killed with %u of %u messages left to index", left, total);
  g_assert_false (daemon_test_stop (run, SIGKILL, 10000));
  g_assert_cmpuint (todo_count (), ==, left);
  g_assert_cmpint (g_unlink (pause), ==, 0);

  /* restarted: the indexer picks up where the kill left it */
  again = daemon_test_start (NULL);
  g_assert_true (bz_test_wait_until (done_cond, NULL, 60000));
  /* the last message is found by a phrase only its body has */
  result = subjects (again, "\"hello from message 150 seed 5\"");
  g_assert_cmpstr (result, !=, "");
  g_assert_null (strchr (result, '|'));
  g_assert_true (daemon_test_stop (again, SIGTERM, 10000));
}

/* --- GNOME Shell's search provider ----------------------------------------- */

static GVariant *
provider_call (DaemonRun *run, const char *method, GVariant *args, const char *reply_type)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (
      run->bus, BZ_DBUS_NAME, PROVIDER_PATH, PROVIDER_IFACE, method, args,
      G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);

  g_assert_no_error (error);
  return reply;
}

static gboolean
file_has_line (gpointer data)
{
  g_autofree char *text = NULL;

  return g_file_get_contents (data, &text, NULL, NULL) && strchr (text, '\n') != NULL;
}

/* A fake mail reader: a .desktop for message/rfc822 and x-scheme-handler
 * mailto in @data_dir, made the default in $XDG_CONFIG_HOME/mimeapps.list,
 * whose Exec records its argument in @record. */
static void
install_fake_reader (const char *data_dir, const char *record)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *apps = g_build_filename (data_dir, "applications", NULL);
  g_autofree char *desktop = g_build_filename (apps, "bz-fake-reader.desktop", NULL);
  g_autofree char *script = g_build_filename (data_dir, "fake-reader.sh", NULL);
  g_autofree char *mimeapps = g_build_filename (g_get_user_config_dir (), "mimeapps.list", NULL);
  g_autofree char *script_text =
      g_strdup_printf ("#!/bin/sh\nprintf 'open:%%s\\n' \"${1:-none}\" >> '%s'\n", record);
  g_autofree char *desktop_text =
      g_strdup_printf ("[Desktop Entry]\nType=Application\nName=Fake reader\nExec=%s %%f\n"
                       "MimeType=message/rfc822;x-scheme-handler/mailto;\n",
                       script);

  g_assert_cmpint (g_mkdir_with_parents (apps, 0700), ==, 0);
  g_assert_true (g_file_set_contents (script, script_text, -1, &error));
  g_assert_cmpint (g_chmod (script, 0755), ==, 0);
  g_assert_true (g_file_set_contents (desktop, desktop_text, -1, &error));
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_config_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (mimeapps,
                                      "[Default Applications]\n"
                                      "message/rfc822=bz-fake-reader.desktop\n"
                                      "x-scheme-handler/mailto=bz-fake-reader.desktop\n",
                                      -1, &error));
  g_assert_no_error (error);
}

static void
test_search_provider (void)
{
  g_autofree char *data_dir = bz_test_mkdtemp ("xdg-data-XXXXXX");
  g_autofree char *record = g_build_filename (data_dir, "launched", NULL);
  g_autofree char *data_env = g_strconcat ("XDG_DATA_DIRS=", data_dir, NULL);
  g_autoptr (DaemonRun) run = NULL;
  g_autoptr (GVariant) ids = NULL;
  g_autoptr (GVariant) sub = NULL;
  g_autoptr (GVariant) metas = NULL;
  g_autoptr (GVariant) meta = NULL;
  g_autoptr (GVariant) none = NULL;
  g_autoptr (GVariant) icon = NULL;
  g_autofree char *launched = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *moved = NULL;
  const char *const terms[] = { "zeb", NULL };
  const char *const more_terms[] = { "zeb", "stat", NULL };
  const char *const nothing[] = { "qqqnothing", NULL };
  const char *id = NULL, *s = NULL;
  GVariantBuilder builder;

  install_fake_reader (data_dir, record);
  put_mail ("test1", "1700000001.lunch.test", lunch);
  put_mail ("test1", "1700000002.numbers.test", numbers);
  run = start_and_sync (2, data_env, NULL);
  wait_hits (run, "zebra", 2);

  /* as-you-type: each term is a prefix; all must match */
  ids = provider_call (run, "GetInitialResultSet", g_variant_new ("(^as)", terms), "(as)");
  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  {
    g_autoptr (GVariant) list = g_variant_get_child_value (ids, 0);
    g_assert_cmpuint (g_variant_n_children (list), ==, 2);
    for (gsize i = 0; i < g_variant_n_children (list); i++)
      {
        g_autoptr (GVariant) v = g_variant_get_child_value (list, i);
        g_variant_builder_add (&builder, "s", g_variant_get_string (v, NULL));
      }
  }
  sub = provider_call (run, "GetSubsearchResultSet",
                       g_variant_new ("(as^as)", &builder, more_terms), "(as)");
  {
    g_autoptr (GVariant) list = g_variant_get_child_value (sub, 0);
    g_assert_cmpuint (g_variant_n_children (list), ==, 1);
    g_variant_get_child (list, 0, "&s", &id);
  }
  none = provider_call (run, "GetInitialResultSet", g_variant_new ("(^as)", nothing), "(as)");
  {
    g_autoptr (GVariant) list = g_variant_get_child_value (none, 0);
    g_assert_cmpuint (g_variant_n_children (list), ==, 0);
  }

  /* name = subject, description = sender and date; unknown ids are left out */
  {
    const char *const asked[] = { id, "999999", "not-an-id", NULL };
    metas = provider_call (run, "GetResultMetas", g_variant_new ("(^as)", asked), "(aa{sv})");
  }
  {
    g_autoptr (GVariant) list = g_variant_get_child_value (metas, 0);
    g_assert_cmpuint (g_variant_n_children (list), ==, 1);
    meta = g_variant_get_child_value (list, 0);
  }
  g_assert_true (g_variant_lookup (meta, "id", "&s", &s));
  g_assert_cmpstr (s, ==, id);
  g_assert_true (g_variant_lookup (meta, "name", "&s", &s));
  g_assert_cmpstr (s, ==, "Lunch plans");
  g_assert_true (g_variant_lookup (meta, "description", "&s", &s));
  g_test_message ("description: %s", s);
  g_assert_nonnull (strstr (s, "Alice Example"));
  g_assert_nonnull (strstr (s, "2024-01-01"));
  icon = g_variant_lookup_value (meta, "icon", NULL);
  g_assert_nonnull (icon);

  /* activating opens the file with the message/rfc822 handler, where
   * it is now: a mail reader moved it to cur/ with flags meanwhile */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) list = search (run, "subject:lunch", "", &error);
    g_autoptr (GVariant) m = NULL;
    g_autofree char *new_dir = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *base = NULL;
    const char *path = NULL;

    g_assert_no_error (error);
    g_assert_cmpuint (g_variant_n_children (list), ==, 1);
    m = g_variant_get_child_value (list, 0);
    g_assert_true (g_variant_lookup (m, "path", "&s", &path));
    g_assert_true (strstr (path, "/new/") != NULL);
    new_dir = g_path_get_dirname (path);
    dir = g_path_get_dirname (new_dir);
    base = g_path_get_basename (path);
    moved = g_strdup_printf ("%s/cur/%s:2,S", dir, base);
    g_assert_cmpint (g_rename (path, moved), ==, 0);
  }
  {
    const char *const t[] = { "zeb", NULL };
    g_autoptr (GVariant) done =
        provider_call (run, "ActivateResult", g_variant_new ("(s^asu)", id, t, (guint32) 0), "()");
  }
  g_assert_true (bz_test_wait_until (file_has_line, record, 20000));
  g_assert_true (g_file_get_contents (record, &launched, NULL, NULL));
  g_test_message ("%s", launched);
  expected = g_strdup_printf ("open:%s\n", moved);
  g_assert_cmpstr (launched, ==, expected);
  g_clear_pointer (&launched, g_free);
  g_assert_cmpint (g_unlink (record), ==, 0);

  /* LaunchSearch opens the mail reader itself, no file */
  {
    const char *const t[] = { "zeb", NULL };
    g_autoptr (GVariant) done =
        provider_call (run, "LaunchSearch", g_variant_new ("(^asu)", t, (guint32) 0), "()");
  }
  g_assert_true (bz_test_wait_until (file_has_line, record, 20000));
  g_assert_true (g_file_get_contents (record, &launched, NULL, NULL));
  g_assert_cmpstr (launched, ==, "open:none\n");
  g_assert_true (daemon_test_stop (run, SIGTERM, 10000));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/daemon/search", test_search);
  g_test_add_func ("/daemon/search-kill", test_search_kill);
  g_test_add_func ("/daemon/search-provider", test_search_provider);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The POP3 engine against a real dovecot started by run-with-dovecot.py:
 * every login method on every channel, the transaction commands, and
 * pipelined retrieval compared byte for byte with the stored files. Each
 * case that changes a mailbox uses its own user. */
#include "config.h"

#include <string.h>

#include "bz-pop3-session.h"
#include "bz-pop3-test-commands.h"
#include "bz-pop3-test-sink.h"
#include "bz-test-util.h"

static void
options_init (BzPop3SessionOptions *options, BzSecurity security)
{
  memset (options, 0, sizeof (*options));
  options->net.host = bz_test_env ("BZ_TEST_HOST");
  options->net.port =
      bz_test_env_port (security == BZ_SECURITY_TLS ? "BZ_TEST_POP3S_PORT" : "BZ_TEST_POP3_PORT");
  options->net.ca_file = bz_test_env ("BZ_TEST_CA_FILE");
  options->net.connect_timeout_ms = 10000;
  options->net.io_timeout_ms = 20000;
  options->security = security;
}

static BzPop3Session *
connect_login (BzSecurity security, gboolean allow_plaintext, BzAuthMethod method, const char *user)
{
  BzPop3SessionOptions options;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) error = NULL;

  options_init (&options, security);
  options.allow_plaintext = allow_plaintext;
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (session);
  g_assert_true (bz_pop3_session_login (session, method, user, bz_test_env ("BZ_TEST_PASSWORD"),
                                        NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&session);
}

typedef struct
{
  BzSecurity security;
  BzAuthMethod method;
  const char *expected_used;
} AuthCase;

static void
test_dovecot_auth (gconstpointer data)
{
  const AuthCase *c = data;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) error = NULL;
  gboolean tls = c->security != BZ_SECURITY_NONE;
  guint count = G_MAXUINT;

  session = connect_login (c->security, !tls, c->method, "test1");
  g_assert_cmpstr (bz_pop3_session_get_auth_used (session), ==, c->expected_used);
  g_assert_cmpint (bz_net_connection_is_tls (bz_pop3_session_get_connection (session)), ==, tls);
  /* After STLS the capabilities are the post-TLS ones: no STLS any more. */
  if (c->security == BZ_SECURITY_STARTTLS)
    g_assert_false (bz_pop3_session_has_capability (session, "STLS"));
  g_assert_true (bz_pop3_session_has_capability (session, "uidl"));
  g_assert_true (bz_pop3_test_stat (session, &count, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, !=, G_MAXUINT);
  g_assert_true (bz_pop3_session_quit (session, NULL, &error));
  g_assert_no_error (error);
}

static void
test_dovecot_plaintext_policy (void)
{
  BzPop3SessionOptions options;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (BzPop3Session) auto_session = NULL;
  g_autoptr (GError) error = NULL;
  const char *password = bz_test_env ("BZ_TEST_PASSWORD");

  options_init (&options, BZ_SECURITY_NONE);
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (bz_net_connection_is_tls (bz_pop3_session_get_connection (session)));

  /* Refused before anything is sent: the session is still at the start of
   * the AUTHORIZATION state and a later APOP login succeeds. */
  g_assert_false (bz_pop3_session_login (session, BZ_AUTH_USER, "test1", password, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD);
  g_assert_true (g_str_has_prefix (error->message, "localhost: "));
  g_clear_error (&error);
  g_assert_false (
      bz_pop3_session_login (session, BZ_AUTH_SASL_PLAIN, "test1", password, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD);
  g_clear_error (&error);
  g_assert_true (bz_pop3_session_login (session, BZ_AUTH_APOP, "test1", password, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bz_pop3_session_quit (session, NULL, &error));
  g_assert_no_error (error);

  /* auto without allow_plaintext: only APOP keeps the password safe. */
  auto_session = connect_login (BZ_SECURITY_NONE, FALSE, BZ_AUTH_AUTO, "test1");
  g_assert_cmpstr (bz_pop3_session_get_auth_used (auto_session), ==, "APOP");
  g_assert_true (bz_pop3_session_quit (auto_session, NULL, &error));
  g_assert_no_error (error);
}

static void
test_dovecot_wrong_password (void)
{
  static const BzAuthMethod methods[] = { BZ_AUTH_USER, BZ_AUTH_APOP, BZ_AUTH_SASL_PLAIN };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      BzPop3SessionOptions options;
      g_autoptr (BzPop3Session) session = NULL;
      g_autoptr (GError) error = NULL;

      options_init (&options, BZ_SECURITY_TLS);
      session = bz_pop3_session_connect (&options, NULL, &error);
      g_assert_no_error (error);
      g_assert_false (
          bz_pop3_session_login (session, methods[i], "test1", "not the password", NULL, &error));
      g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_AUTH);
      g_assert_true (g_str_has_prefix (error->message, "localhost: authentication failed: -ERR"));
      g_assert_null (strstr (error->message, "not the password"));
      g_test_message ("%s", error->message);
    }
}

static GHashTable *
read_mails (GPtrArray *mails)
{
  GHashTable *contents =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);

  for (guint i = 0; i < mails->len; i++)
    {
      BzTestMail *mail = g_ptr_array_index (mails, i);
      g_autoptr (GError) error = NULL;
      g_autofree char *raw = NULL;
      gsize len = 0;
      gsize norm_len = 0;
      char *norm;

      g_assert_true (g_file_get_contents (mail->path, &raw, &len, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (len, ==, mail->size);
      norm = bz_test_normalize_crlf (raw, len, &norm_len);
      g_hash_table_insert (contents, g_strdup (mail->message_id),
                           g_bytes_new_take (norm, norm_len));
    }
  return contents;
}

static void
test_dovecot_commands (void)
{
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (GHashTable) contents = NULL;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (BzPop3Session) session2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = NULL;
  g_autoptr (BzPop3UidlList) uidls = NULL;
  g_autoptr (BzTestSink) sink = bz_test_sink_new ();
  g_autofree char *uidl2 = NULL;
  guint count = 0;
  guint64 octets = 0, size = 0, sum = 0;

  g_assert_true (bz_test_fill_user ("test2", 5, 2, 1, "small", &mails, &error));
  g_assert_no_error (error);
  contents = read_mails (mails);
  session = connect_login (BZ_SECURITY_TLS, FALSE, BZ_AUTH_AUTO, "test2");

  g_assert_true (bz_pop3_test_stat (session, &count, &octets, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 5);

  list = bz_pop3_session_list (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 5);
  for (guint i = 0; i < list->len; i++)
    {
      BzPop3ListEntry *e = &g_array_index (list, BzPop3ListEntry, i);
      g_assert_cmpuint (e->msgno, ==, i + 1);
      sum += e->size;
    }
  g_assert_cmpuint (sum, ==, octets);
  g_assert_true (bz_pop3_test_list_one (session, 3, &size, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (size, ==, g_array_index (list, BzPop3ListEntry, 2).size);

  /* LIST n pipelined, in the order asked, with repeats; a -ERR in the
   * middle fails the call but leaves the session in step */
  {
    const guint some[] = { 5, 1, 3, 3, 2, 4 };
    const guint bad[] = { 2, 99, 4 };
    guint64 sizes[G_N_ELEMENTS (some)] = { 0 };
    guint64 bad_sizes[G_N_ELEMENTS (bad)] = { 0 };

    g_assert_true (
        bz_pop3_session_list_many (session, some, G_N_ELEMENTS (some), sizes, NULL, &error));
    g_assert_no_error (error);
    for (guint i = 0; i < G_N_ELEMENTS (some); i++)
      g_assert_cmpuint (sizes[i], ==, g_array_index (list, BzPop3ListEntry, some[i] - 1).size);
    g_assert_true (bz_pop3_session_list_many (session, NULL, 0, NULL, NULL, &error));
    g_assert_no_error (error);
    g_assert_false (
        bz_pop3_session_list_many (session, bad, G_N_ELEMENTS (bad), bad_sizes, NULL, &error));
    g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_SERVER);
    g_assert_nonnull (strstr (error->message, "LIST 99 failed"));
    g_clear_error (&error);
    g_assert_cmpuint (bad_sizes[0], ==, g_array_index (list, BzPop3ListEntry, 1).size);
    g_assert_true (bz_pop3_test_noop (session, NULL, &error));
    g_assert_no_error (error);
  }

  uidls = bz_pop3_session_uidl (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidls->entries->len, ==, 5);
  uidl2 = bz_pop3_test_uidl_one (session, 2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (uidl2, ==, g_array_index (uidls->entries, BzPop3UidlEntry, 1).uidl);
  g_assert_null (bz_pop3_test_uidl_one (session, 99, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_SERVER);
  g_clear_error (&error);

  /* TOP 0: the headers and the blank line, nothing of the body. */
  g_assert_true (bz_pop3_session_top (session, 1, 0, &sink->parent, NULL, &error));
  g_assert_no_error (error);
  {
    GBytes *top = bz_test_sink_get (sink, 1);
    g_autofree char *mid = NULL;
    GBytes *full;
    gsize top_len;
    const char *top_data = g_bytes_get_data (top, &top_len);

    mid = bz_test_message_id (top_data, top_len);
    full = g_hash_table_lookup (contents, mid);
    g_assert_nonnull (full);
    g_assert_cmpuint (top_len, <, g_bytes_get_size (full));
    g_assert_cmpmem (top_data, top_len, g_bytes_get_data (full, NULL), top_len);
    g_assert_cmpuint (top_len, >=, 2);
    g_assert_cmpint (top_data[top_len - 1], ==, '\n');
    g_assert_cmpint (top_data[top_len - 2], ==, '\n');
  }
  g_assert_true (bz_pop3_test_noop (session, NULL, &error));
  g_assert_no_error (error);

  /* DELE + RSET leaves everything in place. */
  g_assert_true (bz_pop3_session_dele (session, 1, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (bz_pop3_session_dele (session, 1, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_SERVER);
  g_assert_true (g_str_has_prefix (error->message, "localhost: DELE 1 failed: -ERR"));
  g_clear_error (&error);
  g_assert_true (bz_pop3_test_stat (session, &count, NULL, NULL, &error));
  g_assert_cmpuint (count, ==, 4);
  g_assert_true (bz_pop3_test_rset (session, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bz_pop3_session_quit (session, NULL, &error));
  g_assert_no_error (error);
  /* Nothing works after QUIT. */
  g_assert_false (bz_pop3_test_noop (session, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_CLOSED);
  g_clear_error (&error);

  session2 = connect_login (BZ_SECURITY_TLS, FALSE, BZ_AUTH_AUTO, "test2");
  g_assert_true (bz_pop3_test_stat (session2, &count, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 5);
  bz_pop3_session_abort (session2);
}

static void
fetch_and_compare (const char *user, guint window, GHashTable *contents, guint n)
{
  BzPop3SessionOptions options;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (BzTestSink) sink = bz_test_sink_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) msgnos = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gint64 start;

  options_init (&options, BZ_SECURITY_TLS);
  options.pipeline_window = window;
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (bz_pop3_session_has_capability (session, "PIPELINING"));
  g_assert_true (bz_pop3_session_login (session, BZ_AUTH_AUTO, user,
                                        bz_test_env ("BZ_TEST_PASSWORD"), NULL, &error));
  g_assert_no_error (error);
  for (guint i = 1; i <= n; i++)
    g_array_append_val (msgnos, i);

  start = g_get_monotonic_time ();
  g_assert_true (bz_pop3_session_fetch_many (session, (guint *) msgnos->data, n, FALSE, 0,
                                             &sink->parent, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("window %u: %u messages in %.3f s, %u sink writes", window, n,
                  (g_get_monotonic_time () - start) / 1e6, sink->n_write);
  g_assert_cmpuint (sink->n_begin, ==, n);
  g_assert_cmpuint (sink->n_end, ==, n);
  g_assert_cmpuint (sink->n_fail, ==, 0);
  for (guint i = 0; i < n; i++)
    {
      GBytes *got = bz_test_sink_get (sink, i + 1);
      GBytes *want;
      g_autofree char *mid = NULL;
      gsize len;
      const char *data;

      /* In the order asked for. */
      g_assert_cmpuint (g_array_index (sink->order, guint, i), ==, i + 1);
      g_assert_nonnull (got);
      data = g_bytes_get_data (got, &len);
      mid = bz_test_message_id (data, len);
      g_assert_nonnull (mid);
      g_assert_false (g_hash_table_contains (seen, mid));
      want = g_hash_table_lookup (contents, mid);
      g_assert_nonnull (want);
      g_assert_cmpmem (data, len, g_bytes_get_data (want, NULL), g_bytes_get_size (want));
      g_hash_table_add (seen, g_steal_pointer (&mid));
    }
  g_assert_true (bz_pop3_session_quit (session, NULL, &error));
  g_assert_no_error (error);
}

static void
test_dovecot_fetch_many (void)
{
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (GHashTable) contents = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (bz_test_fill_user ("test3", 500, 3, 1, "mixed", &mails, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mails->len, ==, 500);
  /* Read before fetching: dovecot may move the files to cur/. */
  contents = read_mails (mails);
  fetch_and_compare ("test3", 0, contents, 500);
  fetch_and_compare ("test3", 1, contents, 500);
  fetch_and_compare ("test3", 3, contents, 100);
}

static void
test_dovecot_dele_quit (void)
{
  const guint doomed[] = { 1, 3, 5, 10 };
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (BzPop3Session) session2 = NULL;
  g_autoptr (BzPop3Session) session3 = NULL;
  g_autoptr (BzPop3UidlList) before = NULL;
  g_autoptr (BzPop3UidlList) after = NULL;
  g_autoptr (GError) error = NULL;
  const guint bad[] = { 2, 99, 4 };
  guint count = 0;

  g_assert_true (bz_test_fill_user ("test4", 10, 4, 1, "small", &mails, &error));
  g_assert_no_error (error);

  session = connect_login (BZ_SECURITY_TLS, FALSE, BZ_AUTH_AUTO, "test4");
  before = bz_pop3_session_uidl (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (bz_pop3_session_dele_many (session, doomed, G_N_ELEMENTS (doomed), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (bz_pop3_session_quit (session, NULL, &error));
  g_assert_no_error (error);

  session2 = connect_login (BZ_SECURITY_TLS, FALSE, BZ_AUTH_AUTO, "test4");
  g_assert_true (bz_pop3_test_stat (session2, &count, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 6);
  after = bz_pop3_session_uidl (session2, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < after->entries->len; i++)
    {
      const char *uidl = g_array_index (after->entries, BzPop3UidlEntry, i).uidl;
      for (guint j = 0; j < G_N_ELEMENTS (doomed); j++)
        g_assert_cmpstr (uidl, !=,
                         g_array_index (before->entries, BzPop3UidlEntry, doomed[j] - 1).uidl);
    }

  /* A -ERR in the middle fails the call, but the session stays in step
   * and dropping the connection rolls the DELEs back. */
  g_assert_false (bz_pop3_session_dele_many (session2, bad, G_N_ELEMENTS (bad), NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_SERVER);
  g_clear_error (&error);
  g_assert_true (bz_pop3_test_noop (session2, NULL, &error));
  g_assert_no_error (error);
  bz_pop3_session_abort (session2);

  session3 = connect_login (BZ_SECURITY_TLS, FALSE, BZ_AUTH_AUTO, "test4");
  g_assert_true (bz_pop3_test_stat (session3, &count, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 6);
  g_assert_true (bz_pop3_session_quit (session3, NULL, &error));
  g_assert_no_error (error);
}

static const AuthCase auth_cases[] = {
  { BZ_SECURITY_TLS, BZ_AUTH_USER, "USER" },
  { BZ_SECURITY_TLS, BZ_AUTH_APOP, "APOP" },
  { BZ_SECURITY_TLS, BZ_AUTH_SASL_PLAIN, "SASL PLAIN" },
  { BZ_SECURITY_TLS, BZ_AUTH_AUTO, "SASL PLAIN" },
  { BZ_SECURITY_STARTTLS, BZ_AUTH_USER, "USER" },
  { BZ_SECURITY_STARTTLS, BZ_AUTH_APOP, "APOP" },
  { BZ_SECURITY_STARTTLS, BZ_AUTH_SASL_PLAIN, "SASL PLAIN" },
  { BZ_SECURITY_STARTTLS, BZ_AUTH_AUTO, "SASL PLAIN" },
  /* allow_plaintext is set for these. */
  { BZ_SECURITY_NONE, BZ_AUTH_USER, "USER" },
  { BZ_SECURITY_NONE, BZ_AUTH_APOP, "APOP" },
  { BZ_SECURITY_NONE, BZ_AUTH_SASL_PLAIN, "SASL PLAIN" },
  { BZ_SECURITY_NONE, BZ_AUTH_AUTO, "APOP" },
};

int
main (int argc, char **argv)
{
  static const char *const sec_names[] = { "tls", "starttls", "none" };
  static const char *const method_names[] = { "auto", "sasl-plain", "user", "apop" };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (auth_cases); i++)
    {
      g_autofree char *path =
          g_strdup_printf ("/pop3/dovecot/auth/%s/%s", sec_names[auth_cases[i].security],
                           method_names[auth_cases[i].method]);
      g_test_add_data_func (path, &auth_cases[i], test_dovecot_auth);
    }
  g_test_add_func ("/pop3/dovecot/plaintext-policy", test_dovecot_plaintext_policy);
  g_test_add_func ("/pop3/dovecot/wrong-password", test_dovecot_wrong_password);
  g_test_add_func ("/pop3/dovecot/commands", test_dovecot_commands);
  g_test_add_func ("/pop3/dovecot/fetch-many", test_dovecot_fetch_many);
  g_test_add_func ("/pop3/dovecot/dele-quit", test_dovecot_dele_quit);
  return g_test_run ();
}

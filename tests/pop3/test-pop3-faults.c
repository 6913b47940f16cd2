/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The POP3 engine against faultpop.py, a server that misbehaves on
 * request: missing STLS, dropped and stalled connections, garbage,
 * over-long lines, RFC 2449 response codes, no UIDL, no PIPELINING. */
#include "config.h"

#include <string.h>

#include "bz-pop3-session.h"
#include "bz-pop3-test-commands.h"
#include "bz-pop3-test-sink.h"
#include "bz-test-util.h"

#define FAULTPOP_USER "test"
#define FAULTPOP_PASSWORD "secret"

typedef struct
{
  GSubprocess *proc;
  guint16 port;
  char *dir;
  char *log_path;
} Faultpop;

static void
faultpop_free (Faultpop *fp)
{
  if (fp->proc != NULL)
    {
      g_subprocess_force_exit (fp->proc);
      g_subprocess_wait (fp->proc, NULL, NULL);
      g_object_unref (fp->proc);
    }
  g_free (fp->log_path);
  g_free (fp->dir);
  g_free (fp);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Faultpop, faultpop_free)

/* Starts faultpop with a command log and a lifetime so it always ends. */
static Faultpop *
faultpop_start (const char *first_arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  Faultpop *fp = g_new0 (Faultpop, 1);
  const char *arg;
  va_list ap;

  fp->dir = bz_test_mkdtemp ("faultpop-XXXXXX");
  fp->log_path = g_build_filename (fp->dir, "commands.log", NULL);
  g_ptr_array_add (args, (gpointer) "--log");
  g_ptr_array_add (args, fp->log_path);
  g_ptr_array_add (args, (gpointer) "--lifetime");
  g_ptr_array_add (args, (gpointer) "30");
  va_start (ap, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  fp->proc = bz_test_faultpop_startv ((const char *const *) args->pdata, &fp->port, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fp->proc);
  return fp;
}

static char *
faultpop_log (Faultpop *fp)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  if (!g_file_get_contents (fp->log_path, &contents, NULL, &error))
    {
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
      return g_strdup ("");
    }
  return contents;
}

static gboolean
log_has_command (const char *log, const char *cmd)
{
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_ascii_strncasecmp (lines[i], cmd, strlen (cmd)) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
options_init (BzPop3SessionOptions *options, Faultpop *fp, BzSecurity security)
{
  memset (options, 0, sizeof (*options));
  options->net.host = bz_test_env ("BZ_TEST_HOST");
  options->net.port = fp->port;
  options->net.ca_file = bz_test_env ("BZ_TEST_CA_FILE");
  options->net.connect_timeout_ms = 10000;
  options->net.io_timeout_ms = 10000;
  options->security = security;
  options->allow_plaintext = security == BZ_SECURITY_NONE;
}

static BzPop3Session *
connect_login (Faultpop *fp, guint io_timeout_ms)
{
  BzPop3SessionOptions options;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) error = NULL;

  options_init (&options, fp, BZ_SECURITY_NONE);
  if (io_timeout_ms > 0)
    options.net.io_timeout_ms = io_timeout_ms;
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (bz_pop3_session_login (session, BZ_AUTH_USER, FAULTPOP_USER, FAULTPOP_PASSWORD,
                                        NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&session);
}

static void
test_faults_no_stls (void)
{
  g_autoptr (Faultpop) fp = NULL;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  BzPop3SessionOptions options;

  fp = faultpop_start ("--stls-cert", bz_test_env ("BZ_TEST_SERVER_CERT"), "--stls-key",
                       bz_test_env ("BZ_TEST_SERVER_KEY"), "--no-stls-capa", NULL);
  options_init (&options, fp, BZ_SECURITY_STARTTLS);
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_STLS);
  g_assert_true (g_str_has_prefix (error->message, "localhost: "));
  g_assert_null (session);
  /* faultpop writes its log per command; give the last line a moment. */
  g_usleep (200 * 1000);
  log = faultpop_log (fp);
  g_assert_true (log_has_command (log, "CAPA"));
  g_assert_false (log_has_command (log, "STLS"));
  g_assert_false (log_has_command (log, "USER"));
  g_assert_false (log_has_command (log, "PASS"));
  g_assert_false (log_has_command (log, "AUTH"));
  g_assert_false (log_has_command (log, "APOP"));
}

static void
test_faults_stls (void)
{
  g_autoptr (Faultpop) fp = NULL;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) error = NULL;
  BzPop3SessionOptions options;

  fp = faultpop_start ("--stls-cert", bz_test_env ("BZ_TEST_SERVER_CERT"), "--stls-key",
                       bz_test_env ("BZ_TEST_SERVER_KEY"), NULL);
  options_init (&options, fp, BZ_SECURITY_STARTTLS);
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (bz_net_connection_is_tls (bz_pop3_session_get_connection (session)));
  g_assert_false (bz_pop3_session_has_capability (session, "STLS"));
  g_assert_true (bz_pop3_session_login (session, BZ_AUTH_AUTO, FAULTPOP_USER, FAULTPOP_PASSWORD,
                                        NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bz_pop3_session_get_auth_used (session), ==, "SASL PLAIN");
  g_assert_true (bz_pop3_session_quit (session, NULL, &error));
  g_assert_no_error (error);
}

static void
test_faults_plaintext_refused (void)
{
  g_autoptr (Faultpop) fp = faultpop_start (NULL);
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;
  BzPop3SessionOptions options;

  options_init (&options, fp, BZ_SECURITY_NONE);
  options.allow_plaintext = FALSE;
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (bz_pop3_session_login (session, BZ_AUTH_USER, FAULTPOP_USER, FAULTPOP_PASSWORD,
                                         NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD);
  g_clear_error (&error);
  g_assert_false (bz_pop3_session_login (session, BZ_AUTH_SASL_PLAIN, FAULTPOP_USER,
                                         FAULTPOP_PASSWORD, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD);
  g_clear_error (&error);
  /* auto picks APOP, which faultpop offers and which hides the password. */
  g_assert_true (bz_pop3_session_login (session, BZ_AUTH_AUTO, FAULTPOP_USER, FAULTPOP_PASSWORD,
                                        NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bz_pop3_session_get_auth_used (session), ==, "APOP");
  g_assert_true (bz_pop3_session_quit (session, NULL, &error));
  g_assert_no_error (error);
  g_usleep (200 * 1000);
  log = faultpop_log (fp);
  g_assert_true (log_has_command (log, "APOP"));
  g_assert_false (log_has_command (log, "USER"));
  g_assert_false (log_has_command (log, "PASS"));
  g_assert_false (log_has_command (log, "AUTH"));
  g_assert_null (strstr (log, FAULTPOP_PASSWORD));
}

static void
test_faults_drop_in_retr (void)
{
  const guint msgnos[] = { 1, 2, 3 };
  g_autoptr (Faultpop) fp =
      faultpop_start ("--messages", "3", "--profile", "mixed", "--drop-in-retr", "2", NULL);
  g_autoptr (BzPop3Session) session = connect_login (fp, 0);
  g_autoptr (BzTestSink) sink = bz_test_sink_new ();
  g_autoptr (GError) error = NULL;

  g_assert_false (
      bz_pop3_session_fetch_many (session, msgnos, 3, FALSE, 0, &sink->parent, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (g_error_matches (error, BZ_POP3_ERROR, BZ_POP3_ERROR_CLOSED) ||
                 g_error_matches (error, BZ_NET_ERROR, BZ_NET_ERROR_CLOSED));
  g_assert_true (g_str_has_prefix (error->message, "localhost: "));
  g_assert_cmpuint (sink->n_end, ==, 1);
  g_assert_nonnull (bz_test_sink_get (sink, 1));
  g_assert_null (bz_test_sink_get (sink, 2));
  g_assert_cmpuint (sink->n_fail, >=, 1);
  g_assert_cmpuint (g_array_index (sink->failed, guint, 0), ==, 2);
  g_assert_null (sink->current);
  /* The session is over; later calls fail cleanly. */
  g_clear_error (&error);
  g_assert_false (bz_pop3_test_noop (session, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_CLOSED);
}

static void
test_faults_garbage (void)
{
  g_autoptr (Faultpop) fp = faultpop_start ("--garbage-after", "STAT", NULL);
  g_autoptr (BzPop3Session) session = connect_login (fp, 0);
  g_autoptr (GError) error = NULL;
  guint count = 0;

  g_assert_false (bz_pop3_test_stat (session, &count, NULL, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL);
  g_assert_true (g_str_has_prefix (error->message, "localhost: "));
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
test_faults_long_line (void)
{
  g_autoptr (Faultpop) fp = faultpop_start ("--long-line-after", "LIST", "10000000", NULL);
  g_autoptr (BzPop3Session) session = connect_login (fp, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = NULL;

  list = bz_pop3_session_list (session, NULL, &error);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LINE_TOO_LONG);
  g_assert_null (list);
}

static void
test_faults_stall (void)
{
  const guint timeout_ms = 1500;
  g_autoptr (Faultpop) fp = faultpop_start ("--stall-after", "STAT", NULL);
  g_autoptr (BzPop3Session) session = connect_login (fp, timeout_ms);
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed_ms;

  g_assert_false (bz_pop3_test_stat (session, NULL, NULL, NULL, &error));
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TIMEOUT);
  g_assert_true (g_str_has_prefix (error->message, "localhost: "));
  g_assert_cmpint (elapsed_ms, >=, timeout_ms - 100);
  /* far below the 60 s default: the timeout set is the one that fired */
  g_assert_cmpint (elapsed_ms, <, 30000);
}

static void
test_faults_stall_in_retr (void)
{
  const guint timeout_ms = 1000;
  const guint msgnos[] = { 1, 2 };
  g_autoptr (Faultpop) fp = faultpop_start ("--messages", "2", "--stall-in-retr", "1", NULL);
  g_autoptr (BzPop3Session) session = connect_login (fp, timeout_ms);
  g_autoptr (BzTestSink) sink = bz_test_sink_new ();
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (
      bz_pop3_session_fetch_many (session, msgnos, 2, FALSE, 0, &sink->parent, NULL, &error));
  g_assert_error (error, BZ_NET_ERROR, BZ_NET_ERROR_TIMEOUT);
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <, timeout_ms + 2000);
  g_assert_cmpuint (sink->n_end, ==, 0);
  g_assert_cmpuint (sink->n_fail, >=, 1);
  g_assert_cmpuint (g_array_index (sink->failed, guint, 0), ==, 1);
  g_assert_true (g_error_matches (sink->last_fail, BZ_NET_ERROR, BZ_NET_ERROR_TIMEOUT));
}

static void
test_faults_resp_codes (void)
{
  static const struct
  {
    const char *code;
    gint error;
  } cases[] = {
    { "IN-USE", BZ_POP3_ERROR_IN_USE },
    { "LOGIN-DELAY", BZ_POP3_ERROR_LOGIN_DELAY },
    { "SYS/TEMP", BZ_POP3_ERROR_SYS_TEMP },
    { "SYS/PERM", BZ_POP3_ERROR_SYS_PERM },
    { "AUTH", BZ_POP3_ERROR_AUTH },
    { "SYS/TEMP/QUOTA", BZ_POP3_ERROR_SYS_TEMP },
    { "X-VENDOR", BZ_POP3_ERROR_LOGIN_REFUSED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Faultpop) fp = faultpop_start ("--resp-code", "PASS", cases[i].code, NULL);
      g_autoptr (BzPop3Session) session = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *expected = g_strdup_printf ("[%s]", cases[i].code);
      BzPop3SessionOptions options;

      options_init (&options, fp, BZ_SECURITY_NONE);
      session = bz_pop3_session_connect (&options, NULL, &error);
      g_assert_no_error (error);
      g_assert_false (bz_pop3_session_login (session, BZ_AUTH_USER, FAULTPOP_USER,
                                             FAULTPOP_PASSWORD, NULL, &error));
      g_assert_error (error, BZ_POP3_ERROR, cases[i].error);
      g_assert_true (g_str_has_prefix (error->message, "localhost: authentication failed: -ERR ["));
      g_assert_nonnull (strstr (error->message, expected));
    }
}

/* "-ERR maildrop locked, try later": no response code, so not known to be
 * a wrong password (issue 13 item 5), whatever the login method. */
static void
test_faults_login_refused (void)
{
  static const struct
  {
    const char *cmd;
    BzAuthMethod method;
  } cases[] = {
    { "PASS", BZ_AUTH_USER },
    { "AUTH", BZ_AUTH_SASL_PLAIN },
    { "APOP", BZ_AUTH_APOP },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Faultpop) fp = faultpop_start ("--plain-err", cases[i].cmd, "0", NULL);
      g_autoptr (BzPop3Session) session = NULL;
      g_autoptr (GError) error = NULL;
      BzPop3SessionOptions options;

      options_init (&options, fp, BZ_SECURITY_NONE);
      session = bz_pop3_session_connect (&options, NULL, &error);
      g_assert_no_error (error);
      g_assert_false (bz_pop3_session_login (session, cases[i].method, FAULTPOP_USER,
                                             FAULTPOP_PASSWORD, NULL, &error));
      g_test_message ("%s: %s", cases[i].cmd, error->message);
      g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_LOGIN_REFUSED);
      g_assert_nonnull (strstr (error->message, "-ERR maildrop locked, try later"));
    }
}

static void
test_faults_no_uidl (void)
{
  g_autoptr (Faultpop) fp = faultpop_start ("--no-uidl", NULL);
  g_autoptr (BzPop3Session) session = connect_login (fp, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzPop3UidlList) uidls = NULL;
  g_autofree char *one = NULL;

  g_assert_false (bz_pop3_session_has_capability (session, "UIDL"));
  uidls = bz_pop3_session_uidl (session, NULL, &error);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_UIDL);
  g_assert_null (uidls);
  g_clear_error (&error);
  one = bz_pop3_test_uidl_one (session, 1, NULL, &error);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_UIDL);
  g_assert_null (one);
  g_clear_error (&error);
  /* A -ERR leaves the session usable. */
  g_assert_true (bz_pop3_test_noop (session, NULL, &error));
  g_assert_no_error (error);
}

/* faultpop's messages have CRLF line ends only, so the LIST size is the
 * retrieved size plus one byte per line. */
static void
fetch_and_check (Faultpop *fp, gboolean top, guint n)
{
  g_autoptr (BzPop3Session) session = connect_login (fp, 0);
  g_autoptr (BzTestSink) sink = bz_test_sink_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = NULL;
  g_autoptr (GArray) msgnos = g_array_new (FALSE, FALSE, sizeof (guint));

  list = bz_pop3_session_list (session, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, n);
  for (guint i = 1; i <= n; i++)
    g_array_append_val (msgnos, i);
  /* A message number that does not exist: -ERR to the sink, the rest go on. */
  g_array_insert_val (msgnos, n / 2, (guint){ 999 });
  g_assert_true (bz_pop3_session_fetch_many (session, (guint *) msgnos->data, msgnos->len, top, 2,
                                             &sink->parent, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sink->n_end, ==, n);
  g_assert_cmpuint (sink->n_fail, ==, 1);
  g_assert_cmpuint (g_array_index (sink->failed, guint, 0), ==, 999);
  g_assert_error (sink->last_fail, BZ_POP3_ERROR, BZ_POP3_ERROR_SERVER);
  for (guint i = 1; i <= n; i++)
    {
      GBytes *got = bz_test_sink_get (sink, i);
      g_autofree char *mid = NULL;
      g_autofree char *want_mid = NULL;
      const char *data;
      gsize len;
      gsize lines = 0;

      g_assert_nonnull (got);
      data = g_bytes_get_data (got, &len);
      for (gsize j = 0; j < len; j++)
        lines += data[j] == '\n';
      g_assert_null (g_strstr_len (data, len, "\r\n"));
      if (!top)
        g_assert_cmpuint (len + lines, ==, g_array_index (list, BzPop3ListEntry, i - 1).size);
      mid = bz_test_message_id (data, len);
      g_assert_nonnull (mid);
      want_mid = g_strdup_printf ("bz-%u-", i);
      g_assert_true (g_str_has_prefix (mid, want_mid));
    }
  g_assert_true (bz_pop3_session_quit (session, NULL, &error));
  g_assert_no_error (error);
}

static void
test_faults_no_pipelining (void)
{
  g_autoptr (Faultpop) fp = faultpop_start ("--no-pipelining", "--messages", "20", "--profile",
                                            "mixed", "--max-connections", "2", NULL);
  fetch_and_check (fp, FALSE, 20);
  fetch_and_check (fp, TRUE, 20);
}

static void
test_faults_pipelining (void)
{
  g_autoptr (Faultpop) fp = faultpop_start ("--messages", "40", "--profile", "mixed", NULL);
  fetch_and_check (fp, FALSE, 40);
}

/* The session dies before it is logged in: nothing may be freed twice. */
static void
test_faults_bad_greeting (void)
{
  g_autoptr (Faultpop) fp = faultpop_start ("--garbage-after", "GREETING", NULL);
  BzPop3SessionOptions options;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) error = NULL;

  options_init (&options, fp, BZ_SECURITY_NONE);
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_null (session);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL);
}

/* "+ " to AUTH PLAIN with an initial response makes us cancel with "*";
 * garbage after that is an error for the caller, not a crash. */
static void
test_faults_auth_continuation_garbage (void)
{
  /* "+ \r\n", then garbage as the answer to our "*" */
  g_autoptr (Faultpop) fp =
      faultpop_start ("--raw-after", "AUTH", "2b200d0a", "--garbage-after", "*", NULL);
  BzPop3SessionOptions options;
  g_autoptr (BzPop3Session) session = NULL;
  g_autoptr (GError) error = NULL;

  options_init (&options, fp, BZ_SECURITY_NONE);
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (
      bz_pop3_session_login (session, BZ_AUTH_SASL_PLAIN, "test", "secret", NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (g_str_has_prefix (error->message, "localhost: "));
}

/* "1 \tabc": a UIDL listing line without a UIDL is a protocol error, never
 * an entry without a name. */
static void
test_faults_empty_uidl (void)
{
  /* +OK\r\n1 \tabc\r\n.\r\n */
  g_autoptr (Faultpop) fp =
      faultpop_start ("--raw-after", "UIDL", "2b4f4b0d0a3120096162630d0a2e0d0a", NULL);
  g_autoptr (BzPop3Session) session = connect_login (fp, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzPop3UidlList) uidls = NULL;

  uidls = bz_pop3_session_uidl (session, NULL, &error);
  g_assert_null (uidls);
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_PROTOCOL);
  g_clear_error (&error);
  /* the listing was read to its end: the session is still in step */
  g_assert_true (bz_pop3_test_noop (session, NULL, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pop3/faults/no-stls", test_faults_no_stls);
  g_test_add_func ("/pop3/faults/stls", test_faults_stls);
  g_test_add_func ("/pop3/faults/plaintext-refused", test_faults_plaintext_refused);
  g_test_add_func ("/pop3/faults/drop-in-retr", test_faults_drop_in_retr);
  g_test_add_func ("/pop3/faults/garbage", test_faults_garbage);
  g_test_add_func ("/pop3/faults/bad-greeting", test_faults_bad_greeting);
  g_test_add_func ("/pop3/faults/auth-continuation-garbage", test_faults_auth_continuation_garbage);
  g_test_add_func ("/pop3/faults/empty-uidl", test_faults_empty_uidl);
  g_test_add_func ("/pop3/faults/long-line", test_faults_long_line);
  g_test_add_func ("/pop3/faults/stall", test_faults_stall);
  g_test_add_func ("/pop3/faults/stall-in-retr", test_faults_stall_in_retr);
  g_test_add_func ("/pop3/faults/resp-codes", test_faults_resp_codes);
  g_test_add_func ("/pop3/faults/login-refused", test_faults_login_refused);
  g_test_add_func ("/pop3/faults/no-uidl", test_faults_no_uidl);
  g_test_add_func ("/pop3/faults/no-pipelining", test_faults_no_pipelining);
  g_test_add_func ("/pop3/faults/pipelining", test_faults_pipelining);
  return g_test_run ();
}

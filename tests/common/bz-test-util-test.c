/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Self-test of the C test helpers, run through run-with-dovecot.py. */
#include "config.h"

#include "bz-test-util.h"

typedef struct
{
  GSocketConnection *conn;
  GDataInputStream *in;
  GOutputStream *out;
} BzTestPop3;

static void
bz_test_pop3_clear (BzTestPop3 *self)
{
  g_clear_object (&self->in);
  g_clear_object (&self->conn);
}

static char *
bz_test_pop3_line (BzTestPop3 *self)
{
  g_autoptr (GError) error = NULL;
  char *line = g_data_input_stream_read_line_utf8 (self->in, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (line);
  if (g_str_has_suffix (line, "\r"))
    line[strlen (line) - 1] = '\0';
  return line;
}

static char *
bz_test_pop3_cmd (BzTestPop3 *self, const char *cmd)
{
  g_autofree char *wire = g_strdup_printf ("%s\r\n", cmd);
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (self->out, wire, strlen (wire), NULL, NULL, &error);
  g_assert_no_error (error);
  return bz_test_pop3_line (self);
}

static void
bz_test_pop3_connect (BzTestPop3 *self, guint16 port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *greeting = NULL;

  g_socket_client_set_timeout (client, 10);
  self->conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  self->in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (self->conn)));
  g_data_input_stream_set_newline_type (self->in, G_DATA_STREAM_NEWLINE_TYPE_LF);
  self->out = g_io_stream_get_output_stream (G_IO_STREAM (self->conn));
  greeting = bz_test_pop3_line (self);
  g_assert_true (g_str_has_prefix (greeting, "+OK"));
}

static void
test_env (void)
{
  g_assert_cmpstr (bz_test_env ("BZ_TEST_HOST"), ==, "localhost");
  g_assert_cmpuint (bz_test_env_port ("BZ_TEST_POP3_PORT"), >, 0);
  g_assert_cmpuint (bz_test_env_port ("BZ_TEST_POP3S_PORT"), !=,
                    bz_test_env_port ("BZ_TEST_POP3_PORT"));
  g_assert_cmpuint (strlen (bz_test_env ("BZ_TEST_PIN_SHA256")), ==, 64);
}

static void
test_normalize_crlf (void)
{
  const char in[] = "a\r\nb\rc\r\n\r\n.\r";
  gsize len = 0;
  g_autofree char *out = bz_test_normalize_crlf (in, sizeof in - 1, &len);
  g_autofree char *empty = bz_test_normalize_crlf ("", 0, NULL);

  g_assert_cmpstr (out, ==, "a\nb\rc\n\n.\r");
  g_assert_cmpuint (len, ==, strlen ("a\nb\rc\n\n.\r"));
  g_assert_cmpstr (empty, ==, "");
}

static void
test_mailgen (void)
{
  g_autofree char *dir = bz_test_mkdtemp ("mailgen-XXXXXX");
  g_autofree char *maildir = g_build_filename (dir, "Maildir", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mails = NULL;

  g_assert_true (g_str_has_prefix (dir, bz_test_env ("BZ_TEST_TMPDIR")));
  mails = bz_test_mailgen (maildir, 4, 9, 10, "small", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mails->len, ==, 4);
  for (guint i = 0; i < mails->len; i++)
    {
      BzTestMail *mail = g_ptr_array_index (mails, i);
      g_autofree char *want_id = g_strdup_printf ("bz-%u-9@test.buzon", 10 + i);
      g_autofree char *contents = NULL;
      g_autofree char *header = g_strdup_printf ("Message-ID: <%s>\n", want_id);
      gsize len = 0;

      g_assert_cmpstr (mail->message_id, ==, want_id);
      g_assert_true (g_file_get_contents (mail->path, &contents, &len, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (len, ==, mail->size);
      g_assert_nonnull (strstr (contents, header));
      g_assert_null (strstr (contents, "\r\n"));
    }
}

static void
test_fill_user_and_stat (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) mails = NULL;
  g_autofree char *user_cmd = g_strdup ("USER test9");
  g_autofree char *pass_cmd = g_strdup_printf ("PASS %s", bz_test_env ("BZ_TEST_PASSWORD"));
  g_autofree char *r1 = NULL;
  g_autofree char *r2 = NULL;
  g_autofree char *stat = NULL;
  g_autofree char *want = NULL;
  g_autofree char *bye = NULL;
  BzTestPop3 pop = { 0 };

  g_assert_true (bz_test_fill_user ("test9", 3, 1, 1, "small", &mails, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mails->len, ==, 3);

  bz_test_pop3_connect (&pop, bz_test_env_port ("BZ_TEST_POP3_PORT"));
  r1 = bz_test_pop3_cmd (&pop, user_cmd);
  g_assert_true (g_str_has_prefix (r1, "+OK"));
  r2 = bz_test_pop3_cmd (&pop, pass_cmd);
  g_assert_true (g_str_has_prefix (r2, "+OK"));
  stat = bz_test_pop3_cmd (&pop, "STAT");
  want = g_strdup_printf ("+OK %u ", mails->len);
  g_assert_true (g_str_has_prefix (stat, want));
  bye = bz_test_pop3_cmd (&pop, "QUIT");
  g_assert_true (g_str_has_prefix (bye, "+OK"));
  bz_test_pop3_clear (&pop);
}

static void
bz_test_exited_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  gboolean *exited = user_data;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_subprocess_wait_finish (G_SUBPROCESS (source), res, &error));
  g_assert_no_error (error);
  *exited = TRUE;
}

static gboolean
bz_test_flag_cond (gpointer user_data)
{
  return *(gboolean *) user_data;
}

static void
test_faultpop (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *user = NULL;
  g_autofree char *pass = NULL;
  g_autofree char *stat = NULL;
  g_autofree char *bye = NULL;
  guint16 port = 0;
  gboolean exited = FALSE;
  BzTestPop3 pop = { 0 };

  proc = bz_test_faultpop_start (&port, &error, "--messages", "7", "--lifetime", "20", NULL);
  g_assert_no_error (error);
  g_assert_nonnull (proc);
  g_assert_cmpuint (port, >, 0);

  bz_test_pop3_connect (&pop, port);
  user = bz_test_pop3_cmd (&pop, "USER test");
  g_assert_true (g_str_has_prefix (user, "+OK"));
  pass = bz_test_pop3_cmd (&pop, "PASS secret");
  g_assert_true (g_str_has_prefix (pass, "+OK"));
  stat = bz_test_pop3_cmd (&pop, "STAT");
  g_assert_true (g_str_has_prefix (stat, "+OK 7 "));
  bye = bz_test_pop3_cmd (&pop, "QUIT");
  g_assert_true (g_str_has_prefix (bye, "+OK"));
  bz_test_pop3_clear (&pop);

  /* --max-connections defaults to 1: it must go away by itself */
  g_subprocess_wait_async (proc, NULL, bz_test_exited_cb, &exited);
  g_assert_true (bz_test_wait_until (bz_test_flag_cond, &exited, 5000));
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
}

static void
test_faultpop_bad_args (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  const char *args[] = { "--no-such-flag", NULL };
  guint16 port = 0;

  g_test_message ("faultpop's usage error below is expected");
  proc = bz_test_faultpop_startv (args, &port, &error);
  g_assert_null (proc);
  g_assert_error (error, BZ_TEST_ERROR, BZ_TEST_ERROR_FAILED);
  g_assert_cmpuint (port, ==, 0);
}

static void
test_wait_until_timeout (void)
{
  gboolean never = FALSE;
  gint64 start = g_get_monotonic_time ();

  g_assert_false (bz_test_wait_until (bz_test_flag_cond, &never, 100));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/test-util/env", test_env);
  g_test_add_func ("/test-util/normalize-crlf", test_normalize_crlf);
  g_test_add_func ("/test-util/mailgen", test_mailgen);
  g_test_add_func ("/test-util/fill-user-and-stat", test_fill_user_and_stat);
  g_test_add_func ("/test-util/faultpop", test_faultpop);
  g_test_add_func ("/test-util/faultpop-bad-args", test_faultpop_bad_args);
  g_test_add_func ("/test-util/wait-until-timeout", test_wait_until_timeout);
  return g_test_run ();
}

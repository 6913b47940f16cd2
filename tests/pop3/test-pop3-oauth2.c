/* SPDX-License-Identifier: GPL-3.0-or-later */
/* SASL XOAUTH2 and OAUTHBEARER against faultpop.py --oauth2, which speaks
 * them as Gmail (both, challenge on refusal) and Outlook (XOAUTH2 only,
 * "-ERR Protocol error" for a long initial response, "-ERR Authentication
 * failure" on refusal) do. */
#include "config.h"

#include <string.h>

#include "bz-pop3-session.h"
#include "bz-pop3-test-commands.h"
#include "bz-test-util.h"

#define USER "test"

typedef struct
{
  GSubprocess *proc;
  guint16 port;
  char *dir;
  char *log_path;
} Server;

static void
server_free (Server *srv)
{
  g_subprocess_force_exit (srv->proc);
  g_subprocess_wait (srv->proc, NULL, NULL);
  g_object_unref (srv->proc);
  g_free (srv->log_path);
  g_free (srv->dir);
  g_free (srv);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_free)

static Server *
server_start (const char *style, const char *token)
{
  g_autoptr (GError) error = NULL;
  Server *srv = g_new0 (Server, 1);

  srv->dir = bz_test_mkdtemp ("oauth2-pop-XXXXXX");
  srv->log_path = g_build_filename (srv->dir, "commands.log", NULL);
  srv->proc = bz_test_faultpop_start (&srv->port, &error, "--oauth2", style, "--token", token,
                                      "--user", USER, "--log", srv->log_path, "--lifetime", "30",
                                      "--max-connections", "4", NULL);
  g_assert_no_error (error);
  return srv;
}

/* A token as long as Microsoft's (1,500 characters). */
static char *
long_token (char c)
{
  g_autoptr (GString) t = g_string_new ("EwB");
  while (t->len < 1500)
    g_string_append_c (t, c);
  return g_string_free (g_steal_pointer (&t), FALSE);
}

static BzPop3Session *
connect_to (Server *srv, gboolean initial_response)
{
  BzPop3SessionOptions options = { 0 };
  g_autoptr (GError) error = NULL;
  BzPop3Session *session;

  options.net.host = "127.0.0.1";
  options.net.port = srv->port;
  options.net.connect_timeout_ms = 10000;
  options.net.io_timeout_ms = 10000;
  options.security = BZ_SECURITY_NONE;
  options.allow_plaintext = TRUE;
  options.sasl_initial_response = initial_response;
  session = bz_pop3_session_connect (&options, NULL, &error);
  g_assert_no_error (error);
  return session;
}

/* The server's log once it has written @want (it writes per line). */
static gboolean
log_has (gpointer data)
{
  const char *const *args = data;
  g_autofree char *log = NULL;

  return g_file_get_contents (args[0], &log, NULL, NULL) && strstr (log, args[1]) != NULL;
}

static void
assert_log (Server *srv, const char *want, const char *token)
{
  const char *args[] = { srv->log_path, want };
  g_autofree char *log = NULL;

  g_assert_true (bz_test_wait_until (log_has, args, 10000));
  g_assert_true (g_file_get_contents (srv->log_path, &log, NULL, NULL));
  /* the token never reaches the server's command log */
  g_assert_null (strstr (log, token));
}

static void
login_ok (const char *style, BzAuthMethod method, gboolean one_step, const char *token,
          const char *want_log, const char *want_used)
{
  g_autoptr (Server) srv = server_start (style, token);
  g_autoptr (BzPop3Session) session = connect_to (srv, one_step);
  g_autoptr (GError) error = NULL;
  guint count = 0;
  guint64 octets = 0;

  g_assert_true (bz_pop3_session_login_oauth2 (session, method, USER, token, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (bz_pop3_session_get_auth_used (session), ==, want_used);
  g_assert_true (bz_pop3_test_stat (session, &count, &octets, NULL, &error));
  g_assert_cmpuint (count, ==, 5);
  bz_pop3_session_quit (session, NULL, NULL);
  assert_log (srv, want_log, token);
}

static void
test_google_auto_oauthbearer (void)
{
  login_ok ("google", BZ_AUTH_AUTO, FALSE, "ya29.short", "OAUTH2 OAUTHBEARER two-step ok",
            "OAUTHBEARER");
}

static void
test_google_xoauth2_two_step (void)
{
  login_ok ("google", BZ_AUTH_XOAUTH2, FALSE, "ya29.short", "OAUTH2 XOAUTH2 two-step ok",
            "XOAUTH2");
}

static void
test_google_one_step (void)
{
  login_ok ("google", BZ_AUTH_XOAUTH2, TRUE, "ya29.short", "OAUTH2 XOAUTH2 one-step ok", "XOAUTH2");
  login_ok ("google", BZ_AUTH_OAUTHBEARER, TRUE, "ya29.short", "OAUTH2 OAUTHBEARER one-step ok",
            "OAUTHBEARER");
}

static void
test_microsoft_long_token (void)
{
  g_autofree char *token = long_token ('q');

  /* auto: Outlook offers XOAUTH2 only */
  login_ok ("microsoft", BZ_AUTH_AUTO, FALSE, token, "OAUTH2 XOAUTH2 two-step ok", "XOAUTH2");
  /* even when initial responses are allowed, a line over 255 octets is
   * never sent (Outlook would answer -ERR Protocol error) */
  login_ok ("microsoft", BZ_AUTH_AUTO, TRUE, token, "OAUTH2 XOAUTH2 two-step ok", "XOAUTH2");
}

static void
test_microsoft_no_oauthbearer (void)
{
  g_autoptr (Server) srv = server_start ("microsoft", "tok");
  g_autoptr (BzPop3Session) session = connect_to (srv, FALSE);
  g_autoptr (GError) error = NULL;

  g_assert_false (
      bz_pop3_session_login_oauth2 (session, BZ_AUTH_OAUTHBEARER, USER, "tok", NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD);
}

static void
refused (const char *style, BzAuthMethod method, const char *want_log, const char *want_msg)
{
  g_autofree char *good = long_token ('g');
  g_autofree char *bad = long_token ('b');
  g_autoptr (Server) srv = server_start (style, good);
  g_autoptr (BzPop3Session) session = connect_to (srv, FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (BzPop3Session) again = NULL;

  g_assert_false (bz_pop3_session_login_oauth2 (session, method, USER, bad, NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, want_msg));
  g_assert_null (strstr (error->message, bad));
  assert_log (srv, want_log, bad);
  /* the session stayed in step: QUIT is answered */
  g_assert_true (bz_pop3_session_quit (session, NULL, NULL));
  /* and a new login with the right token works */
  again = connect_to (srv, FALSE);
  g_clear_error (&error);
  g_assert_true (bz_pop3_session_login_oauth2 (again, method, USER, good, NULL, &error));
  g_assert_no_error (error);
  bz_pop3_session_quit (again, NULL, NULL);
}

static void
test_google_refused_xoauth2 (void)
{
  refused ("google", BZ_AUTH_XOAUTH2, "OAUTH2 XOAUTH2 challenge-answer ok", "(status 401)");
}

static void
test_google_refused_oauthbearer (void)
{
  refused ("google", BZ_AUTH_OAUTHBEARER, "OAUTH2 OAUTHBEARER challenge-answer ok", "(status 401)");
}

static void
test_microsoft_refused (void)
{
  refused ("microsoft", BZ_AUTH_XOAUTH2, "OAUTH2 XOAUTH2 two-step refused",
           "Authentication failure");
}

static void
test_password_login_refuses_oauth (void)
{
  g_autoptr (Server) srv = server_start ("google", "tok");
  g_autoptr (BzPop3Session) session = connect_to (srv, FALSE);
  g_autoptr (GError) error = NULL;

  g_assert_false (bz_pop3_session_login (session, BZ_AUTH_XOAUTH2, USER, "password", NULL, &error));
  g_assert_error (error, BZ_POP3_ERROR, BZ_POP3_ERROR_NO_AUTH_METHOD);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pop3/oauth2/google-auto-oauthbearer", test_google_auto_oauthbearer);
  g_test_add_func ("/pop3/oauth2/google-xoauth2-two-step", test_google_xoauth2_two_step);
  g_test_add_func ("/pop3/oauth2/google-one-step", test_google_one_step);
  g_test_add_func ("/pop3/oauth2/microsoft-long-token", test_microsoft_long_token);
  g_test_add_func ("/pop3/oauth2/microsoft-no-oauthbearer", test_microsoft_no_oauthbearer);
  g_test_add_func ("/pop3/oauth2/google-refused-xoauth2", test_google_refused_xoauth2);
  g_test_add_func ("/pop3/oauth2/google-refused-oauthbearer", test_google_refused_oauthbearer);
  g_test_add_func ("/pop3/oauth2/microsoft-refused", test_microsoft_refused);
  g_test_add_func ("/pop3/oauth2/password-login-refuses-oauth", test_password_login_refuses_oauth);
  return g_test_run ();
}

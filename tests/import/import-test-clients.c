/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers of the import suite's dovecot cases: running programs (bounded),
 * buzonctl with a case's folders, the real mpop, getmail and fetchmail,
 * and RETRs counted from dovecot's log. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "import-test-clients.h"

/* Generous: each program talks to a loopback server; this only stops a
 * hung program well before meson's timeout. */
#define PROGRAM_TIMEOUT_MS (120 * 1000)

void
result_free (Result *r)
{
  g_free (r->out);
  g_free (r->err);
  g_free (r);
}

typedef struct
{
  GSubprocess *proc;
  gboolean done;
  char *out;
  char *err;
  GError *error;
} Running;

static void
communicate_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Running *r = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &r->out, &r->err, &r->error);
  r->done = TRUE;
}

static gboolean
running_done (gpointer data)
{
  return ((Running *) data)->done;
}

/* Runs @argv with @envp (NULL: ours) and @cwd, bounded; stdin is empty. */
Result *
run_program (const char *const *argv, const char *const *envp, const char *cwd)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GError) error = NULL;
  Running r = { 0 };
  Result *res = g_new0 (Result, 1);
  g_autofree char *cmd = g_strjoinv (" ", (char **) argv);

  if (envp != NULL)
    g_subprocess_launcher_set_environ (launcher, (char **) envp);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);
  r.proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (r.proc, "", NULL, communicate_cb, &r);
  if (!bz_test_wait_until (running_done, &r, PROGRAM_TIMEOUT_MS))
    {
      g_subprocess_force_exit (r.proc);
      bz_test_wait_until (running_done, &r, 10 * 1000);
      g_error ("%s did not finish", cmd);
    }
  g_assert_no_error (r.error);
  g_subprocess_wait (r.proc, NULL, NULL);
  res->status = g_subprocess_get_if_exited (r.proc) ? g_subprocess_get_exit_status (r.proc)
                                                    : 128 + g_subprocess_get_term_sig (r.proc);
  res->out = r.out != NULL ? r.out : g_strdup ("");
  res->err = r.err != NULL ? r.err : g_strdup ("");
  g_test_message ("$ %s\n-> %d\nstdout:\n%sstderr:\n%s", cmd, res->status, res->out, res->err);
  g_object_unref (r.proc);
  return res;
}

/* buzonctl with the case's config and data folders. */
Result *
buzonctl (SyncCase *c, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) envp = g_get_environ ();
  va_list ap;

  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_TEST_BUZONCTL"));
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  envp = g_environ_setenv (envp, "XDG_CONFIG_HOME", c->config_home, TRUE);
  envp = g_environ_setenv (envp, "XDG_DATA_HOME", c->data_home, TRUE);
  envp = g_environ_setenv (envp, "LC_ALL", "C.UTF-8", TRUE);
  return run_program ((const char *const *) argv->pdata, (const char *const *) envp, NULL);
}

void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("\"%s\" not found in:\n%s", needle, haystack);
}

void
write_text (const char *path, const char *text, int mode)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

char *
home_path (const char *name)
{
  return g_build_filename (g_get_home_dir (), name, NULL);
}

void
fill (const char *user, guint count, guint start)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (bz_test_fill_user (user, count, 1, start, "small", NULL, &error));
  g_assert_no_error (error);
}

/* --- counting RETRs in dovecot's log ----------------------------------- */

gsize
log_offset (void)
{
  GStatBuf st;

  if (g_stat (bz_test_env ("BZ_TEST_DOVECOT_LOG"), &st) != 0)
    return 0;
  return (gsize) st.st_size;
}

typedef struct
{
  const char *user;
  gsize offset;
  guint sessions; /* "Logged out" lines of the user after offset */
  guint retr;     /* their retr= counts, summed */
} LogScan;

static gboolean
scan_log (gpointer data)
{
  LogScan *scan = data;
  g_autofree char *text = NULL;
  g_autofree char *tag = g_strdup_printf ("pop3(%s)", scan->user);
  gsize len = 0;
  g_auto (GStrv) lines = NULL;

  scan->sessions = 0;
  scan->retr = 0;
  if (!g_file_get_contents (bz_test_env ("BZ_TEST_DOVECOT_LOG"), &text, &len, NULL) ||
      len < scan->offset)
    return FALSE;
  lines = g_strsplit (text + scan->offset, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *retr;
      if (strstr (lines[i], tag) == NULL || strstr (lines[i], "Logged out") == NULL)
        continue;
      scan->sessions++;
      retr = strstr (lines[i], "retr=");
      g_assert_nonnull (retr);
      scan->retr += (guint) g_ascii_strtoull (retr + 5, NULL, 10);
    }
  return scan->sessions >= 1;
}

/* RETRs of @user's sessions logged after @offset: dovecot logs the
 * session's counts when it ends, so wait (bounded) for that line. */
guint
retrs_since (const char *user, gsize offset)
{
  LogScan scan = { user, offset, 0, 0 };

  g_assert_true (bz_test_wait_until (scan_log, &scan, 20 * 1000));
  g_assert_cmpuint (scan.sessions, ==, 1);
  return scan.retr;
}

/* buzond --once; returns the RETRs its session made. */
guint
sync_counting_retrs (SyncCase *c, const char *user, const char *now)
{
  gsize offset = log_offset ();
  g_autoptr (SyncRun) run = sync_case_run (c, now, NULL);

  g_assert_cmpint (run->status, ==, 0);
  return retrs_since (user, offset);
}

/* --- the real clients --------------------------------------------------- */

void
run_mpop (const char *user)
{
  g_autofree char *rc = home_path (".mpoprc");
  g_autofree char *pw = home_path ("mpop-password");
  g_autofree char *mail = home_path ("mpop-mail");
  g_autofree char *text = NULL;
  g_autoptr (Result) r = NULL;
  const char *argv[] = { "mpop", "-q", NULL };

  write_text (pw, bz_test_env ("BZ_TEST_PASSWORD"), 0600);
  for (const char *sub = "tmp"; sub != NULL; sub = g_strcmp0 (sub, "tmp") == 0   ? "new"
                                                   : g_strcmp0 (sub, "new") == 0 ? "cur"
                                                                                 : NULL)
    {
      g_autofree char *d = g_build_filename (mail, sub, NULL);
      g_assert_cmpint (g_mkdir_with_parents (d, 0700), ==, 0);
    }
  text = g_strdup_printf ("account default\n"
                          "host localhost\n"
                          "port %u\n"
                          "tls on\n"
                          "tls_starttls off\n"
                          "tls_trust_file %s\n"
                          "user %s\n"
                          "passwordeval cat %s\n"
                          "delivery maildir %s\n"
                          "keep on\n",
                          bz_test_env_port ("BZ_TEST_POP3S_PORT"), bz_test_env ("BZ_TEST_CA_FILE"),
                          user, pw, mail);
  write_text (rc, text, 0600);
  r = run_program (argv, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
}

void
run_getmail (const char *user, guint max_messages, const char *host, guint16 port,
             const char *password, gboolean tls)
{
  g_autofree char *dir = home_path (".getmail");
  g_autofree char *rc = g_build_filename (dir, "getmailrc", NULL);
  g_autofree char *pw = home_path ("getmail-password");
  g_autofree char *text = NULL;
  g_autoptr (Result) r = NULL;
  const char *argv[] = { "getmail", "--getmaildir", dir, "--quiet", NULL };

  write_text (pw, password, 0600);
  text = g_strdup_printf ("[retriever]\n"
                          "type = %s\n"
                          "server = %s\n"
                          "port = %u\n"
                          "username = %s\n"
                          "password_command = (\"/bin/cat\", \"%s\")\n"
                          "%s%s\n"
                          "[destination]\n"
                          "type = MDA_external\n"
                          "path = /bin/sh\n"
                          "arguments = (\"-c\", \"cat > /dev/null\")\n"
                          "allow_root_commands = true\n"
                          "[options]\n"
                          "read_all = false\n"
                          "delete = false\n"
                          "max_messages_per_session = %u\n",
                          tls ? "SimplePOP3SSLRetriever" : "SimplePOP3Retriever", host, port, user,
                          pw, tls ? "ssl_ca_certs = " : "",
                          tls ? bz_test_env ("BZ_TEST_CA_FILE") : "", max_messages);
  write_text (rc, text, 0600);
  r = run_program (argv, NULL, NULL);
  g_assert_cmpint (r->status, ==, 0);
}

void
run_fetchmail (const char *user, guint limit)
{
  g_autofree char *rc = home_path (".fetchmailrc");
  g_autofree char *text = NULL;
  g_autoptr (Result) r = NULL;
  const char *argv[] = { "fetchmail", "-f", rc, "--nodetach", "--nosyslog", NULL };

  /* single quotes: the harness password holds a double quote */
  text = g_strdup_printf ("poll localhost protocol pop3 port %u uidl\n"
                          "  user \"%s\" password '%s' ssl sslcertck sslcertfile \"%s\"\n"
                          "  keep fetchlimit %u mda \"cat > /dev/null\"\n",
                          bz_test_env_port ("BZ_TEST_POP3S_PORT"), user,
                          bz_test_env ("BZ_TEST_PASSWORD"), bz_test_env ("BZ_TEST_CA_FILE"), limit);
  write_text (rc, text, 0600);
  r = run_program (argv, NULL, NULL);
  /* 0: mail delivered; 13: fetchlimit reached with mail left */
  g_assert_true (r->status == 0 || r->status == 13);
}

/* The server's UIDLs of @user in message order (Python's poplib). */
GStrv
server_uidls (const char *user)
{
  const char *script = "import os, poplib, sys\n"
                       "p = poplib.POP3('localhost', int(os.environ['BZ_TEST_POP3_PORT']))\n"
                       "p.user(sys.argv[1])\n"
                       "p.pass_(os.environ['BZ_TEST_PASSWORD'])\n"
                       "for line in p.uidl()[1]:\n"
                       "    print(line.decode().split()[1])\n"
                       "p.quit()\n";
  const char *argv[] = { bz_test_env ("BZ_TEST_PYTHON"), "-c", script, user, NULL };
  g_autoptr (Result) r = run_program (argv, NULL, NULL);

  g_assert_cmpint (r->status, ==, 0);
  g_strchomp (r->out);
  return g_strsplit (r->out, "\n", -1);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync-test-common.h"

/* buzond syncs 1,000 messages in about a second; this only catches hangs
 * well before meson's own timeout. */
#define RUN_TIMEOUT_S 150

SyncCase *
sync_case_new (void)
{
  SyncCase *c = g_new0 (SyncCase, 1);
  g_autofree char *buzon_conf = NULL;
  const char *password = bz_test_env ("BZ_TEST_PASSWORD");
  g_autoptr (GError) error = NULL;

  c->dir = bz_test_mkdtemp ("sync-XXXXXX");
  c->config_home = g_build_filename (c->dir, "config", NULL);
  c->data_home = g_build_filename (c->dir, "data", NULL);
  buzon_conf = g_build_filename (c->config_home, "buzon", NULL);
  g_assert_cmpint (g_mkdir_with_parents (buzon_conf, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (c->data_home, 0700), ==, 0);
  c->config_path = g_build_filename (buzon_conf, "accounts.conf", NULL);
  c->password_file = g_build_filename (c->dir, "password", NULL);
  /* No line end: password-command takes the first line either way. */
  g_file_set_contents (c->password_file, password, -1, &error);
  g_assert_no_error (error);
  return c;
}

void
sync_case_free (SyncCase *c)
{
  g_free (c->dir);
  g_free (c->config_home);
  g_free (c->data_home);
  g_free (c->config_path);
  g_free (c->password_file);
  g_free (c);
}

void
sync_run_free (SyncRun *run)
{
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

void
sync_case_write_config (SyncCase *c, const char *text)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (c->config_path, text, -1, &error);
  g_assert_no_error (error);
}

char *
sync_case_dovecot_account (SyncCase *c, const char *name, const char *user, const char *extra)
{
  return g_strdup_printf ("[account %s]\n"
                          "host = localhost\n"
                          "port = %u\n"
                          "security = none\n"
                          "user = %s\n"
                          "auth = user\n"
                          "password-command = cat %s\n"
                          "timeout = 20\n"
                          "%s\n",
                          name, bz_test_env_port ("BZ_TEST_POP3_PORT"), user, c->password_file,
                          extra != NULL ? extra : "");
}

char *
sync_case_faultpop_account (SyncCase *c, const char *name, guint16 port, const char *extra)
{
  g_autofree char *pw = g_build_filename (c->dir, "faultpop-password", NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (pw, "secret\n", -1, &error);
  g_assert_no_error (error);
  return g_strdup_printf ("[account %s]\n"
                          "host = 127.0.0.1\n"
                          "port = %u\n"
                          "security = none\n"
                          "user = test\n"
                          "auth = user\n"
                          "password-command = cat %s\n"
                          "%s\n",
                          name, port, pw, extra != NULL ? extra : "");
}

char *
sync_case_maildir (SyncCase *c, const char *name)
{
  return g_build_filename (c->data_home, "buzon", "mail", name, NULL);
}

char *
sync_case_db_path (SyncCase *c)
{
  return g_build_filename (c->data_home, "buzon", "buzon.db", NULL);
}

static char *
read_file_or_empty (const char *path)
{
  char *data = NULL;

  if (!g_file_get_contents (path, &data, NULL, NULL))
    return g_strdup ("");
  return data;
}

SyncRun *
sync_case_run (SyncCase *c, const char *now, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) envp = g_get_environ ();
  g_autofree char *out_path = g_build_filename (c->dir, "buzond.out", NULL);
  g_autofree char *err_path = g_build_filename (c->dir, "buzond.err", NULL);
  g_autofree char *rss_path = g_build_filename (c->dir, "buzond.rss", NULL);
  g_autofree char *rss = NULL;
  g_autoptr (GError) error = NULL;
  SyncRun *run = g_new0 (SyncRun, 1);
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + RUN_TIMEOUT_S * G_USEC_PER_SEC;
  int out_fd, err_fd, wstatus = 0;
  GPid pid;
  pid_t r;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_TEST_RSS_HELPER"));
  g_ptr_array_add (argv, rss_path);
  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_TEST_BUZOND"));
  g_ptr_array_add (argv, (gpointer) "--once");
  va_start (ap, now);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  envp = g_environ_setenv (envp, "XDG_CONFIG_HOME", c->config_home, TRUE);
  envp = g_environ_setenv (envp, "XDG_DATA_HOME", c->data_home, TRUE);
  envp = g_environ_unsetenv (envp, "BUZON_TEST_NOW");
  if (now != NULL)
    envp = g_environ_setenv (envp, "BUZON_TEST_NOW", now, TRUE);

  out_fd = open (out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  err_fd = open (err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (out_fd, >=, 0);
  g_assert_cmpint (err_fd, >=, 0);
  /* Through sync-rss-helper, which reports the peak RSS of buzond alone
   * (see there why). */
  g_spawn_async_with_fds (NULL, (char **) argv->pdata, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                          &pid, -1, out_fd, err_fd, &error);
  g_assert_no_error (error);
  close (out_fd);
  close (err_fd);

  for (;;)
    {
      r = waitpid (pid, &wstatus, WNOHANG);
      if (r == pid)
        break;
      g_assert_true (r == 0 || errno == EINTR);
      if (g_get_monotonic_time () > deadline)
        {
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
          g_error ("buzond did not finish within %d s:\n%s", RUN_TIMEOUT_S,
                   read_file_or_empty (err_path));
        }
      g_usleep (5000);
    }
  g_spawn_close_pid (pid);
  run->seconds = (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC;
  if (g_file_get_contents (rss_path, &rss, NULL, NULL))
    run->maxrss_kb = g_ascii_strtoll (rss, NULL, 10);
  if (WIFEXITED (wstatus))
    run->status = WEXITSTATUS (wstatus);
  else
    run->status = 128 + WTERMSIG (wstatus);
  run->out = read_file_or_empty (out_path);
  run->err = read_file_or_empty (err_path);
  g_test_message ("buzond exited %d after %.2f s, peak RSS %ld KiB\nstdout:\n%sstderr:\n%s",
                  run->status, run->seconds, run->maxrss_kb, run->out, run->err);
  return run;
}

char *
sync_run_summary (SyncRun *run, const char *name)
{
  static char line[4096];
  g_auto (GStrv) lines = g_strsplit (run->out, "\n", -1);
  g_autofree char *prefix = g_strdup_printf ("%s: ", name);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], prefix))
        {
          g_strlcpy (line, lines[i], sizeof line);
          return line;
        }
    }
  return NULL;
}

/* The Message-ID of the header block of @data, without brackets. */
static char *
find_message_id (const char *data, gsize len)
{
  const char *p = data, *end = data + len;

  while (p < end && *p != '\n')
    {
      const char *eol = memchr (p, '\n', end - p);
      if (eol == NULL)
        eol = end;
      if (eol - p > 11 && g_ascii_strncasecmp (p, "Message-ID:", 11) == 0)
        {
          g_autofree char *v = g_strndup (p + 11, eol - p - 11);
          g_strstrip (v);
          if (v[0] == '<')
            memmove (v, v + 1, strlen (v));
          if (g_str_has_suffix (v, ">"))
            v[strlen (v) - 1] = '\0';
          return g_steal_pointer (&v);
        }
      p = eol + 1;
    }
  return NULL;
}

GHashTable *
sync_maildir_scan (const char *maildir, guint *n_files_out)
{
  GHashTable *ids =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  const char *subdirs[] = { "new", "cur" };
  guint n = 0;

  for (guint s = 0; s < G_N_ELEMENTS (subdirs); s++)
    {
      g_autofree char *dir_path = g_build_filename (maildir, subdirs[s], NULL);
      g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
      const char *name;

      if (dir == NULL)
        continue;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir_path, name, NULL);
          g_autofree char *data = NULL;
          g_autofree char *id = NULL;
          gsize len = 0;
          GPtrArray *paths;
          g_autoptr (GError) error = NULL;

          g_file_get_contents (path, &data, &len, &error);
          g_assert_no_error (error);
          id = find_message_id (data, len);
          if (id == NULL)
            id = g_strdup_printf ("(no Message-ID: %s)", name);
          paths = g_hash_table_lookup (ids, id);
          if (paths == NULL)
            {
              paths = g_ptr_array_new_with_free_func (g_free);
              g_hash_table_insert (ids, g_strdup (id), paths);
            }
          g_ptr_array_add (paths, g_steal_pointer (&path));
          n++;
        }
    }
  if (n_files_out != NULL)
    *n_files_out = n;
  return ids;
}

char *
sync_file_checksum (const char *path)
{
  g_autofree char *data = NULL;
  g_autofree char *norm = NULL;
  gsize len = 0, norm_len = 0;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  norm = bz_test_normalize_crlf (data, len, &norm_len);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) norm, norm_len);
}

GHashTable *
sync_mails_checksums (GPtrArray *mails)
{
  GHashTable *sums = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < mails->len; i++)
    {
      BzTestMail *m = g_ptr_array_index (mails, i);
      g_hash_table_insert (sums, g_strdup (m->message_id), sync_file_checksum (m->path));
    }
  return sums;
}

guint
sync_assert_maildir_matches (const char *maildir, GHashTable *sources)
{
  guint n_files = 0;
  g_autoptr (GHashTable) ids = sync_maildir_scan (maildir, &n_files);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, ids);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *paths = value;
      const char *want = g_hash_table_lookup (sources, key);
      g_autofree char *got = NULL;

      if (want == NULL)
        g_error ("%s: unexpected message %s (%s)", maildir, (char *) key,
                 (char *) g_ptr_array_index (paths, 0));
      if (paths->len != 1)
        g_error ("%s: message %s stored %u times (%s, %s)", maildir, (char *) key, paths->len,
                 (char *) g_ptr_array_index (paths, 0), (char *) g_ptr_array_index (paths, 1));
      got = sync_file_checksum (g_ptr_array_index (paths, 0));
      if (g_strcmp0 (want, got) != 0)
        g_error ("%s: %s differs from what the server has", maildir,
                 (char *) g_ptr_array_index (paths, 0));
    }
  g_hash_table_iter_init (&iter, sources);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (ids, key))
      g_error ("%s: message %s is missing", maildir, (char *) key);
  g_assert_cmpuint (n_files, ==, g_hash_table_size (sources));
  return n_files;
}

guint
sync_server_count (const char *user)
{
  const char *subdirs[] = { "new", "cur" };
  guint n = 0;

  for (guint s = 0; s < G_N_ELEMENTS (subdirs); s++)
    {
      g_autofree char *path =
          g_build_filename (bz_test_env ("BZ_TEST_MAIL_ROOT"), user, "Maildir", subdirs[s], NULL);
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);

      if (dir == NULL)
        continue;
      while (g_dir_read_name (dir) != NULL)
        n++;
    }
  return n;
}

guint
sync_db_count (SyncCase *c, const char *account, BzDbState state)
{
  g_autofree char *path = sync_case_db_path (c);
  g_autoptr (BzDb) db = NULL;
  g_autoptr (GError) error = NULL;
  guint counts[BZ_DB_STATE_LAST] = { 0 };

  db = bz_db_open (path, &error);
  g_assert_no_error (error);
  bz_db_count_states (db, account, counts, &error);
  g_assert_no_error (error);
  return counts[state];
}

GPtrArray *
sync_mailgen (const char *maildir, const char *first_arg, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GPtrArray) mails = g_ptr_array_new_with_free_func ((GDestroyNotify) bz_test_mail_free);
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_TEST_PYTHON"));
  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_TEST_MAILGEN"));
  g_ptr_array_add (argv, (gpointer) "--maildir");
  g_ptr_array_add (argv, (gpointer) maildir);
  va_start (ap, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  proc =
      g_subprocess_newv ((const char *const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = NULL;
      BzTestMail *m;

      if (lines[i][0] == '\0')
        continue;
      f = g_strsplit (lines[i], "\t", -1);
      g_assert_cmpuint (g_strv_length (f), ==, 3);
      m = g_new0 (BzTestMail, 1);
      m->message_id = g_strdup (f[0]);
      m->path = g_strdup (f[1]);
      m->size = g_ascii_strtoull (f[2], NULL, 10);
      g_ptr_array_add (mails, m);
    }
  return g_steal_pointer (&mails);
}

GSubprocess *
sync_case_spawn (SyncCase *c, ...)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;
  va_list ap;

  g_ptr_array_add (argv, (gpointer) bz_test_env ("BZ_TEST_BUZOND"));
  g_ptr_array_add (argv, (gpointer) "--once");
  va_start (ap, c);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", c->config_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", c->data_home, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "BUZON_TEST_NOW");
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  return proc;
}

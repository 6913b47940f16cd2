/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzonctl set-password / forget-password against a real
 * gnome-keyring-daemon, and the logins they enable against dovecot and
 * faultpop (through buzond --once), with the whole bus recorded by
 * dbus-monitor to prove no password crosses it in the clear. Also the
 * "buzond is not running" answer of the daemon commands: no buzond runs
 * on this test's bus. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "bz-account.h"
#include "bz-ctl-test-util.h"
#include "bz-secrets-test-util.h"
#include "bz-test-util.h"

/* spaces, both quotes, a backslash and non-ASCII, for faultpop; the
 * letter-digit runs are unlikely anywhere else, for the leak checks */
#define UNICODE_PASSWORD "Xy7q w9 'Kp3z' \"Rt5v\" b\\s ünï€ 日本語"

static char *config_path;
static char *data_dir;
static guint16 faultpop_port;

static char *
lookup (const char *name, const char *host, const char *user, GError **error)
{
  g_autoptr (BzAccount) account = bz_account_new ();

  account->name = g_strdup (name);
  account->host = g_strdup (host);
  account->user = g_strdup (user);
  return bz_secrets_test_lookup_sync (account, NULL, error);
}

static void
assert_no_substring (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) != NULL)
    g_error ("\"%s\" was shown on the terminal:\n%s", needle, haystack);
}

static void
test_not_running (void)
{
  const char *commands[][4] = {
    { "status", NULL },   { "status", "--json", NULL },
    { "sync", NULL },     { "sync", "kr1", "--wait", NULL },
    { "messages", NULL }, { "watch", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr (CtlResult) r = ctl_run (commands[i][0], commands[i][1], commands[i][2], NULL);

      g_assert_cmpint (r->status, ==, 2);
      g_assert_cmpstr (r->out, ==, "");
      g_assert_nonnull (strstr (r->err, "buzond is not running"));
      g_assert_nonnull (strstr (r->err, "systemctl --user start buzon"));
      /* one line, no GLib warnings stacked on top */
      g_assert_cmpint (strchr (r->err, '\n') - r->err + 1, ==, (gssize) strlen (r->err));
    }
}

/* DESIGN.md: buzonctl starts buzond by D-Bus activation when installed.
 * A second private bus whose service folder holds our activation file
 * stands in for an installed system. */
static void
test_activation (void)
{
  g_autofree char *dir = bz_test_mkdtemp ("activation-XXXXXX");
  g_autofree char *services = g_build_filename (dir, "services", NULL);
  g_autofree char *bus_conf = g_build_filename (dir, "bus.conf", NULL);
  g_autofree char *service = g_build_filename (services, "org.buzon.Agent1.service", NULL);
  g_autofree char *conf_text = NULL;
  g_autofree char *service_text = NULL;
  g_autofree char *address = NULL;
  g_autofree char *bus_address = NULL;
  g_autofree char *env_address = NULL;
  g_autoptr (GSubprocess) bus = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GVariant) pid_reply = NULL;
  g_autoptr (CtlResult) status = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { bz_test_env ("BZ_CTL_BUZONCTL"), "status", NULL };
  const char *envp[] = { NULL, NULL };
  guint32 pid = 0;
  int log_fd;

  g_assert_cmpint (g_mkdir_with_parents (services, 0700), ==, 0);
  bus_address = g_strdup_printf ("unix:path=%s/bus", dir);
  conf_text = g_strdup_printf (
      "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
      " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
      "<busconfig><type>session</type><listen>unix:path=%s/bus</listen>"
      "<servicedir>%s</servicedir><policy context=\"default\">"
      "<allow send_destination=\"*\"/><allow receive_sender=\"*\"/>"
      "<allow own=\"*\"/></policy></busconfig>\n",
      dir, services);
  g_file_set_contents (bus_conf, conf_text, -1, &error);
  g_assert_no_error (error);
  service_text = g_strdup_printf ("[D-BUS Service]\nName=org.buzon.Agent1\n"
                                  "Exec=%s --config %s\n",
                                  bz_test_env ("BZ_CTL_BUZOND"), config_path);
  g_file_set_contents (service, service_text, -1, &error);
  g_assert_no_error (error);

  {
    g_autoptr (GSubprocessLauncher) launcher =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

    /* what the activated buzond logs joins the log the leak check reads */
    log_fd = open (ctl_daemon_log_path (), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    g_assert_cmpint (log_fd, >=, 0);
    g_subprocess_launcher_take_stderr_fd (launcher, log_fd);
    g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
    /* the activated buzond inherits this: its session bus is the new one */
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", bus_address, TRUE);
    bus = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", "--nofork",
                                       "--print-address=1", "--config-file", bus_conf, NULL);
    g_assert_no_error (error);
  }
  /* dbus-daemon prints its address as soon as it listens */
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus));
  address = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (address);

  env_address = g_strdup_printf ("DBUS_SESSION_BUS_ADDRESS=%s", address);
  envp[0] = env_address;
  status = ctl_run_full (argv, NULL, envp);
  g_assert_cmpint (status->status, ==, 0);
  g_assert_nonnull (strstr (status->out, "kr1"));

  /* stop the activated buzond before its bus goes away */
  connection =
      g_dbus_connection_new_for_address_sync (address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  g_assert_no_error (error);
  pid_reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetConnectionUnixProcessID", g_variant_new ("(s)", "org.buzon.Agent1"),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (pid_reply, "(u)", &pid);
  g_assert_cmpuint (pid, >, 1);
  g_assert_cmpint (kill ((pid_t) pid, SIGTERM), ==, 0);
  for (guint i = 0; i < 200 && kill ((pid_t) pid, 0) == 0; i++)
    g_usleep (50 * 1000);
  g_assert_cmpint (kill ((pid_t) pid, 0), ==, -1);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  g_subprocess_send_signal (bus, SIGTERM);
  g_subprocess_wait (bus, NULL, NULL);
}

static void
test_usage (void)
{
  g_autoptr (CtlResult) help = ctl_run ("set-password", "--help", NULL);
  g_autoptr (CtlResult) none = ctl_run_input ("x\n", "set-password", "--config", config_path, NULL);
  g_autoptr (CtlResult) unknown =
      ctl_run_input ("x\n", "set-password", "--config", config_path, "nosuch", NULL);
  g_autoptr (CtlResult) forget_unknown =
      ctl_run ("forget-password", "--config", config_path, "nosuch", NULL);
  g_autoptr (CtlResult) no_config =
      ctl_run_input ("x\n", "set-password", "--config", "/nonexistent/accounts.conf", "kr1", NULL);
  g_autoptr (CtlResult) bad_option = ctl_run ("status", "--bogus", NULL);
  g_autoptr (CtlResult) bad_command = ctl_run ("bogus", NULL);
  g_autoptr (CtlResult) top_help = ctl_run ("--help", NULL);

  g_assert_cmpint (help->status, ==, 0);
  g_assert_nonnull (strstr (help->out, "buzonctl set-password [OPTION"));
  g_assert_nonnull (strstr (help->out, "--config"));
  g_assert_cmpint (none->status, ==, 2);
  g_assert_cmpint (unknown->status, ==, 2);
  g_assert_nonnull (strstr (unknown->err, "no account named \"nosuch\""));
  g_assert_cmpint (forget_unknown->status, ==, 2);
  g_assert_nonnull (strstr (forget_unknown->err, "no account named \"nosuch\""));
  g_assert_cmpint (no_config->status, ==, 2);
  g_assert_nonnull (strstr (no_config->err, "/nonexistent/accounts.conf"));
  g_assert_cmpint (bad_option->status, ==, 2);
  g_assert_nonnull (strstr (bad_option->err, "--bogus"));
  g_assert_cmpint (bad_command->status, ==, 2);
  g_assert_cmpint (top_help->status, ==, 0);
  for (const char *c = "status\0sync\0watch\0messages\0set-password\0forget-password\0"; *c != '\0';
       c += strlen (c) + 1)
    g_assert_nonnull (strstr (top_help->out, c));
}

static void
test_set_then_sync (void)
{
  const char *password = bz_test_env ("BZ_TEST_PASSWORD");
  g_autofree char *input = g_strdup_printf ("%s\n", password);
  g_autoptr (CtlResult) set = NULL;
  g_autoptr (CtlResult) once = NULL;
  g_autoptr (GPtrArray) mails = NULL;
  g_autoptr (GError) error = NULL;
  char *stored;

  g_assert_true (bz_test_fill_user ("test1", 3, 61, 1, "small", &mails, &error));
  g_assert_no_error (error);
  set = ctl_run_input (input, "set-password", "--config", config_path, "kr1", NULL);
  g_assert_cmpint (set->status, ==, 0);
  g_assert_nonnull (strstr (set->out, "kr1"));

  stored = lookup ("kr1", "localhost", "test1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, password);
  bz_secrets_password_free (stored);

  /* kr1 has no password-command: this login can only use the keyring */
  once = ctl_run_once (config_path, "kr1");
  g_assert_cmpint (once->status, ==, 0);
  g_assert_nonnull (strstr (once->out, "kr1: 3 new"));
}

static void
test_forget_then_sync (void)
{
  g_autoptr (CtlResult) forget = ctl_run ("forget-password", "--config", config_path, "kr1", NULL);
  g_autoptr (CtlResult) again = ctl_run ("forget-password", "--config", config_path, "kr1", NULL);
  g_autoptr (CtlResult) once = NULL;
  g_autoptr (GError) error = NULL;
  char *stored;

  g_assert_cmpint (forget->status, ==, 0);
  g_assert_cmpint (again->status, ==, 1);
  g_assert_nonnull (strstr (again->err, "no password of account kr1"));
  stored = lookup ("kr1", "localhost", "test1", &error);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND);
  g_assert_null (stored);

  once = ctl_run_once (config_path, "kr1");
  g_assert_cmpint (once->status, ==, 1);
  g_assert_nonnull (strstr (once->out, "buzonctl set-password kr1"));
}

static void
test_unicode_round_trip (void)
{
  g_autoptr (CtlResult) set = NULL;
  g_autoptr (CtlResult) once = NULL;
  g_autoptr (GError) error = NULL;
  char *stored;

  /* CRLF from a pipe: the CR is a line end, not part of the password */
  set =
      ctl_run_input (UNICODE_PASSWORD "\r\n", "set-password", "--config", config_path, "uni", NULL);
  g_assert_cmpint (set->status, ==, 0);
  stored = lookup ("uni", "localhost", "uni", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, UNICODE_PASSWORD);
  bz_secrets_password_free (stored);

  once = ctl_run_once (config_path, "uni");
  g_assert_cmpint (once->status, ==, 0);
  g_assert_nonnull (strstr (once->out, "uni: 5 new"));
}

static void
test_bad_input (void)
{
  g_autoptr (CtlResult) empty =
      ctl_run_input ("", "set-password", "--config", config_path, "kr3", NULL);
  g_autoptr (CtlResult) blank =
      ctl_run_input ("\n", "set-password", "--config", config_path, "kr3", NULL);
  g_autoptr (CtlResult) latin1 =
      ctl_run_input ("caf\xe9\n", "set-password", "--config", config_path, "kr3", NULL);
  g_autoptr (GError) error = NULL;
  char *stored;

  g_assert_cmpint (empty->status, ==, 1);
  g_assert_nonnull (strstr (empty->err, "empty"));
  g_assert_cmpint (blank->status, ==, 1);
  g_assert_cmpint (latin1->status, ==, 1);
  g_assert_nonnull (strstr (latin1->err, "UTF-8"));
  stored = lookup ("kr3", "localhost", "test3", &error);
  g_assert_error (error, BZ_SECRETS_ERROR, BZ_SECRETS_ERROR_NOT_FOUND);
  g_assert_null (stored);
}

#define TTY_PASSWORD "Tty9 k3y \"q\" ß"

static void
test_tty (void)
{
  const char *const answers[] = { "Password for kr3 (test3@localhost): ", TTY_PASSWORD,
                                  "Retype the password: ", TTY_PASSWORD, NULL };
  const char *const mismatch[] = { "Password for kr3", "one thing",
                                   "Retype the password: ", "another", NULL };
  g_autoptr (CtlResult) r =
      ctl_run_tty (answers, "set-password", "--config", config_path, "kr3", NULL);
  g_autoptr (CtlResult) m = NULL;
  g_autoptr (GError) error = NULL;
  char *stored;

  g_assert_cmpint (r->status, ==, 0);
  assert_no_substring (r->out, "Tty9");
  g_assert_nonnull (strstr (r->out, "stored in the keyring"));
  stored = lookup ("kr3", "localhost", "test3", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, TTY_PASSWORD);
  bz_secrets_password_free (stored);

  m = ctl_run_tty (mismatch, "set-password", "--config", config_path, "kr3", NULL);
  g_assert_cmpint (m->status, ==, 1);
  g_assert_nonnull (strstr (m->out, "do not match"));
  assert_no_substring (m->out, "one thing");
  assert_no_substring (m->out, "another");
  /* the first password is still the stored one */
  stored = lookup ("kr3", "localhost", "test3", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, TTY_PASSWORD);
  bz_secrets_password_free (stored);
}

/* Runs last: everything above went through the log, the database and the
 * bus. */
static void
test_no_leak (gconstpointer user_data)
{
  GSubprocess *monitor = (GSubprocess *) user_data;
  const char *monitor_log = g_object_get_data (G_OBJECT (monitor), "log");
  g_autofree char *db = g_build_filename (data_dir, "buzon.db", NULL);
  g_autofree char *wal = g_build_filename (data_dir, "buzon.db-wal", NULL);
  g_autofree char *log = NULL;
  g_autofree char *bus = NULL;
  const char *const secrets[] = { bz_test_env ("BZ_TEST_PASSWORD"), UNICODE_PASSWORD,
                                  TTY_PASSWORD };

  g_subprocess_send_signal (monitor, SIGTERM);
  /* the checks are only worth something if the files saw the action */
  g_assert_true (g_file_get_contents (ctl_daemon_log_path (), &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "keyring entry of schema org.buzon.Password"));
  g_assert_true (g_file_get_contents (monitor_log, &bus, NULL, NULL));
  g_assert_nonnull (strstr (bus, "org.freedesktop.Secret.Service"));
  g_assert_nonnull (strstr (bus, "GetSecrets"));
  g_assert_true (g_file_test (db, G_FILE_TEST_EXISTS));

  for (gsize i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      ctl_assert_file_lacks (ctl_daemon_log_path (), secrets[i], FALSE);
      ctl_assert_file_lacks (monitor_log, secrets[i], FALSE);
      ctl_assert_file_lacks (db, secrets[i], FALSE);
      ctl_assert_file_lacks (wal, secrets[i], TRUE);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GSubprocess) faultpop = NULL;
  g_autoptr (GSubprocess) monitor = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *monitor_log = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  data_dir = g_build_filename (bz_test_env ("BZ_TEST_TMPDIR"), "data", NULL);

  /* record the bus before anything touches the keyring */
  monitor = ctl_monitor_start (&monitor_log);
  g_object_set_data_full (G_OBJECT (monitor), "log", g_strdup (monitor_log), g_free);
  faultpop =
      bz_test_faultpop_start (&faultpop_port, &error, "--user", "uni", "--password",
                              UNICODE_PASSWORD, "--max-connections", "5", "--lifetime", "90", NULL);
  g_assert_no_error (error);

  config = g_strdup_printf ("[general]\ndata-dir = %s\n\n"
                            "[account kr1]\nhost = localhost\nport = %u\nsecurity = none\n"
                            "user = test1\ninterval = 0\n\n"
                            "[account kr3]\nhost = localhost\nport = %u\nsecurity = none\n"
                            "user = test3\ninterval = 0\n\n"
                            "[account uni]\nhost = localhost\nport = %u\nsecurity = none\n"
                            "user = uni\ninterval = 0\n",
                            data_dir, bz_test_env_port ("BZ_TEST_POP3_PORT"),
                            bz_test_env_port ("BZ_TEST_POP3_PORT"), faultpop_port);
  config_path = ctl_write_config ("password", config);

  g_test_add_func ("/ctl/not-running", test_not_running);
  g_test_add_func ("/ctl/activation", test_activation);
  g_test_add_func ("/ctl/password/usage", test_usage);
  g_test_add_func ("/ctl/password/set-then-sync", test_set_then_sync);
  g_test_add_func ("/ctl/password/forget-then-sync", test_forget_then_sync);
  g_test_add_func ("/ctl/password/unicode-round-trip", test_unicode_round_trip);
  g_test_add_func ("/ctl/password/bad-input", test_bad_input);
  g_test_add_func ("/ctl/password/tty", test_tty);
  g_test_add_data_func ("/ctl/password/no-leak", monitor, test_no_leak);
  status = g_test_run ();

  g_subprocess_force_exit (faultpop);
  g_subprocess_force_exit (monitor);
  g_free (config_path);
  g_free (data_dir);
  return status;
}
